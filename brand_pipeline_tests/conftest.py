"""Shared fixtures: a real Postgres (embedded, started once per session), a fresh database per
test, the generated sample set, and a guard that fails any test connecting beyond 127.0.0.1."""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import os
import socket
import subprocess
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from brand_pipeline.sample import SampleManifest, generate_sample
from brand_pipeline.store.embedded import EmbeddedPostgres

if TYPE_CHECKING:
    from brand_pipeline_tests.fakes.cdn import FakeCDN
    from brand_pipeline_tests.fakes.postgrest import FakeSupabase


class NonLoopbackConnect(OSError):
    """A test tried to reach an address other than loopback."""


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse, and fail the test on, any TCP/UDP connect to a non-loopback address."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock: socket.socket, address: object) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = address[0] if isinstance(address, tuple) else str(address)
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            attempts.append(str(host))
            raise NonLoopbackConnect(f"test tried to connect to {host}; tests may reach 127.0.0.1 only")

    def connect(self: socket.socket, address: object) -> None:
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts
    assert not attempts, f"non-loopback connections attempted: {attempts}"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """One real Postgres server for the whole session (fsync off: throwaway data)."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), durable=False)
    server.ensure_running()
    yield server
    server.stop()


def _admin_dsn(server: EmbeddedPostgres) -> str:
    return server.status().dsn("postgres")


@pytest.fixture
def database_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """A fresh, empty database on the session server, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(pg_server), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_server.status().dsn(name)
    with psycopg.connect(_admin_dsn(pg_server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic sample set, generated once per session."""
    from brand_pipeline.sample import ensure_sample

    folder = tmp_path_factory.mktemp("sample") / "sample"
    ensure_sample(folder)
    return folder


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Debian's chromium for the browser tests, installed with apt-get on first use when missing,
    so the README's test command needs no set-up step of its own. Test workers (pytest-xdist)
    take turns: the first installs it, the others find it there."""
    if CHROMIUM.exists():
        return CHROMIUM
    # The folder above this worker's basetemp is shared by every worker of the session.
    with open(tmp_path_factory.getbasetemp().parent / "chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not CHROMIUM.exists():
            _install_chromium(request)
    return CHROMIUM


def _install_chromium(request: pytest.FixtureRequest) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    say = reporter.write_line if reporter else print
    say(f"{CHROMIUM} is missing: installing Debian's chromium (apt-get install -y chromium) …")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            pytest.fail(f"could not run {' '.join(command)}: {error}; install chromium yourself", pytrace=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            pytest.fail(f"{' '.join(command)} failed ({'; '.join(tail)}); install chromium yourself", pytrace=False)
    # A test worker's terminal lines do not reach the screen; a warning does (the summary lists it).
    warnings.warn(f"{CHROMIUM} was missing: installed Debian's chromium with apt-get", stacklevel=1)


@pytest.fixture
def fake_supabase(database_url: str, tmp_path: Path) -> Iterator[FakeSupabase]:
    """A local Supabase API (PostgREST + Storage, see fakes/postgrest) over this test's fresh database."""
    from brand_pipeline_tests.fakes.postgrest import FakeSupabase

    with FakeSupabase(database_url, storage_dir=tmp_path / "supabase-storage") as fake:
        yield fake
    assert not fake.server_errors, f"the fake itself failed: {fake.server_errors!r}"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throwaway Dagster instance (its own temporary storage), closed after the test."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleManifest]:
    """A sample set generated once for the module: its folder and manifest."""
    dest = tmp_path_factory.mktemp("sample") / "set"
    return dest, generate_sample(dest)


@pytest.fixture(scope="session")
def folder_hashes() -> Callable[[Path], dict[str, str]]:
    """sha256 of every file below a folder, by path relative to it: two sets compared whole."""

    def hashes(folder: Path) -> dict[str, str]:
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    return hashes


@pytest.fixture
def cdn() -> Iterator[FakeCDN]:
    """A local media CDN over plain HTTP (see fakes/cdn), stopped after the test."""
    from brand_pipeline_tests.fakes.cdn import FakeCDN

    with FakeCDN() as server:
        yield server


_KILLABLE_RUN = """
import sys, dagster as dg
from pathlib import Path
from brand_pipeline.assets import copy_analyses
from brand_pipeline_tests.helpers import resources_for
database_url, home, exports, base_url = sys.argv[1:5]
resources = resources_for(database_url, Path(home), Path(exports), api_key="test-key", base_url=base_url,
                          max_concurrency=%d, requests_per_minute=6000)
with dg.instance_for_test() as instance:
    instance.add_dynamic_partitions("brands", ["fifty"])
    dg.materialize([copy_analyses], partition_key="fifty", instance=instance, resources=resources)
"""


@pytest.fixture(scope="session")
def killable_run() -> Callable[[int], str]:
    """The source of a worker (``python -c``; argv: database_url, home, exports, base_url) that
    analyses brand "fifty"'s copy at the given concurrency: for tests that kill it mid-run."""
    return lambda max_concurrency: _KILLABLE_RUN % max_concurrency
