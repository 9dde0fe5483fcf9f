"""``brand-pipeline``: the demo, brands, and the embedded database, from the command line.

The CLI parses arguments and renders results; the work happens in the modules it calls.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from brand_pipeline.interrupts import Interrupted, StopSignals
from brand_pipeline.store.embedded import EmbeddedPostgres

if TYPE_CHECKING:
    from brand_pipeline.resources.supabase import SupabaseResource
    from brand_pipeline.store.models import CreativeLineage, PersonaLineage
    from brand_pipeline.store.protocol import BrandStore
from brand_pipeline.domain.brands import Brand

app = typer.Typer(help="Research a brand's paid social ads with Dagster.", no_args_is_help=True)
brands_app = typer.Typer(help="The brands to research (one Dagster partition each).", no_args_is_help=True)
db_app = typer.Typer(help="The embedded Postgres server (the default store).", no_args_is_help=True)
personas_app = typer.Typer(help="The personas synthesised for a brand.", no_args_is_help=True)
lineage_app = typer.Typer(help="Trace a persona or a creative to its ads, analyses and runs.", no_args_is_help=True)
app.add_typer(brands_app, name="brands")
app.add_typer(db_app, name="db")
app.add_typer(personas_app, name="personas")
app.add_typer(lineage_app, name="lineage")
console = Console()


def _resources() -> dict:
    """Resources as Dagster gets them: secrets still ``EnvVar`` references (for ``materialize``).
    A refused environment setting raises ``SettingError`` here, before any work starts."""
    from brand_pipeline.definitions import resources_from_env

    return resources_from_env(strict=True)


def _supabase() -> SupabaseResource:
    """The store resource with its ``EnvVar`` settings resolved, for direct use by a command."""
    return _resources()["supabase"].process_config_and_initialize()


def _embedded() -> EmbeddedPostgres:
    supabase = _supabase()
    if not supabase.uses_embedded_database:
        console.print("[yellow]DATABASE_URL is set: the embedded server is not used.[/yellow]")
    return supabase.embedded_server()


@app.command()
def demo() -> None:
    """Generate the sample brands, run all five assets for each, and print what was found.
    Ctrl-C (or SIGTERM) stops it; what was analysed is kept, and running it again continues."""
    with StopSignals() as stop:  # first, so that a signal during the imports below counts too
        from brand_pipeline.demo import compare_demo_brands, run_demo
        from brand_pipeline.instance import project_instance
        from brand_pipeline.settings import pipeline_home

        resources = _resources()
        home = pipeline_home()
        console.print(f"[bold]brand_pipeline demo[/bold] · data in {home}")
        with project_instance() as instance:
            runs = run_demo(
                instance,
                resources,
                home,
                on_brand=lambda slug: console.print(f"· materialising {slug} …"),
                check_stop=stop.raise_if_received,
            )
            comparisons = compare_demo_brands(instance, resources)
    from brand_pipeline.cli_tables import print_demo_summary

    print_demo_summary(console, runs, comparisons, gemini_configured=resources["gemini"].configured)
    if not all(run.success for run in runs):
        raise typer.Exit(1)


@brands_app.command("add")
def brands_add(
    slug: Annotated[str, typer.Argument(help="Partition key: lower-case letters, digits and dashes.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
    ad_library_url: Annotated[
        str | None, typer.Option(help="The brand's Meta Ad Library URL; its page id is stored too.")
    ] = None,
    page_id: Annotated[str | None, typer.Option(help="Facebook page id.")] = None,
    website: Annotated[str | None, typer.Option(help="Brand website.")] = None,
    group: Annotated[str | None, typer.Option(help="Group to compare it in (e.g. a brand and its rivals).")] = None,
) -> None:
    """Add (or update) a brand in the brands table and add its partition."""
    from pydantic import ValidationError

    from brand_pipeline.domain.brands import NotAnAdLibraryUrl, page_id_from_ad_library_url

    if ad_library_url:
        try:
            page_id = page_id or page_id_from_ad_library_url(ad_library_url)
        except NotAnAdLibraryUrl as error:
            raise typer.BadParameter(str(error), param_hint="--ad-library-url") from None
    try:
        brand = Brand(
            slug=slug,
            name=name or slug,
            ad_library_url=ad_library_url,
            facebook_page_id=page_id,
            website=website,
            group=group,
        )
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"], param_hint="SLUG") from None

    from brand_pipeline.instance import project_instance
    from brand_pipeline.registry import register_brands

    with project_instance() as instance:
        register_brands(_supabase(), instance, [brand])
    found = f" (page id {brand.facebook_page_id})" if brand.facebook_page_id else ""
    console.print(f"added brand [bold]{slug}[/bold]{found} and its partition")


@app.command()
def scrape(
    slug: str,
    fresh: Annotated[bool, typer.Option(help="Start a new paid source run even if this run has one.")] = False,
) -> None:
    """Materialise `scraped_ads` for one brand through Dagster and print what changed."""
    from brand_pipeline.instance import project_instance
    from brand_pipeline.runs import scrape_partition

    with project_instance() as instance:
        outcome = scrape_partition(instance, _resources(), slug, fresh=fresh)
    if not outcome.success:
        console.print(f"[red]scrape of {slug} failed: {outcome.failure}[/red]")
        raise typer.Exit(1)
    c = outcome.counts
    console.print(
        f"[bold]{slug}[/bold]: {c['records']} records, {c['ads_new']} new ads, {c['ads_changed']} changed, "
        f"{c['invalid_records']} invalid; {c['creatives_new']} new creatives, {c['media_failed']} media failed."
    )
    console.print(
        f"since the previous scrape: {c['ads_started']} started, {c['ads_stopped']} stopped, "
        f"{c['ads_still_running']} still running"
    )
    if "source_run_id" in c:
        console.print(
            f"source run {c['source_run_id']}: {c['source_run_items']} items, ${c['source_run_cost_usd']:.4f}"
        )


@app.command()
def report(
    slug: str,
    open_it: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
) -> None:
    """Write the brand's report page (through Dagster, `brand_report`) and print its path."""
    from brand_pipeline.instance import project_instance
    from brand_pipeline.reporting import report_path
    from brand_pipeline.runs import report_partition

    resources = _resources()
    with project_instance() as instance:
        outcome = report_partition(instance, resources, slug)
    if not outcome.success:
        console.print(f"[red]report of {slug} failed: {outcome.failure}[/red]")
        raise typer.Exit(1)
    page = report_path(resources["reports"].folder(), slug)
    typer.echo(str(page))
    if open_it:
        import webbrowser

        webbrowser.open(page.as_uri())


