"""The evidence personas rest on: longevity-weighted aggregates of a brand's ads and analyses.

Ad longevity is the strongest public signal of a winning ad (advertisers keep paying for what
works), so every aggregate here is weighted by how many days each ad has run. The summary is
computed exactly from stored analyses and is always written, with or without a model.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from brand_pipeline.domain.personas import EvidenceAd
from brand_pipeline.markdown import cell

TOP = 5


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
            creative_facts = creative.facts or {}
            if creative_facts.get("aspect_ratio"):
                ratios.add(f"{creative.kind} {creative_facts['aspect_ratio']}", weight, ad.ad_archive_id)
            if creative.kind == "video" and creative_facts:
                videos[creative.sha256] = creative_facts
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
    for title, key in (
        ("Top hooks", "top_hooks"),
        ("Offers", "top_offers"),
        ("Calls to action", "top_ctas"),
        ("Formats", "formats"),
    ):
        if summary[key]:
            lines += ["", f"**{title}** (weighted by days running)", ""]
            lines += [
                f"- {cell(item['value'], 100)} — {item['ads']} ads, {item['weight_days']:g} ad-days"
                for item in summary[key]
            ]
    return "\n".join(lines)


def evidence_block(ad: EvidenceAd) -> str:
    """One ad as the persona prompt shows it: longevity, copy, and each creative's reading."""
    lines = [
        f"ad_id={ad.ad_archive_id} · {ad.days_running:.0f} days running · "
        f"{'active' if ad.is_active else 'ended'} · {ad.display_format or 'unknown format'}"
    ]
    if ad.body or ad.title:
        lines.append(f"copy: {((ad.body or '') + ' / ' + (ad.title or ''))[:400]}")
    if ad.copy_semantic:
        keep = ("angle", "hook", "desires", "pain_points", "offer", "objections_handled")
        lines.append(f"copy analysis: {json.dumps({k: ad.copy_semantic.get(k) for k in keep}, ensure_ascii=False)}")
    for creative in ad.creatives:
        facts = creative.facts or {}
        shape = ", ".join(f"{k}={facts[k]}" for k in ("aspect_ratio", "duration_s", "pace") if k in facts)
        lines.append(f"{creative.kind} {creative.sha256[:12]} ({shape})")
        semantic = creative.semantic or {}
        if semantic:
            keep = (
                "hook",
                "advertising_structure",
                "desires",
                "emotional_drivers",
                "target_persona",
                "persona_signals",
            )
            lines.append(
                f"  {creative.kind} analysis: "
                f"{json.dumps({k: semantic[k] for k in keep if k in semantic}, ensure_ascii=False)[:1500]}"
            )
    return "\n".join(lines)


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
