"""Exact facts about ad copy: length, hook, CTA, offers, numbers, questions, emoji."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel

from brand_pipeline.domain.ads import template_variables

FACTS_VERSION = "copy-facts-1"

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_OFFER_PATTERNS = [
    r"\b\d{1,2}\s?% off\b",
    r"\bup to \d{1,2}\s?%",
    r"\bsave (?:\$|£|€)?\d+(?:\.\d+)?%?",
    r"(?:\$|£|€)\d+(?:\.\d+)? off\b",
    r"\bfree (?:shipping|delivery|returns|gift|trial|sample)s?(?: (?:on|over) (?:orders? )?(?:over )?(?:\$|£|€)?\d+)?",
    r"\bbuy \d+,? get \d+(?: free)?",
    r"\bbogo\b",
    r"\b(?:use )?code [A-Z0-9]{3,}\b",
    r"\b\d+-day (?:money-back )?guarantee\b",
]
_OFFER = re.compile("|".join(f"(?:{p})" for p in _OFFER_PATTERNS), re.IGNORECASE)
_CTA = re.compile(
    r"\b(shop now|buy now|order now|get (?:yours|started|it now)|learn more|sign up|try (?:it|now|free)|"
    r"claim (?:yours|your \w+)|subscribe|download|book now|discover more|grab yours|start (?:now|today))\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?:\$|£|€)?\d[\d,]*(?:\.\d+)?(?:%|\+|k\b|x\b)?", re.IGNORECASE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U00002b50\U00002705]")
_SOCIAL_PROOF = re.compile(
    r"\b(?:join|trusted by|loved by)\s+(?:over\s+)?\d[\d,.]*k?\+?(?:\s+\w+){0,2}"
    r"|(?<![\w$])\d[\d,.]*k?\+?\s+(?:happy\s+|satisfied\s+)?(?:customers|reviews|people|users|members|"
    r"five-star reviews|5-star reviews)"
    r"|\b(?:best-?sellers?|as seen (?:in|on) \w+|rated \d(?:\.\d)?(?:/5| stars?))",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"#\w+")


class CopyFacts(BaseModel):
    characters: int
    words: int
    sentences: int
    hook: str
    calls_to_action: list[str]
    offers: list[str]
    numbers: list[str]
    questions: int
    exclamations: int
    emoji: int
    hashtags: list[str]
    social_proof: list[str]


def copy_facts(text: str) -> CopyFacts:
    """Measure ``text``; callers skip copy that holds template variables (see ``template_variables``)."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return CopyFacts(
        characters=len(text),
        words=len(text.split()),
        sentences=len(sentences),
        hook=sentences[0] if sentences else "",
        calls_to_action=_distinct(m.group(0) for m in _CTA.finditer(text)),
        offers=_distinct(m.group(0) for m in _OFFER.finditer(text)),
        numbers=_distinct(m.group(0) for m in _NUMBER.finditer(text)),
        questions=text.count("?"),
        exclamations=text.count("!"),
        emoji=len(_EMOJI.findall(text)),
        hashtags=_distinct(_HASHTAG.findall(text)),
        social_proof=_distinct(m.group(0) for m in _SOCIAL_PROOF.finditer(text)),
    )


def _distinct(values: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.strip().casefold(), value.strip())
    return list(seen.values())


__all__ = ["CopyFacts", "copy_facts", "template_variables", "FACTS_VERSION"]
