"""``models/<model>:generateContent``: decides each call's answer (rpm quota, file states, fault
plan, reply hook, default reply), takes the configured latency, and remembers every request."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeAlias

from .faults import Fault, FaultPlan, format_duration
from .files import FileStore
from .generate_request import GenerateRequest, parse_generate_request
from .rate_limit import SlidingWindowLimiter
from .replies import CitationRule, generate_reply
from .stats import FakeStats
from .wire import Answer, JsonObject, invalid_argument, quota_body

#: A ``reply_with`` hook: the JSON value (dict or list) or raw text to reply with, a Fault for
#: this call, or None for the default reply.
ReplyFn: TypeAlias = Callable[[GenerateRequest], dict[str, Any] | list[Any] | str | Fault | None]


class GenerateContent:
    """The generateContent endpoint; ``stopping`` cuts hangs and latency short at shutdown."""

    def __init__(self, stats: FakeStats, files: FileStore, stopping: threading.Event, rpm: int | None) -> None:
        self.faults = FaultPlan()
        self._stats = stats
        self._files = files
        self._stopping = stopping
        self._limiter = SlidingWindowLimiter(rpm) if rpm else None
        self._lock = threading.Lock()
        self._reply_fn: ReplyFn | None = None
        self._requests: list[GenerateRequest] = []
        self._seq = itertools.count()

    def reply_with(self, fn: ReplyFn | None) -> None:
        with self._lock:
            self._reply_fn = fn

    @property
    def requests(self) -> list[GenerateRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forgets the hook and the requests seen; ``seq`` keeps counting."""
        self.faults.clear()
        with self._lock:
            self._reply_fn = None
            self._requests.clear()

    def handle(self, model: str, api_version: str, raw: bytes, latency: float, citations: CitationRule) -> Answer:
        """One call; it takes ``latency`` seconds in all, building the reply included."""
        started = time.monotonic()
        body = _json_object(raw)
        self._stats.count_generate(model)
        self._stats.enter_generate()
        try:
            req = parse_generate_request(model, body, api_version, next(self._seq))
            with self._lock:
                self._requests.append(req)
            answer = self._answer(req, citations)
            if latency:
                self._stopping.wait(max(0.0, latency - (time.monotonic() - started)))
            return answer
        finally:
            self._stats.exit_generate()

    def _answer(self, req: GenerateRequest, citations: CitationRule) -> Answer:
        """Order: rpm quota, file states, queued/always fault, reply hook, default reply."""
        if self._limiter is not None:
            wait = self._limiter.try_acquire()
            if wait is not None:
                self._stats.incr("quota_rejections")
                return Answer(429, {}, quota_body(format_duration(wait), req.model))
        self._files.check_usable(req.file_parts)
        fault, custom = self._fault_or_hook_reply(req)
        if fault is not None:
            self._stats.incr("faults_served")
            if fault.kind == "hang":
                self._stopping.wait(fault.seconds)
                fault = None
            elif fault.is_error:
                if fault.status == 429:
                    self._stats.incr("quota_rejections")
                return Answer(fault.status, {}, fault.body)
        reply = generate_reply(req, fault, custom, citations)
        usage = reply.get("usageMetadata") or {}
        self._stats.add_usage(usage.get("promptTokenCount", 0), usage.get("candidatesTokenCount", 0))
        return Answer(200, {}, reply)

    def _fault_or_hook_reply(self, req: GenerateRequest) -> tuple[Fault | None, Any]:
        """The planned fault; without one, the hook's answer (a Fault counts as one)."""
        fault = self.faults.next_fault()
        with self._lock:
            fn = self._reply_fn
        if fault is not None or fn is None:
            return fault, None
        custom = fn(req)
        if isinstance(custom, Fault):
            return custom, None
        return None, custom


def _json_object(raw: bytes) -> JsonObject:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received.")
    return body
