"""The events of one brand in a run that scrapes a batch of brands (a partition key range).

Dagster turns a returned result into one materialisation per partition of the range, all with the
same metadata, and either all of them or none. A batch needs one per brand, with the brand's own
metadata, and none for a brand that failed; so the asset yields each brand's events itself. They
carry what Dagster adds to a returned result, so a brand scraped in a batch looks the same as one
scraped on its own: the code and data version tags, and checks pointing at their materialisation.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

# Not exported at the top level in Dagster 1.13; these are what its own output handling uses.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.data_version import CODE_VERSION_TAG, DATA_VERSION_TAG, compute_logical_data_version


def brand_materialization(
    asset_key: dg.AssetKey, code_version: str, brand_slug: str, metadata: Mapping[str, dg.RawMetadataValue]
) -> dg.AssetMaterialization:
    # The asset has no upstream assets: its data version is its code version's, as Dagster computes it.
    data_version = compute_logical_data_version(code_version, {})
    return dg.AssetMaterialization(
        asset_key=asset_key,
        partition=brand_slug,
        metadata=dict(metadata),
        tags={CODE_VERSION_TAG: code_version, DATA_VERSION_TAG: data_version.value},
    )


def latest_materialization(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, brand_slug: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The brand's latest materialisation, which its check results point at (as Dagster's do)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[brand_slug]), limit=1
    ).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        run_id=records[0].event_log_entry.run_id, storage_id=records[0].storage_id, timestamp=records[0].timestamp
    )


def brand_check_evaluation(
    check_key: dg.AssetCheckKey,
    brand_slug: str,
    target: AssetCheckEvaluationTargetMaterializationData | None,
    *,
    passed: bool,
    metadata: Mapping[str, dg.RawMetadataValue],
) -> dg.AssetCheckEvaluation:
    """A blocking check's result for one brand of a batch."""
    return dg.AssetCheckEvaluation(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=passed,
        metadata=dict(metadata),
        target_materialization_data=target,
        blocking=True,
        partition=brand_slug,
    )
