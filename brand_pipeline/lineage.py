"""Row-level lineage as a tree: persona → ads → copy and creatives → analyses, each with its run.

The store assembles the lineage (``persona_lineage``, ``creative_lineage``); this module only
shapes it for people (a ``rich`` tree) and collects every Dagster run involved.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.tree import Tree

from brand_pipeline.store.models import AdTrace, AnalysisTrace, CreativeLineage, PersonaLineage


def _run(run_id: str | None) -> str:
    return f"run {run_id[:8]}" if run_id else "run unknown"


def _analysis_line(kind: str, analysis: AnalysisTrace) -> str:
    model = analysis.model or "no model"
    status = analysis.semantic_status
    if analysis.semantic_reason and status != "done":
        status += f" ({analysis.semantic_reason[:60]})"
    return (
        f"{kind} analysis {analysis.prompt_version} · facts {analysis.facts_status} · model {status} · "
        f"{model} · {_run(analysis.run_id)}"
    )


def _days(ad: AdTrace) -> str:
    if not ad.start_date:
        return "start unknown"
    end = ad.end_date or datetime.now(tz=UTC)
    return f"{(end - ad.start_date).days} days"


def persona_tree(lineage: PersonaLineage) -> Tree:
    persona = lineage.persona
    tree = Tree(
        f"[bold]persona {persona.id}[/bold] “{persona.name}” · brand {persona.brand_slug} · "
        f"{persona.prompt_version} · {persona.model} · {_run(persona.run_id)}"
    )
    for ad in lineage.ads:
        branch = tree.add(
            f"ad {ad.ad_archive_id} · {ad.display_format or 'format unknown'} · {_days(ad)} · "
            f"scraped in {_run(ad.scraped_in_run)}"
        )
        if ad.copy_hash:
            copy = branch.add(f"copy {ad.copy_hash[:12]}")
            for analysis in ad.copy_analyses:
                copy.add(_analysis_line("copy", analysis))
        for creative in ad.creatives:
            node = branch.add(
                f"{creative.kind} {creative.sha256[:12]} at {creative.slot} · stored in {_run(creative.stored_in_run)}"
            )
            for analysis in creative.analyses:
                node.add(_analysis_line(creative.kind, analysis))
    return tree


def creative_tree(lineage: CreativeLineage) -> Tree:
    creative = lineage.creative
    tree = Tree(
        f"[bold]{creative.kind} {creative.sha256}[/bold] · {creative.mime_type} · "
        f"{creative.size_bytes} bytes · {creative.blob_path}"
    )
    analyses = tree.add("analyses")
    for analysis in lineage.analyses:
        analyses.add(_analysis_line(creative.kind, analysis))
    ads = tree.add("shown by ads")
    for ad in lineage.ads:
        ads.add(
            f"ad {ad.ad_archive_id} at {ad.slot} · brands {', '.join(ad.brands)} · stored in {_run(ad.stored_in_run)}"
        )
    personas = tree.add("cited by personas")
    for persona in lineage.personas:
        personas.add(f"persona {persona.id} “{persona.name}” · {persona.brand_slug} · {_run(persona.run_id)}")
    return tree


def runs_involved(lineage: PersonaLineage | CreativeLineage) -> list[str]:
    """Every Dagster run id that appears anywhere in the lineage, in first-seen order."""
    if isinstance(lineage, PersonaLineage):
        runs = [lineage.persona.run_id]
        for ad in lineage.ads:
            runs += [ad.scraped_in_run, *(a.run_id for a in ad.copy_analyses)]
            for creative in ad.creatives:
                runs += [creative.stored_in_run, *(a.run_id for a in creative.analyses)]
    else:
        runs = [a.run_id for a in lineage.analyses] + [ad.stored_in_run for ad in lineage.ads]
        runs += [p.run_id for p in lineage.personas]
    return list(dict.fromkeys(run for run in runs if run))
