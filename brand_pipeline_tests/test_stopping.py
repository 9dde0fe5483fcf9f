"""How work stops on SIGINT/SIGTERM, in-process: analyses in flight are cancelled and what arrived
is saved; an asset's body unwinds before Dagster hears of the interruption; a command learns of a
signal even when another handler (Dagster's, during a run) took it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

import dagster as dg
import pytest

from brand_pipeline.analysis.report import AnalysisReport, collect_analyses
from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.interrupts import Interrupted, StopSignals, until_stop_signal
from brand_pipeline.store.models import CopyAnalysis


def _row(n: int) -> CopyAnalysis:
    return CopyAnalysis(
        copy_hash=f"copy-{n}",
        prompt_version="copy-test",
        copy_text=f"copy {n}",
        facts={},
        facts_status="done",
        semantic=SemanticResult(status="done"),
        ad_ids=[f"ad-{n}"],
        run_id="run",
    )


def test_cancelled_analyses_save_what_arrived_and_start_nothing_more() -> None:
    saved: list[str] = []
    started: list[int] = []
    release = asyncio.Event()

    finished: list[int] = []

    async def analyse(n: int) -> CopyAnalysis:
        started.append(n)
        if n >= 2:  # items 0 and 1 answer at once; the rest wait for an answer that never comes
            await release.wait()
        finished.append(n)
        return _row(n)

    async def save(rows: Sequence[CopyAnalysis]) -> None:
        saved.extend(row.copy_hash for row in rows)

    async def scenario() -> AnalysisReport:
        report = AnalysisReport(asset="copy_analyses", brand="acme", version="copy-test")
        work = asyncio.ensure_future(
            collect_analyses(
                report, (analyse(n) for n in range(5)), save=save, preview=lambda row: {}, max_failed_share=0.2
            )
        )
        while len(started) < 5:
            await asyncio.sleep(0)
        work.cancel()
        with pytest.raises(asyncio.CancelledError):
            await work
        release.set()  # an analysis still running would now finish and be counted
        await asyncio.sleep(0.01)
        return report

    report = asyncio.run(scenario())
    assert sorted(saved) == ["copy-0", "copy-1"]
    assert report.analysed == 2
    assert sorted(finished) == [0, 1], "the waiting analyses were cancelled, not left to finish unseen"


def test_a_stop_signal_lets_the_work_unwind_then_interrupts_dagster() -> None:
    unwound: list[str] = []

    async def work() -> str:
        try:
            signal.raise_signal(signal.SIGTERM)
            await asyncio.sleep(30)
            return "finished"
        finally:
            unwound.append("finally ran")

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(dg.DagsterExecutionInterruptedError, match="SIGTERM"):
        asyncio.run(until_stop_signal(work()))
    assert unwound == ["finally ran"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_command_sees_a_signal_that_another_handler_took() -> None:
    with StopSignals() as stop:
        stop.raise_if_received()  # nothing yet
        taken: list[int] = []
        outer = signal.signal(signal.SIGINT, lambda signum, frame: taken.append(signum))  # as Dagster does in a run
        signal.raise_signal(signal.SIGINT)
        signal.signal(signal.SIGINT, outer)
        assert taken == [signal.SIGINT]
        with pytest.raises(Interrupted) as interrupted:
            stop.raise_if_received()
    assert interrupted.value.exit_status == 130


def test_outside_a_run_a_stop_signal_ends_the_command_at_once() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as interrupted, StopSignals():
        signal.raise_signal(signal.SIGTERM)
    assert interrupted.value.signal_name == "SIGTERM" and interrupted.value.exit_status == 143
    assert signal.getsignal(signal.SIGTERM) is before
