"""Faults of a whole run, not of one item: an endpoint that cannot be reached, a step cancelled or
interrupted mid-analysis, a worker killed. Each test fails if its handling were removed."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest

from brand_pipeline.analysis.creatives import analyse_creatives
from brand_pipeline.analysis.gemini_settings import GeminiSettings
from brand_pipeline.assets import copy_analyses, personas, scraped_ads
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.sample import read_manifest
from brand_pipeline.store.models import CreativeToAnalyse
from brand_pipeline_tests.fakes.gemini import FakeGemini, Fault, GenerateRequest
from brand_pipeline_tests.helpers import (
    materialize_brand,
    metadata_of,
    register_sample_brands,
    resources_for,
    write_copy_export,
)

FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "requests_per_minute": 6000}
LEAKS = ("generator didn't stop", "Task was destroyed", "Exception ignored", "error occurred during closing")


def closed_port_url() -> str:
    """A local address nothing listens on: bind a free port, then let it go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def step_failure(result: dg.ExecuteInJobResult) -> str:
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.error.message


def rows(database_url: str, query: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchall()


def answer_first(count: int) -> Callable[[GenerateRequest], Fault | None]:
    """A reply hook: the first ``count`` calls are answered, every later one hangs (in flight)."""
    seen = itertools.count()
    lock = threading.Lock()

    def reply(request: GenerateRequest) -> Fault | None:
        with lock:
            number = next(seen)
        return None if number < count else Fault.hang(60)

    return reply


# -- an endpoint that cannot be reached ------------------------------------------------------------


def scraped_with_endpoint_down(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance, *, api_key: str, **settings: Any
) -> tuple[dict[str, Any], str, Path]:
    """Brand "ten" (ten copies) scraped, and resources whose Gemini endpoint refuses connections:
    (the resources, that endpoint's URL, the exports folder)."""
    exports = tmp_path / "exports"
    write_copy_export(exports, "ten", 10)
    base_url = closed_port_url()
    down = resources_for(database_url, tmp_path / "home", exports, api_key=api_key, base_url=base_url, **settings)
    instance.add_dynamic_partitions(brands_partitions.name, ["ten"])
    assert materialize_brand("ten", down, instance, [scraped_ads]).success
    return down, base_url, exports


def test_an_unreachable_endpoint_fails_the_step_after_three_attempts_with_default_settings(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    # Default retry settings (5 attempts, 2..60 s backoff, 180 s deadline): only the endpoint is wrong.
    down, base_url, exports = scraped_with_endpoint_down(database_url, tmp_path, instance, api_key="AIza-secret-key")

    handler = signal.getsignal(signal.SIGINT)
    result = materialize_brand("ten", down, instance, [copy_analyses])
    assert signal.getsignal(signal.SIGINT) is handler, "the step gives the interrupt handler back"
    assert not result.success, "an open breaker fails the step, below the failure share too"
    message = step_failure(result)
    endpoint = base_url.removeprefix("http://")
    assert f"the Gemini endpoint {endpoint} cannot be reached (connection refused)" in message
    assert "AIza-secret-key" not in message

    saved = rows(database_url, "SELECT semantic_status, attempts, semantic_reason FROM copy_analyses")
    assert len(saved) == 10, "every item is recorded, so a later run retries it"
    assert {status for status, _, _ in saved} == {"transient_error"}
    assert all(endpoint in reason for _, _, reason in saved)
    threshold = GeminiSettings().max_connect_failures
    assert sum(attempts for _, attempts, _ in saved) == threshold, "the breaker opened after three attempts"
    assert [attempts for _, attempts, _ in saved].count(0) >= 10 - threshold, "later items never tried"

    with FakeGemini(api_key="AIza-secret-key") as fake:
        up = resources_for(
            database_url, tmp_path / "home", exports, api_key=fake.api_key, base_url=fake.base_url, **FAST
        )
        rerun = materialize_brand("ten", up, instance, [copy_analyses])
        assert rerun.success and metadata_of(rerun, "copy_analyses")["analysed_new"] == 10
        assert fake.stats.total_generate_calls == 10
    assert rows(database_url, "SELECT DISTINCT semantic_status FROM copy_analyses") == [("done",)]


def test_persona_synthesis_against_an_unreachable_endpoint_fails_and_keeps_the_last_personas(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    down, base_url, _ = scraped_with_endpoint_down(database_url, tmp_path, instance, api_key="k", **FAST)

    result = materialize_brand("ten", down, instance, [personas])
    assert not result.success
    assert f"the Gemini endpoint {base_url.removeprefix('http://')} cannot be reached" in step_failure(result)
    assert rows(database_url, "SELECT count(*) FROM persona_syntheses") == [(0,)], "no outage stored as personas"


# -- cancellation and interrupts ---------------------------------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _run_like_dagster(main: Callable[[], Any], cancel_when: Callable[[], bool]) -> BaseException | None:
    """Run ``main()`` as Dagster runs a step (``run_until_complete`` on a loop of its own, then
    ``shutdown_asyncgens`` and ``close``), cancelling its task once ``cancel_when()`` holds.
    Returns what the task raised; fails if any other task outlived it."""
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(main())

        async def canceller() -> None:
            while not cancel_when():
                await asyncio.sleep(0.01)
            task.cancel()

        watcher = loop.create_task(canceller())
        raised: BaseException | None = None
        try:
            loop.run_until_complete(task)
        except BaseException as error:
            raised = error
        leftover = [t for t in asyncio.all_tasks(loop) if t is not watcher and not t.done()]
        assert not leftover, f"tasks outlived the cancelled step: {leftover}"
        loop.run_until_complete(watcher)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return raised


def test_cancelling_an_analysis_mid_way_unwinds_every_item_and_leaves_nothing_open(
    database_url: str,
    tmp_path: Path,
    sample_dir: Path,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    home = tmp_path / "home"
    scraping = resources_for(database_url, home, sample_dir)
    [slug, *_] = register_sample_brands(scraping, sample_dir, instance)
    assert materialize_brand(slug, scraping, instance, [scraped_ads]).success
    files_before = sorted(p for p in (home / "creatives").rglob("*") if p.is_file())
    gc.collect()
    fds_before = _open_fds()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with FakeGemini(api_key="k", latency=0.5) as fake:
            resources = resources_for(database_url, home, sample_dir, api_key="k", base_url=fake.base_url, **FAST)

            async def analysis() -> None:
                async with resources["supabase"].open() as storage, resources["gemini"].open() as analyser:
                    await analyse_creatives(
                        slug, "image", store=storage.store, blobs=storage.blobs, analyser=analyser, run_id="cancel"
                    )

            raised = _run_like_dagster(analysis, cancel_when=lambda: fake.stats.in_flight_generate >= 2)
        gc.collect()
    fds_after = _open_fds()
    assert isinstance(raised, asyncio.CancelledError), f"cancellation must propagate as such, got {raised!r}"
    assert not unraisable, [u.exc_value for u in unraisable]
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert fds_after <= fds_before, f"file descriptors grew from {fds_before} to {fds_after}"
    assert sorted(p for p in (home / "creatives").rglob("*") if p.is_file()) == files_before, "no file left behind"


def test_cancelling_a_files_api_call_still_deletes_the_upload(
    tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with FakeGemini(api_key="k", latency=5) as fake:
        made = next(m for m in read_manifest(sample_dir).media if m.kind == "video")
        creative = CreativeToAnalyse(
            sha256=made.sha256, kind="video", mime_type="video/mp4", size_bytes=made.bytes, blob_path="", ad_ids=[]
        )
        media = sample_dir / made.path
        resource = GeminiResource(
            api_key="k", base_url=fake.base_url, max_inline_bytes=0, file_poll_interval_s=0.05, **FAST
        )

        async def analysis() -> None:
            async with resource.open() as analyser:
                await analyser.analyse_creative(creative, media, {})

        raised = _run_like_dagster(analysis, cancel_when=lambda: fake.stats.in_flight_generate >= 1)
        assert isinstance(raised, asyncio.CancelledError)
        assert (fake.stats.uploads, fake.stats.deletes) == (1, 1), "the uploaded file is deleted on the way out"
    assert not unraisable


INTERRUPTIBLE_RUN = """
import sys, dagster as dg
from pathlib import Path
from brand_pipeline.assets import image_analyses
from brand_pipeline_tests.helpers import resources_for
database_url, home, exports, base_url, slug = sys.argv[1:6]
resources = resources_for(database_url, Path(home), Path(exports), api_key="test-key", base_url=base_url,
                          max_concurrency=2, requests_per_minute=6000)
with dg.instance_for_test() as instance:
    instance.add_dynamic_partitions("brands", [slug])
    print("started", flush=True)
    dg.materialize([image_analyses], partition_key=slug, instance=instance, resources=resources)
"""


def _worker(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=Path(__file__).parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_rows(database_url: str, table: str, count: int, worker: subprocess.Popen[str]) -> int:
    saved, deadline = 0, time.monotonic() + 60
    while saved < count and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.05)
        saved = rows(database_url, f"SELECT count(*) FROM {table}")[0][0]
    return saved


def test_an_interrupted_run_unwinds_cleanly_and_keeps_every_reply(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance
) -> None:
    with FakeGemini(api_key="test-key") as fake:
        resources = resources_for(
            database_url, tmp_path / "home", sample_dir, api_key="test-key", base_url=fake.base_url, **FAST
        )
        [slug, *_] = register_sample_brands(resources, sample_dir, instance)
        assert materialize_brand(slug, resources, instance, [scraped_ads]).success
        fake.reply_with(answer_first(2))
        worker = _worker(INTERRUPTIBLE_RUN, database_url, str(tmp_path / "home"), str(sample_dir), fake.base_url, slug)
        saved = _wait_for_rows(database_url, "creative_analyses", 2, worker)
        while fake.stats.in_flight_generate < 2 and worker.poll() is None:
            time.sleep(0.05)
        worker.send_signal(signal.SIGINT)  # what Ctrl-C and Dagster's terminate (SIGTERM) deliver
        _, stderr = worker.communicate(timeout=60)
    assert saved == 2, "each reply is saved as it arrives"
    assert "DagsterExecutionInterruptedError" in stderr, "Dagster still sees its interrupt"
    leaks = [leak for leak in LEAKS if leak in stderr]
    assert not leaks, f"{leaks} in the worker's stderr:\n{stderr[-3000:]}"
    assert rows(database_url, "SELECT count(*) FROM creative_analyses") == [(2,)]
    assert not list((tmp_path / "home" / "creatives" / ".staging").glob("*"))


# -- a worker killed -----------------------------------------------------------------------------------


def test_a_run_killed_after_n_replies_keeps_all_n(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance, killable_run: Callable[[int], str]
) -> None:
    exports = tmp_path / "exports"
    write_copy_export(exports, "fifty", 50)
    with FakeGemini(api_key="test-key") as fake:
        resources = resources_for(
            database_url, tmp_path / "home", exports, api_key="test-key", base_url=fake.base_url, **FAST
        )
        instance.add_dynamic_partitions(brands_partitions.name, ["fifty"])
        assert materialize_brand("fifty", resources, instance, [scraped_ads]).success
        replies = 3  # fewer than any batch size: a batched save would keep none of them
        fake.reply_with(answer_first(replies))
        worker = _worker(killable_run(4), database_url, str(tmp_path / "home"), str(exports), fake.base_url)
        saved = _wait_for_rows(database_url, "copy_analyses", replies, worker)
        in_flight = fake.stats.in_flight_generate
        worker.kill()  # SIGKILL: no cleanup, no final save
        worker.communicate()
        answered = fake.stats.total_generate_calls - fake.stats.faults_served
    assert answered == replies and in_flight >= 1, "killed with calls in flight"
    assert saved == replies
    assert rows(database_url, "SELECT semantic_status, count(*) FROM copy_analyses GROUP BY 1") == [("done", replies)]
