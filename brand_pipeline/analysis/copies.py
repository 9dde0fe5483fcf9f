"""Analyse a brand's ad copy: each distinct text once (brands run the same copy on many ads).

Copy that still holds template variables (``{{product.name}}``) is a dynamic-creative template, not
what people saw: it is recorded as skipped with that reason and never sent to the model.
"""

from __future__ import annotations

from typing import Any

from brand_pipeline.analysis.copy_facts import copy_facts
from brand_pipeline.analysis.report import AnalysisReport, collect_analyses
from brand_pipeline.analysis.semantic import Analyser
from brand_pipeline.analysis.usage import saving_usage
from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.domain.ads import template_variables
from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.store.models import CopyAnalysis, CopyToAnalyse
from brand_pipeline.store.protocol import BrandStore


async def analyse_copies(
    brand_slug: str,
    *,
    store: BrandStore,
    analyser: Analyser,
    run_id: str,
    max_failed_share: float = 0.2,
) -> AnalysisReport:
    version = analysis_version("copy")
    report = AnalysisReport(asset="copy_analyses", brand=brand_slug, version=version)
    report.total = await store.count_copies(brand_slug)
    todo = await store.copies_to_analyse(brand_slug, version, retry_semantic=analyser.enabled)

    return await collect_analyses(
        report,
        (_analyse_one(copy, version, analyser, run_id) for copy in todo),
        save=saving_usage(store, store.save_copy_analyses, brand_slug=brand_slug, asset=report.asset),
        preview=_preview,
        max_failed_share=max_failed_share,
        outage=lambda: analyser.outage,
    )


async def _analyse_one(copy: CopyToAnalyse, version: str, analyser: Analyser, run_id: str) -> CopyAnalysis:
    def analysis(**outcome: Any) -> CopyAnalysis:
        return CopyAnalysis(
            copy_hash=copy.copy_hash,
            prompt_version=version,
            copy_text=copy.copy_text,
            ad_ids=copy.ad_ids,
            run_id=run_id,
            **outcome,
        )

    placeholders = template_variables(copy.copy_text)
    if placeholders:
        reason = f"copy holds template variables ({', '.join(placeholders)}), not what people saw"
        skipped = SemanticResult(status="skipped", reason=reason)
        return analysis(facts=None, facts_status="skipped", facts_error=reason, semantic=skipped)
    facts = copy.facts or copy_facts(copy.copy_text).model_dump(mode="json")
    return analysis(facts=facts, facts_status="done", semantic=await analyser.analyse_copy(copy, facts))


def _preview(row: CopyAnalysis) -> dict[str, Any]:
    facts = row.facts or {}
    return {
        "hook": facts.get("hook") or row.facts_error,
        "ads": len(row.ad_ids),
        "offers": ", ".join(facts.get("offers", [])),
        "cta": ", ".join(facts.get("calls_to_action", [])),
    }
