"""What one analysis materialisation did, as counts and a Markdown preview for the UI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from brand_pipeline.domain.kinds import FAILED_SEMANTIC
from brand_pipeline.markdown import cell
from brand_pipeline.store.models import CopyAnalysis, CreativeAnalysis

Row = TypeVar("Row", CreativeAnalysis, CopyAnalysis)
# After an outage every model call fails at once; items still busy after this (decoding media)
# are stopped, and a rerun does them.
OUTAGE_GRACE_S = 1.0


class AnalysisFailed(RuntimeError):
    """More items failed than the configured share allows; everything analysed was still saved."""

    def __init__(self, message: str, report: AnalysisReport) -> None:
        super().__init__(message)
        self.report = report


class AnalysisReport(BaseModel):
    asset: str
    brand: str
    version: str
    total: int = 0
    analysed: int = 0
    facts_failed: int = 0
    facts_skipped: int = 0
    semantic: dict[str, int] = {}
    skip_reasons: dict[str, int] = {}
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    preview: list[dict[str, Any]] = []

    @property
    def already_done(self) -> int:
        return max(self.total - self.analysed, 0)

    @property
    def failed(self) -> int:
        return self.facts_failed + sum(self.semantic.get(status, 0) for status in FAILED_SEMANTIC)

    def add(self, row: CreativeAnalysis | CopyAnalysis, preview: dict[str, Any]) -> None:
        self.analysed += 1
        self.facts_failed += row.facts_status == "failed"
        self.facts_skipped += row.facts_status == "skipped"
        self.semantic[row.semantic.status] = self.semantic.get(row.semantic.status, 0) + 1
        reason = row.facts_error if row.facts_status == "skipped" else row.semantic.reason
        if row.semantic.status == "skipped" and reason:
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1
        self.input_tokens += row.semantic.input_tokens
        self.output_tokens += row.semantic.output_tokens
        self.cost_usd = round(self.cost_usd + row.semantic.cost_usd, 6)
        if len(self.preview) < 12:
            self.preview.append(preview | {"model": row.semantic.status})

    def raise_if_too_many_failed(self, max_failed_share: float) -> None:
        if self.analysed and self.failed / self.analysed > max_failed_share:
            raise AnalysisFailed(
                f"{self.failed} of {self.analysed} {self.asset} items failed "
                f"(more than {max_failed_share:.0%}); the rest were saved and a rerun retries only the failures",
                self,
            )

    def counts(self) -> dict[str, int | float]:
        counts: dict[str, int | float] = {
            "total": self.total,
            "analysed_new": self.analysed,
            "already_done": self.already_done,
            "failed": self.failed,
            "facts_failed": self.facts_failed,
            "facts_skipped": self.facts_skipped,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }
        counts |= {f"model_{status}": count for status, count in sorted(self.semantic.items())}
        return counts

    def markdown(self) -> str:
        lines = [
            f"**{self.brand}** · `{self.version}`: {self.analysed} analysed now, {self.already_done} already done, "
            f"{self.failed} failed."
        ]
        for reason, count in self.skip_reasons.items():
            lines.append(f"\n_Model step skipped for {count} item(s): {reason}_")
        if self.preview:
            columns = list(self.preview[0])
            lines += ["", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            for row in self.preview:
                lines.append("| " + " | ".join(cell(row.get(column)) for column in columns) + " |")
        return "\n".join(lines)


async def collect_analyses(
    report: AnalysisReport,
    analyses: Iterable[Awaitable[Row]],
    *,
    save: Callable[[Sequence[Row]], Awaitable[None]],
    preview: Callable[[Row], dict[str, Any]],
    max_failed_share: float,
    outage: Callable[[], str | None] = lambda: None,
) -> AnalysisReport:
    """Run ``analyses`` concurrently and save each result as it arrives (results that arrive
    together are saved together), so a killed run loses only the calls in flight.

    Every item runs in a task this function owns: whether it returns, raises or is cancelled, no
    item outlives it (an orphan would keep calling the model, and its context managers would be
    torn down under it when the loop closes). When ``outage()`` reports a run-level fault it
    stops (items still busy after ``OUTAGE_GRACE_S`` are cancelled) and fails with it, whatever
    the share; otherwise it fails only above ``max_failed_share``.
    """
    tasks = [asyncio.ensure_future(analysis) for analysis in analyses]
    uncollected = set(tasks)
    received: list[Row] = []
    try:
        while uncollected and outage() is None:
            done, _ = await asyncio.wait(uncollected, return_when=asyncio.FIRST_COMPLETED)
            uncollected -= done
            received += _rows(done)
            await _count_and_save(report, received, save, preview)
            for task in done:
                task.result()  # an item that raised fails the step (after the others were saved)
        if uncollected:  # stopped by an outage: what fails fast now finishes, and is saved
            await asyncio.wait(uncollected, timeout=OUTAGE_GRACE_S)
    finally:
        stopped = await _stop(uncollected)
        # Replies that arrived while stopping (or while a save was interrupted) are kept too.
        received += _rows(uncollected)
        await asyncio.shield(_count_and_save(report, received, save, preview))
    reason = outage()
    if reason is not None:
        raise AnalysisFailed(
            f"{reason}. {report.analysed} {report.asset} item(s) finished and were saved "
            f"({report.failed} failed), {stopped} were stopped before finishing",
            report,
        )
    report.raise_if_too_many_failed(max_failed_share)
    return report


async def _count_and_save(
    report: AnalysisReport,
    received: list[Row],
    save: Callable[[Sequence[Row]], Awaitable[None]],
    preview: Callable[[Row], dict[str, Any]],
) -> None:
    """Count and save the rows in ``received`` and empty it (first, so a failed save is not retried)."""
    batch = received[:]
    received.clear()
    if not batch:
        return
    for row in batch:
        report.add(row, preview(row))
    await save(batch)


def _rows(tasks: Iterable[asyncio.Future[Row]]) -> list[Row]:
    return [task.result() for task in tasks if task.done() and not task.cancelled() and task.exception() is None]


async def _stop(tasks: Iterable[asyncio.Future[Row]]) -> int:
    """Cancel the unfinished items and wait until each has unwound; how many were stopped."""
    unfinished = [task for task in tasks if not task.done()]
    for task in unfinished:
        task.cancel()
    if unfinished:
        await asyncio.wait(unfinished)
    return len(unfinished)
