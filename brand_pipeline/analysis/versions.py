"""Versions of each analysis. An analysis row is keyed by (item, version), so bumping a version
makes every item due again, and each asset's ``code_version`` is built from these so the UI marks
it stale when one changes."""

from __future__ import annotations

from brand_pipeline.analysis import copy_facts, image_facts, video_facts
from brand_pipeline.analysis.prompts import PROMPTS

# From the prompt files: changes whenever a prompt or its response schema changes.
PROMPT_VERSIONS = {kind: prompt.version for kind, prompt in PROMPTS.items()}
FACTS_VERSIONS = {
    "video": video_facts.FACTS_VERSION,
    "image": image_facts.FACTS_VERSION,
    "copy": copy_facts.FACTS_VERSION,
}


def analysis_version(kind: str) -> str:
    """The version an analysis row of ``kind`` is stored under: prompt and exact facts together."""
    if kind in FACTS_VERSIONS:
        return f"{PROMPT_VERSIONS[kind]}+{FACTS_VERSIONS[kind]}"
    return PROMPT_VERSIONS[kind]
