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
# Rows saved per batch while analysing, so a killed run loses at most this many results.
SAVE_EVERY = 10


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
) -> AnalysisReport:
    """Run ``analyses`` concurrently, count and save each result as it completes (in batches),
    then fail the step only if more than ``max_failed_share`` of the items failed.

    Cancelled (a stop signal) or broken by an error, it cancels the analyses still running, so no
    further model call starts, and saves every result that had already arrived before unwinding.
    """
    order = {task: i for i, task in enumerate(asyncio.ensure_future(a) for a in analyses)}
    remaining, unsaved = set(order), []
    try:
        while remaining:
            done, _ = await asyncio.wait(remaining, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=order.__getitem__):
                remaining.discard(task)
                unsaved.append(_counted(report, task.result(), preview))
            if len(unsaved) >= SAVE_EVERY:
                await save(unsaved)
                unsaved = []
    except BaseException:
        for task in remaining:
            task.cancel()
        await asyncio.gather(*remaining, return_exceptions=True)
        # Saves are upserts: rows of a save cut short by the cancellation are simply written again.
        arrived = [t for t in sorted(remaining, key=order.__getitem__) if not t.cancelled() and not t.exception()]
        unsaved += [_counted(report, task.result(), preview) for task in arrived]
        if unsaved:
            await save(unsaved)
        raise
    if unsaved:
        await save(unsaved)
    report.raise_if_too_many_failed(max_failed_share)
    return report


def _counted(report: AnalysisReport, row: Row, preview: Callable[[Row], dict[str, Any]]) -> Row:
    report.add(row, preview(row))
    return row
