"""A local Slack-compatible incoming webhook: real HTTP on 127.0.0.1, answering as Slack does.

``POST /services/<team>/<bot>/<token>`` with a JSON body holding ``text`` or ``blocks`` answers
``200 ok``; another path ``404 no_service``; a body that is not such JSON ``400 invalid_payload``.
It records every accepted message in ``posts`` (the decoded JSON) and every request in
``requests`` (path and headers).

Faults, switched on per test: ``fail_with(status, body)`` answers every later POST so;
``delay(seconds)`` answers only after that long (a client with a shorter timeout gives up);
``drop()`` closes each connection without answering.
"""

from __future__ import annotations

import json
from typing import Any

from brand_pipeline_tests.fakes.http import FakeHTTPHandler, LocalHTTPFake


class _WebhookHandler(FakeHTTPHandler):
    def do_POST(self) -> None:
        fake: FakeWebhook = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.requests.append((self.path, dict(self.headers.items())))
        if fake.dropping:
            self.close_connection = True
            return
        if fake.delay_s:
            fake.stopping.wait(fake.delay_s)
        if fake.failure is not None:
            self._reply(*fake.failure)
        elif self.path != fake.path:
            self._reply(404, "no_service")
        elif (message := _message(body)) is None:
            self._reply(400, "invalid_payload")
        else:
            fake.posts.append(message)
            self._reply(200, "ok")

    def _reply(self, status: int, text: str) -> None:
        try:
            self.send_body(status, text.encode(), "text/html")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting, as it should past its timeout


def _message(body: bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or not (message.get("text") or message.get("blocks")):
        return None
    return message


class FakeWebhook(LocalHTTPFake):
    def __init__(self, token: str = "T0FAKE/B0FAKE/fake-webhook-token-123") -> None:
        self.path = f"/services/{token}"
        self.posts: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.failure: tuple[int, str] | None = None
        self.delay_s = 0.0
        self.dropping = False
        super().__init__(_WebhookHandler)

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def fail_with(self, status: int, body: str = "") -> None:
        self.failure = (status, body)

    def delay(self, seconds: float) -> None:
        self.delay_s = seconds

    def drop(self) -> None:
        self.dropping = True
