"""A local fake of the Gemini Developer API, for tests and benchmarks.

It speaks the wire protocol that the real ``google-genai`` SDK (checked with 3.6.1)
uses against ``generativelanguage.googleapis.com``, so production code runs unchanged
with ``genai.Client(api_key=..., http_options=types.HttpOptions(base_url=fake.base_url))``.

What it imitates (see /work/shared/reference/wire-protocols.md and failure-modes.md 8-12):

* ``POST /{v1,v1beta}/models/<model>:generateContent`` with structured output: the reply
  text is a deterministic, valid instance of ``generationConfig.responseSchema``
  (OpenAPI subset, UPPER-case types) or ``responseJsonSchema`` (JSON Schema).
* Google-style JSON errors (``{"error": {"code", "message", "status", "details"}}``) for a
  bad API key, quota (429 + ``RetryInfo``), overload (503), internal errors (500), files
  used before they are ACTIVE (400 FAILED_PRECONDITION) and unknown files.
* Blocked replies (finish reason SAFETY / PROHIBITED_CONTENT / RECITATION, or a blocked
  prompt), MAX_TOKENS cut-offs, schema-violating JSON and hanging calls, injected per
  test through :class:`Fault`.
* A requests-per-minute quota (sliding 60 s window) and per-call latency for benchmarks.
* The Files API: resumable upload (start + chunk posts), ``GET`` walking
  PROCESSING -> ACTIVE (or FAILED), ``DELETE``.

Only the standard library is used (``http.server``), on purpose: installing aiohttp
would switch google-genai's async transport.

Example::

    with FakeGemini(rpm=60) as fake:
        client = genai.Client(api_key=fake.api_key,
                              http_options=types.HttpOptions(base_url=fake.base_url))
        fake.queue(Fault.quota(retry_delay="2s"))
        ...
        assert fake.stats.quota_rejections == 1
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as _dt
import hashlib
import http.server
import itertools
import json
import math
import re
import socket
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

__all__ = [
    "FakeGemini",
    "Fault",
    "FakeStats",
    "FakeFile",
    "GenerateRequest",
    "InlinePart",
    "FilePart",
    "DEFAULT_CITATION_PATTERN",
]

DEFAULT_CITATION_PATTERN = r"ad_id=([\w.-]+)"
#: Tokens the real API bills per image / media part (an image is 258 tokens).
MEDIA_PART_TOKENS = 258
#: Chunk size the real upload endpoint announces (the SDK sends 8 MiB chunks).
UPLOAD_CHUNK_GRANULARITY = 8 * 1024 * 1024
FILE_TTL = _dt.timedelta(hours=48)


# --------------------------------------------------------------------------- errors


def error_body(code: int, status: str, message: str, details: Optional[list] = None) -> dict:
    """The google.rpc.Status JSON envelope every Google API error uses."""
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return {"error": err}


QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. "
    "For more information on this error, head to: "
    "https://ai.google.dev/gemini-api/docs/rate-limits."
)


def quota_body(retry_delay: str, model: str = "") -> dict:
    """429 RESOURCE_EXHAUSTED as the real API sends it: a QuotaFailure, then RetryInfo.

    The SDK puts this whole body in ``ClientError.details``; the delay is found by
    scanning ``details["error"]["details"]`` for the ``google.rpc.RetryInfo`` entry.
    """
    return error_body(
        429,
        "RESOURCE_EXHAUSTED",
        QUOTA_MESSAGE,
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                        "quotaDimensions": {"location": "global", "model": model},
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
        ],
    )


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour of generateContent. Build with the class methods.

    ``kind`` is one of: quota, unavailable, server_error, blocked, prompt_blocked,
    truncated, invalid_json, hang. Faults answer with HTTP ``status`` and ``body`` (errors),
    or shape an HTTP 200 reply (blocked / truncated / invalid_json), or delay a normal reply
    (hang).
    """

    kind: str
    status: int = 200
    body: Optional[dict] = None
    reason: str = ""
    seconds: float = 0.0

    @classmethod
    def quota(cls, retry_delay: str = "2s") -> "Fault":
        """429 RESOURCE_EXHAUSTED with a ``RetryInfo.retryDelay`` (which the SDK ignores)."""
        return cls("quota", 429, quota_body(retry_delay), seconds=_parse_duration(retry_delay))

    @classmethod
    def unavailable(cls) -> "Fault":
        """503 UNAVAILABLE, the real "model is overloaded" answer."""
        return cls(
            "unavailable",
            503,
            error_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        )

    @classmethod
    def server_error(cls) -> "Fault":
        """500 INTERNAL."""
        return cls(
            "server_error",
            500,
            error_body(
                500,
                "INTERNAL",
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            ),
        )

    @classmethod
    def blocked(cls, reason: str = "SAFETY") -> "Fault":
        """HTTP 200, one candidate with ``finishReason=reason``, no content, safetyRatings."""
        return cls("blocked", reason=reason)

    @classmethod
    def prompt_blocked(cls, reason: str = "SAFETY") -> "Fault":
        """HTTP 200, no candidates, ``promptFeedback.blockReason=reason``."""
        return cls("prompt_blocked", reason=reason)

    @classmethod
    def truncated(cls) -> "Fault":
        """HTTP 200, the default JSON text cut in half, ``finishReason=MAX_TOKENS``."""
        return cls("truncated")

    @classmethod
    def invalid_json(cls) -> "Fault":
        """HTTP 200, STOP, text ``{"unexpected": true}``: JSON, but not the schema."""
        return cls("invalid_json")

    @classmethod
    def hang(cls, seconds: float) -> "Fault":
        """Sleep ``seconds`` before answering normally (client timeouts).

        The sleep is cut short when the fake stops, so a hung call never delays teardown.
        """
        return cls("hang", seconds=float(seconds))


