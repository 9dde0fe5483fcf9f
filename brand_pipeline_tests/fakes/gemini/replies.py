"""The JSON bodies of HTTP 200 generateContent replies: a normal candidate (text from a hook or
built from the response schema), a blocked candidate, a blocked prompt; with usage metadata."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .faults import Fault
from .generate_request import GenerateRequest
from .schema_filler import SchemaFiller
from .wire import JsonObject, get_field

#: Tokens the real API bills per image / media part (an image is 258 tokens).
MEDIA_PART_TOKENS = 258

_HARM_CATEGORIES = (
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
)


@dataclass(frozen=True)
class CitationRule:
    """Which ad ids a default reply cites: those ``pattern`` finds in the prompt (group 1 if it
    has groups), at most ``max_citations`` distinct, plus ``"invented-0"`` when ``invent``."""

    pattern: re.Pattern[str]
    invent: bool
    max_citations: int

    def ids_in(self, req: GenerateRequest) -> list[str]:
        ids: list[str] = []
        for m in self.pattern.finditer(req.text + "\n" + req.system_text):
            value = m.group(1) if m.groups() else m.group(0)
            if value not in ids:
                ids.append(value)
            if len(ids) >= self.max_citations:
                break
        if self.invent:
            ids.append("invented-0")
        return ids


def default_text(req: GenerateRequest, citations: CitationRule) -> str:
    """The default reply text: a schema instance as JSON, or plain prose."""
    schema = req.response_schema or req.response_json_schema
    if schema:
        return json.dumps(SchemaFiller(schema, citations.ids_in(req)).fill())
    mime = get_field(req.generation_config, "responseMimeType", "response_mime_type")
    if mime == "application/json":
        return json.dumps({"reply": "fake"})
    return "This is a fake Gemini reply."


def generate_reply(req: GenerateRequest, fault: Fault | None, custom: Any, citations: CitationRule) -> JsonObject:
    """The 200 reply to ``req``, shaped by a reply-shaping ``fault`` or a hook's ``custom`` value."""
    prompt_tokens = math.ceil(len(req.text + req.system_text) / 4) + MEDIA_PART_TOKENS * req.media_part_count
    if fault is not None and fault.kind == "prompt_blocked":
        return _prompt_blocked(req, fault.reason, prompt_tokens)
    if fault is not None and fault.kind == "blocked":
        return _blocked_candidate(req, fault.reason, prompt_tokens)
    finish = "STOP"
    text = _reply_text(req, fault, custom, citations)
    if fault is not None and fault.kind == "truncated":
        text, finish = text[: max(1, len(text) // 2)], "MAX_TOKENS"
    max_tokens = get_field(req.generation_config, "maxOutputTokens", "max_output_tokens")
    if finish == "STOP" and isinstance(max_tokens, int) and math.ceil(len(text) / 4) > max_tokens:
        # Imitates the model running out of output budget mid-answer.
        text, finish = text[: max(1, max_tokens * 4)], "MAX_TOKENS"
    reply_tokens = max(1, math.ceil(len(text) / 4))
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish,
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": reply_tokens,
            "totalTokenCount": prompt_tokens + reply_tokens,
        },
        "modelVersion": req.model,
        "responseId": f"fake-{req.seq}",
    }


def _reply_text(req: GenerateRequest, fault: Fault | None, custom: Any, citations: CitationRule) -> str:
    if fault is not None and fault.kind == "invalid_json":
        return json.dumps({"unexpected": True})
    if isinstance(custom, str):
        return custom
    if custom is not None:
        return json.dumps(custom)
    return default_text(req, citations)


def _prompt_blocked(req: GenerateRequest, reason: str, prompt_tokens: int) -> JsonObject:
    return {
        "promptFeedback": {"blockReason": reason, "safetyRatings": safety_ratings(reason)},
        "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
        "modelVersion": req.model,
        "responseId": f"fake-{req.seq}",
    }


def _blocked_candidate(req: GenerateRequest, reason: str, prompt_tokens: int) -> JsonObject:
    return {
        "candidates": [{"finishReason": reason, "index": 0, "safetyRatings": safety_ratings(reason)}],
        "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
        "modelVersion": req.model,
        "responseId": f"fake-{req.seq}",
    }


def safety_ratings(reason: str) -> list[JsonObject]:
    """Per-category ratings; for a SAFETY block one category is HIGH and blocked."""
    ratings: list[JsonObject] = [{"category": c, "probability": "NEGLIGIBLE"} for c in _HARM_CATEGORIES]
    if reason == "SAFETY":
        ratings[3] = {"category": _HARM_CATEGORIES[3], "probability": "HIGH", "blocked": True}
    return ratings
