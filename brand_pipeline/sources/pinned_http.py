"""HTTP connections that go only to addresses checked beforehand: no DNS-rebinding window.

A caller resolves a host once (``Resolve``), checks every address, and pins the checked ones for
its request with ``pinned(...)``. A client from ``pinned_client()`` then connects only to a
pinned address: its network backend never resolves a name itself, so a name that answers
differently a moment after the check cannot move the connection. TLS still sends SNI for, and
verifies the certificate against, the host *name*: httpcore passes the URL's host to
``start_tls`` whatever address the TCP connection went to.

Connections are pooled per (scheme, host, port). A pooled connection was opened to an address
pinned, and so checked, for an earlier request to the same host, so reusing it never reaches an
unchecked address; each new request hop is still checked before it is sent.

httpx 0.28 cannot be given an httpcore network backend, so ``PinnedTransport`` is a small
``httpx.AsyncBaseTransport`` over ``httpcore.AsyncConnectionPool(network_backend=...)``: the
documented extension points of both libraries, no private attributes.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import httpcore
import httpx

from brand_pipeline.sources.loop_network import LoopNetworkBackend

Resolve = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``; raises ``OSError`` when the name does not resolve."""


async def resolve_with_getaddrinfo(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Pin:
    """The checked addresses one request to ``host:port`` may connect to, in order of preference."""

    host: str
    port: int
    addresses: tuple[str, ...]


# Per task: concurrent downloads (asyncio.gather) each see only their own pin.
_current_pin: ContextVar[Pin | None] = ContextVar("pinned_destination", default=None)


@contextmanager
def pinned(pin: Pin) -> Iterator[None]:
    """New connections this task opens inside the block go to ``pin.addresses`` only."""
    token = _current_pin.set(pin)
    try:
        yield
    finally:
        _current_pin.reset(token)


class PinnedNetworkBackend(LoopNetworkBackend):
    """Connects to the pinned address for the host asked for; refuses (never resolves) otherwise.

    The connection itself is ``loop_network``'s, or ``network``'s when one is given (tests route
    "public" addresses to a local server that way)."""

    def __init__(self, network: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._network = network or LoopNetworkBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        pin = _current_pin.get()
        if pin is None or (pin.host, pin.port) != (host, port):
            raise httpcore.ConnectError(f"no checked address is pinned for {host}:{port}")
        failure: Exception = httpcore.ConnectError(f"no address pinned for {host}:{port}")
        for address in pin.addresses:
            try:
                return await self._network.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


# Most specific first: httpcore's errors as the httpx ones callers catch (same names, same meaning).
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        for core_error, httpx_error in _ERRORS:
            if isinstance(error, core_error):
                raise httpx_error(str(error)) from error
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)  # returns the connection to the pool
        if close is not None:
            await close()


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections all go through ``PinnedNetworkBackend``."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        network: httpcore.AsyncNetworkBackend | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=PinnedNetworkBackend(network),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            core_response = await self._pool.handle_async_request(core_request)
        assert isinstance(core_response.stream, AsyncIterable)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response.stream),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


def pinned_client(
    *,
    timeout: httpx.Timeout,
    ssl_context: ssl.SSLContext | None = None,
    network: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """A client that connects only to pinned addresses; open it with ``async with``.

    ``ssl_context`` defaults to httpx's (certifi, ``SSL_CERT_FILE``); ``network`` is the backend
    that really connects (default: ``loop_network``'s, on asyncio's own transports). Environment
    proxies are ignored on purpose: a proxy would resolve the name itself, reopening the window
    pinning closes.
    """
    transport = PinnedTransport(ssl_context=ssl_context or httpx.create_ssl_context(), network=network)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)
