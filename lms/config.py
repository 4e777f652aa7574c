"""Configuration: defaults, then ``instance/config.toml``, then ``LMS_*`` environment variables.

Every setting can be given in the instance file (same key, e.g. ``DATABASE_URL = "..."``) or
in the environment with the ``LMS_`` prefix (``LMS_DATABASE_URL``). Tests pass overrides last.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

OAI_REPOSITORY_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z][a-zA-Z0-9-]*)+$")


class ConfigurationError(RuntimeError):
    """The service refuses to start with this configuration."""


class Config:
    ENV = "development"
    DATABASE_URL: str | None = None
    DATA_DIR: str | None = None
    SECRET_KEY: str | None = None
    REDIS_URL: str | None = None
    ALLOW_SQLITE_IN_PRODUCTION = False
    # Unset: answer on every host name and address (LAN deployments). Set a list in
    # production to refuse other Host headers with 400.
    TRUSTED_HOSTS: list[str] | None = None

    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    MAX_CONTENT_LENGTH = 100 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500_000
    MAX_FORM_PARTS = 1000
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = 12 * 3600

    # Login throttling: failures allowed per window, per account and per client address.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_IP = 30
    LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_MAX_LENGTH = 1024
    # Words a password must not be built on besides the person's own (ASVS 5.0 V6.2.11): the
    # academy's and the site's names, compared without accents, case or punctuation.
    PASSWORD_CONTEXT_WORDS: tuple[str, ...] = (
        "hvhc", "hocvienhaucan", "haucan", "khohoclieuso", "khohoclieu", "hoclieu",
        "quandoi", "matkhau")

    # Background jobs: tests set JOBS_IMMEDIATE to run jobs inline.
    JOBS_IMMEDIATE = False
    WORKER_THREADS = 2

    AUDIT_PAGE_SIZE = 50

    # Records API: personal access tokens live at most this long; failed token attempts per
    # client address and window (LOGIN_THROTTLE_WINDOW_SECONDS) before every token from it is
    # refused; the largest JSON body and nesting accepted; the page size of listings.
    API_TOKEN_MAX_DAYS = 365
    API_TOKEN_MAX_FAILURES_PER_IP = 30
    API_MAX_JSON_BYTES = 1024 * 1024
    API_MAX_JSON_DEPTH = 8
    API_PAGE_SIZE = 20

    # Files. One upload (one file) may have at most MAX_UPLOAD_BYTES; the upload route raises
    # the request body limit to that (plus the multipart overhead) for itself only.
    MAX_UPLOAD_BYTES = 100 * 1024 * 1024
    MAX_FILES_PER_RECORD = 100
    # `lms files gc` leaves unreferenced blobs younger than this (an upload may be committing).
    FILES_GC_GRACE_HOURS = 24
    # Every blob is re-hashed at least this often: an hourly job checks 1/(days*24) of them.
    FIXITY_INTERVAL_DAYS = 14
    FIXITY_MIN_BATCH = 20
    THUMBNAIL_MAX_PX = 320
    THUMBNAIL_TIMEOUT_SECONDS = 30
    THUMBNAIL_MEMORY_BYTES = 1024 * 1024 * 1024
    # Full-text extraction (one limited child process per document; never truncated).
    EXTRACT_TIMEOUT_SECONDS = 120
    EXTRACT_MEMORY_MB = 1024
    # Plain text up to this size is decoded in the worker's own process: it needs no sandbox,
    # and starting a child would cost more than the work. Larger text goes to the child.
    EXTRACT_TEXT_IN_PROCESS_BYTES = 8 * 1024 * 1024
    # Bulk import: search and OAI-PMH are updated once per this many lines.
    IMPORT_BATCH_SIZE = 200

    # People import (CSV/XLSX): a larger file is refused whole, before anything is changed.
    PEOPLE_IMPORT_MAX_ROWS = 20_000
    # Training: a rule change that moves more people than this is applied by the worker.
    AUDIENCE_INLINE_CHANGES = 500
    # Learners per page on a trainer's assignment page.
    TRAINING_PAGE_SIZE = 50

    # Search: "whoosh" (default, pure Python) or "tantivy"; ranking weights (see
    # lms.search.Weights: title, subject, creator, description, fulltext, accent, phrase).
    SEARCH_BACKEND = "whoosh"
    SEARCH_WEIGHTS: dict[str, float] = {}
    # An outdated index with at most this many records is rebuilt at once, larger by the worker.
    SEARCH_INLINE_REBUILD_MAX = 2000
    # Processes reading the database for a rebuild (``lms reindex``, the rebuild job): 0 is one
    # per core, at most 4. Engines that cannot use them (Whoosh) read in one process.
    SEARCH_REBUILD_PROCESSES = 0

    # The public address of the site (scheme, host, any path prefix), the base of every
    # absolute URL it writes: OAI-PMH, JSON-LD, canonical links, exports, feeds, e-mails.
    # Unset (development only), links follow the address of each request.
    PUBLIC_BASE_URL: str | None = None

    # OAI-PMH; its base URL is PUBLIC_BASE_URL + "/oai".
    OAI_REPOSITORY_ID = "kho.hvhc.edu.vn"
    OAI_REPOSITORY_NAME = "Kho học liệu số - Học viện Hậu cần"
    OAI_ADMIN_EMAIL = "thuvien@hvhc.edu.vn"
    OAI_PAGE_SIZE = 100

    # Discovery: URLs per sitemap page (the protocol's maximum is 50,000), entries per feed.
    SITEMAP_PAGE_SIZE = 50_000
    FEED_SIZE = 30

    # Harvesting other repositories (lms/harvest): limits on what one source may make us
    # fetch. Each response: time and size; each run: resumption pages (a longer list goes on
    # in the next run); redirects only to the registered host.
    HARVEST_TIMEOUT_SECONDS = 60
    HARVEST_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
    HARVEST_MAX_PAGES = 100
    HARVEST_MAX_REDIRECTS = 3


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill ``app.config`` in layers and derive the settings other code relies on.

    :raise ConfigurationError: a production instance lacks a safe setting.
    """
    app.config.from_object(Config)
    app.config.from_file("config.toml", load=tomllib.load, text=False, silent=True)
    app.config.from_prefixed_env("LMS")
    app.config.update(overrides or {})

    instance = Path(app.instance_path)
    production = app.config["ENV"] == "production"
    data_dir = Path(app.config["DATA_DIR"] or instance / "data")
    app.config["DATA_DIR"] = str(data_dir)

    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config["DATABASE_URL"]
    if not url:
        url = f"sqlite:///{instance / 'lms.sqlite'}"
    url = _normalise_database_url(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # SQLite needs no pool pre-ping and would warn about it on some versions.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}

    if not OAI_REPOSITORY_ID.match(str(app.config["OAI_REPOSITORY_ID"])):
        raise ConfigurationError(
            "LMS_OAI_REPOSITORY_ID must be a dotted domain-like name (e.g. kho.hvhc.edu.vn), "
            "as the oai-identifier scheme requires."
        )
    _check_addresses(app.config)
    if production:
        _check_production(app.config, url)
        app.config.update(
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_NAME="__Host-session",
            REMEMBER_COOKIE_SECURE=True,
        )
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _development_secret(instance)


def _normalise_database_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _check_addresses(config: dict[str, Any]) -> None:
    """Normalise and check ``PUBLIC_BASE_URL`` and ``TRUSTED_HOSTS``.

    :raise ConfigurationError: the removed ``OAI_BASE_URL`` is set, or the base URL is not an
        absolute http(s) URL without credentials, query or fragment.
    """
    if config.get("OAI_BASE_URL"):
        raise ConfigurationError(
            "LMS_OAI_BASE_URL was removed: set LMS_PUBLIC_BASE_URL to the site's address "
            "(the OAI-PMH base URL is that address followed by /oai).")
    base = config.get("PUBLIC_BASE_URL")
    if base:
        parts = urlsplit(str(base))
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
                or parts.password or parts.query or parts.fragment:
            raise ConfigurationError(
                "LMS_PUBLIC_BASE_URL must be an absolute http(s) address such as "
                "https://kho.hvhc.edu.vn, without user, query or fragment.")
        config["PUBLIC_BASE_URL"] = str(base).rstrip("/")
    hosts = config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):  # LMS_TRUSTED_HOSTS="kho.hvhc.edu.vn, 10.0.0.7"
        config["TRUSTED_HOSTS"] = [h for h in re.split(r"[\s,]+", hosts) if h]


