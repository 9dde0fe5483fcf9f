"""Injected misbehaviour of generateContent: what one fault does, and the per-test plan of which
call gets which fault."""

from __future__ import annotations

import collections
import math
import threading
from dataclasses import dataclass
from typing import Literal

from .wire import JsonObject, error_body, quota_body

FaultKind = Literal[
    "quota", "unavailable", "server_error", "blocked", "prompt_blocked", "truncated", "invalid_json", "hang"
]


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour of generateContent. Build with the class methods.

    Faults answer with HTTP ``status`` and ``body`` (errors), or shape an HTTP 200 reply
    (blocked / prompt_blocked / truncated / invalid_json), or delay a normal reply (hang).
    """

    kind: FaultKind
    status: int = 200
    body: JsonObject | None = None
    reason: str = ""
    seconds: float = 0.0

    @classmethod
    def quota(cls, retry_delay: str = "2s") -> Fault:
        """429 RESOURCE_EXHAUSTED with a ``RetryInfo.retryDelay`` (which the SDK ignores)."""
        return cls("quota", 429, quota_body(retry_delay), seconds=parse_duration(retry_delay))

    @classmethod
    def unavailable(cls) -> Fault:
        """503 UNAVAILABLE, the real "model is overloaded" answer."""
        return cls(
            "unavailable",
            503,
            error_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        )

    @classmethod
    def server_error(cls) -> Fault:
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
    def blocked(cls, reason: str = "SAFETY") -> Fault:
        """HTTP 200, one candidate with ``finishReason=reason``, no content, safetyRatings."""
        return cls("blocked", reason=reason)

    @classmethod
    def prompt_blocked(cls, reason: str = "SAFETY") -> Fault:
        """HTTP 200, no candidates, ``promptFeedback.blockReason=reason``."""
        return cls("prompt_blocked", reason=reason)

    @classmethod
    def truncated(cls) -> Fault:
        """HTTP 200, the default JSON text cut in half, ``finishReason=MAX_TOKENS``."""
        return cls("truncated")

    @classmethod
    def invalid_json(cls) -> Fault:
        """HTTP 200, STOP, text ``{"unexpected": true}``: JSON, but not the schema."""
        return cls("invalid_json")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """Sleep ``seconds`` before answering normally (client timeouts).

        The sleep is cut short when the fake stops, so a hung call never delays teardown.
        """
        return cls("hang", seconds=float(seconds))

    @property
    def is_error(self) -> bool:
        """True when the fault answers with an HTTP error instead of shaping a 200 reply."""
        return self.status != 200


class FaultPlan:
    """Which generateContent call gets which fault: a FIFO queue first, then an ``always`` fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: collections.deque[Fault] = collections.deque()
        self._always: Fault | None = None

    def queue(self, *faults: Fault) -> None:
        with self._lock:
            self._queued.extend(faults)

    def always(self, fault: Fault) -> None:
        with self._lock:
            self._always = fault

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()
            self._always = None

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queued)

    def next_fault(self) -> Fault | None:
        """The fault for the call now arriving (consuming a queued one), or None."""
        with self._lock:
            return self._queued.popleft() if self._queued else self._always


def parse_duration(text: str) -> float:
    """Parses a protobuf Duration JSON string such as "2s" or "0.5s"."""
    try:
        return float(str(text).rstrip("s"))
    except ValueError:
        return 0.0


def format_duration(seconds: float) -> str:
    """Formats whole seconds the way the real RetryInfo does ("37s")."""
    return f"{max(1, math.ceil(seconds))}s"
