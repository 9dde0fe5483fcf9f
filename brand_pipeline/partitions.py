"""One partition per brand, keyed by the brand's slug."""

import dagster as dg

brands_partitions = dg.DynamicPartitionsDefinition(name="brands")


def add_brand_partitions(instance: dg.DagsterInstance, slugs: list[str]) -> list[str]:
    """Add the partitions of ``slugs`` that do not exist yet (for the CLI; sensors return requests)."""
    existing = set(instance.get_dynamic_partitions(brands_partitions.name))
    missing = [slug for slug in slugs if slug not in existing]
    if missing:
        instance.add_dynamic_partitions(brands_partitions.name, missing)
    return missing
