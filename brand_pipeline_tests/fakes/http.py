"""The threaded local HTTP server every fake here runs on: 127.0.0.1, an ephemeral port, HTTP/1.1.

A fake subclasses ``LocalHTTPFake`` and passes its request handler (a ``FakeHTTPHandler``) to
``__init__``; the handler reaches its fake as ``self.server.fake``. Each connection is served by
its own daemon thread, so a fake that stalls one request (a fault) never blocks the others.
"""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), handler)


class FakeHTTPHandler(BaseHTTPRequestHandler):
    """Speaks HTTP/1.1 as the real services do, and keeps the test output free of access logs."""

    server: FakeHTTPServer

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no delayed-ACK stall between headers and body

    def log_message(self, *args: object) -> None:
        pass

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        """A complete reply with a Content-Length, so the connection stays open for the next request."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class LocalHTTPFake:
    """Serves ``handler`` from ``__init__`` until ``stop`` (or the end of a ``with`` block)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> None:
        self.stopping = threading.Event()  # set on stop: endless replies and fault delays end early
        self.server = FakeHTTPServer(self, handler)
        if tls is not None:
            # The handshake runs on accept, in the serving thread: a client refusing the
            # certificate just drops that connection.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        # A short poll interval: shutdown() waits up to one interval for the serving loop to notice.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
