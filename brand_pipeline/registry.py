"""The one way to register brands: their rows in the ``brands`` table and their partitions.

The CLI (``brands add``), the demo and tests all come through here, so a registered brand is
always both a row and a partition. (``brands_sensor`` keeps the two in step for brands added or
archived elsewhere.)
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from brand_pipeline.domain.brands import Brand
from brand_pipeline.partitions import add_brand_partitions
from brand_pipeline.resources.supabase import SupabaseResource


def register_brands(supabase: SupabaseResource, instance: dg.DagsterInstance, brands: Sequence[Brand]) -> list[str]:
    """Upsert ``brands`` into the table and add their missing partitions; returns their slugs."""
    supabase.run_with_store(lambda store: store.upsert_brands(brands))
    slugs = [brand.slug for brand in brands]
    add_brand_partitions(instance, slugs)
    return slugs
