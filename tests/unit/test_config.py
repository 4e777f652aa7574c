"""The factory and configuration layering, and what production refuses."""

from __future__ import annotations

import stat

import pytest

from lms import create_app
from lms.config import ConfigurationError
from tests.conftest import make_app


@pytest.fixture
def instance(tmp_path, monkeypatch):
    path = tmp_path / "instance"
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(path))
    for name in ("LMS_DATABASE_URL", "LMS_SECRET_KEY", "LMS_ENV", "LMS_DATA_DIR",
                 "LMS_PUBLIC_BASE_URL", "LMS_TRUSTED_HOSTS", "LMS_OAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_defaults_put_database_and_data_in_the_instance_folder(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'lms.sqlite'}"
    assert app.config["DATA_DIR"] == str(instance / "data")
    assert app.config["ENV"] == "development"
    assert app.config["TRUSTED_HOSTS"] is None


def test_instance_file_then_environment_then_overrides(instance, monkeypatch):
    instance.mkdir(parents=True)
    (instance / "config.toml").write_text(
        'DATA_DIR = "/srv/from-file"\nLOGIN_MAX_FAILURES_PER_ACCOUNT = 7\nAUDIT_PAGE_SIZE = 10\n'
    )
    monkeypatch.setenv("LMS_DATA_DIR", "/srv/from-env")
    monkeypatch.setenv("LMS_LOGIN_MAX_FAILURES_PER_ACCOUNT", "9")
    app = create_app({"AUDIT_PAGE_SIZE": 25})
    assert app.config["DATA_DIR"] == "/srv/from-env"
    assert app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] == 9
    assert app.config["AUDIT_PAGE_SIZE"] == 25


def test_postgres_urls_use_psycopg3(instance, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql://lms@db/lms")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://lms@db/lms"


def test_development_secret_is_generated_once_and_private(instance):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    mode = stat.S_IMODE((instance / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_production_requires_a_secret_key(instance, monkeypatch):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql://lms@db/lms")
    with pytest.raises(ConfigurationError, match="LMS_SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def production_addresses(monkeypatch) -> None:
    monkeypatch.setenv("LMS_PUBLIC_BASE_URL", "https://kho.hvhc.edu.vn")
    monkeypatch.setenv("LMS_TRUSTED_HOSTS", "kho.hvhc.edu.vn, 10.0.0.7")


def test_production_refuses_sqlite_without_opt_in(instance, monkeypatch):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "x" * 40)
    production_addresses(monkeypatch)
    with pytest.raises(ConfigurationError, match="SQLite"):
        create_app()
    monkeypatch.setenv("LMS_ALLOW_SQLITE_IN_PRODUCTION", "true")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"


def test_production_refuses_to_start_with_demo_accounts(migrated_database, tmp_path,
                                                        monkeypatch):
    from tests.conftest import ON_POSTGRES, database_for_test

    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    url = database_for_test(migrated_database, tmp_path)
    dev = make_app(url, tmp_path / "data")
    with dev.app_context():
        from lms.demo import load_demo

        load_demo(tmp_path / "instance")
    production = {"ENV": "production", "SECRET_KEY": "s" * 40,
                  "ALLOW_SQLITE_IN_PRODUCTION": True,
                  "PUBLIC_BASE_URL": "https://kho.hvhc.edu.vn", "TRUSTED_HOSTS": ["kho"]}
    with pytest.raises(ConfigurationError, match="Demo accounts"):
        make_app(url, tmp_path / "data", **production)
    if ON_POSTGRES:
        from tests.conftest import _empty_postgres_tables

        _empty_postgres_tables(dev)


@pytest.mark.parametrize("missing, message", [("LMS_PUBLIC_BASE_URL", "LMS_PUBLIC_BASE_URL"),
                                              ("LMS_TRUSTED_HOSTS", "LMS_TRUSTED_HOSTS")])
def test_production_requires_a_base_url_and_trusted_hosts(instance, monkeypatch, missing,
                                                          message):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("LMS_ALLOW_SQLITE_IN_PRODUCTION", "true")
    production_addresses(monkeypatch)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match=message):
        create_app()


def test_trusted_hosts_may_be_a_comma_separated_list(instance, monkeypatch):
    production_addresses(monkeypatch)
    app = create_app()
    assert app.config["TRUSTED_HOSTS"] == ["kho.hvhc.edu.vn", "10.0.0.7"]
    assert app.config["PUBLIC_BASE_URL"] == "https://kho.hvhc.edu.vn"


@pytest.mark.parametrize("url", ["kho.hvhc.edu.vn", "ftp://kho", "https://u:p@kho.vn",
                                 "https://kho.vn/?x=1", "https://kho.vn/#top", "https://"])
def test_public_base_url_must_be_a_plain_http_address(instance, monkeypatch, url):
    monkeypatch.setenv("LMS_PUBLIC_BASE_URL", url)
    with pytest.raises(ConfigurationError, match="LMS_PUBLIC_BASE_URL"):
        create_app()


def test_the_removed_oai_base_url_is_refused_with_its_replacement(instance, monkeypatch):
    monkeypatch.setenv("LMS_OAI_BASE_URL", "https://kho.hvhc.edu.vn/oai")
    with pytest.raises(ConfigurationError, match="LMS_PUBLIC_BASE_URL"):
        create_app()


def test_no_module_builds_an_app_at_import():
    import lms.accounts.models
    import lms.cli
    import lms.models

    assert not hasattr(lms.cli, "app")
