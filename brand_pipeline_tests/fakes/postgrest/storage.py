"""The Storage half of the fake: ``/storage/v1/bucket...`` and ``/storage/v1/object...`` as storage3 calls them.

Objects are files in a folder of their own (uploads streamed to disk, downloads streamed from it);
buckets and object metadata live in memory. Access follows a Supabase project with no storage
policies: the service role may do anything, other roles may only read public buckets through
``/object/public/...`` (everything else is invisible to them or refused by row-level security).
Not offered: signed URLs, image transforms, TUS resumable uploads (storage3 2.34 has no TUS client).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .auth import SERVICE_ROLE, Caller
from .bodies import CHUNK, BodyStream, MalformedBody, MultipartReader, multipart_boundary
from .messages import JSON_TYPE, Reply
from .storage_model import (
    Bucket,
    BucketSettings,
    ListRequest,
    MoveRequest,
    StorageError,
    StoredObject,
    bucket_not_found,
    duplicate,
    invalid_mime_type,
    invalid_request,
    now,
    object_not_found,
    parse_size,
    row_level_security,
    too_large,
)

_FIELD_LIMIT = 64 * 1024


def _json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode(), {"Content-Type": JSON_TYPE})


class _FileSink:
    """Writes an upload to disk, hashing and counting it, and refuses it past ``limit`` bytes."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit, self.size = path, limit, 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self._file = path.open("wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large()
        self.md5.update(data)
        self._file.write(data)

    def close(self) -> None:
        self._file.close()