def _check_production(config: Mapping[str, Any], url: str) -> None:
    if not config["SECRET_KEY"]:
        raise ConfigurationError(
            "LMS_SECRET_KEY must be set in production (a long random string, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if len(str(config["SECRET_KEY"])) < 32:
        raise ConfigurationError("LMS_SECRET_KEY must be at least 32 characters in production.")
    if not config["PUBLIC_BASE_URL"]:
        raise ConfigurationError(
            "LMS_PUBLIC_BASE_URL must be set in production (the address users and harvesters "
            "reach the site at, e.g. https://kho.hvhc.edu.vn): every absolute URL comes from it.")
    if not config["TRUSTED_HOSTS"]:
        raise ConfigurationError(
            "LMS_TRUSTED_HOSTS must be set in production (the host names the site answers to, "
            "e.g. kho.hvhc.edu.vn): requests for other hosts are then refused.")
    if url.startswith("sqlite") and not config["ALLOW_SQLITE_IN_PRODUCTION"]:
        raise ConfigurationError(
            "SQLite is for the embedded demo. Set LMS_DATABASE_URL to PostgreSQL, or "
            "LMS_ALLOW_SQLITE_IN_PRODUCTION=true to accept a single-machine SQLite deployment."
        )


def _development_secret(instance: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Write aside, then link into place: a web process and a worker starting together
        # must end up with the same key.
        tmp = instance / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
