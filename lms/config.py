"""Configuration: defaults, then ``instance/config.toml``, then ``LMS_*`` environment variables.

Every setting can be given in the instance file (same key, e.g. ``DATABASE_URL = "..."``) or
in the environment with the ``LMS_`` prefix (``LMS_DATABASE_URL``). Tests pass overrides last.
"""

from __future__ import annotations

import importlib.util
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
    # Longest query string the JSON API accepts (414 above it); the search page cuts instead.
    MAX_URL_BYTES = 8192
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
    # A worker writes its heartbeat this often; one silent for longer than WORKER_DEAD_AFTER
    # is dead, and its running jobs are marked interrupted by the next worker.
    WORKER_HEARTBEAT_SECONDS = 10.0
    WORKER_DEAD_AFTER_SECONDS = 30.0
    # An interrupted import keeps its uploaded package this long for a resume.
    IMPORT_RESUME_HOURS = 72

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
    IMPORT_BATCH_SIZE = 500
    # ...and its lines are committed this many at a time (one transaction, a savepoint per
    # line): a killed import resumes after the last batch committed.
    IMPORT_COMMIT_LINES = 100
    # ...and, past one batch, search and OAI-PMH apply each batch in a second process while
    # the next is written (about twice as fast with two cores; off: in the import's process).
    IMPORT_MIRROR_PROCESS = True

    # The change log (lms.changelog): how long a request waits for a mirror another process
    # is applying before leaving its own changes to the worker, and how often the worker
    # looks for changes left over.
    CHANGE_LOG_INLINE_WAIT_SECONDS = 5.0
    CHANGE_LOG_POLL_SECONDS = 1.0
    # Rows the worker applies to a mirror per transaction (smaller: shorter locks, more rounds).
    CHANGE_LOG_APPLY_BATCH = 200
    # /health is "degraded" while a change has waited longer than this for a mirror.
    CHANGE_LOG_STALE_SECONDS = 300

    # People import (CSV/XLSX): a larger file is refused whole, before anything is changed.
    PEOPLE_IMPORT_MAX_ROWS = 20_000
    # Training: a rule change that moves more people than this is applied by the worker.
    AUDIENCE_INLINE_CHANGES = 500
    # Learners per page on a trainer's assignment page.
    TRAINING_PAGE_SIZE = 50
    # Quizzes: rows of a question bank file (CSV, XLSX, GIFT questions); larger files are
    # refused whole. Images of questions; a regrade of more attempts runs in the worker.
    QUIZ_IMPORT_MAX_ROWS = 5000
    QUIZ_IMAGE_MAX_BYTES = 2 * 1024 * 1024
    QUIZ_REGRADE_INLINE = 2000

    # E-mail (optional; unset SMTP_HOST: notifications stay in the app). Plain SMTP, with
    # STARTTLS (verified against the system's or SMTP_CA_FILE's authorities) and a login when
    # a username is set. Digests go out at most once a day per person.
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_STARTTLS = True
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM = "kho-hoc-lieu@hvhc.edu.vn"
    SMTP_TIMEOUT_SECONDS = 30
    SMTP_CA_FILE: str | None = None
    # Reminders: "due soon" this many days before; events older than the lookback are not
    # told after downtime; certificates' expiry told this many days ahead; the commanders'
    # weekly digest from Monday at this hour (local); a failed e-mail waits this many
    # minutes, doubling on each failure (at most 6 hours).
    NOTIFY_DUE_SOON_DAYS = 7
    NOTIFY_LOOKBACK_DAYS = 30
    NOTIFY_CERTIFICATE_EXPIRY_DAYS = 30
    NOTIFY_COMMANDER_HOUR = 7
    NOTIFY_MAIL_RETRY_MINUTES = 5

    # Certificates: completions certified inside the completing request when at most this
    # many complete at once (more: the worker); images of templates up to this size; the
    # public verify page refuses a client after this many unknown codes per window.
    CERTIFICATES_INLINE_MAX = 10
    CERTIFICATE_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    VERIFY_MAX_FAILURES = 20
    VERIFY_WINDOW_SECONDS = 600

    # Reports: an export of more people lines than this is made by the worker; the status
    # is "behind" (amber) up to this many points under the target's pace, "off track" below.
    REPORT_EXPORT_INLINE_ROWS = 5000
    REPORT_AMBER_POINTS = 10

    # Search: "whoosh" (default, pure Python), "tantivy" or "postgres" (in the database, shared
    # by every app server); ranking weights (see
    # lms.search.Weights.from_mapping: title, subject, creator, description, fulltext,
    # accent, phrase, k1, b).
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

    # --- Deployment: the production server, proxies, object storage, backups --------------
    # `lms serve` (gunicorn, gthread workers): 0 = from the cores (cores + 1 workers, 4 threads).
    WEB_WORKERS = 0
    WEB_THREADS = 0
    WEB_TIMEOUT_SECONDS = 120
    # gunicorn's access log: "-" is standard output; empty turns it off.
    ACCESS_LOG = "-"
    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto are then
    # trusted for the client address (login throttling, audit) and the scheme; with 0 (no
    # proxy) those headers are ignored, so a client cannot forge its address.
    PROXY_COUNT = 0
    # Local files only: serve downloads through nginx's internal location with this prefix
    # (e.g. "/protected/"); the app still checks access and sets every header first.
    X_ACCEL_REDIRECT: str | None = None
    # Where blobs live: unset = DATA_DIR/blobs; "s3://bucket/prefix" = an S3-compatible store.
    STORAGE: str | None = None
    S3_ENDPOINT_URL: str | None = None  # unset: AWS; MinIO/Ceph: their URL
    S3_REGION: str | None = None
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment (boto3's own
    # chain), or these two settings.
    S3_ACCESS_KEY_ID: str | None = None
    S3_SECRET_ACCESS_KEY: str | None = None
    # "stream": every byte goes through the app. "redirect": files anyone may read are
    # answered with a short-lived presigned URL (after the access check); others still stream.
    S3_SERVE = "stream"
    S3_PRESIGN_SECONDS = 300
    # The address browsers reach the store at, when it differs from S3_ENDPOINT_URL.
    S3_PUBLIC_ENDPOINT_URL: str | None = None


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
    if app.config["SEARCH_BACKEND"] == "postgres" and not url.startswith("postgresql"):
        raise ConfigurationError(
            "LMS_SEARCH_BACKEND=postgres keeps the search index in the database: set "
            "LMS_DATABASE_URL to PostgreSQL, or choose whoosh or tantivy."
        )
    if url.startswith("sqlite"):
        # SQLite needs no pool pre-ping and would warn about it on some versions.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}

    if not OAI_REPOSITORY_ID.match(str(app.config["OAI_REPOSITORY_ID"])):
        raise ConfigurationError(
            "LMS_OAI_REPOSITORY_ID must be a dotted domain-like name (e.g. kho.hvhc.edu.vn), "
            "as the oai-identifier scheme requires."
        )
    _check_deployment(app.config)
    _check_extras(app.config, url)
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


def _check_deployment(config: Mapping[str, Any]) -> None:
    storage = config["STORAGE"]
    if storage and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", storage):
        raise ConfigurationError(
            "LMS_STORAGE must be unset (files under LMS_DATA_DIR) or s3://bucket[/prefix].")
    if config["S3_SERVE"] not in ("stream", "redirect"):
        raise ConfigurationError("LMS_S3_SERVE must be stream or redirect.")
    prefix = config["X_ACCEL_REDIRECT"]
    if prefix and not re.fullmatch(r"/[A-Za-z0-9_/-]*/", prefix):
        raise ConfigurationError(
            "LMS_X_ACCEL_REDIRECT must be an nginx location path such as /protected/.")


# What each optional part needs installed: (the module, the pyproject extra that brings it).
EXTRAS = {
    "postgres": ("psycopg", "postgres"),
    "redis": ("redis", "redis"),
    "s3": ("boto3", "s3"),
    "tantivy": ("tantivy", "tantivy"),
}


def missing_extra(part: str) -> str | None:
    """The install command that brings ``part`` (a key of ``EXTRAS``), or None when its
    package is installed."""
    module, extra = EXTRAS[part]
    if importlib.util.find_spec(module) is not None:
        return None
    return f"pip install 'kho-hoc-lieu-so[{extra}]'"


def _check_extras(config: Mapping[str, Any], url: str) -> None:
    """Refuse at start, with the command that fixes it, a setting whose package is not
    installed (instead of an ImportError on the first request that needs it)."""
    wanted = {
        "postgres": (url.startswith("postgresql"), "LMS_DATABASE_URL is PostgreSQL"),
        "redis": (bool(config["REDIS_URL"]), "LMS_REDIS_URL is set"),
        "s3": (bool(config["STORAGE"]), "LMS_STORAGE is an S3 bucket"),
        "tantivy": (config["SEARCH_BACKEND"] == "tantivy", "LMS_SEARCH_BACKEND is tantivy"),
    }
    for part, (needed, because) in wanted.items():
        command = missing_extra(part) if needed else None
        if command:
            raise ConfigurationError(
                f"{because}, but its package ({EXTRAS[part][0]}) is not installed: {command}")


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
