"""Materialisation metadata: counts a user scans in the UI, plus a Markdown preview."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg


def report_metadata(
    context: dg.AssetExecutionContext, counts: Mapping[str, int | float | str], preview: str
) -> dict[str, dg.RawMetadataValue]:
    metadata: dict[str, dg.RawMetadataValue] = dict(counts)
    metadata["preview"] = dg.MetadataValue.md(preview)
    metadata["dagster_run"] = dg.MetadataValue.dagster_run(context.run.run_id)  # a link in the UI
    return metadata
