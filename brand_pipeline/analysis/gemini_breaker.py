"""A circuit breaker for the model endpoint, shared by a run's calls (one per event loop and endpoint).

A refused connection or a host name that does not resolve is a fault of the run, not of one item:
retrying every item with backoff against it kept a run busy for minutes and ended in nothing.
After a few connection failures in a row the breaker opens; from then on every call of the run
fails at once without touching the network, and retries sleeping in backoff wake up to fail too.
Any answer from the server, even an error, resets the count. It stays open for the rest of the
run (the event loop): the run fails, and the next run starts with a closed breaker.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import urllib.parse
import weakref

import httpx

try:  # google-genai's own HTTP transport (a fork of httpx under another import name)
    import httpx2

    _CONNECT_ERRORS: tuple[type[BaseException], ...] = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx2.ConnectError,
        httpx2.ConnectTimeout,
    )
except ImportError:  # pragma: no cover - depends on the SDK's transport
    _CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)

DEFAULT_ENDPOINT = "generativelanguage.googleapis.com:443"


def endpoint_label(base_url: str | None) -> str:
    """``host:port`` of the endpoint the SDK calls; never the user part of a URL (it may hold a secret)."""
    if not base_url:
        return DEFAULT_ENDPOINT
    url = urllib.parse.urlsplit(base_url if "//" in base_url else f"//{base_url}")
    port = url.port or (80 if url.scheme == "http" else 443)
    return f"{url.hostname or '?'}:{port}"


def connect_failure(error: BaseException) -> str | None:
    """Why a connection could not be made, in a few words, or None when ``error`` is no connect failure."""
    if not isinstance(error, _CONNECT_ERRORS):
        return None
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "the network or host is unreachable"
        cause = cause.__cause__ or cause.__context__
    return "connecting timed out" if "Timeout" in type(error).__name__ else "the connection failed"


class EndpointBreaker:
    """Counts connection failures in a row; at ``threshold`` it opens and says why (``outage``)."""

    def __init__(self, endpoint: str, threshold: int) -> None:
        self.endpoint = endpoint
        self.threshold = threshold
        self._failures_in_a_row = 0
        self._outage: str | None = None
        self._opened = asyncio.Event()

    @property
    def outage(self) -> str | None:
        """The run-level fault once open: which endpoint cannot be reached and why."""
        return self._outage

    def record_answer(self) -> None:
        """The server answered (whatever it said): it is reachable."""
        self._failures_in_a_row = 0

    def record_connect_failure(self, detail: str) -> None:
        self._failures_in_a_row += 1
        if self._outage is None and self._failures_in_a_row >= self.threshold:
            self._outage = (
                f"the Gemini endpoint {self.endpoint} cannot be reached ({detail}): {self._failures_in_a_row} "
                "connection attempts in a row failed, so this run makes no more model calls; check "
                "GEMINI_BASE_URL and the network, then rerun (it retries these items)"
            )
            self._opened.set()

    async def sleep(self, seconds: float) -> None:
        """A retry's backoff, cut short when the breaker opens (the retry then fails at once)."""
        if self._outage is not None:
            return
        try:
            async with asyncio.timeout(seconds):
                await self._opened.wait()
        except TimeoutError:
            pass


# One breaker per endpoint per event loop: shared by every call of a run, gone with the loop.
_breakers_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, EndpointBreaker]] = (
    weakref.WeakKeyDictionary()
)


def run_breaker(endpoint: str, threshold: int) -> EndpointBreaker:
    breakers = _breakers_by_loop.setdefault(asyncio.get_running_loop(), {})
    if endpoint not in breakers:
        breakers[endpoint] = EndpointBreaker(endpoint, threshold)
    return breakers[endpoint]