class StorageService:
    def __init__(self, root: Path, *, max_object_bytes: Callable[[], int]) -> None:
        self._root = root
        self._max_object_bytes = max_object_bytes
        self._lock = threading.Lock()
        self.buckets: dict[str, Bucket] = {}
        self.objects: dict[tuple[str, str], StoredObject] = {}

    def handle(self, method: str, segments: list[str], headers: Message, body: BodyStream, caller: Caller) -> Reply:
        try:
            if segments[:1] == ["bucket"]:
                return self._bucket_route(method, segments[1:], body, caller.role == SERVICE_ROLE)
            if segments[:1] == ["object"]:
                return self._object_route(method, segments[1:], headers, body, caller.role == SERVICE_ROLE)
            route = "/".join(segments)
            raise StorageError("404", "Not Found", f"Route {method}:/storage/v1/{route} not found")
        except StorageError as exc:
            status = 404 if exc.payload["error"] == "Not Found" else exc.http_status
            return Reply(status, exc.body(), {"Content-Type": JSON_TYPE})

    # -- buckets ---------------------------------------------------------------------------------

    def _bucket_route(self, method: str, rest: list[str], body: BodyStream, privileged: bool) -> Reply:
        if not rest:
            if method == "GET":
                return _json_reply([b.as_json() for b in self.buckets.values()] if privileged else [])
            if method == "POST":
                return self._create_bucket(_settings(body), privileged)
        elif len(rest) == 1 and method == "GET":
            if not privileged or rest[0] not in self.buckets:
                raise bucket_not_found()
            return _json_reply(self.buckets[rest[0]].as_json())
        elif not privileged:
            raise row_level_security()
        elif len(rest) == 1 and method == "PUT":
            self._update_bucket(rest[0], _settings(body))
            return _json_reply({"message": "Successfully updated"})
        elif len(rest) == 1 and method == "DELETE":
            self._delete_bucket(rest[0])
            return _json_reply({"message": "Successfully deleted"})
        elif rest[1:] == ["empty"] and method == "POST":
            with self._lock:
                self._bucket(rest[0])
                for key in [k for k in self.objects if k[0] == rest[0]]:
                    self.objects.pop(key).file.unlink(missing_ok=True)
            return _json_reply({"message": "Successfully emptied"})
        raise StorageError("404", "Not Found", f"Route {method}:/storage/v1/bucket/{'/'.join(rest)} not found")

    def _bucket(self, bucket_id: str) -> Bucket:
        bucket = self.buckets.get(bucket_id)
        if bucket is None:
            raise bucket_not_found()
        return bucket

    def _create_bucket(self, settings: BucketSettings, privileged: bool) -> Reply:
        if not privileged:
            raise row_level_security()
        bucket_id = settings.id or settings.name
        if not bucket_id:
            raise invalid_request("body must have required property 'name'")
        with self._lock:
            if bucket_id in self.buckets:
                raise StorageError("409", "Duplicate", "The resource already exists", code="BucketAlreadyExists")
            self.buckets[bucket_id] = Bucket(
                bucket_id,
                settings.name or bucket_id,
                settings.public,
                parse_size(settings.file_size_limit),
                settings.allowed_mime_types,
            )
        return _json_reply({"name": bucket_id})

    def _update_bucket(self, bucket_id: str, settings: BucketSettings) -> None:
        with self._lock:
            bucket = self._bucket(bucket_id)
            bucket.public = settings.public
            bucket.file_size_limit = parse_size(settings.file_size_limit)
            bucket.allowed_mime_types = settings.allowed_mime_types
            bucket.updated_at = now()

    def _delete_bucket(self, bucket_id: str) -> None:
        with self._lock:
            self._bucket(bucket_id)
            if any(key[0] == bucket_id for key in self.objects):
                raise StorageError("409", "ResourceNotEmpty", "The bucket you tried to delete is not empty")
            del self.buckets[bucket_id]

    # -- objects ---------------------------------------------------------------------------------

    def _object_route(
        self, method: str, rest: list[str], headers: Message, body: BodyStream, privileged: bool
    ) -> Reply:
        head = rest[0] if rest else ""
        if head == "list" and len(rest) == 2 and method == "POST":
            return self._list(rest[1], _model(ListRequest, body), privileged)
        if head == "info" and len(rest) >= 3:
            where = rest[2:] if rest[1] in ("authenticated", "public") else rest[1:]
            return _json_reply(self._readable(where[0], "/".join(where[1:]), privileged, rest[1] == "public").info())
        if head in ("move", "copy") and len(rest) == 1 and method == "POST":
            return self._move_or_copy(head, _model(MoveRequest, body), privileged)
        if head in ("sign", "upload", "render"):
            raise StorageError("400", "NotSupported", f"/object/{head} is not supported by the fake")
        if head in ("public", "authenticated") and len(rest) >= 3 and method in ("GET", "HEAD"):
            stored = self._readable(rest[1], "/".join(rest[2:]), privileged, head == "public")
            return _download(stored, method)
        if len(rest) == 1 and method == "DELETE":
            return self._delete_many(rest[0], _json(body).get("prefixes") or [], privileged)
        if len(rest) >= 2:
            bucket_id, name = rest[0], "/".join(rest[1:])
            if method in ("POST", "PUT"):
                return self._upload(bucket_id, name, headers, body, privileged, replace=method == "PUT")
            if method in ("GET", "HEAD"):
                return _download(self._readable(bucket_id, name, privileged, False), method)
            if method == "DELETE":
                self._delete_many(bucket_id, [name], privileged)
                return _json_reply({"message": "Successfully deleted"})
        raise StorageError("404", "Not Found", f"Route {method}:/storage/v1/object/{'/'.join(rest)} not found")

    def _readable(self, bucket_id: str, name: str, privileged: bool, public_route: bool) -> StoredObject:
        bucket = self._bucket(bucket_id)
        stored = self.objects.get((bucket_id, name))
        if stored is None or not (privileged or (public_route and bucket.public)):
            raise object_not_found()
        return stored

    def _upload(
        self, bucket_id: str, name: str, headers: Message, body: BodyStream, privileged: bool, *, replace: bool
    ) -> Reply:
        bucket = self._bucket(bucket_id)
        if not privileged:
            raise row_level_security()
        upsert = not replace and (headers.get("x-upsert") or "").lower() == "true"
        key = (bucket_id, name)
        if key in self.objects and not (upsert or replace):
            raise duplicate()
        if replace and key not in self.objects:
            raise object_not_found()
        limit = min(self._max_object_bytes(), bucket.file_size_limit or self._max_object_bytes())
        sink, content_type, fields = self._receive(headers, body, limit)
        if not bucket.accepts(content_type):
            sink.path.unlink(missing_ok=True)
            raise invalid_mime_type(content_type)
        with self._lock:
            previous = self.objects.get(key)
            if previous is not None and not (upsert or replace):
                sink.path.unlink(missing_ok=True)
                raise duplicate()
            stored = StoredObject(
                id=str(uuid.uuid4()),
                bucket_id=bucket_id,
                name=name,
                file=self._root / uuid.uuid4().hex,
                size=sink.size,
                content_type=content_type,
                cache_control=f"max-age={fields.get('cacheControl', '3600')}",
                etag=f'"{sink.md5.hexdigest()}"',
                user_metadata=_metadata(fields.get("metadata")),
                created_at=previous.created_at if previous else now(),
            )
            os.replace(sink.path, stored.file)
            self.objects[key] = stored
        if previous is not None:
            previous.file.unlink(missing_ok=True)
        return _json_reply({"Id": stored.id, "Key": f"{bucket_id}/{name}"})

    def _receive(self, headers: Message, body: BodyStream, limit: int) -> tuple[_FileSink, str, dict[str, str]]:
        """Stream the upload to a temporary file; returns it with its content type and form fields."""
        boundary = multipart_boundary(headers.get("Content-Type"))
        if boundary is None and (body.declared_length or 0) > limit:
            raise too_large()
        sink = _FileSink(self._root / f".upload-{uuid.uuid4().hex}", limit)
        content_type, fields = headers.get("Content-Type") or "application/octet-stream", {}
        try:
            if boundary is None:
                fields["cacheControl"] = (headers.get("cache-control") or "max-age=3600").removeprefix("max-age=")
                while data := body.read(CHUNK):
                    sink.write(data)
            else:
                content_type = "application/octet-stream"
                reader = MultipartReader(body, boundary)
                while (part := reader.next_part()) is not None:
                    if "filename" in part or part.get("name") == "file":
                        content_type = part.get("content-type") or content_type
                        reader.read_part(sink.write)
                    else:
                        chunks: list[bytes] = []
                        reader.read_part(chunks.append)
                        value = b"".join(chunks)
                        if len(value) > _FIELD_LIMIT:
                            raise invalid_request(f"form field {part.get('name')} is too large")
                        fields[part.get("name", "")] = value.decode("utf-8", "replace")
        except BaseException as exc:
            sink.close()
            sink.path.unlink(missing_ok=True)
            if isinstance(exc, MalformedBody):
                raise invalid_request(str(exc)) from exc
            raise
        sink.close()
        return sink, content_type, fields

    def _list(self, bucket_id: str, request: ListRequest, privileged: bool) -> Reply:
        self._bucket(bucket_id)
        if not privileged:
            return _json_reply([])
        prefix = request.prefix.strip("/") + "/" if request.prefix.strip("/") else ""
        entries: dict[str, dict[str, Any]] = {}
        for (bucket, name), stored in sorted(self.objects.items()):
            if bucket != bucket_id or not name.startswith(prefix):
                continue
            relative = name[len(prefix) :]
            if not relative.lower().startswith(request.search.lower()):
                continue
            folder, slash, _ = relative.partition("/")
            if slash:
                entries.setdefault(
                    folder,
                    {
                        "name": folder,
                        "id": None,
                        "updated_at": None,
                        "created_at": None,
                        "last_accessed_at": None,
                        "metadata": None,
                    },
                )
            else:
                entries[relative] = stored.list_entry(relative)
        column = request.sort_by.get("column", "name")
        ordered = sorted(entries.values(), key=lambda e: (e.get(column) is None, str(e.get(column) or "")))
        if request.sort_by.get("order", "asc").lower() == "desc":
            ordered.reverse()
        return _json_reply(ordered[request.offset : request.offset + request.limit])

    def _delete_many(self, bucket_id: str, names: list[str], privileged: bool) -> Reply:
        self._bucket(bucket_id)
        if not privileged:  # row-level security hides every row from the delete
            return _json_reply([])
        with self._lock:
            removed = [self.objects.pop((bucket_id, n)) for n in names if (bucket_id, n) in self.objects]
        for stored in removed:
            stored.file.unlink(missing_ok=True)
        return _json_reply([stored.row() for stored in removed])

    def _move_or_copy(self, verb: str, request: MoveRequest, privileged: bool) -> Reply:
        if not privileged:
            raise row_level_security()
        target_bucket = request.destination_bucket or request.bucket_id
        self._bucket(target_bucket)
        with self._lock:
            source = self._readable(request.bucket_id, request.source_key, True, False)
            if (target_bucket, request.destination_key) in self.objects:
                raise duplicate()
            copied = StoredObject(
                **{
                    **source.__dict__,
                    "id": str(uuid.uuid4()),
                    "bucket_id": target_bucket,
                    "name": request.destination_key,
                    "file": self._root / uuid.uuid4().hex,
                }
            )
            if verb == "move":
                os.replace(source.file, copied.file)
                del self.objects[(request.bucket_id, request.source_key)]
            else:
                _copy(source, copied)
            self.objects[(target_bucket, request.destination_key)] = copied
        if verb == "move":
            return _json_reply({"message": "Successfully moved"})
        return _json_reply({"Id": copied.id, "Key": f"{target_bucket}/{request.destination_key}"})


