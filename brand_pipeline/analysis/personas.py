"""Personas for a brand, built on evidence from all of its analyses.

Ad longevity is the strongest public signal of a winning ad (advertisers keep paying for what
works), so every aggregate here is weighted by how many days each ad has run. The evidence summary
is computed exactly from stored analyses and is always written; persona synthesis itself needs the
model and is recorded as skipped, with the reason, when none is configured.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pydantic import BaseModel

from brand_pipeline.analysis.semantic import Analyser
from brand_pipeline.markdown import cell
from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.store.models import EvidenceAd, Persona, PersonaSynthesis
from brand_pipeline.store.protocol import BrandStore

TOP = 5


class PersonaReport(BaseModel):
    brand: str
    synthesis: PersonaSynthesis

    def counts(self) -> dict[str, int | float | str]:
        s = self.synthesis
        return {
            "status": s.status,
            "personas": len(s.personas),
            "evidence_ads": s.evidence.get("ads", 0),
            "dropped_citations": s.dropped_citations,
            "input_tokens": s.input_tokens,
            "output_tokens": s.output_tokens,
            "cost_usd": s.cost_usd,
        }

    def markdown(self) -> str:
        return synthesis_markdown(self.brand, self.synthesis)


async def synthesise_personas(
    brand_slug: str, *, store: BrandStore, analyser: Analyser, run_id: str
) -> PersonaReport:
    ads = await store.brand_evidence(
        brand_slug,
        video_version=analysis_version("video"),
        image_version=analysis_version("image"),
        copy_version=analysis_version("copy"),
    )
    summary = evidence_summary(ads)
    synthesis = await analyser.synthesise_personas(brand_slug, ads, summary)
    synthesis = synthesis.model_copy(update={"run_id": run_id, "evidence": summary})
    await store.save_persona_synthesis(synthesis)
    stored = await store.latest_persona_synthesis(brand_slug)  # with the personas' ids, for lineage
    return PersonaReport(brand=brand_slug, synthesis=stored or synthesis)


def evidence_summary(ads: list[EvidenceAd]) -> dict[str, Any]:
    """Longevity-weighted aggregates of a brand's ads and their exact analyses."""
    hooks, offers, ctas, formats, ratios = (_Tally() for _ in range(5))
    videos: dict[str, dict[str, Any]] = {}
    for ad in ads:
        weight = max(ad.days_running, 1.0)
        facts = ad.copy_facts or {}
        if facts.get("hook"):
            hooks.add(facts["hook"], weight, ad.ad_archive_id)
        for offer in facts.get("offers", []):
            offers.add(offer.lower(), weight, ad.ad_archive_id)
        if ad.cta_text:
            ctas.add(ad.cta_text, weight, ad.ad_archive_id)
        formats.add(ad.display_format or "UNKNOWN", weight, ad.ad_archive_id)
        for creative in ad.creatives:
            creative_facts = creative.get("facts") or {}
            if creative_facts.get("aspect_ratio"):
                ratios.add(f"{creative['kind']} {creative_facts['aspect_ratio']}", weight, ad.ad_archive_id)
            if creative["kind"] == "video" and creative_facts:
                videos[creative["sha256"]] = creative_facts
    durations = [v["duration_s"] for v in videos.values()]
    return {
        "ads": len(ads),
        "active_ads": sum(1 for ad in ads if ad.is_active),
        "longest_running": [
            {
                "ad_archive_id": ad.ad_archive_id,
                "days_running": round(ad.days_running, 1),
                "is_active": ad.is_active,
                "format": ad.display_format,
                "hook": (ad.copy_facts or {}).get("hook") or ad.title,
            }
            for ad in sorted(ads, key=lambda a: (-a.days_running, a.ad_archive_id))[:10]
        ],
        "top_hooks": hooks.top(),
        "top_offers": offers.top(),
        "top_ctas": ctas.top(),
        "formats": formats.top(),
        "aspect_ratios": ratios.top(),
        "videos": {
            "count": len(videos),
            "average_duration_s": round(sum(durations) / len(durations), 2) if durations else None,
            "pace": dict(Counter(v["pace"] for v in videos.values())),
            "with_audio": sum(1 for v in videos.values() if v.get("has_audio")),
        },
    }


def evidence_markdown(summary: dict[str, Any]) -> str:
    lines = [f"### Evidence ({summary['ads']} ads, {summary['active_ads']} active)", "", "**Longest-running ads**", ""]
    lines += ["| ad | days | active | format | hook |", "|---|---|---|---|---|"]
    for ad in summary["longest_running"]:
        lines.append(
            f"| {ad['ad_archive_id']} | {ad['days_running']} | {'yes' if ad['is_active'] else 'no'} | "
            f"{ad['format'] or ''} | {cell(ad['hook'], 100)} |"
        )
    for title, key in (("Top hooks", "top_hooks"), ("Offers", "top_offers"), ("Calls to action", "top_ctas"),
                       ("Formats", "formats")):
        if summary[key]:
            lines += ["", f"**{title}** (weighted by days running)", ""]
            lines += [f"- {cell(item['value'], 100)} — {item['ads']} ads, {item['weight_days']:g} ad-days"
                      for item in summary[key]]
    return "\n".join(lines)


def synthesis_markdown(brand: str, synthesis: PersonaSynthesis) -> str:
    """Personas (or why there are none) followed by the evidence they were built from."""
    lines = [f"## {brand}: personas"]
    if synthesis.status == "done":
        lines += [persona_markdown(p) for p in synthesis.personas]
        if synthesis.dropped_citations:
            lines.append(f"\n_{synthesis.dropped_citations} citation(s) of ads the model was not shown were dropped._")
    else:
        lines.append(f"_Persona synthesis {synthesis.status}: {synthesis.reason}_")
    lines += ["", evidence_markdown(synthesis.evidence)]
    return "\n".join(lines)


def persona_markdown(persona: Persona) -> str:
    p = persona.profile
    demographics = p.get("demographics") or {}
    facts = ", ".join(str(v) for v in demographics.values() if v)
    title = f"{persona.name} (persona {persona.id})" if persona.id is not None else persona.name
    sections = [f"\n### {title}", "", p.get("snapshot") or ""]
    if facts:
        sections += ["", f"**Who:** {facts}"]
    for title, key in (("Desires", "desires"), ("Pain points", "pain_points"), ("Buying objections", "buying_objections"),
                       ("Activation events", "activation_events"), ("Core values", "core_values")):
        if p.get(key):
            sections.append(f"**{title}:** " + "; ".join(str(item) for item in p[key]))
    sections.append(f"_Evidence: ads {', '.join(persona.evidence_ad_ids)}_")
    return "\n".join(sections)


class _Tally:
    def __init__(self) -> None:
        self.weights: dict[str, float] = defaultdict(float)
        self.ads: dict[str, set[str]] = defaultdict(set)

    def add(self, value: str, weight: float, ad_id: str) -> None:
        self.weights[value] += weight
        self.ads[value].add(ad_id)

    def top(self) -> list[dict[str, Any]]:
        ranked = sorted(self.weights.items(), key=lambda item: (-item[1], item[0]))[:TOP]
        return [{"value": v, "weight_days": round(w, 1), "ads": len(self.ads[v])} for v, w in ranked]