@app.command()
def costs(slug: Annotated[str | None, typer.Argument(help="One brand; all brands if left out.")] = None) -> None:
    """What the model calls cost, per brand and model (every call that returned usage)."""
    rows = _supabase().run_with_store(lambda store: store.model_costs(slug))
    from brand_pipeline.cli_tables import costs_table

    console.print(costs_table(rows))


@brands_app.command("list")
def brands_list() -> None:
    """List the brands in the brands table."""
    table = Table("slug", "name", "page id", "ad library url", "status")
    for brand in _supabase().run_with_store(lambda store: store.list_brands(include_archived=True)):
        table.add_row(
            brand.slug,
            brand.name,
            brand.facebook_page_id or "",
            brand.ad_library_url or "",
            "archived" if brand.archived_at else "active",
        )
    console.print(table)


@brands_app.command("remove")
def brands_remove(slug: str) -> None:
    """Archive a brand: its data stays, brands_sensor removes its partition."""
    if not _supabase().run_with_store(lambda store: store.archive_brand(slug)):
        console.print(f"[red]no active brand {slug!r}[/red]")
        raise typer.Exit(1)
    console.print(f"archived {slug}")


@personas_app.command("show")
def personas_show(
    slug: str,
    output: Annotated[str, typer.Option("--format", help="md or json")] = "md",
) -> None:
    """Print the brand's latest personas with the ads that evidence them."""
    from brand_pipeline.analysis.personas import synthesis_markdown

    if output not in ("md", "json"):
        raise typer.BadParameter("use md or json", param_hint="--format")

    synthesis = _supabase().run_with_store(lambda store: store.latest_persona_synthesis(slug))
    if synthesis is None:
        console.print(f"[red]no personas for {slug!r} yet: materialise its `personas` partition first[/red]")
        raise typer.Exit(1)
    if output == "json":
        typer.echo(synthesis.model_dump_json(indent=2))
    else:
        typer.echo(synthesis_markdown(slug, synthesis))


