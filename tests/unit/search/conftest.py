"""Search fixtures: every backend-level test runs once per backend (``backend`` fixture)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from search_helpers import backend_params, empty_search_tables

from lms.search import SearchBackend, create_backend
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture(scope="session")
def postgres_engine(migrated_database: str) -> Iterator:
    """An engine on the test database (its schema, search tables included, made by the
    migrations)."""
    from sqlalchemy import create_engine

    engine = create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture(params=backend_params())
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_backend(
    backend_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., SearchBackend]]:
    """Backends on one index: a folder of ``tmp_path`` or, for postgres, the emptied tables."""
    made: list[SearchBackend] = []
    database = None
    if backend_name == "postgres":
        database = request.getfixturevalue("postgres_engine")
        empty_search_tables(database)

    def make(path: Path | None = None, **kw) -> SearchBackend:
        b = create_backend(backend_name, path or tmp_path / "index", kw.get("weights"),
                           database=database)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def backend(make_backend: Callable[..., SearchBackend]) -> SearchBackend:
    return make_backend()
