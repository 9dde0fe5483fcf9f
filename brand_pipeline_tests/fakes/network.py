"""A pretend internet for SSRF tests: names answer what a test scripts, connections land on loopback.

``ScriptedResolver`` is a ``Resolve``: each lookup of a name takes that name's next scripted
answer (the last one repeats), so a name can answer a public address when it is checked and a
private one right after, as a DNS-rebinding attacker's name does. ``RoutedNetwork`` is an
httpcore network backend that records every address a connection was opened to and delivers
the connection to one local server, so a download from a "public" address never leaves 127.0.0.1.
"""

from __future__ import annotations

import socket

import httpcore


class ScriptedResolver:
    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = {host: [list(answer) for answer in script] for host, script in answers.items()}
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        script = self.answers.get(host)
        if not script:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return script.pop(0) if len(script) > 1 else list(script[0])


class RoutedNetwork(httpcore.AsyncNetworkBackend):
    def __init__(self, loopback_port: int) -> None:
        self.connects: list[tuple[str, int]] = []
        self._loopback_port = loopback_port
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, **_options: object
    ) -> httpcore.AsyncNetworkStream:
        # local_address and socket_options do not apply: every connection lands on loopback.
        self.connects.append((host, port))
        return await self._network.connect_tcp("127.0.0.1", self._loopback_port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)
