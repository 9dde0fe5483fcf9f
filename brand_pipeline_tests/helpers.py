"""Small builders shared by tests: resources pointed at the test database, and a partition run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from brand_pipeline.aio import run_async
from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sources.sample import read_manifest
from brand_pipeline.store.models import Brand


def resources_for(database_url: str, home: Path, export_dir: Path, **gemini: Any) -> dict[str, Any]:
    return {
        "supabase": SupabaseResource(database_url=database_url, home=str(home)),
        "ad_library": AdLibraryResource(source="file", export_dir=str(export_dir), home=str(home)),
        "gemini": GeminiResource(**gemini),
    }


def register_sample_brands(resources: dict[str, Any], export_dir: Path, instance: dg.DagsterInstance) -> list[str]:
    manifest = read_manifest(export_dir)
    assert manifest is not None
    brands = [Brand(slug=b.slug, name=b.name, facebook_page_id=b.facebook_page_id) for b in manifest.brands]

    async def upsert() -> None:
        async with resources["supabase"].open() as storage:
            await storage.store.upsert_brands(brands)

    run_async(upsert())
    slugs = [b.slug for b in brands]
    instance.add_dynamic_partitions(brands_partitions.name, slugs)
    return slugs


def materialize_brand(
    slug: str, resources: dict[str, Any], instance: dg.DagsterInstance, assets: list | None = None
) -> dg.ExecuteInJobResult:
    return dg.materialize(
        assets or ALL_ASSETS, partition_key=slug, instance=instance, resources=resources, raise_on_error=False
    )


def metadata_of(result: dg.ExecuteInJobResult, asset: str) -> dict[str, Any]:
    [materialization] = result.asset_materializations_for_node(asset)
    return {key: value.value for key, value in materialization.metadata.items()}


def store_call(resources: dict[str, Any], method: str, *args: Any, **kwargs: Any) -> Any:
    """Call one store method in its own event loop (as sensors and the CLI do)."""

    async def call() -> Any:
        async with resources["supabase"].open() as storage:
            return await getattr(storage.store, method)(*args, **kwargs)

    return run_async(call())
