"""Buckets, stored objects and Supabase Storage's error replies.

Storage answers most errors with HTTP 400 and puts the meaningful status in the body's
``statusCode`` string (``"409"`` for a duplicate, ``"404"`` for a missing object); storage3 reads
the body, not the HTTP status. Only ``"500"`` errors are sent as HTTP 500.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class StorageError(Exception):
    def __init__(self, status_code: str, error: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.http_status = 500 if status_code == "500" else 400
        self.payload: dict[str, Any] = {"statusCode": status_code, "error": error, "message": message}
        if code:
            self.payload["code"] = code

    def body(self) -> bytes:
        return json.dumps(self.payload).encode()


def duplicate() -> StorageError:
    return StorageError("409", "Duplicate", "The resource already exists", code="KeyAlreadyExists")


def object_not_found() -> StorageError:
    return StorageError("404", "not_found", "Object not found", code="NoSuchKey")


def bucket_not_found() -> StorageError:
    return StorageError("404", "Bucket not found", "Bucket not found", code="NoSuchBucket")


def row_level_security() -> StorageError:
    # What Storage answers a caller that no storage.objects/buckets policy lets write.
    return StorageError("403", "Unauthorized", "new row violates row-level security policy", code="AccessDenied")


def too_large() -> StorageError:
    return StorageError(
        "413", "Payload too large", "The object exceeded the maximum allowed size", code="EntityTooLarge"
    )


def invalid_mime_type(mime: str) -> StorageError:
    return StorageError("415", "invalid_mime_type", f"mime type {mime} is not supported", code="InvalidMimeType")


def invalid_request(message: str) -> StorageError:
    return StorageError("400", "InvalidRequest", message, code="InvalidRequest")


_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3}


def parse_size(value: int | str | None) -> int | None:
    """A bucket's file size limit: bytes, or text such as ``"5MB"``."""
    if value is None or isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?b)?\s*", value.lower())
    if not match:
        raise StorageError("400", "InvalidRequest", "Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B")
    return int(float(match[1]) * _UNITS[match[2] or "b"])


class BucketSettings(BaseModel):
    """The JSON body of a create or update bucket request."""

    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    name: str | None = None
    public: bool = False
    file_size_limit: int | str | None = None
    allowed_mime_types: list[str] | None = None


class MoveRequest(BaseModel):
    """The JSON body of ``/object/move`` and ``/object/copy``."""

    bucket_id: str = Field(alias="bucketId")
    source_key: str = Field(alias="sourceKey")
    destination_key: str = Field(alias="destinationKey")
    destination_bucket: str | None = Field(default=None, alias="destinationBucket")


class ListRequest(BaseModel):
    """The JSON body of ``/object/list/<bucket>``."""

    model_config = ConfigDict(extra="ignore")
    prefix: str = ""
    limit: int = 100
    offset: int = 0
    search: str = ""
    sort_by: dict[str, str] = Field(default_factory=lambda: {"column": "name", "order": "asc"}, alias="sortBy")


@dataclass(kw_only=True)
class _Timestamps:
    """When a bucket or an object was created and last changed: now, unless given."""

    created_at: dt.datetime = field(default_factory=now)
    updated_at: dt.datetime = field(default_factory=now)


@dataclass
class Bucket(_Timestamps):
    id: str
    name: str
    public: bool = False
    file_size_limit: int | None = None
    allowed_mime_types: list[str] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": "",
            "public": self.public,
            "file_size_limit": self.file_size_limit,
            "allowed_mime_types": self.allowed_mime_types,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "type": "STANDARD",
        }

    def accepts(self, mime: str) -> bool:
        if not self.allowed_mime_types:
            return True
        base = mime.split(";")[0].strip().lower()
        for allowed in self.allowed_mime_types:
            allowed = allowed.lower()
            if allowed == base or (allowed.endswith("/*") and base.startswith(allowed[:-1])):
                return True
        return False


@dataclass
class StoredObject(_Timestamps):
    id: str
    bucket_id: str
    name: str
    file: Path
    size: int
    content_type: str
    cache_control: str
    etag: str
    user_metadata: dict[str, Any] | None

    def info(self) -> dict[str, Any]:
        """What ``GET /object/info/...`` answers."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.id,
            "bucket_id": self.bucket_id,
            "size": self.size,
            "content_type": self.content_type,
            "cache_control": self.cache_control,
            "etag": self.etag,
            "metadata": self.user_metadata,
            "last_modified": iso(self.updated_at),
            "created_at": iso(self.created_at),
        }

    def list_entry(self, name: str) -> dict[str, Any]:
        """An entry of ``/object/list`` (the object's name relative to the listed folder)."""
        return {
            "name": name,
            "id": self.id,
            "updated_at": iso(self.updated_at),
            "created_at": iso(self.created_at),
            "last_accessed_at": iso(self.updated_at),
            "metadata": {
                "eTag": self.etag,
                "size": self.size,
                "mimetype": self.content_type,
                "cacheControl": self.cache_control,
                "lastModified": iso(self.updated_at),
                "contentLength": self.size,
                "httpStatusCode": 200,
            },
        }

    def row(self) -> dict[str, Any]:
        """The storage.objects row a bulk delete answers with."""
        return {
            "bucket_id": self.bucket_id,
            "name": self.name,
            "id": self.id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "metadata": self.list_entry(self.name)["metadata"],
        }