def _copy(source: StoredObject, target: StoredObject) -> None:
    with source.file.open("rb") as reader, target.file.open("wb") as writer:
        while data := reader.read(CHUNK):
            writer.write(data)


def _download(stored: StoredObject, method: str) -> Reply:
    headers = {
        "Content-Type": stored.content_type,
        "Content-Length": str(stored.size),
        "ETag": stored.etag,
        "Cache-Control": stored.cache_control,
        "Last-Modified": stored.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }
    return Reply(200, b"", headers, rows=None, file=None if method == "HEAD" else stored.file)


def _json(body: BodyStream) -> dict[str, Any]:
    try:
        payload = json.loads(body.read_all(1024 * 1024) or b"{}")
    except (ValueError, MalformedBody) as exc:
        raise invalid_request("Body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise invalid_request("Body must be a JSON object")
    return payload


def _model(model: type[Any], body: BodyStream) -> Any:
    try:
        return model.model_validate(_json(body))
    except ValidationError as exc:
        raise invalid_request(f"Invalid body: {exc.errors()[0]['msg']}") from exc


def _settings(body: BodyStream) -> BucketSettings:
    return _model(BucketSettings, body)


def _metadata(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise invalid_request("metadata is not valid JSON") from exc
    return value if isinstance(value, dict) else None
