"""The Files API: resumable upload (start, then chunk posts), files walking PROCESSING -> ACTIVE
(or FAILED), ``GET``, list and ``DELETE``; and the check that generateContent only uses ACTIVE files."""

from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.client import HTTPMessage
from typing import Literal

import pydantic

from .generate_request import FilePart
from .stats import FakeStats
from .wire import Answer, BadRequest, JsonObject, error_body, invalid_argument, not_found

#: Chunk size the real upload endpoint announces (the SDK sends 8 MiB chunks).
UPLOAD_CHUNK_GRANULARITY = 8 * 1024 * 1024
FILE_TTL = datetime.timedelta(hours=48)

ProcessingOutcome = Literal["normal", "fail", "stuck"]

_FILE_URI_RE = re.compile(r"/files/([^/?#]+)$")
# Errors carry status "final" so the SDK raises at once instead of retrying the chunk.
_FINAL = {"X-Goog-Upload-Status": "final"}


@dataclass
class FakeFile:
    """One stored File resource, as the Files API describes it.

    ``mode`` decides how GETs walk the state: "normal" ends ACTIVE, "fail" ends FAILED,
    "stuck" stays PROCESSING. ``polls_left`` GETs answer PROCESSING first.
    """

    id: str
    mime_type: str
    data: bytes
    uri: str
    display_name: str | None
    create_time: datetime.datetime
    state: str = "PROCESSING"
    mode: ProcessingOutcome = "normal"
    polls_left: int = 0

    @property
    def name(self) -> str:
        return f"files/{self.id}"

    def advance(self) -> None:
        """One GET: PROCESSING until ``polls_left`` runs out, then ACTIVE/FAILED by mode."""
        if self.state != "PROCESSING" or self.mode == "stuck":
            return
        if self.polls_left > 0:
            self.polls_left -= 1
            return
        self.state = "FAILED" if self.mode == "fail" else "ACTIVE"

    def resource(self) -> JsonObject:
        """The File JSON: sizeBytes is a string (int64), times are RFC 3339 with Z.

        ``sha256Hash`` imitates what the service returns for uploads: base64 of the
        lowercase hex digest. Treat it as opaque.
        """
        out: JsonObject = {
            "name": self.name,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "createTime": _rfc3339(self.create_time),
            "updateTime": _rfc3339(self.create_time),
            "expirationTime": _rfc3339(self.create_time + FILE_TTL),
            "sha256Hash": base64.b64encode(hashlib.sha256(self.data).hexdigest().encode()).decode(),
            "uri": self.uri,
            "state": self.state,
            "source": "UPLOADED",
        }
        if self.display_name:
            out["displayName"] = self.display_name
        if self.state == "FAILED":
            out["error"] = {"code": 400, "message": "The file could not be processed (fake failure)."}
        return out


