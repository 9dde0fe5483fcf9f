"""``SupabaseBlobStore``: creatives in a Supabase Storage bucket, content-addressed by sha256.

- the object path is the content address (``<sha[:2]>/<sha><ext>``), so the same bytes always go to
  the same path and an upload that finds the object there already (Storage's 409 "Duplicate")
  has succeeded;
- a file's size is checked against the most the bucket takes before any byte is sent;
- storage3 2.34 has no resumable (TUS) upload: every file goes in one standard upload, which is
  why the size limit is checked first;
- ``local_path`` streams the object to a temporary file and removes it when the block ends
  (also when the task is cancelled); staging and downloads live in one temporary folder that is
  removed when the store closes. No run needs another run's disk.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from storage3.exceptions import StorageApiError
from supabase import AsyncClient

from brand_pipeline.store.protocol import BlobTooLarge, StoreError, StoreUnavailable

DEFAULT_BUCKET = "creatives"
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Supabase's standard upload limit on the free plan
_CHUNK = 1024 * 1024


def _duplicate(error: StorageApiError) -> bool:
    return str(error.status) == "409" or error.code in ("Duplicate", "BucketAlreadyExists")


def _not_found(error: StorageApiError) -> bool:
    return str(error.status) == "404" or error.code in ("not_found", "NoSuchKey", "Bucket not found")


class SupabaseBlobStore:
    """Creatives in ``bucket``; temporary files under ``scratch`` (removed when the store closes)."""

    def __init__(self, client: AsyncClient, bucket: str, scratch: Path, *, max_upload_bytes: int) -> None:
        self._client = client
        self.bucket = bucket
        self._scratch = scratch
        self.max_upload_bytes = max_upload_bytes

    def __repr__(self) -> str:
        return f"SupabaseBlobStore(bucket={self.bucket!r})"

    def staging_dir(self) -> Path:
        staging = self._scratch / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        return staging

    async def ensure_bucket(self) -> None:
        """Create the bucket (private) if the project has none of that name."""
        try:
            await self._client.storage.get_bucket(self.bucket)
        except StorageApiError as error:
            if not _not_found(error) and str(error.status) != "400":
                raise self._refused(error, "read the bucket") from None
            try:
                await self._client.storage.create_bucket(self.bucket, options={"public": False})
            except StorageApiError as create_error:
                if not _duplicate(create_error):  # created meanwhile by another run
                    raise self._refused(create_error, "create the bucket") from None

    async def put_file(self, source: Path, sha256: str, extension: str) -> str:
        """Upload ``source`` under its content address and remove it; the object already being
        there counts as stored (same path, same bytes)."""
        blob_path = f"{sha256[:2]}/{sha256}{extension}"
        size = (await asyncio.to_thread(source.stat)).st_size
        if size > self.max_upload_bytes:
            limit_mib = self.max_upload_bytes / 1048576
            raise BlobTooLarge(
                f"creative {sha256[:12]} is {size / 1048576:.1f} MiB, more than the {limit_mib:.0f} MiB"
                f" bucket {self.bucket!r} takes in one upload (storage3 has no resumable upload)"
            )
        content_type = mimetypes.guess_type(f"x{extension}")[0] or "application/octet-stream"
        try:
            await self._client.storage.from_(self.bucket).upload(
                blob_path, source, {"content-type": content_type, "upsert": "false"}
            )
        except StorageApiError as error:
            if not _duplicate(error):
                raise self._refused(error, f"upload {blob_path}") from None
        except httpx.TransportError as error:
            raise StoreUnavailable(f"cannot reach Supabase Storage to upload {blob_path}: {error}") from None
        await asyncio.to_thread(source.unlink, missing_ok=True)
        return blob_path

    async def exists(self, blob_path: str) -> bool:
        try:
            return await self._client.storage.from_(self.bucket).exists(blob_path)
        except StorageApiError as error:
            raise self._refused(error, f"look up {blob_path}") from None

    @asynccontextmanager
    async def local_path(self, blob_path: str) -> AsyncIterator[Path]:
        """The object's bytes in a temporary file, removed when the block ends."""
        fd, name = tempfile.mkstemp(dir=self._scratch, suffix=Path(blob_path).suffix)
        os.close(fd)
        path = Path(name)
        try:
            await self._download(blob_path, path)
            yield path
        finally:
            path.unlink(missing_ok=True)

    async def _download(self, blob_path: str, target: Path) -> None:
        http: httpx.AsyncClient = self._client.options.httpx_client
        url = f"{self._client.storage_url}object/{quote(self.bucket)}/{quote(blob_path)}"
        headers = {k: v for k, v in self._client.options.headers.items() if k.lower() in ("apikey", "authorization")}
        async with http.stream("GET", url, headers=headers) as response:
            if response.status_code in (400, 404):  # Storage answers a missing object with either
                raise FileNotFoundError(f"creative blob {blob_path} is missing from bucket {self.bucket!r}")
            if response.status_code != 200:
                raise StoreError(f"download of {blob_path} from bucket {self.bucket!r}: HTTP {response.status_code}")
            with target.open("wb") as file:
                async for chunk in response.aiter_bytes(_CHUNK):
                    file.write(chunk)

    def _refused(self, error: StorageApiError, what: str) -> StoreError:
        return StoreError(f"Supabase Storage refused to {what} in bucket {self.bucket!r}: {error.message}")


@asynccontextmanager
async def open_supabase_blobs(
    client: AsyncClient, bucket: str = DEFAULT_BUCKET, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
) -> AsyncIterator[SupabaseBlobStore]:
    """The blob store over ``client``'s Storage, its bucket made if missing, its temporary folder
    removed on the way out."""
    scratch = Path(tempfile.mkdtemp(prefix="brand-pipeline-blobs-"))
    try:
        blobs = SupabaseBlobStore(client, bucket, scratch, max_upload_bytes=max_upload_bytes)
        await blobs.ensure_bucket()
        yield blobs
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
