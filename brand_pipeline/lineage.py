"""Row-level lineage as a tree: persona → ads → copy and creatives → analyses, each with its run.

The store assembles the rows (``persona_lineage``, ``creative_lineage``); this module only shapes
them for people (a ``rich`` tree) and collects every Dagster run involved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.tree import Tree


def _run(run_id: str | None) -> str:
    return f"run {run_id[:8]}" if run_id else "run unknown"


def _analysis_line(kind: str, analysis: dict[str, Any]) -> str:
    model = analysis["model"] or "no model"
    status = analysis["semantic_status"]
    if analysis.get("semantic_reason") and status != "done":
        status += f" ({analysis['semantic_reason'][:60]})"
    return (f"{kind} analysis {analysis['prompt_version']} · facts {analysis['facts_status']} · model {status} · "
            f"{model} · {_run(analysis['run_id'])}")


def _days(ad: dict[str, Any]) -> str:
    if not ad.get("start_date"):
        return "start unknown"
    end = ad.get("end_date") or datetime.now(tz=UTC)
    return f"{(end - ad['start_date']).days} days"


def persona_tree(lineage: dict[str, Any]) -> Tree:
    persona = lineage["persona"]
    tree = Tree(
        f"[bold]persona {persona['id']}[/bold] “{persona['name']}” · brand {persona['brand_slug']} · "
        f"{persona['prompt_version']} · {persona['model']} · {_run(persona['run_id'])}"
    )
    for ad in lineage["ads"]:
        branch = tree.add(f"ad {ad['ad_archive_id']} · {ad['display_format'] or 'format unknown'} · {_days(ad)} · "
                          f"scraped in {_run(ad['scraped_in_run'])}")
        if ad["copy_hash"]:
            copy = branch.add(f"copy {ad['copy_hash'][:12]}")
            for analysis in ad["copy_analyses"]:
                copy.add(_analysis_line("copy", analysis))
        for creative in ad["creatives"]:
            node = branch.add(f"{creative['kind']} {creative['sha256'][:12]} at {creative['slot']} · "
                              f"stored in {_run(creative['stored_in_run'])}")
            for analysis in creative["analyses"]:
                node.add(_analysis_line(creative["kind"], analysis))
    return tree


def creative_tree(lineage: dict[str, Any]) -> Tree:
    creative = lineage["creative"]
    tree = Tree(f"[bold]{creative['kind']} {creative['sha256']}[/bold] · {creative['mime_type']} · "
                f"{creative['size_bytes']} bytes · {creative['blob_path']}")
    analyses = tree.add("analyses")
    for analysis in lineage["analyses"]:
        analyses.add(_analysis_line(creative["kind"], analysis))
    ads = tree.add("shown by ads")
    for ad in lineage["ads"]:
        ads.add(f"ad {ad['ad_archive_id']} at {ad['slot']} · brands {', '.join(ad['brands'])} · "
                f"stored in {_run(ad['stored_in_run'])}")
    personas = tree.add("cited by personas")
    for persona in lineage["personas"]:
        personas.add(f"persona {persona['id']} “{persona['name']}” · {persona['brand_slug']} · {_run(persona['run_id'])}")
    return tree


def runs_involved(lineage: dict[str, Any]) -> list[str]:
    """Every Dagster run id that appears anywhere in the lineage, in first-seen order."""
    found: dict[str, None] = {}

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif key in ("run_id", "scraped_in_run", "stored_in_run") and value:
            found.setdefault(str(value), None)

    walk(lineage)
    return list(found)
