"""Ctrl-C (or SIGTERM) stops `brand-pipeline demo` as a whole: the model call in flight is
abandoned, nothing new is asked of the model, what already arrived is saved, and the command exits
128 + the signal's number with one line saying how to continue."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.fakes.gemini import FakeGemini, Fault

ROOT = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).parent / "brand-pipeline"
ANSWERED = 3  # model calls answered before the fake stops answering
CONCURRENCY = 2  # model calls a run keeps in flight


@pytest.fixture
def gated_gemini() -> Iterator[FakeGemini]:
    """Answers the first ANSWERED calls, then holds every later call open until the fake stops:
    once CONCURRENCY calls hang, the demo cannot send another one unless it goes on after a signal."""
    with FakeGemini(api_key="demo-key") as fake:
        fake.reply_with(lambda request: None if request.seq < ANSWERED else Fault.hang(120))
        yield fake


def _demo_env(tmp_path: Path, fake: FakeGemini) -> dict[str, str]:
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "GEMINI_", "DATABASE_URL"))}
    return env | {
        "PYTHONPATH": str(ROOT),  # this checkout's package, whichever one the command was installed from
        "BRAND_PIPELINE_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(dagster_home),
        "GEMINI_API_KEY": fake.api_key,
        "GEMINI_BASE_URL": fake.base_url,
        "GEMINI_REQUESTS_PER_MINUTE": "6000",
        "GEMINI_MAX_CONCURRENCY": str(CONCURRENCY),
    }


def _analyses_saved(home: str) -> int:
    status = EmbeddedPostgres(Path(home)).status()
    if not status.running:
        return 0
    with psycopg.connect(status.dsn()) as conn:
        if conn.execute("SELECT to_regclass('copy_analyses')").fetchone() == (None,):
            return 0
        return conn.execute("SELECT count(*) FROM copy_analyses WHERE semantic_status = 'done'").fetchone()[0]


def _wait_until_calls_hang(fake: FakeGemini, demo: subprocess.Popen, home: str) -> None:
    # The sample's first analysis step (copy) has more items than ANSWERED + CONCURRENCY. Each reply
    # is saved as it arrives: the signal comes once the answered ones are saved, so a reply still
    # being read off the socket (a call in flight, which a stop may lose) cannot make this racy.
    deadline = time.monotonic() + 120
    while not (
        fake.stats.total_generate_calls == ANSWERED + CONCURRENCY
        and fake.stats.in_flight_generate == CONCURRENCY
        and _analyses_saved(home) == ANSWERED
    ):
        assert demo.poll() is None, demo.communicate()
        assert time.monotonic() < deadline, f"the demo never reached its model calls: {fake.stats}"
        time.sleep(0.02)


@pytest.mark.parametrize(
    "stop_signal, exit_status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_stop_signal_ends_the_whole_demo_and_keeps_what_arrived(
    tmp_path: Path, gated_gemini: FakeGemini, stop_signal: signal.Signals, exit_status: int
) -> None:
    env = _demo_env(tmp_path, gated_gemini)
    demo = subprocess.Popen(
        [str(COMMAND), "demo"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_until_calls_hang(gated_gemini, demo, env["BRAND_PIPELINE_HOME"])
        calls_at_signal = gated_gemini.stats.total_generate_calls
        demo.send_signal(stop_signal)
        stdout, stderr = demo.communicate(timeout=10)  # a bound on the wait, not a speed requirement
    except subprocess.TimeoutExpired:
        demo.kill()
        stdout, stderr = demo.communicate()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()

    try:
        calls_after_signal = gated_gemini.stats.total_generate_calls - calls_at_signal
        assert calls_after_signal == 0, f"{calls_after_signal} model calls were sent after the signal"
        assert demo.returncode == exit_status, stdout + stderr
        brands_started = re.findall(r"materialising (\S+)", stdout)
        assert len(brands_started) == 1, stdout
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in stderr, stderr
        assert "interrupted" in lines[0] and stop_signal.name in lines[0] and "again" in lines[0]
        # The answers that arrived before the signal are in the store, so a re-run does not ask again.
        store = SupabaseResource(home=env["BRAND_PIPELINE_HOME"])
        summary = store.run_with_store(lambda rows: rows.brand_summary(brands_started[0]))
        assert summary.copies_analysed + summary.images_analysed + summary.videos_analysed == ANSWERED
    finally:
        subprocess.run([str(COMMAND), "db", "stop"], cwd=tmp_path, env=env, capture_output=True, timeout=60)
