"""The connections pinned media downloads run on: asyncio's own transports, for little event-loop time.

httpcore's default network backend goes through anyio, whose cancel scopes, checkpoints and
socket attributes (a ``getpeername`` call and a ``poll`` each time the pool asks whether an
idle connection is still open, which it does for every pooled connection on every request)
cost about as much event-loop time as the HTTP itself; a scrape's few hundred downloads each
wait that long. ``connect_to_address`` opens a plain ``asyncio.Protocol`` with a receive
buffer instead: reads wait for bytes, writes respect the transport's flow control, and "is an
idle connection still open" is a look at the buffer. It connects to the IP address it is given
and never looks a name up (``pinned_http`` hands it checked addresses only).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

# Received bytes held before the transport stops reading from the socket (backpressure).
_HIGH_WATER = 1024 * 1024


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: what arrived and was not read yet, and whether it ended."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._received = bytearray()
        self._ended = False
        self._error: BaseException | None = None
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused = False

    # -- called by the transport ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._received += data
        if len(self._received) > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        _wake(self._data_waiter)

    def eof_received(self) -> bool:
        self._ended = True
        _wake(self._data_waiter)
        return False  # the transport closes itself

    def connection_lost(self, error: Exception | None) -> None:
        self._ended, self._error = True, error
        _wake(self._data_waiter)
        _wake(self._drain_waiter)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        _wake(self._drain_waiter)

    # -- called by the stream ------------------------------------------------------------------

    @property
    def readable(self) -> bool:
        return bool(self._received) or self._ended

    async def read(self, max_bytes: int) -> bytes:
        while not self._received and not self._ended:
            self._data_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._data_waiter
            finally:
                self._data_waiter = None
        if not self._received and self._error is not None:
            raise httpcore.ReadError(str(self._error) or type(self._error).__name__)
        if len(self._received) <= max_bytes:
            data = bytes(self._received)
            self._received.clear()
        else:
            data = bytes(self._received[:max_bytes])
            del self._received[:max_bytes]
        if self.transport is not None and len(self._received) <= _HIGH_WATER:
            self.transport.resume_reading()
        return data

    async def write(self, data: bytes) -> None:
        if self._ended or self.transport is None or self.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self.transport.write(data)
        while self._paused and not self._ended:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None
        if self._error is not None:
            raise httpcore.WriteError(str(self._error) or type(self._error).__name__)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class LoopStream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._connection.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout(f"no data within {timeout} s") from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._connection.write(buffer)
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None

    async def aclose(self) -> None:
        transport = self._connection.transport
        if transport is not None:
            transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        transport = self._connection.transport
        assert transport is not None
        try:
            # SNI and certificate verification use server_hostname, the URL's host name.
            secure = await asyncio.get_running_loop().start_tls(
                transport, self._connection, ssl_context, server_hostname=server_hostname, ssl_handshake_timeout=timeout
            )
        except (OSError, ssl.SSLError, TimeoutError) as error:
            transport.close()
            raise httpcore.ConnectError(str(error) or type(error).__name__) from None
        if secure is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(secure, asyncio.Transport)
        self._connection.transport = secure
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._connection.transport
        if info == "is_readable":  # asked of idle pooled connections: did the server hang up?
            return self._connection.readable
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


async def connect_to_address(
    address: str,
    port: int,
    *,
    timeout: float | None = None,
    options: Iterable[httpcore.SOCKET_OPTION] = (),
    local_address: str | None = None,
) -> LoopStream:
    """A connection to exactly ``address`` (an IP address: a name is refused, never looked up)."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        raise httpcore.ConnectError(f"{address!r} is not an IP address; no name is looked up here") from None
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's own connections
                for option in options:
                    sock.setsockopt(*option)
                if local_address:
                    sock.bind((local_address, 0))
                await loop.sock_connect(sock, (address, port))
                _, connection = await loop.create_connection(_Connection, sock=sock)
            except BaseException:
                sock.close()
                raise
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"no connection to {address}:{port} within {timeout} s") from None
    except OSError as error:
        raise httpcore.ConnectError(str(error) or type(error).__name__) from None
    return LoopStream(connection)


class LoopNetworkBackend(httpcore.AsyncNetworkBackend):
    """``connect_to_address`` as an httpcore network backend: IP addresses only, asyncio's own
    transports, asyncio's sleep."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await connect_to_address(
            host, port, timeout=timeout, options=socket_options or (), local_address=local_address
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not a destination here")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
