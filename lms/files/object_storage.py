"""Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, ...): the same content
addressing as :class:`~lms.files.storage.LocalStorage`, so several app servers share one store.

``LMS_STORAGE=s3://bucket/prefix`` selects it. The object of blob ``abcd…`` is
``<prefix>/ab/cd/abcd…``; only keys that pass :func:`validate_key` ever become object names.
Uploads are spooled to ``DATA_DIR/tmp`` while their SHA-256 is computed (the name depends on
it), then sent with a ``Content-MD5`` the store verifies; a PUT is atomic, so an object is
either whole or absent. The bucket must exist; this class never creates or configures one.

"When was the blob last written" (for garbage collection's grace period) is the object's
``lms-touched`` metadata, refreshed by a copy onto itself when an upload reuses the blob (an
S3 object's Last-Modified cannot be set otherwise); Last-Modified is the fallback.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from lms.files.storage import (
    CHUNK_SIZE,
    BlobNotFound,
    Readable,
    Storage,
    StoredBlob,
    spool,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TOUCHED = "lms-touched"
# One PUT carries at most 5 GiB; larger blobs go up in parts (without Content-MD5).
SINGLE_PUT_LIMIT = 5 * 1024**3


def _is_missing(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


def parse_location(location: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix/")`` (prefix may be empty)."""
    parts = urlsplit(location)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError("expected s3://bucket[/prefix]")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


def make_client(config: Mapping[str, Any], endpoint_url: str | None = None) -> S3Client:
    """A boto3 S3 client from the ``S3_*`` settings (credentials: the settings, else boto3's
    own chain, i.e. ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile or a role)."""
    import boto3
    from botocore.config import Config as BotoConfig

    endpoint = endpoint_url or config.get("S3_ENDPOINT_URL") or None
    boto_config = BotoConfig(
        signature_version="s3v4",  # presigned URLs too (the SigV2 default is deprecated)
        # MinIO and most self-hosted stores want path-style addressing; AWS takes either.
        s3={"addressing_style": "path" if endpoint else "auto"},
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
        # Only the checksums the operation requires: self-hosted stores often reject the
        # newer automatic ones. Integrity is ours: Content-MD5 on upload, SHA-256 fixity.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("S3_REGION") or None,
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        config=boto_config,
    )


