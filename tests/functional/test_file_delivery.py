"""How file bytes leave the app in a deployment: presigned redirects to the object store
(``LMS_S3_SERVE=redirect``) and nginx's X-Accel-Redirect for local files
(``LMS_X_ACCEL_REDIRECT``). In both, the access check answers first; only files anyone may
read are ever redirected to a URL that works without a session."""

# The fixtures `collection` and `samples` come from test_files (imported below): F811 is
# how ruff sees a fixture requested by name.
# ruff: noqa: F811

from __future__ import annotations

import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from lms.catalog import access_settings
from lms.catalog.models import AccessLevel
from lms.cli import cli
from lms.files.models import Blob, DownloadEvent
from lms.files.stores import get_storage
from tests import storage_tools
from tests.functional.test_files import (  # noqa: F401 - fixtures shared with that module
    _closing_client,
    as_user,
    collection,
    count,
    files_of,
    published_with_pdf,
    samples,
)

pytestmark = pytest.mark.functional

PUBLIC = access_settings.AccessSettings(level=AccessLevel.PUBLIC)


@pytest.fixture
def redirecting(app: Flask, s3_settings) -> Flask:
    app.config.update(s3_settings, S3_SERVE="redirect", S3_PRESIGN_SECONDS=90)
    return app


def fetch(url: str):
    """The body and (case-insensitive) headers the store answers ``url`` with."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - moto on loopback
        return response.read(), response.headers


def test_a_public_file_is_a_short_lived_redirect_counted_once(redirecting, users, collection,
                                                              samples):
    app = redirecting
    record_id, file_id = published_with_pdf(app, collection, samples, PUBLIC,
                                            name="Giáo trình.pdf")
    url = f"/records/{record_id}/files/{file_id}"
    anonymous = as_user(app, None)

    response = anonymous.client.get(url)
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    assert location.startswith(app.config["S3_ENDPOINT_URL"] + "/")
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["90"]
    body, headers = fetch(location)
    assert body == samples["pdf"]
    # A download: an attachment, keeping the true type of a trusted PDF (as send_blob does).
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith('attachment; filename="Giao trinh.pdf"')

    preview = anonymous.client.get(f"{url}/preview")
    assert preview.status_code == 302
    _body, headers = fetch(preview.headers["Location"])
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("inline; ")

    thumbnail = anonymous.client.get(f"{url}/thumbnail")
    assert thumbnail.status_code == 302
    assert fetch(thumbnail.headers["Location"])[0][:8] == b"\x89PNG\r\n\x1a\n"

    # A Range continuation (video seeking) and HEAD are redirected but not counted.
    assert anonymous.client.get(url, headers={"Range": "bytes=100-"}).status_code == 302
    assert anonymous.client.head(url).status_code == 302
    assert count(app, DownloadEvent, DownloadEvent.file_id == file_id) == 2  # download, view


def test_files_not_everyone_may_read_are_streamed_never_redirected(redirecting, users,
                                                                   collection, samples):
    app = redirecting
    record_id, file_id = published_with_pdf(app, collection, samples)  # internal
    url = f"/records/{record_id}/files/{file_id}"
    reader = as_user(app, "learner")
    response = reader.client.get(url)
    assert response.status_code == 200 and response.data == samples["pdf"]
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-store"
    assert reader.client.get(f"{url}/thumbnail").status_code == 200

    # No session: the access check answers, with no URL to the store.
    for path in ("", "/preview", "/thumbnail"):
        denied = as_user(app, None).client.get(f"{url}{path}")
        assert denied.status_code == 404 and "Location" not in denied.headers


def test_a_damaged_or_missing_object_is_never_redirected_to(redirecting, users, collection,
                                                            samples):
    app = redirecting
    record_id, file_id = published_with_pdf(app, collection, samples, PUBLIC)
    key = files_of(app, record_id)[0].blob_key
    url = f"/records/{record_id}/files/{file_id}"
    storage = get_storage(app)

    storage_tools.flip_a_byte(storage, key)
    assert app.test_cli_runner().invoke(cli, ["fixity", "--all"]).exit_code == 1
    refused = as_user(app, None).client.get(url)
    assert refused.status_code == 503 and "Location" not in refused.headers

    storage_tools.remove(storage, key)
    with app.app_context():
        from lms.extensions import db

        db.session.get(Blob, key).fixity_status = "ok"  # as if not checked since
        db.session.commit()
    missing = as_user(app, None).client.get(url)
    assert missing.status_code == 503 and "Location" not in missing.headers
    with app.app_context():
        assert db.session.get(Blob, key).fixity_status == "missing"


def test_presigned_urls_use_the_public_endpoint_when_set(redirecting, users, collection,
                                                         samples):
    app = redirecting
    app.config["S3_PUBLIC_ENDPOINT_URL"] = "https://kho-files.hvhc.example"
    record_id, file_id = published_with_pdf(app, collection, samples, PUBLIC)
    response = as_user(app, None).client.get(f"/records/{record_id}/files/{file_id}")
    assert response.headers["Location"].startswith("https://kho-files.hvhc.example/")


# --- X-Accel-Redirect (local files behind nginx) -------------------------------------------

@pytest.fixture
def accelerated(app: Flask) -> Flask:
    app.config["X_ACCEL_REDIRECT"] = "/protected/"
    return app


def test_x_accel_hands_the_file_to_nginx_after_the_check_with_every_header(
        accelerated, users, collection, samples):
    app = accelerated
    record_id, file_id = published_with_pdf(app, collection, samples)  # internal
    key = files_of(app, record_id)[0].blob_key
    url = f"/records/{record_id}/files/{file_id}"
    reader = as_user(app, "learner")

    response = reader.client.get(url)
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/protected/{key[:2]}/{key[2:4]}/{key}"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["ETag"] == f'"{key}"'

    # Conditionals are still ours (no file is handed over for a 304); Range is nginx's.
    again = reader.client.get(url, headers={"If-None-Match": f'"{key}"'})
    assert again.status_code == 304 and "X-Accel-Redirect" not in again.headers
    seek = reader.client.get(url, headers={"Range": "bytes=500-"})
    assert seek.status_code == 200 and "X-Accel-Redirect" in seek.headers
    assert count(app, DownloadEvent, DownloadEvent.file_id == file_id) == 1  # not the seek

    for headers in ({}, {"Range": "bytes=0-"}, {"If-None-Match": "*"}):
        denied = as_user(app, None).client.get(url, headers=headers)
        assert denied.status_code == 404 and "X-Accel-Redirect" not in denied.headers

    storage_tools.remove(get_storage(app), key)
    gone = reader.client.get(url)
    assert gone.status_code == 503 and "X-Accel-Redirect" not in gone.headers


def test_the_x_accel_setting_is_validated():
    from lms.config import ConfigurationError, load_config

    for bad in ("protected", "/protected", "/../x/", "http://x/"):
        with pytest.raises(ConfigurationError, match="LMS_X_ACCEL_REDIRECT"):
            load_config(Flask(__name__), {"X_ACCEL_REDIRECT": bad, "SECRET_KEY": "x" * 40})
