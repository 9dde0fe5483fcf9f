""":class:`FakeGemini`, the object a test holds: it starts the server, checks the API key, routes
each path to its endpoint, and offers the per-test controls (faults, reply hook, file outcomes)."""

from __future__ import annotations

import re
import threading
import urllib.parse
from http.client import HTTPMessage

from .faults import Fault
from .files import FakeFile, FileStore
from .generate import GenerateContent, ReplyFn
from .generate_request import GenerateRequest
from .http_server import LocalHttpServer
from .replies import CitationRule, default_text
from .stats import FakeStats
from .wire import Answer, invalid_api_key, missing_api_key, not_found

DEFAULT_CITATION_PATTERN = r"ad_id=([\w.-]+)"

_API_VERSION = r"(v1|v1beta|v1alpha)"
_GENERATE_RE = re.compile(rf"^/{_API_VERSION}/(?:models|tunedModels)/([^/:]+):generateContent$")
_FILE_RE = re.compile(rf"^/{_API_VERSION}/files/([^/:]+)$")
_FILES_RE = re.compile(rf"^/{_API_VERSION}/files$")
_UPLOAD_START_RE = re.compile(rf"^/upload/{_API_VERSION}/files$")
_UPLOAD_SESSION_RE = re.compile(r"^/upload/session/([\w-]+)$")


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

    ``invent_citations``, ``latency`` and ``file_processing_polls`` may be changed while it runs.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        citation_pattern: str = DEFAULT_CITATION_PATTERN,
        invent_citations: bool = False,
        latency: float = 0.0,
        rpm: int | None = None,
        file_processing_polls: int = 1,
        max_citations: int = 3,
    ) -> None:
        self.api_key = api_key
        self.citation_pattern = re.compile(citation_pattern)
        self.invent_citations = invent_citations
        self.latency = latency
        self.file_processing_polls = file_processing_polls
        self.max_citations = max_citations
        self.stats = FakeStats()
        self._stopping = threading.Event()
        self._stopped = False
        self._http = LocalHttpServer(self._route, name="FakeGemini")
        self.port = self._http.port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._files = FileStore(self.base_url, self.stats)
        self._generate = GenerateContent(self.stats, self._files, self._stopping, rpm)
        self._http.start()

    # ----------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeGemini:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops serving, wakes hung/latent calls, closes every socket, joins threads."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._http.stop(timeout)

    # ----------------------------------------------------------- test controls

    def queue(self, *faults: Fault) -> FakeGemini:
        """Queues faults; each later generateContent call consumes one, in FIFO order."""
        self._generate.faults.queue(*faults)
        return self

    def always(self, fault: Fault) -> FakeGemini:
        """Answers every generateContent with ``fault`` (after the queue) until ``clear()``."""
        self._generate.faults.always(fault)
        return self

    def clear(self) -> None:
        """Drops queued faults and the ``always`` fault."""
        self._generate.faults.clear()

    @property
    def pending_faults(self) -> int:
        return self._generate.faults.pending

    def reply_with(self, fn: ReplyFn | None) -> FakeGemini:
        """Customises replies: ``fn(req)`` returns the object to serialise as the JSON text
        (dict or list), a raw ``str`` text, a :class:`Fault` for this call, or None for the
        default reply. ``reply_with(None)`` removes the hook."""
        self._generate.reply_with(fn)
        return self

    def next_upload_fails(self) -> None:
        """The next uploaded file ends FAILED (after the processing polls)."""
        self._files.next_upload_ends("fail")

    def next_upload_stuck(self) -> None:
        """The next uploaded file stays PROCESSING forever."""
        self._files.next_upload_ends("stuck")

    @property
    def requests(self) -> list[GenerateRequest]:
        """A snapshot of every authenticated generateContent request, in arrival order."""
        return self._generate.requests

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake or a ``reply_with`` hook (answered as 500)."""
        return self._http.errors

    @property
    def files(self) -> dict[str, FakeFile]:
        """Stored files by name (``files/<id>``)."""
        return self._files.files

    def file_bytes(self, name: str) -> bytes:
        """The bytes uploaded for ``files/<id>`` (or ``<id>``)."""
        return self._files.file_bytes(name)

    def default_text(self, req: GenerateRequest) -> str:
        """The default reply text: a schema instance as JSON, or plain prose."""
        return default_text(req, self._citation_rule())

    def reset(self) -> None:
        """Back to a fresh state: no faults, hook, requests, files or counts."""
        self._generate.reset()
        self._http.clear_errors()
        self._files.reset()
        self.stats.reset()

    # ----------------------------------------------------------- routing

    def _citation_rule(self) -> CitationRule:
        return CitationRule(self.citation_pattern, self.invent_citations, self.max_citations)

    def _route(self, method: str, raw_path: str, headers: HTTPMessage, body: bytes) -> Answer:
        url = urllib.parse.urlsplit(raw_path)
        path, query = url.path, urllib.parse.parse_qs(url.query)

        m = _UPLOAD_SESSION_RE.match(path)
        if m and method == "POST":
            # The session URL is the credential, as with the real upload service.
            return self._files.upload_chunk(m.group(1), headers, body, self.file_processing_polls)

        self._check_key(headers, query)

        if path == "/__fake/stats" and method == "GET":  # for a benchmark running the fake in another process
            return Answer(200, {}, self.stats.snapshot() | {"total_generate_calls": self.stats.total_generate_calls})

        m = _GENERATE_RE.match(path)
        if m and method == "POST":
            return self._generate.handle(m.group(2), m.group(1), body, self.latency, self._citation_rule())
        if _UPLOAD_START_RE.match(path) and method == "POST":
            return self._files.start_upload(headers, body)
        m = _FILE_RE.match(path)
        if m and method == "GET":
            return self._files.get(m.group(2))
        if m and method == "DELETE":
            return self._files.delete(m.group(2))
        if _FILES_RE.match(path) and method == "GET":
            return self._files.listing()
        return Answer(404, {}, not_found(f"Method not found: {method} {path}"))

    def _check_key(self, headers: HTTPMessage, query: dict[str, list[str]]) -> None:
        """Real API: a wrong key is 400 API_KEY_INVALID, a missing key 403. Never echoed."""
        key = headers.get("x-goog-api-key") or (query.get("key") or [None])[0]
        if key == self.api_key:
            return
        self.stats.incr("auth_failures")
        raise missing_api_key() if not key else invalid_api_key()