def _parse_duration(text: str) -> float:
    """Parses a protobuf Duration JSON string such as "2s" or "0.5s"."""
    try:
        return float(str(text).rstrip("s"))
    except ValueError:
        return 0.0


def _format_duration(seconds: float) -> str:
    """Formats whole seconds the way the real RetryInfo does ("37s")."""
    return f"{max(1, math.ceil(seconds))}s"


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class InlinePart:
    """An ``inlineData`` part: its mime type and the size of its decoded bytes."""

    mime_type: Optional[str]
    size: int


@dataclass(frozen=True)
class FilePart:
    """A ``fileData`` part: the file URI and mime type as sent."""

    uri: str
    mime_type: Optional[str]


@dataclass(frozen=True)
class GenerateRequest:
    """What the fake saw in one generateContent call (also passed to ``reply_with``).

    ``text`` joins all text parts of ``contents`` with newlines; ``system_text`` holds the
    system instruction's text. ``body`` is the parsed JSON request body. ``seq`` numbers
    generateContent calls from 0 in arrival order.
    """

    model: str
    text: str
    body: dict
    inline_parts: tuple[InlinePart, ...] = ()
    file_parts: tuple[FilePart, ...] = ()
    system_text: str = ""
    api_version: str = "v1"
    seq: int = 0

    @property
    def json(self) -> dict:
        """Alias of ``body``."""
        return self.body

    @property
    def generation_config(self) -> dict:
        return _get(self.body, "generationConfig", "generation_config") or {}

    @property
    def response_schema(self) -> Optional[dict]:
        """The OpenAPI-style ``responseSchema`` (UPPER-case types), if any."""
        return _get(self.generation_config, "responseSchema", "response_schema")

    @property
    def response_json_schema(self) -> Optional[dict]:
        """The JSON-Schema ``responseJsonSchema``, if any."""
        return _get(self.generation_config, "responseJsonSchema", "response_json_schema")

    @property
    def parts_summary(self) -> dict:
        """``{"inline": [(mime, size), ...], "files": [uri, ...]}``."""
        return {
            "inline": [(p.mime_type, p.size) for p in self.inline_parts],
            "files": [p.uri for p in self.file_parts],
        }

    @property
    def media_part_count(self) -> int:
        return len(self.inline_parts) + len(self.file_parts)


class BadRequest(Exception):
    """A request the real API would refuse; carries the HTTP status and JSON body."""

    def __init__(self, status: int, body: dict):
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


def _get(obj: Any, *keys: str) -> Any:
    """First present key of ``obj``: the API accepts both camelCase and snake_case."""
    if not isinstance(obj, dict):
        return None
    for k in keys:
        if k in obj:
            return obj[k]
    return None


def _b64decode(data: str) -> bytes:
    """Decodes standard or URL-safe base64, with or without padding (the SDK sends URL-safe)."""
    s = data.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s, validate=True)


