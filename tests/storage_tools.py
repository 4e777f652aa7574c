"""What tests do to stored blobs behind the app's back (age, damage, remove them), for both
stores: files under DATA_DIR, or objects in moto's S3 server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from lms.files.object_storage import TOUCHED, S3Storage, make_client
from lms.files.storage import LocalStorage, Storage

S3_CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing",
                  "S3_REGION": "us-east-1"}


def new_bucket(endpoint: str) -> dict[str, str]:
    """Create an empty bucket on ``endpoint``; return the settings that select it."""
    bucket = f"lms-test-{uuid.uuid4().hex[:12]}"
    settings = {**S3_CREDENTIALS, "S3_ENDPOINT_URL": endpoint, "STORAGE": f"s3://{bucket}/blobs"}
    make_client(settings).create_bucket(Bucket=bucket)
    return settings


def age(storage: Storage, key: str, hours: float) -> None:
    """Make the blob look written ``hours`` ago."""
    when = datetime.now(UTC) - timedelta(hours=hours)
    if isinstance(storage, LocalStorage):
        import os

        os.utime(storage.path(key), (when.timestamp(), when.timestamp()))
        return
    assert isinstance(storage, S3Storage)
    name = storage.name(key)
    storage.client.copy_object(Bucket=storage.bucket, Key=name,
                               CopySource={"Bucket": storage.bucket, "Key": name},
                               Metadata={TOUCHED: when.isoformat()},
                               MetadataDirective="REPLACE")


def read_raw(storage: Storage, key: str) -> bytes:
    if isinstance(storage, LocalStorage):
        return storage.path(key).read_bytes()
    assert isinstance(storage, S3Storage)
    return storage.client.get_object(Bucket=storage.bucket, Key=storage.name(key))["Body"].read()


def write_raw(storage: Storage, key: str, data: bytes) -> None:
    """Overwrite the blob's bytes in place (a disk or a store going bad)."""
    if isinstance(storage, LocalStorage):
        path = storage.path(key)
        path.chmod(0o640)
        path.write_bytes(data)
        return
    assert isinstance(storage, S3Storage)
    storage.client.put_object(Bucket=storage.bucket, Key=storage.name(key), Body=data)


def flip_a_byte(storage: Storage, key: str) -> None:
    data = bytearray(read_raw(storage, key))
    data[len(data) // 2] ^= 0x01
    write_raw(storage, key, bytes(data))


def remove(storage: Storage, key: str) -> None:
    if isinstance(storage, LocalStorage):
        storage.path(key).unlink()
        return
    assert isinstance(storage, S3Storage)
    storage.client.delete_object(Bucket=storage.bucket, Key=storage.name(key))


def stored_names(storage: Storage) -> list[str]:
    """Everything in the store, strays included (file paths or object names)."""
    if isinstance(storage, LocalStorage):
        root = storage.root
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
            if root.exists() else []
    assert isinstance(storage, S3Storage)
    pages = storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def put_stray(storage: Storage, relative: str, data: bytes) -> None:
    """Write something that is not a well-placed blob at ``relative`` inside the store."""
    if isinstance(storage, LocalStorage):
        path = storage.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert isinstance(storage, S3Storage)
    storage.client.put_object(Bucket=storage.bucket, Key=storage.prefix + relative, Body=data)
