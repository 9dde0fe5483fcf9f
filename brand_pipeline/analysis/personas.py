"""Personas for a brand, built on evidence from all of its analyses — the project's honesty rule.

Whatever model writes them, the rule is the same and lives here: the model is shown the
longest-running ads (longevity is the best public signal of a winning ad), every persona must cite
ads it was shown, and citations of ads it was not shown are dropped and counted. A persona left
citing nothing is dropped. Without a model the evidence summary is still written and the
synthesis is recorded as skipped, with the reason.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ValidationError

from brand_pipeline.analysis.evidence import evidence_block, evidence_markdown, evidence_summary
from brand_pipeline.analysis.prompts import PROMPTS
from brand_pipeline.analysis.schemas import PersonaSet
from brand_pipeline.analysis.semantic import Analyser, ModelUnreachable
from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.domain.personas import EvidenceAd, Persona, PersonaSynthesis
from brand_pipeline.store.models import ModelUsage
from brand_pipeline.store.protocol import BrandStore


class PersonaReport(BaseModel):
    brand: str
    synthesis: PersonaSynthesis
    unchanged: bool = False  # the latest synthesis already had these inputs: no call was made

    def counts(self) -> dict[str, int | float | str]:
        s = self.synthesis
        spent = not self.unchanged
        return {
            # A synthesis made again from the same inputs is "unchanged"; a skip stays a skip.
            "status": "unchanged" if self.unchanged and s.status == "done" else s.status,
            "unchanged": self.unchanged,
            "synthesis_id": s.id or 0,
            "personas": len(s.personas),
            "evidence_ads": s.evidence.get("ads", 0),
            "dropped_citations": s.dropped_citations,
            # What this materialisation spent: nothing when the synthesis was unchanged.
            "input_tokens": s.input_tokens if spent else 0,
            "output_tokens": s.output_tokens if spent else 0,
            "cost_usd": s.cost_usd if spent else 0.0,
        }

    def markdown(self) -> str:
        return synthesis_markdown(self.brand, self.synthesis)


async def synthesise_personas(
    brand_slug: str,
    *,
    store: BrandStore,
    analyser: Analyser,
    run_id: str,
    max_evidence_ads: int = 80,
    fresh: bool = False,
) -> PersonaReport:
    """Read the brand's evidence and synthesise its personas under the rule, unless the latest
    synthesis was made from the same inputs: then report it as ``unchanged`` and make no call
    (``fresh`` forces a new synthesis). Every call's usage is recorded, whatever came of it.

    Raises ``ModelUnreachable`` when the model endpoint cannot be reached; no synthesis is stored
    then, so the brand's latest personas stay the last real ones."""
    ads = await store.brand_evidence(
        brand_slug,
        video_version=analysis_version("video"),
        image_version=analysis_version("image"),
        copy_version=analysis_version("copy"),
    )
    shown = shown_evidence(ads, max_evidence_ads)
    inputs = synthesis_inputs_hash(brand_slug, shown, analyser.model_for("personas"))
    latest = await store.latest_persona_synthesis(brand_slug)
    if not fresh and latest is not None and latest.inputs_hash == inputs and _still_valid(latest, analyser):
        return PersonaReport(brand=brand_slug, synthesis=latest, unchanged=True)
    synthesis = await personas_from_evidence(brand_slug, ads, analyser=analyser, max_evidence_ads=max_evidence_ads)
    synthesis = synthesis.model_copy(update={"run_id": run_id, "inputs_hash": inputs})
    if synthesis.model and synthesis.attempts:
        await store.record_model_usage([_usage(synthesis)])
    if analyser.outage is not None:
        raise ModelUnreachable(analyser.outage)
    await store.save_persona_synthesis(synthesis)
    stored = await store.latest_persona_synthesis(brand_slug)  # with the personas' ids, for lineage
    return PersonaReport(brand=brand_slug, synthesis=stored or synthesis)


def shown_evidence(ads: list[EvidenceAd], max_evidence_ads: int) -> list[EvidenceAd]:
    """The ads the model is shown: the longest-running first (longevity is the evidence)."""
    return sorted(ads, key=lambda ad: (-ad.days_running, ad.ad_archive_id))[:max_evidence_ads]


