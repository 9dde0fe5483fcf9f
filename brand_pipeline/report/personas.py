"""Personas as cards, each with the evidence it cites: the ads, as thumbnails of what they show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brand_pipeline.domain.personas import Persona
from brand_pipeline.report.metrics import TimedAd
from brand_pipeline.report.models import BrandReportInput, ReportCreative
from brand_pipeline.report.page import days_text, empty
from brand_pipeline.report.svg import e

LIST_ITEMS = 4
EVIDENCE_SHOWN = 8
_LISTS = (("Desires", "desires"), ("Pain points", "pain_points"), ("Buying objections", "buying_objections"))


def persona_section(report: BrandReportInput, ads: dict[str, TimedAd], tile: Callable[[ReportCreative], str]) -> str:
    """The cards, or why there are none (never synthesised, skipped without a model, failed)."""
    if report.persona_status == "done" and report.personas:
        cards = "".join(persona_card(p, ads, tile) for p in report.personas)
        intro = (
            "Written by a model from the longest-running ads; every persona cites the ads it rests on, "
            "shown below it. Citations of ads the model was not shown were dropped."
        )
        return (
            f'<section data-section="personas"><p class="caption">{e(intro)}</p>'
            f'<div class="personas">{cards}</div></section>'
        )
    if report.persona_status is None:
        why = "Personas have not been synthesised for this brand yet."
    else:
        why = f"Persona synthesis {report.persona_status.replace('_', ' ')}"
        why += f": {report.persona_reason}." if report.persona_reason else "."
        if report.persona_status == "done":
            why = "The synthesis kept no persona: none cited an ad it was shown."
    return f'<section data-section="personas">{empty(why)}</section>'


def persona_card(persona: Persona, ads: dict[str, TimedAd], tile: Callable[[ReportCreative], str]) -> str:
    profile: dict[str, Any] = persona.profile
    who = ", ".join(str(v) for v in (profile.get("demographics") or {}).values() if v)
    parts = [f'<article class="persona" data-persona="{e(persona.name)}"><h3>{e(persona.name)}</h3>']
    if who:
        parts.append(f'<p class="who">{e(who)}</p>')
    if profile.get("snapshot"):
        parts.append(f"<p>{e(profile['snapshot'])}</p>")
    for title, key in _LISTS:
        items = [str(item) for item in profile.get(key) or []][:LIST_ITEMS]
        if items:
            parts.append(f"<h4>{e(title)}</h4><ul>{''.join(f'<li>{e(i)}</li>' for i in items)}</ul>")
    parts.append(evidence(persona, ads, tile))
    parts.append("</article>")
    return "".join(parts)


def evidence(persona: Persona, ads: dict[str, TimedAd], tile: Callable[[ReportCreative], str]) -> str:
    cited = [ads[i] for i in persona.evidence_ad_ids if i in ads]
    cited.sort(key=lambda t: (-t.days, t.ad.ad_archive_id))
    figures = [
        f'<figure data-evidence-ad="{e(t.ad.ad_archive_id)}">{tile(t.ad.creatives[0])}'
        f"<figcaption>{e(days_text(t.days))}</figcaption></figure>"
        for t in cited[:EVIDENCE_SHOWN]
        if t.ad.creatives
    ]
    ids = ", ".join(persona.evidence_ad_ids)
    title = f"Evidence: {len(persona.evidence_ad_ids)} ad{'s' if len(persona.evidence_ad_ids) != 1 else ''}"
    return f'<h4>{e(title)}</h4><div class="evidence">{"".join(figures)}</div><p class="ids">{e(ids)}</p>'
