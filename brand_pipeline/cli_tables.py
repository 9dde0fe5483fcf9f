"""What the CLI prints as tables: the demo's summary and the model costs. Rendering only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from brand_pipeline.demo import BrandRun, model_totals
from brand_pipeline.store.models import ModelCost


def demo_table(runs: list[BrandRun]) -> Table:
    """One row per brand, fitting 80 columns: only the brand may wrap (it folds), every other cell
    is short and whole, and a failure is only counted here (its description: ``print_demo_summary``)."""
    table = Table(
        title="Sample brands",
        caption="analysed/found · bad = records or media refused · new = this run",
        box=box.SIMPLE_HEAD,
        show_edge=False,  # the spaces at the edges and between cells are what the brand needs at 80 columns
        pad_edge=False,
    )
    table.add_column("brand", overflow="fold")
    for column in ("ads", "bad", "videos", "images", "copy", "new"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("personas", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for run in runs:
        t = run.totals
        failed = len(run.failed_assets) or len(run.failures)
        table.add_row(
            run.slug,
            str(t.ads),
            str(t.bad_items),
            f"{t.videos_analysed}/{t.videos}",
            f"{t.images_analysed}/{t.images}",
            f"{t.copies_analysed}/{t.copies}",
            str(run.new_items),
            str(t.personas) if run.persona_status == "done" else run.persona_status,
            "[green]ok[/green]" if run.success else f"[red]failed: {failed}[/red]",
        )
    return table


def print_demo_summary(
    out: Console, runs: list[BrandRun], comparisons: Sequence[Path] = (), *, gemini_configured: bool
) -> None:
    """The table, then what failed and why, then the model's totals, then where the reports are."""
    out.print(demo_table(runs))
    for run in runs:
        for step, reason in run.failures.items():
            out.print(f"[red]{run.slug} · {step} failed:[/red] {reason}", highlight=False)
        not_run = [asset for asset in run.failed_assets if asset not in run.failures]
        if not_run and not run.success:
            out.print(f"{run.slug} · not materialised: {', '.join(not_run)}", highlight=False)
    skipped_copy = sum(run.totals.copies_skipped for run in runs)
    if skipped_copy:
        out.print(
            f"{skipped_copy} ad copies were skipped: they still hold template variables like {{{{product.name}}}}."
        )
    if gemini_configured:
        model = model_totals(runs)
        out.print(
            f"Gemini: {model['model_done']:.0f} analyses done, {model['failed']:.0f} failed; "
            f"{model['input_tokens']:.0f} input / {model['output_tokens']:.0f} output tokens, "
            f"estimated ${model['cost_usd']:.4f}. See `brand-pipeline personas show SLUG`."
        )
    else:
        out.print("Model analysis and persona synthesis were [yellow]skipped[/yellow]: GEMINI_API_KEY is not set.")
    for run in runs:
        if run.report:
            out.print(f"report · {run.slug}: {run.report}", highlight=False, soft_wrap=True)
    for page in comparisons:
        out.print(f"comparison: {page}", highlight=False, soft_wrap=True)
    out.print("Open the UI with [bold]dagster dev[/bold] in this folder, then http://127.0.0.1:3000/assets.")


def costs_table(rows: list[ModelCost]) -> Table:
    """Calls, tokens and cost per brand and model, with a total."""
    table = Table("brand", "model", "calls", "input tokens", "output tokens", "cost (USD)", box=box.SIMPLE_HEAD)
    for row in rows:
        table.add_row(
            row.brand_slug,
            row.model,
            str(row.calls),
            str(row.input_tokens),
            str(row.output_tokens),
            f"{row.cost_usd:.4f}",
        )
    totals = [str(sum(getattr(r, f) for r in rows)) for f in ("calls", "input_tokens", "output_tokens")]
    table.add_row("total", "", *totals, f"{sum(r.cost_usd for r in rows):.4f}", style="bold")
    return table
