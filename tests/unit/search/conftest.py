"""Search fixtures: every backend-level test runs once per backend (``backend`` fixture)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from search_helpers import backend_params

from lms.search import SearchBackend, create_backend


@pytest.fixture(params=backend_params())
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_backend(backend_name: str, tmp_path: Path) -> Iterator[Callable[..., SearchBackend]]:
    made: list[SearchBackend] = []

    def make(path: Path | None = None, **kw) -> SearchBackend:
        b = create_backend(backend_name, path or tmp_path / "index", kw.get("weights"))
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def backend(make_backend: Callable[..., SearchBackend]) -> SearchBackend:
    return make_backend()
