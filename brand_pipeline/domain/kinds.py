"""The small vocabularies the whole pipeline shares, as ``Literal`` types."""

from __future__ import annotations

from typing import Literal, get_args

CreativeKind = Literal["image", "video"]
# What an analysis row analyses: a creative of one kind, or an ad's copy.
AnalysisKind = Literal["video", "image", "copy"]
# Everything that has a prompt: the three analyses and persona synthesis.
PromptKind = Literal["video", "image", "copy", "personas"]

CREATIVE_KINDS: tuple[CreativeKind, ...] = get_args(CreativeKind)
ANALYSIS_KINDS: tuple[AnalysisKind, ...] = get_args(AnalysisKind)
PROMPT_KINDS: tuple[PromptKind, ...] = get_args(PromptKind)

# Outcome of the model ("semantic") part of an analysis.
SemanticStatus = Literal[
    "done",  # the model answered with a valid result
    "skipped",  # not attempted (no key, nothing to analyse); reason says why
    "blocked",  # the model refused (safety, recitation …): final, not retried
    "invalid_reply",  # the reply did not match the schema even after a retry
    "quota_exhausted",  # 429 after every allowed attempt
    "transient_error",  # 5xx / timeout after every allowed attempt
    "permanent_error",  # 4xx or unusable media; retrying the same input will not help
]
# Statuses a later run tries again (a key may have been added, the quota may have reset).
RETRYABLE_SEMANTIC: tuple[SemanticStatus, ...] = ("skipped", "invalid_reply", "quota_exhausted", "transient_error")
# Outcomes that count as failures of a step (blocked and skipped are decisions, not faults).
FAILED_SEMANTIC: tuple[SemanticStatus, ...] = ("invalid_reply", "quota_exhausted", "transient_error", "permanent_error")

FactsStatus = Literal["done", "failed", "skipped"]

# A per-item result that produced no normal row: a record that is not an ad, or media that could
# not be stored for one slot of an ad.
OutcomeKind = Literal["record", "media"]
