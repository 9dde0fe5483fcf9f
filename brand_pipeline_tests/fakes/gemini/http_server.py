"""HTTP/1.1 plumbing: a threaded server on 127.0.0.1 that hands each request to a route function,
writes its JSON answer, and on stop closes every keep-alive connection and joins its threads."""

from __future__ import annotations

import http.server
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.client import HTTPMessage
from typing import Any

from .wire import Answer, BadRequest, error_body

#: ``route(method, path_with_query, headers, body)``; may raise :class:`BadRequest`.
Route = Callable[[str, str, HTTPMessage, bytes], Answer]


class LocalHttpServer:
    """Serves ``route`` on an ephemeral 127.0.0.1 port from :meth:`start` until :meth:`stop`."""

    def __init__(self, route: Route, name: str) -> None:
        self.route = route
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._errors: list[BaseException] = []
        self._server = _ThreadingServer(("127.0.0.1", 0), _Handler, owner=self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{name}:{self.port}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stops accepting, shuts every open connection (waking blocked reads), joins handlers."""
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

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions the route raised (other than BadRequest), each answered as 500."""
        with self._lock:
            return list(self._errors)

    def clear_errors(self) -> None:
        with self._lock:
            self._errors.clear()

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
                self._handler_threads.add(threading.current_thread())
            else:
                self._connections.discard(conn)
                self._handler_threads.discard(threading.current_thread())

    def record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)


class _ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # LocalHttpServer.stop() closes connections and joins threads itself
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], owner: LocalHttpServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects are normal here (timeouts); other errors are reported as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError | OSError):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    """One HTTP/1.1 keep-alive connection."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms a call), which real servers do not add.
    disable_nagle_algorithm = True
    server_version = "FakeGemini"
    sys_version = ""
    server: _ThreadingServer

    def setup(self) -> None:
        super().setup()
        self.server.owner.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner.track(self.connection, open_=False)

    def log_message(self, *args: object) -> None:
        pass  # quiet, and request lines could carry a ``?key=``

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        try:
            answer = owner.route(method, self.path, self.headers, self._read_body())
        except BadRequest as e:
            answer = Answer(e.status, {}, e.body)
        except Exception as e:  # a bug in the fake or a hook: answer like the API would
            answer = Answer(500, {}, error_body(500, "INTERNAL", f"fake server error: {type(e).__name__}: {e}"))
            owner.record_error(e)
        self._send(answer)

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

    def _send(self, answer: Answer) -> None:
        status, headers, payload = answer
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
        except OSError:
            # The client gave up (e.g. its timeout fired during a hang): nothing to do.
            self.close_connection = True