class S3Storage(Storage):
    """Blobs as objects ``<prefix>ab/cd/abcd…`` in ``bucket``."""

    can_presign = True

    def __init__(self, client: S3Client, bucket: str, prefix: str, tmp_dir: Path | str,
                 *, presign_client: S3Client | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.tmp_dir = Path(tmp_dir)
        self.presign_client = presign_client or client

    @classmethod
    def from_config(cls, config: Mapping[str, Any], tmp_dir: Path) -> S3Storage:
        bucket, prefix = parse_location(str(config["STORAGE"]))
        client = make_client(config)
        public = config.get("S3_PUBLIC_ENDPOINT_URL")
        presign = make_client(config, public) if public else None
        return cls(client, bucket, prefix, tmp_dir, presign_client=presign)

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    def name(self, key: str) -> str:
        """The object name of blob ``key``."""
        validate_key(key)
        return f"{self.prefix}{key[:2]}/{key[2:4]}/{key}"

    # -- writing

    def put(self, stream: Readable, *, max_size: int | None = None,
            deferred_sync: bool = False) -> StoredBlob:
        # The object store has it durably once put_object returns: nothing is deferred.
        spooled = spool(self.tmp_dir, stream, max_size)
        try:
            key, size = spooled.sha256, spooled.size
            existing = self._head(key)
            if existing is not None and existing["ContentLength"] == size:
                self._touch(key)
                return StoredBlob(key=key, sha256=key, size=size, reused=True)
            # Missing, or damaged (wrong size): the new, verified content takes its place.
            metadata = {TOUCHED: _now()}
            if size <= SINGLE_PUT_LIMIT:
                with spooled.path.open("rb") as body:
                    self.client.put_object(
                        Bucket=self.bucket, Key=self.name(key), Body=body,
                        ContentLength=size, ContentType="application/octet-stream",
                        ContentMD5=base64.b64encode(spooled.md5).decode(), Metadata=metadata)
            else:  # pragma: no cover - 5 GiB uploads are not made in tests
                self.client.upload_file(str(spooled.path), self.bucket, self.name(key),
                                        ExtraArgs={"Metadata": metadata,
                                                   "ContentType": "application/octet-stream"})
        finally:
            spooled.path.unlink(missing_ok=True)
        return StoredBlob(key=key, sha256=key, size=size, reused=False)

    def _touch(self, key: str) -> None:
        name = self.name(key)
        self.client.copy_object(
            Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket, "Key": name},
            Metadata={TOUCHED: _now()}, MetadataDirective="REPLACE",
            ContentType="application/octet-stream")

    # -- reading

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise OSError(f"object store: {error}") from error

    def _require(self, key: str) -> dict[str, Any]:
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return head

    def open(self, key: str) -> BinaryIO:
        head = self._require(key)
        raw = _ObjectReader(self.client, self.bucket, self.name(key), head["ContentLength"],
                            head.get("ETag"))
        return io.BufferedReader(raw, buffer_size=CHUNK_SIZE)  # type: ignore[return-value]

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        return int(self._require(key)["ContentLength"])

    def modified(self, key: str) -> datetime:
        head = self._require(key)
        touched = (head.get("Metadata") or {}).get(TOUCHED)
        if touched:
            try:
                return datetime.fromisoformat(touched).astimezone(UTC)
            except ValueError:
                pass
        return head["LastModified"].astimezone(UTC)

    def delete(self, key: str) -> bool:
        name = self.name(key)
        if self._head(key) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=name)
        return True

    def keys(self) -> Iterator[str]:
        for name, _size in self.listing():
            yield name

    def listing(self) -> Iterator[tuple[str, int]]:
        """Every well-placed blob as ``(key, size)``, in key order (one LIST per 1,000)."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                rest = item["Key"][len(self.prefix):]
                shard1, _, tail = rest.partition("/")
                shard2, _, key = tail.partition("/")
                try:
                    validate_key(key)
                except ValueError:
                    continue
                if shard1 == key[:2] and shard2 == key[2:4]:
                    yield key, int(item["Size"])

    def presigned_url(self, key: str, *, expires: int, content_type: str,
                      content_disposition: str, cache_control: str) -> str:
        """A GET URL for the blob valid ``expires`` seconds, answering with these headers.
        **Only for blobs anyone may read**: whoever holds the URL can fetch it until then."""
        return self.presign_client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.name(key),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition,
                    "ResponseCacheControl": cache_control},
            ExpiresIn=expires,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _ObjectReader(io.RawIOBase):
    """A seekable reader over one object: a ranged GET from the current position, streamed
    until the next seek. ``If-Match`` pins the version read, so a blob replaced meanwhile
    (a damaged copy repaired) is never read half old, half new."""

    def __init__(self, client: S3Client, bucket: str, name: str, size: int,
                 etag: str | None) -> None:
        self.client, self.bucket, self.name, self.length, self.etag = (
            client, bucket, name, size, etag)
        self.position = 0
        self.body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self.position:
            self._drop_body()
            self.position = target
        return self.position

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self.position >= self.length or len(buffer) == 0:
            return 0
        if self.body is None:
            self.body = self._get()
        data = self.body.read(min(len(buffer), self.length - self.position))
        if not data:
            raise OSError(f"object store: {self.name} ended early at byte {self.position}")
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def _get(self) -> Any:
        from botocore.exceptions import ClientError

        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self.name,
                                     "Range": f"bytes={self.position}-"}
        if self.etag:
            arguments["IfMatch"] = self.etag
        try:
            return self.client.get_object(**arguments)["Body"]
        except ClientError as error:
            if _is_missing(error):
                raise BlobNotFound(self.name) from error
            raise OSError(f"object store: {error}") from error

    def _drop_body(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        self._drop_body()
        super().close()
