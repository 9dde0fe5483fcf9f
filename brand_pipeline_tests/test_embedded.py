"""The embedded default: one real Postgres per data folder, shared by every process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from brand_pipeline.store.embedded import EmbeddedPostgres

START = (
    "from pathlib import Path; from brand_pipeline.store.embedded import EmbeddedPostgres; "
    "print(EmbeddedPostgres(Path({root!r}), durable=False).ensure_running())"
)


def test_four_processes_racing_on_a_fresh_folder_share_one_server(tmp_path: Path) -> None:
    root = tmp_path / "home"
    processes = [
        subprocess.Popen([sys.executable, "-c", START.format(root=str(root))], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    server = EmbeddedPostgres(root)
    try:
        dsns = {process.communicate(timeout=120)[0].strip() for process in processes}
        assert all(process.returncode == 0 for process in processes)
        assert len(dsns) == 1
        [dsn] = dsns
        assert dsn.startswith("postgresql://postgres@127.0.0.1:")
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "brand_pipeline"
        # The server outlives the processes that started it, and a later caller finds it.
        assert server.status().running
        assert server.ensure_running() == dsn
    finally:
        stopped = server.stop()
    assert stopped
    assert not server.status().running
    assert not server.stop(), "stopping a stopped server says so"


def test_a_restarted_server_keeps_its_port_and_its_data(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "home", durable=False)
    dsn = server.ensure_running()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
        server.stop()
        assert server.ensure_running() == dsn
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone() == (7,)
    finally:
        server.stop()