def synthesis_inputs_hash(brand_slug: str, shown: list[EvidenceAd], model: str | None) -> str:
    """What a synthesis is made from: the ads shown (their dates, copy and creatives and what was
    learnt of each), the prompt version and the model. Time passing alone is not new evidence, so
    day counts are left out; an ad that starts, stops or changes is."""
    evidence = [
        {
            "ad": ad.ad_archive_id,
            "dates": [ad.start_date, ad.end_date, ad.is_active],
            "copy": [ad.copy_hash, ad.copy_facts, ad.copy_semantic],
            "creatives": [[c.sha256, c.facts, c.semantic] for c in ad.creatives],
        }
        for ad in shown
    ]
    key = {"brand": brand_slug, "prompt": PROMPTS["personas"].version, "model": model, "evidence": evidence}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _still_valid(latest: PersonaSynthesis, analyser: Analyser) -> bool:
    # A done synthesis stands; so does a skip while there is still no model. A failed attempt
    # (quota, invalid reply …) is worth another call.
    return latest.status == "done" or (latest.status == "skipped" and not analyser.enabled)


# What a synthesis and its usage row share, field for field.
_USAGE_FIELDS = {"brand_slug", "run_id", "status", "input_tokens", "output_tokens", "cost_usd", "attempts"}


def _usage(synthesis: PersonaSynthesis) -> ModelUsage:
    counted = synthesis.model_dump(include=_USAGE_FIELDS)
    return ModelUsage(**counted, asset="personas", model=synthesis.model or "", item_key=synthesis.brand_slug)


async def personas_from_evidence(
    brand_slug: str, ads: list[EvidenceAd], *, analyser: Analyser, max_evidence_ads: int = 80
) -> PersonaSynthesis:
    """The rule: show the longest-running ads, keep only citations of ads that were shown."""
    summary = evidence_summary(ads)
    shown = shown_evidence(ads, max_evidence_ads)
    result = await analyser.synthesise_personas(brand_slug, summary, "\n\n".join(evidence_block(ad) for ad in shown))
    synthesis = PersonaSynthesis(
        brand_slug=brand_slug,
        prompt_version=PROMPTS["personas"].version,
        status=result.status,
        reason=result.reason,
        evidence=summary,
        model=result.model,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cost_usd=result.cost_usd,
        attempts=result.attempts,
    )
    if result.status != "done":
        return synthesis
    return _with_cited_personas(synthesis, result.result or {}, shown)


def _with_cited_personas(synthesis: PersonaSynthesis, reply: dict, shown: list[EvidenceAd]) -> PersonaSynthesis:
    try:
        personas, dropped = cite_evidence(PersonaSet.model_validate(reply), shown)
    except ValidationError as error:  # an adapter that did not validate its reply
        return synthesis.model_copy(update={"status": "invalid_reply", "reason": f"personas reply: {error}"})
    return synthesis.model_copy(update={"personas": personas, "dropped_citations": dropped})


def cite_evidence(personas: PersonaSet, shown: list[EvidenceAd]) -> tuple[list[Persona], int]:
    """Keep only citations of ads the model was shown; a persona left with none is dropped.

    Returns the personas with their cited ads, creatives and copy, and how many citations were
    dropped as invented.
    """
    by_id = {ad.ad_archive_id: ad for ad in shown}
    kept: list[Persona] = []
    dropped = 0
    for persona in personas.personas:
        cited = list(dict.fromkeys(i for i in persona.evidence_ad_ids if i in by_id))
        dropped += len(persona.evidence_ad_ids) - len([i for i in persona.evidence_ad_ids if i in by_id])
        if not cited:
            continue
        profile = persona.model_dump(mode="json", exclude={"evidence_ad_ids", "name"})
        kept.append(
            Persona(
                name=persona.name,
                profile=profile,
                evidence_ad_ids=cited,
                evidence_creative_shas=sorted({c.sha256 for i in cited for c in by_id[i].creatives}),
                evidence_copy_hashes=sorted({by_id[i].copy_hash for i in cited if by_id[i].copy_hash}),
            )
        )
    return kept, dropped


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
    for title, key in (
        ("Desires", "desires"),
        ("Pain points", "pain_points"),
        ("Buying objections", "buying_objections"),
        ("Activation events", "activation_events"),
        ("Core values", "core_values"),
    ):
        if p.get(key):
            sections.append(f"**{title}:** " + "; ".join(str(item) for item in p[key]))
    sections.append(f"_Evidence: ads {', '.join(persona.evidence_ad_ids)}_")
    return "\n".join(sections)
