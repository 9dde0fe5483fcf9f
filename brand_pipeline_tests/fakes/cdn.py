"""A local media CDN for download tests: real HTTP on 127.0.0.1, with the faults real CDNs have.

Routes are registered per test: ``cdn.serve(path, body, content_type=...)``; plus built-in faults:
``/expired`` (403 as Meta's CDN answers a signed URL past its expiry), ``/gone`` (404),
``/huge`` (an endless chunked stream with no Content-Length), ``/drip`` (a byte every 0.2 s),
``/redirect?to=<url>`` (302 to any URL, e.g. into a private address), ``/hang-up`` (a reply,
then the connection closed without a word, as an edge whose keep-alive timer ran out).

It records what reached it: ``connections`` (one per accepted TCP connection), ``requests`` (the
request targets) and ``request_headers`` (each request's headers). With ``tls=`` a server
``SSLContext`` it speaks HTTPS and records the SNI name each client asked for in ``sni_names``.
With ``latency_s`` every request waits that long before it is answered (a distant CDN, for
benchmarks); each connection is served by its own thread, so concurrent requests wait together.
"""

from __future__ import annotations

import ssl
import time
from urllib.parse import parse_qs, urlsplit

from brand_pipeline_tests.fakes.http import FakeHTTPHandler, LocalHTTPFake


class _CDNHandler(FakeHTTPHandler):
    """Serves the owning FakeCDN's routes and faults."""

    @property
    def cdn(self) -> FakeCDN:
        return self.server.fake

    def setup(self) -> None:
        self.cdn.connections.append(self.client_address)
        super().setup()

    def do_GET(self) -> None:
        self.cdn.requests.append(self.path)
        self.cdn.request_headers.append(dict(self.headers.items()))
        if self.cdn.latency_s:
            time.sleep(self.cdn.latency_s)
        parts = urlsplit(self.path)
        if parts.path in self.cdn.routes:
            body, content_type = self.cdn.routes[parts.path]
            self.send_body(200, body, content_type)
        elif parts.path == "/expired":
            self.send_body(403, b"URL signature expired", "text/plain")
        elif parts.path == "/gone":
            self.send_body(404, b"not found", "text/plain")
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/hang-up":
            self.send_body(200, b"bye", "text/plain")
            self.close_connection = True  # no "Connection: close": the client finds out when it looks
        elif parts.path == "/huge":
            self._stream(chunk=b"\0" * 65536, pause=0.0)
        elif parts.path == "/drip":
            self._stream(chunk=b"\0", pause=0.2)
        else:
            self.send_body(404, b"no such route", "text/plain")

    def _stream(self, chunk: bytes, pause: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while not self.cdn.stopping.is_set():
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up, as it should past its cap
        self.close_connection = True


class FakeCDN(LocalHTTPFake):
    def __init__(self, tls: ssl.SSLContext | None = None, *, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.connections: list[tuple[str, int]] = []
        self.requests: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        self.sni_names: list[str | None] = []
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.sni_names.append(name)
        super().__init__(_CDNHandler, tls)

    def serve(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        self.routes[path] = (body, content_type)
        return self.base_url + path
