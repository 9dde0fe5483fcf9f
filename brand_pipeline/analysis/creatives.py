"""Analyse a brand's creatives of one kind: exact media facts, then the model's reading.

Each creative (by sha256) is analysed once per analysis version, however many ads or brands use
it; only creatives with no row yet (or with a retryable model outcome, when a model is configured)
are processed. Each result is saved as it arrives, so a killed run loses only the calls in flight.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from brand_pipeline.analysis.image_facts import image_facts
from brand_pipeline.analysis.report import AnalysisReport, collect_analyses
from brand_pipeline.analysis.semantic import Analyser
from brand_pipeline.analysis.usage import saving_usage
from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.analysis.video_facts import MediaDecodeError, video_facts
from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.store.models import CreativeAnalysis, CreativeToAnalyse
from brand_pipeline.store.protocol import BlobStore, BrandStore

_FACTS: dict[CreativeKind, Callable[[Path], BaseModel]] = {"video": video_facts, "image": image_facts}


async def analyse_creatives(
    brand_slug: str,
    kind: CreativeKind,
    *,
    store: BrandStore,
    blobs: BlobStore,
    analyser: Analyser,
    run_id: str,
    max_failed_share: float = 0.2,
) -> AnalysisReport:
    version = analysis_version(kind)
    report = AnalysisReport(asset=f"{kind}_analyses", brand=brand_slug, version=version)
    report.total = await store.count_creatives(brand_slug, kind)
    todo = await store.creatives_to_analyse(brand_slug, kind, version, retry_semantic=analyser.enabled)
    # Decoding is CPU-bound: one thread per core; model calls are bounded by the analyser itself.
    decode_slots = asyncio.Semaphore(os.cpu_count() or 2)

    return await collect_analyses(
        report,
        (_analyse_one(creative, version, blobs, analyser, decode_slots, run_id) for creative in todo),
        save=saving_usage(store, store.save_analyses, brand_slug=brand_slug, asset=report.asset),
        preview=_preview,
        max_failed_share=max_failed_share,
        outage=lambda: analyser.outage,
    )


async def _analyse_one(
    creative: CreativeToAnalyse,
    version: str,
    blobs: BlobStore,
    analyser: Analyser,
    decode_slots: asyncio.Semaphore,
    run_id: str,
) -> CreativeAnalysis:
    facts, facts_error = creative.facts, None
    try:
        async with blobs.local_path(creative.blob_path) as media:
            if facts is None:
                async with decode_slots:
                    facts = (await asyncio.to_thread(_FACTS[creative.kind], media)).model_dump(mode="json")
            semantic = await analyser.analyse_creative(creative, media, facts)
    except (MediaDecodeError, FileNotFoundError) as error:
        facts, facts_error = None, str(error)
        semantic = SemanticResult(status="skipped", reason="the media could not be read, so no model call was made")
    return CreativeAnalysis(
        sha256=creative.sha256,
        kind=creative.kind,
        prompt_version=version,
        facts=facts,
        facts_status="failed" if facts_error else "done",
        facts_error=facts_error,
        semantic=semantic,
        ad_ids=creative.ad_ids,
        run_id=run_id,
    )


def _preview(row: CreativeAnalysis) -> dict[str, Any]:
    facts = row.facts or {}
    shape = f"{facts.get('width')}×{facts.get('height')} {facts.get('aspect_ratio')}" if facts else row.facts_error
    preview: dict[str, Any] = {"creative": row.sha256[:12], "ads": len(row.ad_ids), "shape": shape}
    if row.kind == "video":
        preview |= {
            "duration": f"{facts.get('duration_s')} s" if facts else None,
            "cuts": facts.get("cuts"),
            "audio": facts.get("has_audio"),
        }
    else:
        colours = facts.get("dominant_colours") or []
        preview |= {"brightness": facts.get("brightness"), "main colour": colours[0]["hex"] if colours else None}
    return preview