def parse_generate_request(model: str, body: dict, api_version: str, seq: int) -> GenerateRequest:
    """Reads contents, system instruction and media parts out of a request body."""
    texts: list[str] = []
    inline: list[InlinePart] = []
    files: list[FilePart] = []
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest(400, error_body(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"))
    for ci, content in enumerate(contents):
        for pi, part in enumerate((content or {}).get("parts") or []):
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            inline_data = _get(part, "inlineData", "inline_data")
            if inline_data is not None:
                try:
                    size = len(_b64decode(_get(inline_data, "data") or ""))
                except (binascii.Error, ValueError):
                    raise BadRequest(
                        400,
                        error_body(
                            400,
                            "INVALID_ARGUMENT",
                            f"Invalid value at 'contents[{ci}].parts[{pi}].inline_data.data' "
                            "(TYPE_BYTES), Base64 decoding failed",
                        ),
                    ) from None
                inline.append(InlinePart(_get(inline_data, "mimeType", "mime_type"), size))
            file_data = _get(part, "fileData", "file_data")
            if file_data is not None:
                files.append(
                    FilePart(
                        _get(file_data, "fileUri", "file_uri") or "",
                        _get(file_data, "mimeType", "mime_type"),
                    )
                )
    system = _get(body, "systemInstruction", "system_instruction") or {}
    system_text = "\n".join(
        p["text"] for p in (system.get("parts") or []) if isinstance(p, dict) and isinstance(p.get("text"), str)
    )
    return GenerateRequest(
        model=model,
        text="\n".join(texts),
        body=body,
        inline_parts=tuple(inline),
        file_parts=tuple(files),
        system_text=system_text,
        api_version=api_version,
        seq=seq,
    )


# --------------------------------------------------------------------------- schema filling


class SchemaFiller:
    """Builds a deterministic instance of a response schema.

    Understands both dialects the API accepts: the OpenAPI subset of ``responseSchema``
    (types OBJECT/ARRAY/STRING/INTEGER/NUMBER/BOOLEAN, ``nullable``; google-genai 3.6.1
    dumps ``types.Schema`` by field name, so ``any_of``, ``min_items``, ``max_length``,
    ``property_ordering`` arrive in snake_case) and the JSON Schema of ``responseJsonSchema``
    (``$defs``/``$ref``, ``anyOf``, ``type: [..., "null"]``, ``additionalProperties``).

    Values: strings ``"<field> (fake)"`` (array items ``"<field> (fake N)"``), enums their
    first value, integers 1, numbers 0.5 (clamped to minimum/maximum), booleans true,
    arrays 2 items (clamped to minItems/maxItems). Arrays of strings named ``*ad_ids`` get
    ``citations`` (ids found in the prompt); a string field named ``*ad_id`` gets the first.
    """

    def __init__(self, root: dict, citations: list[str]):
        self.root = root
        self.citations = citations

    def fill(self, schema: Any = None, name: str = "value", depth: int = 0) -> Any:
        if schema is None:
            schema = self.root
        if not isinstance(schema, dict) or depth > 32:
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        for key in ("anyOf", "any_of", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                branches = [self._resolve(b) for b in schema[key]]
                non_null = [b for b in branches if self._type(b) != "null"] or branches
                merged = {k: v for k, v in schema.items() if k != key}
                merged.update(non_null[0])
                return self.fill(merged, name, depth + 1)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            return self.fill(merged, name, depth + 1)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            non_null = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return non_null[0]
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "string":
            return self._string(schema, name)
        if kind == "integer":
            return int(self._clamp(schema, 1))
        if kind == "number":
            return float(self._clamp(schema, 0.5))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return f"{name} (fake)"

    # -- helpers

    def _resolve(self, schema: dict) -> dict:
        """Follows local ``$ref`` pointers ("#/$defs/X", "#/definitions/X"; ``types.Schema``
        dumps them as ``ref``/``defs``)."""
        seen = 0
        while isinstance(schema, dict) and isinstance(_get(schema, "$ref", "ref"), str) and seen < 32:
            ref = _get(schema, "$ref", "ref")
            target: Any = self.root
            for token in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
                token = token.replace("~1", "/").replace("~0", "~")
                if token == "$defs" and isinstance(target, dict) and token not in target:
                    token = "defs"
                target = target.get(token, {}) if isinstance(target, dict) else {}
            rest = {k: v for k, v in schema.items() if k not in ("$ref", "ref")}
            schema = {**target, **rest}
            seen += 1
        return schema

    @staticmethod
    def _type(schema: dict) -> Optional[str]:
        t = schema.get("type")
        if isinstance(t, list):
            non_null = [x for x in t if str(x).lower() != "null"] or t
            t = non_null[0] if non_null else None
        if isinstance(t, str):
            t = t.lower()
            return None if t == "type_unspecified" else t
        if "properties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        return None

    def _object(self, schema: dict, depth: int) -> dict:
        props = schema.get("properties") or {}
        order = _get(schema, "propertyOrdering", "property_ordering") or []
        names = [n for n in order if n in props] + [n for n in props if n not in order]
        out = {n: self.fill(props[n], n, depth + 1) for n in names}
        extra = _get(schema, "additionalProperties", "additional_properties")
        if not props and isinstance(extra, dict):
            out["key (fake)"] = self.fill(extra, "key", depth + 1)
        return out

    def _array(self, schema: dict, name: str, depth: int) -> list:
        lo = _get(schema, "minItems", "min_items")
        hi = _get(schema, "maxItems", "max_items")
        lo = int(lo) if lo is not None else 0
        hi = int(hi) if hi is not None else None
        items = self._resolve(schema.get("items") or {})
        if (
            name.endswith("ad_ids")
            and self._type(items) == "string"
            and not items.get("enum")
        ):
            ids = list(self.citations)
            return ids[:hi] if hi is not None else ids
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [self.fill(p, f"{name} {i + 1}", depth + 1) for i, p in enumerate(prefix)]
        count = max(2, lo)
        if hi is not None:
            count = min(count, hi)
        return [self._item(items, name, i, depth) for i in range(count)]

    def _item(self, items: dict, name: str, i: int, depth: int) -> Any:
        value = self.fill(items, name, depth + 1)
        if value == f"{name} (fake)":
            return self._string(items, name, f"fake {i + 1}")
        return value

    def _string(self, schema: dict, name: str, tag: str = "fake") -> str:
        if name.endswith("ad_id") and self.citations:
            return self.citations[0]
        fmt = schema.get("format")
        fixed = {
            "date-time": "2024-01-01T00:00:00Z",
            "date": "2024-01-01",
            "time": "00:00:00",
            "uri": "https://example.com/fake",
            "url": "https://example.com/fake",
            "email": "fake@example.com",
            "uuid": "00000000-0000-4000-8000-000000000000",
            "duration": "P1D",
        }.get(fmt)
        if fixed is not None:
            return fixed
        text = f"{name} ({tag})"
        lo = _get(schema, "minLength", "min_length")
        hi = _get(schema, "maxLength", "max_length")
        if lo is not None and len(text) < int(lo):
            text = text + "x" * (int(lo) - len(text))
        if hi is not None and len(text) > int(hi):
            text = text[: int(hi)]
        return text

    @staticmethod
    def _clamp(schema: dict, value: float) -> float:
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        if lo is not None:
            lo = float(lo)
            if value < lo or ("exclusiveMinimum" in schema and value <= lo):
                value = lo if "exclusiveMinimum" not in schema else lo + 1
        if hi is not None:
            hi = float(hi)
            if value > hi or ("exclusiveMaximum" in schema and value >= hi):
                value = hi if "exclusiveMaximum" not in schema else hi - 1
        return value


# --------------------------------------------------------------------------- files


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
    display_name: Optional[str]
    create_time: _dt.datetime
    state: str = "PROCESSING"
    mode: str = "normal"
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

    def resource(self) -> dict:
        """The File JSON: sizeBytes is a string (int64), times are RFC 3339 with Z.

        ``sha256Hash`` imitates what the service returns for uploads: base64 of the
        lowercase hex digest. Treat it as opaque.
        """
        ts = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731
        out: dict[str, Any] = {
            "name": self.name,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "createTime": ts(self.create_time),
            "updateTime": ts(self.create_time),
            "expirationTime": ts(self.create_time + FILE_TTL),
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


@dataclass
class _UploadSession:
    """A resumable upload in progress (between "start" and "upload, finalize")."""

    id: str
    mime_type: str
    declared_size: Optional[int]
    display_name: Optional[str]
    file_id: Optional[str]
    data: bytearray = field(default_factory=bytearray)


# --------------------------------------------------------------------------- stats


class FakeStats:
    """Thread-safe counters of what the fake served.

    ``generate_calls`` counts authenticated generateContent calls by model (every attempt,
    whatever the answer); ``quota_rejections`` counts 429s (injected and simulated);
    ``max_concurrent_generate`` is the peak number of generateContent calls in flight.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.generate_calls: collections.Counter[str] = collections.Counter()
            self.quota_rejections = 0
            self.faults_served = 0
            self.in_flight_generate = 0
            self.max_concurrent_generate = 0
            self.uploads = 0
            self.deletes = 0
            self.gets = 0
            self.auth_failures = 0

    @property
    def total_generate_calls(self) -> int:
        with self._lock:
            return sum(self.generate_calls.values())

    def incr(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def count_generate(self, model: str) -> None:
        with self._lock:
            self.generate_calls[model] += 1

    def enter_generate(self) -> None:
        with self._lock:
            self.in_flight_generate += 1
            self.max_concurrent_generate = max(self.max_concurrent_generate, self.in_flight_generate)

    def exit_generate(self) -> None:
        with self._lock:
            self.in_flight_generate -= 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "generate_calls": dict(self.generate_calls),
                "quota_rejections": self.quota_rejections,
                "faults_served": self.faults_served,
                "max_concurrent_generate": self.max_concurrent_generate,
                "uploads": self.uploads,
                "deletes": self.deletes,
                "gets": self.gets,
                "auth_failures": self.auth_failures,
            }

    def __repr__(self) -> str:
        return f"FakeStats({self.snapshot()})"


class _SlidingWindowLimiter:
    """A real requests-per-minute quota: at most ``rpm`` accepted calls in any 60 s window.

    Rejected calls do not use quota. When full, the caller learns how long until the oldest
    accepted call leaves the window (the ``retryDelay`` the 429 carries).
    """

    def __init__(self, rpm: int, window: float = 60.0):
        self.rpm = rpm
        self.window = window
        self._stamps: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> Optional[float]:
        """None if accepted, else seconds until a slot frees."""
        now = time.monotonic()
        with self._lock:
            while self._stamps and now - self._stamps[0] >= self.window:
                self._stamps.popleft()
            if len(self._stamps) < self.rpm:
                self._stamps.append(now)
                return None
            return self.window - (now - self._stamps[0])


# --------------------------------------------------------------------------- HTTP layer


ReplyFn = Callable[[GenerateRequest], Union[dict, list, str, Fault, None]]

_GENERATE_RE = re.compile(r"^/(v1|v1beta|v1alpha)/(?:models|tunedModels)/([^/:]+):generateContent$")
_FILE_RE = re.compile(r"^/(v1|v1beta|v1alpha)/files/([^/:]+)$")
_UPLOAD_START_RE = re.compile(r"^/upload/(v1|v1beta|v1alpha)/files$")
_UPLOAD_SESSION_RE = re.compile(r"^/upload/session/([\w-]+)$")
_FILE_URI_RE = re.compile(r"/files/([^/?#]+)$")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes one HTTP/1.1 keep-alive connection to the owning :class:`FakeGemini`."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms a call), which real servers do not add.
    disable_nagle_algorithm = True
    server_version = "FakeGemini"
    sys_version = ""
    fake: "FakeGemini"  # set on the per-instance subclass

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet, never log keys
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        try:
            body = self._read_body()
            status, headers, payload = self.fake._route(method, self.path, self.headers, body)
        except BadRequest as e:
            status, headers, payload = e.status, {}, e.body
        except Exception as e:  # a bug in the fake or a hook: answer like the API would
            status, headers, payload = 500, {}, error_body(500, "INTERNAL", f"fake server error: {type(e).__name__}: {e}")
            self.fake._record_error(e)
        self._send(status, headers, payload)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: dict, payload: Any) -> None:
        if payload is None:
            data = b""
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            # The client gave up (e.g. its timeout fired during a hang): nothing to do.
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # FakeGemini.stop() closes connections and joins threads itself
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects are normal here (timeouts); other errors go to the fake."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, OSError)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- the fake


class FakeGemini:
    """A Gemini Developer API on 127.0.0.1, started at construction, for one test.

    Args:
        api_key: the key requests must carry in ``x-goog-api-key`` (or ``?key=``).
        citation_pattern: regex finding ad ids in the prompt text (group 1 if present).
        invent_citations: also cite ``"invented-0"``, an id that is not in the prompt.
        latency: seconds every generateContent call takes in all (building the reply included).
        rpm: requests-per-minute quota over a sliding 60 s window (None = unlimited).
        file_processing_polls: how many GETs of a new file answer PROCESSING before ACTIVE.
        max_citations: how many distinct prompt ids go into an ``*ad_ids`` array.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        citation_pattern: str = DEFAULT_CITATION_PATTERN,
        invent_citations: bool = False,
        latency: float = 0.0,
        rpm: Optional[int] = None,
        file_processing_polls: int = 1,
        max_citations: int = 3,
    ):
        self.api_key = api_key
        self.citation_pattern = re.compile(citation_pattern)
        self.invent_citations = invent_citations
        self.latency = latency
        self.file_processing_polls = file_processing_polls
        self.max_citations = max_citations
        self.stats = FakeStats()
        self._limiter = _SlidingWindowLimiter(rpm) if rpm else None
        self._lock = threading.Lock()
        self._faults: collections.deque[Fault] = collections.deque()
        self._always: Optional[Fault] = None
        self._reply_fn: Optional[ReplyFn] = None
        self._requests: list[GenerateRequest] = []
        self._errors: list[BaseException] = []
        self._files: dict[str, FakeFile] = {}
        self._sessions: dict[str, _UploadSession] = {}
        self._next_upload_mode: collections.deque[str] = collections.deque()
        self._seq = itertools.count()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._stopped = False

        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"FakeGemini:{self.port}", daemon=True
        )
        self._thread.start()

    # ----------------------------------------------------------- lifecycle

    def __enter__(self) -> "FakeGemini":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops serving, wakes hung/latent calls, closes every socket, joins threads."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._server.shutdown()
        self._thread.join(timeout)
        with self._lock:
            conns = list(self._connections)
            threads = list(self._handler_threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._server.server_close()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
                self._handler_threads.add(threading.current_thread())
            else:
                self._connections.discard(conn)
                self._handler_threads.discard(threading.current_thread())

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    # ----------------------------------------------------------- test controls

    def queue(self, *faults: Fault) -> "FakeGemini":
        """Queues faults; each later generateContent call consumes one, in FIFO order."""
        with self._lock:
            self._faults.extend(faults)
        return self

    def always(self, fault: Fault) -> "FakeGemini":
        """Answers every generateContent with ``fault`` (after the queue) until ``clear()``."""
        with self._lock:
            self._always = fault
        return self

    def clear(self) -> None:
        """Drops queued faults and the ``always`` fault."""
        with self._lock:
            self._faults.clear()
            self._always = None

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def reply_with(self, fn: Optional[ReplyFn]) -> "FakeGemini":
        """Customises replies: ``fn(req)`` returns the object to serialise as the JSON text
        (dict or list), a raw ``str`` text, a :class:`Fault` for this call, or None for the
        default reply. ``reply_with(None)`` removes the hook."""
        with self._lock:
            self._reply_fn = fn
        return self

    def next_upload_fails(self) -> None:
        """The next uploaded file ends FAILED (after the processing polls)."""
        with self._lock:
            self._next_upload_mode.append("fail")

    def next_upload_stuck(self) -> None:
        """The next uploaded file stays PROCESSING forever."""
        with self._lock:
            self._next_upload_mode.append("stuck")

    @property
    def requests(self) -> list[GenerateRequest]:
        """A snapshot of every authenticated generateContent request, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake or a ``reply_with`` hook (answered as 500)."""
        with self._lock:
            return list(self._errors)

    @property
    def files(self) -> dict[str, FakeFile]:
        """Stored files by name (``files/<id>``)."""
        with self._lock:
            return {f.name: f for f in self._files.values()}

    def file_bytes(self, name: str) -> bytes:
        """The bytes uploaded for ``files/<id>`` (or ``<id>``)."""
        with self._lock:
            return self._files[name.removeprefix("files/")].data

    def reset(self) -> None:
        """Back to a fresh state: no faults, hook, requests, files or counts."""
        self.clear()
        with self._lock:
            self._reply_fn = None
            self._requests.clear()
            self._errors.clear()
            self._files.clear()
            self._sessions.clear()
            self._next_upload_mode.clear()
        self.stats.reset()

    # ----------------------------------------------------------- routing

    def _route(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict, Any]:
        url = urllib.parse.urlsplit(raw_path)
        path, query = url.path, urllib.parse.parse_qs(url.query)

        m = _UPLOAD_SESSION_RE.match(path)
        if m and method == "POST":
            # The session URL is the credential, as with the real upload service.
            return self._upload_chunk(m.group(1), headers, body)

        self._check_key(headers, query)

        if path == "/__fake/stats" and method == "GET":  # for a benchmark running the fake in another process
            return 200, {}, self.stats.snapshot() | {"total_generate_calls": self.stats.total_generate_calls}

        m = _GENERATE_RE.match(path)
        if m and method == "POST":
            return self._generate(m.group(2), m.group(1), body)
        m = _UPLOAD_START_RE.match(path)
        if m and method == "POST":
            return self._upload_start(m.group(1), headers, body)
        m = _FILE_RE.match(path)
        if m and method == "GET":
            return self._get_file(m.group(2))
        if m and method == "DELETE":
            return self._delete_file(m.group(2))
        if re.match(r"^/(v1|v1beta|v1alpha)/files$", path) and method == "GET":
            with self._lock:
                return 200, {}, {"files": [f.resource() for f in self._files.values()]}
        return 404, {}, error_body(404, "NOT_FOUND", f"Method not found: {method} {path}")

    def _check_key(self, headers: Any, query: dict) -> None:
        """Real API: a wrong key is 400 API_KEY_INVALID, a missing key 403. Never echoed."""
        key = headers.get("x-goog-api-key") or (query.get("key") or [None])[0]
        if key == self.api_key:
            return
        self.stats.incr("auth_failures")
        if not key:
            raise BadRequest(
                403,
                error_body(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established identity). "
                    "Please use API Key or other form of API consumer identity to call this API.",
                ),
            )
        raise BadRequest(
            400,
            error_body(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            ),
        )

    # ----------------------------------------------------------- generateContent

    def _generate(self, model: str, api_version: str, raw: bytes) -> tuple[int, dict, Any]:
        started = time.monotonic()
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            raise BadRequest(400, error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")) from None
        self.stats.count_generate(model)
        self.stats.enter_generate()
        try:
            req = parse_generate_request(model, body, api_version, next(self._seq))
            with self._lock:
                self._requests.append(req)
            answer = self._answer(req)
            if self.latency:  # the call takes `latency` seconds in all, building the reply included
                self._stopping.wait(max(0.0, self.latency - (time.monotonic() - started)))
            return answer
        finally:
            self.stats.exit_generate()

    def _answer(self, req: GenerateRequest) -> tuple[int, dict, Any]:
        """Order: rpm quota, file states, queued/always fault, reply hook, default reply."""
        if self._limiter is not None:
            wait = self._limiter.try_acquire()
            if wait is not None:
                self.stats.incr("quota_rejections")
                return 429, {}, quota_body(_format_duration(wait), req.model)
        self._check_files(req)

        with self._lock:
            fault = self._faults.popleft() if self._faults else self._always
            fn = self._reply_fn
        custom: Any = None
        if fault is None and fn is not None:
            custom = fn(req)
            if isinstance(custom, Fault):
                fault, custom = custom, None
        if fault is not None:
            self.stats.incr("faults_served")
            if fault.kind == "hang":
                self._stopping.wait(fault.seconds)
                fault = None
            elif fault.status != 200:
                if fault.status == 429:
                    self.stats.incr("quota_rejections")
                return fault.status, {}, fault.body
        return 200, {}, self._reply(req, fault, custom)

    def _check_files(self, req: GenerateRequest) -> None:
        """A file part must name a known, ACTIVE file (else 403 / 400 FAILED_PRECONDITION)."""
        for part in req.file_parts:
            m = _FILE_URI_RE.search(part.uri)
            if not m:
                continue  # not a Files API URI (e.g. a YouTube or gs:// URI)
            with self._lock:
                f = self._files.get(m.group(1))
                state = f.state if f else None
            if f is None:
                raise BadRequest(
                    403,
                    error_body(
                        403,
                        "PERMISSION_DENIED",
                        f"You do not have permission to access the File {m.group(1)} or it may not exist.",
                    ),
                )
            if state != "ACTIVE":
                raise BadRequest(
                    400,
                    error_body(
                        400,
                        "FAILED_PRECONDITION",
                        f"The File {m.group(1)} is not in an ACTIVE state and usage is not allowed.",
                    ),
                )

    def _citations(self, req: GenerateRequest) -> list[str]:
        ids: list[str] = []
        for m in self.citation_pattern.finditer(req.text + "\n" + req.system_text):
            value = m.group(1) if m.groups() else m.group(0)
            if value not in ids:
                ids.append(value)
            if len(ids) >= self.max_citations:
                break
        if self.invent_citations:
            ids.append("invented-0")
        return ids

    def default_text(self, req: GenerateRequest) -> str:
        """The default reply text: a schema instance as JSON, or plain prose."""
        schema = req.response_schema or req.response_json_schema
        if schema:
            return json.dumps(SchemaFiller(schema, self._citations(req)).fill())
        mime = _get(req.generation_config, "responseMimeType", "response_mime_type")
        if mime == "application/json":
            return json.dumps({"reply": "fake"})
        return "This is a fake Gemini reply."

    def _reply(self, req: GenerateRequest, fault: Optional[Fault], custom: Any) -> dict:
        prompt_tokens = math.ceil(len(req.text + req.system_text) / 4) + MEDIA_PART_TOKENS * req.media_part_count
        if fault is not None and fault.kind == "prompt_blocked":
            return {
                "promptFeedback": {"blockReason": fault.reason, "safetyRatings": _safety_ratings(fault.reason)},
                "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
                "modelVersion": req.model,
                "responseId": f"fake-{req.seq}",
            }
        if fault is not None and fault.kind == "blocked":
            return {
                "candidates": [
                    {"finishReason": fault.reason, "index": 0, "safetyRatings": _safety_ratings(fault.reason)}
                ],
                "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
                "modelVersion": req.model,
                "responseId": f"fake-{req.seq}",
            }

        finish = "STOP"
        if fault is not None and fault.kind == "invalid_json":
            text = json.dumps({"unexpected": True})
        elif isinstance(custom, str):
            text = custom
        elif custom is not None:
            text = json.dumps(custom)
        else:
            text = self.default_text(req)
        if fault is not None and fault.kind == "truncated":
            text, finish = text[: max(1, len(text) // 2)], "MAX_TOKENS"
        max_tokens = _get(req.generation_config, "maxOutputTokens", "max_output_tokens")
        if finish == "STOP" and isinstance(max_tokens, int) and math.ceil(len(text) / 4) > max_tokens:
            # Imitates the model running out of output budget mid-answer.
            text, finish = text[: max(1, max_tokens * 4)], "MAX_TOKENS"
        reply_tokens = max(1, math.ceil(len(text) / 4))
        return {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": finish,
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": reply_tokens,
                "totalTokenCount": prompt_tokens + reply_tokens,
            },
            "modelVersion": req.model,
            "responseId": f"fake-{req.seq}",
        }

    # ----------------------------------------------------------- Files API

    def _upload_start(self, api_version: str, headers: Any, raw: bytes) -> tuple[int, dict, Any]:
        """Resumable "start": answers 200, empty body, ``X-Goog-Upload-URL`` back to us.

        The header is spelled exactly ``X-Goog-Upload-URL`` (aiohttp-based clients look
        it up case-sensitively). google-genai 3.6.1 swaps the URL's scheme and host for
        its ``base_url`` anyway, keeping path and query.
        """
        if (headers.get("X-Goog-Upload-Command") or "").strip().lower() != "start":
            raise BadRequest(400, error_body(400, "INVALID_ARGUMENT", "Expected X-Goog-Upload-Command: start"))
        try:
            meta = json.loads(raw or b"{}").get("file") or {}
        except (ValueError, AttributeError):
            meta = {}
        mime = (
            _get(meta, "mimeType", "mime_type")
            or headers.get("X-Goog-Upload-Header-Content-Type")
            or "application/octet-stream"
        )
        size = headers.get("X-Goog-Upload-Header-Content-Length") or _get(meta, "sizeBytes", "size_bytes")
        wanted = _get(meta, "name")
        file_id = wanted.removeprefix("files/") if isinstance(wanted, str) and wanted else None
        if file_id:
            with self._lock:
                if file_id in self._files:
                    raise BadRequest(409, error_body(409, "ALREADY_EXISTS", f"File {file_id} already exists."))
        session = _UploadSession(
            id=uuid.uuid4().hex,
            mime_type=mime,
            declared_size=int(size) if size not in (None, "") else None,
            display_name=_get(meta, "displayName", "display_name"),
            file_id=file_id,
        )
        with self._lock:
            self._sessions[session.id] = session
        return 200, {
            "X-Goog-Upload-URL": f"{self.base_url}/upload/session/{session.id}?upload_id={session.id}&upload_protocol=resumable",
            "X-Goog-Upload-Status": "active",
            "X-Goog-Upload-Chunk-Granularity": str(UPLOAD_CHUNK_GRANULARITY),
        }, None

    def _upload_chunk(self, session_id: str, headers: Any, raw: bytes) -> tuple[int, dict, Any]:
        """Chunk posts: ``upload`` answers status "active"; ``upload, finalize`` stores the
        file and answers status "final" with ``{"file": FILE}``. Errors carry status
        "final" so the SDK raises at once instead of retrying."""
        final = {"X-Goog-Upload-Status": "final"}
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return 404, final, error_body(404, "NOT_FOUND", "Upload session not found.")
        command = [c.strip().lower() for c in (headers.get("X-Goog-Upload-Command") or "").split(",")]
        offset = headers.get("X-Goog-Upload-Offset")
        if "upload" in command:
            if offset is not None and int(offset) != len(session.data):
                return 400, final, error_body(
                    400, "INVALID_ARGUMENT", f"Upload offset {offset} does not match received size {len(session.data)}."
                )
            session.data.extend(raw)
        if "query" in command:
            return 200, {"X-Goog-Upload-Status": "active", "X-Goog-Upload-Size-Received": str(len(session.data))}, None
        if "finalize" not in command:
            return 200, {"X-Goog-Upload-Status": "active"}, None

        with self._lock:
            self._sessions.pop(session_id, None)
            mode = self._next_upload_mode.popleft() if self._next_upload_mode else "normal"
            file_id = session.file_id or uuid.uuid4().hex[:12]
            polls = self.file_processing_polls
            f = FakeFile(
                id=file_id,
                mime_type=session.mime_type,
                data=bytes(session.data),
                uri=f"{self.base_url}/v1/files/{file_id}",
                display_name=session.display_name,
                create_time=_dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None),
                state="PROCESSING",
                mode=mode,
                polls_left=polls,
            )
            if polls <= 0 and mode != "stuck":
                f.advance()
            self._files[file_id] = f
            resource = f.resource()
        self.stats.incr("uploads")
        return 200, final, {"file": resource}

    def _get_file(self, file_id: str) -> tuple[int, dict, Any]:
        """``GET files/<id>``: the bare File; each GET is one processing poll."""
        self.stats.incr("gets")
        with self._lock:
            f = self._files.get(file_id)
            if f is None:
                return 404, {}, error_body(404, "NOT_FOUND", f"File {file_id} not found.")
            f.advance()
            return 200, {}, f.resource()

    def _delete_file(self, file_id: str) -> tuple[int, dict, Any]:
        """``DELETE files/<id>`` answers ``{}``."""
        self.stats.incr("deletes")
        with self._lock:
            if self._files.pop(file_id, None) is None:
                return 404, {}, error_body(404, "NOT_FOUND", f"File {file_id} not found.")
        return 200, {}, {}


def _safety_ratings(reason: str) -> list[dict]:
    """Per-category ratings; for a SAFETY block one category is HIGH and blocked."""
    categories = [
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
    ]
    ratings: list[dict] = [{"category": c, "probability": "NEGLIGIBLE"} for c in categories]
    if reason == "SAFETY":
        ratings[3] = {"category": categories[3], "probability": "HIGH", "blocked": True}
    return ratings


def _serve_from_command_line() -> None:
    """``python -m brand_pipeline_tests.fakes.gemini --latency 0.5 --rpm 600``: serve in this process
    (so a benchmark's client does not share a GIL with the server), print the base URL, and stop when
    stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="A local Gemini-compatible server.")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rpm", type=int, default=None)
    args = parser.parse_args()
    with FakeGemini(api_key=args.api_key, latency=args.latency, rpm=args.rpm) as fake:
        print(fake.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    _serve_from_command_line()