def _show_lineage(
    load: Callable[[BrandStore], Awaitable[PersonaLineage | CreativeLineage | None]],
    what: str,
    tree_of: Callable[[Any], Tree],
    output: str,
) -> None:
    from brand_pipeline.lineage import runs_involved
    from brand_pipeline.store.protocol import StoreError

    try:
        lineage = _supabase().run_with_store(load)
    except StoreError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    if lineage is None:
        console.print(f"[red]no {what}[/red]")
        raise typer.Exit(1)
    if output == "json":
        typer.echo(json.dumps(lineage.model_dump(mode="json") | {"runs": runs_involved(lineage)}, indent=2))
        return
    console.print(tree_of(lineage))
    console.print("runs: " + ", ".join(runs_involved(lineage)))


_LINEAGE_FORMAT = typer.Option("--format", help="text or json")


@lineage_app.command("persona")
def lineage_persona(persona_id: int, output: Annotated[str, _LINEAGE_FORMAT] = "text") -> None:
    """persona → cited ads → their copy and creatives → every analysis → the runs that made them."""
    from brand_pipeline.lineage import persona_tree

    _show_lineage(lambda store: store.persona_lineage(persona_id), f"persona {persona_id}", persona_tree, output)


@lineage_app.command("creative")
def lineage_creative(
    sha256: Annotated[str, typer.Argument(help="The creative's sha256, or its first 8+ characters.")],
    output: Annotated[str, _LINEAGE_FORMAT] = "text",
) -> None:
    """creative → its analyses → the ads and brands that show it → personas citing it → runs."""
    from brand_pipeline.lineage import creative_tree

    if len(sha256) < 8:
        raise typer.BadParameter("give at least 8 characters", param_hint="SHA256")
    _show_lineage(lambda store: store.creative_lineage(sha256), f"creative {sha256}", creative_tree, output)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded Postgres (it keeps running until `db stop`)."""
    server = _embedded()
    server.ensure_running()
    status = server.status()
    console.print(f"embedded Postgres running on 127.0.0.1:{status.port} (data in {server.pgdata})")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded Postgres."""
    server = _embedded()
    console.print("stopped" if server.stop() else "was not running")


@db_app.command("status")
def db_status() -> None:
    """Is the embedded Postgres running, and where?"""
    server = _embedded()
    status = server.status()
    if status.running:
        console.print(f"running · pid {status.pid} · 127.0.0.1:{status.port} · data in {server.pgdata}")
    else:
        console.print(f"not running · data in {server.pgdata}")
        raise typer.Exit(3)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the schema's missing migrations over DATABASE_URL (or to the embedded database)."""
    from brand_pipeline.store.protocol import StoreError

    try:
        applied = _supabase().migrate()
    except StoreError as error:
        _fail(str(error))
    console.print(f"applied {', '.join(applied)}" if applied else "the schema is up to date")


@db_app.command("sql")
def db_sql() -> None:
    """Print every migration as one re-runnable SQL script (for Supabase's SQL editor)."""
    from brand_pipeline.store.migrate import migration_script

    typer.echo(migration_script(), nl=False)


def main() -> None:
    """The ``brand-pipeline`` command. A bad setting or an unreachable database is a short message
    on stderr and exit status 2, not a traceback; a stop signal during the demo, one line and
    128 + the signal's number."""
    try:
        _run_app()
    except Interrupted as interrupted:
        _interrupted(interrupted)
    except KeyboardInterrupt:  # Ctrl-C while Dagster is still being imported, before any command runs
        _interrupted(Interrupted(signal.SIGINT))


def _run_app() -> None:
    import dagster as dg

    from brand_pipeline.settings import SettingError

    try:
        app()
    except SettingError as error:
        _fail(str(error))
    except dg.Failure as failure:
        _fail(failure.description or str(failure))


def _interrupted(interrupted: Interrupted) -> None:
    _stderr().print(
        f"brand-pipeline: interrupted ({interrupted.signal_name}); what was done is saved, "
        "and running the same command again continues where it stopped.",
        soft_wrap=True,
        highlight=False,
    )
    raise SystemExit(interrupted.exit_status) from None


def _stderr() -> Console:
    return Console(stderr=True)


def _fail(message: str) -> None:
    _stderr().print(f"[red]brand-pipeline: {message}[/red]", soft_wrap=True, highlight=False)
    raise SystemExit(2)


if __name__ == "__main__":
    main()