def _rfc3339(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class UploadMetadata(pydantic.BaseModel):
    """The ``file`` object of an upload's "start" body; clients send camelCase or snake_case."""

    model_config = pydantic.ConfigDict(extra="ignore")

    name: str | None = None
    mime_type: str | None = pydantic.Field(None, validation_alias=pydantic.AliasChoices("mimeType", "mime_type"))
    display_name: str | None = pydantic.Field(
        None, validation_alias=pydantic.AliasChoices("displayName", "display_name")
    )
    size_bytes: int | str | None = pydantic.Field(
        None, validation_alias=pydantic.AliasChoices("sizeBytes", "size_bytes")
    )


class UploadStartBody(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")

    file: UploadMetadata | None = None

    @classmethod
    def metadata_in(cls, raw: bytes) -> UploadMetadata:
        """The metadata of a start body; an unreadable body counts as none, as the API treats it."""
        try:
            return cls.model_validate_json(raw or b"{}").file or UploadMetadata()
        except pydantic.ValidationError:
            return UploadMetadata()


@dataclass
class UploadSession:
    """A resumable upload in progress (between "start" and "upload, finalize")."""

    id: str
    mime_type: str
    declared_size: int | None
    display_name: str | None
    file_id: str | None
    data: bytearray = field(default_factory=bytearray)


class FileStore:
    """Stored files and upload sessions behind the Files API endpoints, shared by all threads."""

    def __init__(self, base_url: str, stats: FakeStats) -> None:
        self.base_url = base_url
        self._stats = stats
        self._lock = threading.Lock()
        self._files: dict[str, FakeFile] = {}
        self._sessions: dict[str, UploadSession] = {}
        self._next_outcomes: collections.deque[ProcessingOutcome] = collections.deque()

    # ----------------------------------------------------------- test controls

    def next_upload_ends(self, outcome: ProcessingOutcome) -> None:
        """The next finalized upload walks its states by ``outcome`` instead of ending ACTIVE."""
        with self._lock:
            self._next_outcomes.append(outcome)

    @property
    def files(self) -> dict[str, FakeFile]:
        with self._lock:
            return {f.name: f for f in self._files.values()}

    def file_bytes(self, name: str) -> bytes:
        with self._lock:
            return self._files[name.removeprefix("files/")].data

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._sessions.clear()
            self._next_outcomes.clear()

    # ----------------------------------------------------------- resumable upload

    def start_upload(self, headers: HTTPMessage, raw: bytes) -> Answer:
        """Resumable "start": answers 200, empty body, ``X-Goog-Upload-URL`` back to us.

        The header is spelled exactly ``X-Goog-Upload-URL`` (aiohttp-based clients look
        it up case-sensitively). google-genai 3.6.1 swaps the URL's scheme and host for
        its ``base_url`` anyway, keeping path and query.
        """
        if (headers.get("X-Goog-Upload-Command") or "").strip().lower() != "start":
            raise invalid_argument("Expected X-Goog-Upload-Command: start")
        meta = UploadStartBody.metadata_in(raw)
        size = headers.get("X-Goog-Upload-Header-Content-Length") or meta.size_bytes
        file_id = meta.name.removeprefix("files/") if meta.name else None
        if file_id:
            with self._lock:
                if file_id in self._files:
                    raise BadRequest(409, error_body(409, "ALREADY_EXISTS", f"File {file_id} already exists."))
        session = UploadSession(
            id=uuid.uuid4().hex,
            mime_type=meta.mime_type or headers.get("X-Goog-Upload-Header-Content-Type") or "application/octet-stream",
            declared_size=int(size) if size not in (None, "") else None,
            display_name=meta.display_name,
            file_id=file_id,
        )
        with self._lock:
            self._sessions[session.id] = session
        upload_url = f"{self.base_url}/upload/session/{session.id}?upload_id={session.id}&upload_protocol=resumable"
        return Answer(
            200,
            {
                "X-Goog-Upload-URL": upload_url,
                "X-Goog-Upload-Status": "active",
                "X-Goog-Upload-Chunk-Granularity": str(UPLOAD_CHUNK_GRANULARITY),
            },
            None,
        )

    def upload_chunk(self, session_id: str, headers: HTTPMessage, raw: bytes, processing_polls: int) -> Answer:
        """Chunk posts: ``upload`` answers status "active"; ``upload, finalize`` stores the
        file (PROCESSING for ``processing_polls`` GETs) and answers status "final" with
        ``{"file": FILE}``."""
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return Answer(404, _FINAL, not_found("Upload session not found."))
        command = [c.strip().lower() for c in (headers.get("X-Goog-Upload-Command") or "").split(",")]
        offset = headers.get("X-Goog-Upload-Offset")
        if "upload" in command:
            if offset is not None and int(offset) != len(session.data):
                message = f"Upload offset {offset} does not match received size {len(session.data)}."
                return Answer(400, _FINAL, error_body(400, "INVALID_ARGUMENT", message))
            session.data.extend(raw)
        if "query" in command:
            return Answer(
                200, {"X-Goog-Upload-Status": "active", "X-Goog-Upload-Size-Received": str(len(session.data))}, None
            )
        if "finalize" not in command:
            return Answer(200, {"X-Goog-Upload-Status": "active"}, None)
        resource = self._finalize(session, processing_polls)
        self._stats.incr("uploads")
        return Answer(200, _FINAL, {"file": resource})

    def _finalize(self, session: UploadSession, processing_polls: int) -> JsonObject:
        with self._lock:
            self._sessions.pop(session.id, None)
            mode = self._next_outcomes.popleft() if self._next_outcomes else "normal"
            file_id = session.file_id or uuid.uuid4().hex[:12]
            stored = FakeFile(
                id=file_id,
                mime_type=session.mime_type,
                data=bytes(session.data),
                uri=f"{self.base_url}/v1/files/{file_id}",
                display_name=session.display_name,
                create_time=datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
                state="PROCESSING",
                mode=mode,
                polls_left=processing_polls,
            )
            if processing_polls <= 0 and mode != "stuck":
                stored.advance()
            self._files[file_id] = stored
            return stored.resource()

    # ----------------------------------------------------------- files/<id>

    def get(self, file_id: str) -> Answer:
        """``GET files/<id>``: the bare File; each GET is one processing poll."""
        self._stats.incr("gets")
        with self._lock:
            stored = self._files.get(file_id)
            if stored is None:
                return Answer(404, {}, not_found(f"File {file_id} not found."))
            stored.advance()
            return Answer(200, {}, stored.resource())

    def delete(self, file_id: str) -> Answer:
        """``DELETE files/<id>`` answers ``{}``."""
        self._stats.incr("deletes")
        with self._lock:
            if self._files.pop(file_id, None) is None:
                return Answer(404, {}, not_found(f"File {file_id} not found."))
        return Answer(200, {}, {})

    def listing(self) -> Answer:
        """``GET files``: every stored File."""
        with self._lock:
            return Answer(200, {}, {"files": [f.resource() for f in self._files.values()]})

    def check_usable(self, parts: Iterable[FilePart]) -> None:
        """A file part must name a known, ACTIVE file (else 403 / 400 FAILED_PRECONDITION)."""
        for part in parts:
            m = _FILE_URI_RE.search(part.uri)
            if not m:
                continue  # not a Files API URI (e.g. a YouTube or gs:// URI)
            file_id = m.group(1)
            with self._lock:
                stored = self._files.get(file_id)
                state = stored.state if stored else None
            if stored is None:
                message = f"You do not have permission to access the File {file_id} or it may not exist."
                raise BadRequest(403, error_body(403, "PERMISSION_DENIED", message))
            if state != "ACTIVE":
                message = f"The File {file_id} is not in an ACTIVE state and usage is not allowed."
                raise BadRequest(400, error_body(400, "FAILED_PRECONDITION", message))
