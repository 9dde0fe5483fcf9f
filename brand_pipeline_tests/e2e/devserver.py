"""Start, wait for and stop a real ``dagster dev`` (webserver + daemon + code server).

``dagster dev`` runs in its own session, so one signal to its process group reaches the
webserver, the daemon, the code server and every run worker they spawn. Shutdown is what a user's
Ctrl-C does (SIGINT to the group), with SIGKILL as the fallback; ``stop`` reports whether anything
of the group survived.

The embedded Postgres that the code server or a run starts is *not* in that group (``pg_ctl``
detaches it); the fixtures stop it explicitly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

DAGSTER_BIN = str(Path(sys.executable).parent / "dagster")

# Variables that change what the project or Dagster does. The dev server gets exactly the ones a
# test passes, never whatever the developer's or CI's shell happens to export.
_SCRUBBED_PREFIXES = ("DAGSTER_", "BRAND_PIPELINE_", "GEMINI_")
_SCRUBBED = {"DATABASE_URL", "PYTHONPATH"}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

LOCATIONS_QUERY = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus
  locationOrLoadError { __typename ... on PythonError { message stack } } } } } }
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
    """POST one GraphQL request to the webserver on 127.0.0.1; raise on GraphQL errors."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SCRUBBED and not key.startswith(_SCRUBBED_PREFIXES)
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class DevServer:
    proc: subprocess.Popen
    port: int
    log_path: Path
    timings: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgid(self) -> int:
        return self.proc.pid  # session leader: its pid is the group id

    def gql(self, query: str, variables: dict | None = None) -> dict:
        return graphql(self.port, query, variables)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as error:
            return f"(no dagster dev log: {error})"
        return "\n".join(_ANSI.sub("", line) for line in text.splitlines()[-lines:])


def group_processes(pgid: int) -> list[str]:
    """Live (non-zombie) processes of a process group, as ``pid stat args`` lines."""
    out = subprocess.run(["ps", "-e", "-ww", "-o", "pgid=,pid=,stat=,args="], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and int(parts[0]) == pgid and not parts[2].startswith("Z"):
            found.append(" ".join(parts[1:])[:200])
    return found


def processes_mentioning(*needles: str) -> list[str]:
    """Live processes whose command line mentions any of ``needles`` (paths of one test's state)."""
    # -ww: never cut command lines (ps cuts them to 80 columns when it cannot see a terminal).
    out = subprocess.run(["ps", "-e", "-ww", "-o", "pid=,stat=,args="], capture_output=True, text=True).stdout
    me = str(os.getpid())
    found = []
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[0] == me or parts[1].startswith("Z"):
            continue
        if any(needle in parts[2] for needle in needles):
            found.append(f"{parts[0]} {parts[2][:200]}")
    return found


def start(cwd: Path, env: dict[str, str], log_path: Path, port: int | None = None) -> DevServer:
    port = port or free_port()
    cmd = [DAGSTER_BIN, "dev", "-h", "127.0.0.1", "-p", str(port)]
    # The child must start with SIGINT's *default* disposition: a process started from a
    # non-interactive shell with `&` ignores SIGINT, the child would inherit SIG_IGN, and
    # `dagster dev` would then never shut down on SIGINT (seen in the prototype).
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if in_main else None
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=None if in_main else (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)),
            )
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    return DevServer(proc=proc, port=port, log_path=log_path)


def wait_ready(server: DevServer, timeout: float = 150) -> None:
    """Until the webserver answers and the code location is loaded (or fail with the log)."""
    t0 = time.monotonic()
    deadline = t0 + timeout

    def fail(why: str) -> None:
        raise RuntimeError(f"dagster dev on port {server.port}: {why}\n--- dagster dev log ---\n{server.log_tail(80)}")

    while True:
        if server.proc.poll() is not None:
            fail(f"exited with code {server.proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=2) as response:
                if response.status == 200:
                    break
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            fail(f"/server_info did not answer within {timeout:.0f}s")
        time.sleep(0.25)
    server.timings["webserver_s"] = round(time.monotonic() - t0, 1)
    while True:
        entries = server.gql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
            if errors:
                fail(f"code location failed to load: {errors}")
            break
        if time.monotonic() > deadline:
            fail(f"code location not loaded within {timeout:.0f}s: {entries}")
        time.sleep(0.25)
    server.timings["ready_s"] = round(time.monotonic() - t0, 1)


def stop(server: DevServer, sigint_timeout: float = 30) -> list[str]:
    """SIGINT to the group (as Ctrl-C), SIGKILL after ``sigint_timeout``; returns survivors."""
    t0 = time.monotonic()
    try:
        os.killpg(server.pgid, signal.SIGINT)
    except ProcessLookupError:
        pass
    deadline = t0 + sigint_timeout
    while time.monotonic() < deadline:
        server.proc.poll()
        if server.proc.returncode is not None and not group_processes(server.pgid):
            break
        time.sleep(0.2)
    else:
        server.timings["sigkill_needed"] = group_processes(server.pgid)
        try:
            os.killpg(server.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.2)
    server.timings["shutdown_s"] = round(time.monotonic() - t0, 1)
    return group_processes(server.pgid)
