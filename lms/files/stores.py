"""The store the app uses, made once per app: :class:`~lms.files.storage.LocalStorage` under
``DATA_DIR``, or :class:`~lms.files.object_storage.S3Storage` when ``STORAGE`` is
``s3://bucket/prefix``. Apart from both so that neither imports the other."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lms.files.storage import LocalStorage, Storage

if TYPE_CHECKING:
    from flask import Flask

_EXTENSION_KEY = "lms.files.storage"


def get_storage(app: Flask | None = None) -> Storage:
    """The app's storage (one instance per app): ``LocalStorage`` under ``DATA_DIR``, or
    ``S3Storage`` when ``STORAGE`` is ``s3://bucket/prefix``."""
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    storage = app.extensions.get(_EXTENSION_KEY)
    if storage is None:
        data_dir = Path(app.config["DATA_DIR"])
        if app.config.get("STORAGE"):
            from lms.files.object_storage import S3Storage

            storage = S3Storage.from_config(app.config, data_dir / "tmp")
        else:
            storage = LocalStorage(data_dir / "blobs", data_dir / "tmp")
        app.extensions[_EXTENSION_KEY] = storage
    return storage
