"""S3-compatible blob store (AWS S3, Ceph RGW, …): write-once objects, SHA-256 in metadata."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from storage.blobs import check_tenant, sha256_hex
from storage.errors import BlobConflict, BlobCorrupt, BlobError, BlobMissing

_CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".eml": "message/rfc822",
    ".tsr": "application/timestamp-reply",
}
_EXISTS = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def _code(exc: Any) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3BlobStore:
    """Objects s3://<bucket>/<tenant>/<yyyy>/<sha256><suffix>, each with metadata ``sha256``
    that every get checks.

    boto3 is synchronous: each call runs in a worker thread so the event loop goes on (its
    clients are thread-safe, so one is shared). Credentials are passed in resolved and are
    kept only inside the client: nothing here logs or prints them."""

    def __init__(
        self,
        *,
        bucket: str,
        access_key_id: str,
        secret_access_key: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        addressing_style: str = "path",
    ) -> None:
        # Imported here: only a service configured with an S3 archive pays boto3's start-up.
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self._prefix = f"s3://{bucket}/"
        config = Config(
            s3={"addressing_style": addressing_style},
            # boto3 1.36+ adds CRC checksums by default, over HTTPS as aws-chunked trailers
            # that some S3-compatible servers refuse; the sha256 metadata is our check.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 3},
        )
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    # --- locators ----------------------------------------------------------------------------

    def locator(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def key(self, locator: str, tenant: str | None = None) -> str:
        """The object key of a locator of this store; refused when another tenant's."""
        if not locator.startswith(self._prefix):
            raise BlobError(f"{locator} is not in the archive bucket {self.bucket}.")
        key = locator[len(self._prefix) :]
        parts = key.split("/")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2] or parts[2][0] == ".":
            raise BlobError(f"{locator} is not an archive object (<tenant>/<yyyy>/<name>).")
        check_tenant(parts[0])
        if tenant is not None and parts[0] != check_tenant(tenant):
            raise BlobError(f"{locator} is not in tenant {tenant}'s archive.")
        return key

    def holds(self, locator: str) -> bool:
        try:
            self.key(locator)
        except BlobError:
            return False
        return True

    # --- the BlobStore interface -------------------------------------------------------------

    async def async_check(self) -> None:
        await asyncio.to_thread(self._check)

    async def async_put(self, tenant: str, year: int, data: bytes, suffix: str) -> str:
        digest = sha256_hex(data)
        key = f"{check_tenant(tenant)}/{year:04d}/{digest}{suffix}"
        await asyncio.to_thread(self._write_once, key, data, suffix)
        return self.locator(key)

    async def async_put_beside(self, locator: str, suffix: str, data: bytes) -> str:
        base = self.key(locator)
        folder, _, name = base.rpartition("/")
        key = f"{folder}/{name.split('.', 1)[0]}{suffix}"
        await asyncio.to_thread(self._write_once, key, data, suffix)
        return self.locator(key)

    async def async_get(self, locator: str, *, tenant: str | None = None) -> bytes:
        return await asyncio.to_thread(self._get, self.key(locator, tenant))

    async def async_remove(self, locator: str) -> None:
        await asyncio.to_thread(self._remove, self.key(locator))

    async def async_walk(self, tenant: str) -> AsyncIterator[tuple[str, str]]:
        # The slash matters: tenant "ab" must not list tenant "abc"'s objects.
        prefix = f"{check_tenant(tenant)}/"
        for key in await asyncio.to_thread(self._keys, prefix):
            yield key[len(prefix) :], self.locator(key)

    # --- boto3, in worker threads ------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, key: str | None) -> Iterator[None]:
        """boto3's errors mapped to ours, each a sentence (adapters translate at the edge)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = _code(exc)
            what = f"the archive object {self.locator(key)}" if key else "the archive bucket"
            if code in _NOT_FOUND and key is not None:
                raise BlobMissing(
                    f"The archive object {self.locator(key)} does not exist."
                ) from exc
            if code == "NoSuchBucket" or (key is None and code in _NOT_FOUND):
                raise BlobError(
                    f"The archive bucket {self.bucket} does not exist at "
                    f"{self.endpoint_url or 'AWS S3'}; create it or fix [archive] bucket."
                ) from exc
            if code in _DENIED:
                raise BlobError(
                    f"The S3 server refused to {action} {what} ({code}): check the "
                    "[archive] access key and its rights on the bucket."
                ) from exc
            raise BlobError(f"Could not {action} {what} ({code or exc}).") from exc
        except BotoCoreError as exc:
            raise BlobError(
                f"The archive at {self.endpoint_url or 'AWS S3'} cannot be reached ({exc})."
            ) from exc

    def _check(self) -> None:
        with self._errors("use", None):
            self.client.head_bucket(Bucket=self.bucket)

    def _exists(self, key: str) -> bool:
        try:
            with self._errors("look up", key):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except BlobMissing:
            return False
        return True

    def _write_once(self, key: str, data: bytes, suffix: str) -> None:
        # Look first, then write only if still absent (If-None-Match: *, refused by the server
        # when someone wrote meanwhile): servers that ignore that header still get no
        # overwrite from us, and a retried job finds its object without uploading it again.
        if not self._exists(key):
            try:
                with self._errors("store", key):
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=key,
                        Body=data,
                        Metadata={"sha256": sha256_hex(data)},
                        ContentType=_CONTENT_TYPES.get(suffix, "application/octet-stream"),
                        IfNoneMatch="*",
                    )
                return
            except BlobError as exc:
                if _code(exc.__cause__) not in _EXISTS:
                    raise
        # It exists: the same bytes make this a no-op; anything else is never overwritten.
        if self._get(key) != data:
            raise BlobConflict(
                f"The archive object {self.locator(key)} already exists with other content; "
                "archive objects are never overwritten."
            )

    def _get(self, key: str) -> bytes:
        with self._errors("read", key):
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
            data: bytes = obj["Body"].read()
        recorded = (obj.get("Metadata") or {}).get("sha256")
        if recorded is None:
            raise BlobCorrupt(
                f"The archive object {self.locator(key)} has no sha256 metadata: it was "
                "replaced after it was stored."
            )
        if sha256_hex(data) != recorded:
            raise BlobCorrupt(
                f"The archive object {self.locator(key)} does not match its sha256 metadata "
                f"({recorded}): it was changed after it was stored."
            )
        return data

    def _remove(self, key: str) -> None:
        with self._errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def _keys(self, prefix: str) -> list[str]:
        with self._errors("list", None):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            return sorted(o["Key"] for page in pages for o in page.get("Contents", []))
