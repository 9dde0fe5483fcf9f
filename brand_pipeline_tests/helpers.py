"""Small builders shared by tests: resources pointed at the test database, a partition run, and
the demo's summary table read back."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dagster as dg

from brand_pipeline import demo
from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.registry import register_brands
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.runs import materialise_in_process
from brand_pipeline.sample import read_manifest


def resources_for(database_url: str, home: Path, export_dir: Path, **gemini: Any) -> dict[str, Any]:
    return {
        "supabase": SupabaseResource(database_url=database_url, home=str(home)),
        "ad_library": AdLibraryResource(source="file", export_dir=str(export_dir), home=str(home)),
        "gemini": GeminiResource(**gemini),
        "reports": ReportsResource(home=str(home)),
    }


def register_sample_brands(resources: dict[str, Any], export_dir: Path, instance: dg.DagsterInstance) -> list[str]:
    """The sample's brands in the table and as partitions, as the demo does."""
    manifest = read_manifest(export_dir)
    assert manifest is not None
    return register_brands(resources["supabase"], instance, demo.sample_brands(manifest))


def materialize_brand(
    slug: str,
    resources: dict[str, Any],
    instance: dg.DagsterInstance,
    assets: list | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInJobResult:
    assets = assets or ALL_ASSETS
    checks = [a for a in assets if isinstance(a, dg.AssetChecksDefinition)]
    plain = [a for a in assets if a not in checks]
    # The assets alone unless checks are asked for (then also those declared on the assets, as the
    # scrape's are): checks are exercised where a test asks for them.
    selection = dg.AssetSelection.assets(*plain)
    selection = selection | dg.AssetSelection.checks(*checks) if checks else selection.without_checks()
    return materialise_in_process(
        assets, slug, instance=instance, resources=resources, tags=tags, selection=selection, quiet=False
    )


def demo_summary_rows(output: str) -> dict[str, list[str]]:
    """brand -> [ads, bad, videos, images, copy, new, personas, result] from the demo's summary table."""
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 9 and re.fullmatch(r"[a-z0-9-]+", cells[0]) and cells[1].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def metadata_of(result: dg.ExecuteInJobResult, asset: str) -> dict[str, Any]:
    [materialization] = result.asset_materializations_for_node(asset)
    return {key: value.value for key, value in materialization.metadata.items()}


def store_call(resources: dict[str, Any], method: str, *args: Any, **kwargs: Any) -> Any:
    """Call one store method in its own event loop (as sensors and the CLI do)."""
    return resources["supabase"].run_with_store(lambda store: getattr(store, method)(*args, **kwargs))


def write_copy_export(folder: Path, slug: str, count: int) -> None:
    """A brand whose ads carry only copy: one distinct text per ad."""
    folder.mkdir(parents=True, exist_ok=True)
    items = [
        {
            "ad_archive_id": str(9000 + i),
            "start_date": 1767225600,
            "snapshot": {"body": {"text": f"Offer number {i}: save {i}% today."}},
        }
        for i in range(count)
    ]
    (folder / f"{slug}.ndjson").write_text("\n".join(json.dumps(item) for item in items) + "\n")
