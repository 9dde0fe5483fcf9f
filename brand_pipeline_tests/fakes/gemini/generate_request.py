"""What a generateContent request said: its text, system instruction, media parts and config,
read out of the JSON body as tolerantly as the real API reads it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from .wire import JsonObject, get_field, invalid_argument


@dataclass(frozen=True)
class InlinePart:
    """An ``inlineData`` part: its mime type and the size of its decoded bytes."""

    mime_type: str | None
    size: int


@dataclass(frozen=True)
class FilePart:
    """A ``fileData`` part: the file URI and mime type as sent."""

    uri: str
    mime_type: str | None


@dataclass(frozen=True)
class GenerateRequest:
    """What the fake saw in one generateContent call (also passed to ``reply_with``).

    ``text`` joins all text parts of ``contents`` with newlines; ``system_text`` holds the
    system instruction's text. ``body`` is the parsed JSON request body. ``seq`` numbers
    generateContent calls from 0 in arrival order.
    """

    model: str
    text: str
    body: JsonObject
    inline_parts: tuple[InlinePart, ...] = ()
    file_parts: tuple[FilePart, ...] = ()
    system_text: str = ""
    api_version: str = "v1"
    seq: int = 0

    @property
    def json(self) -> JsonObject:
        """Alias of ``body``."""
        return self.body

    @property
    def generation_config(self) -> JsonObject:
        return get_field(self.body, "generationConfig", "generation_config") or {}

    @property
    def response_schema(self) -> JsonObject | None:
        """The OpenAPI-style ``responseSchema`` (UPPER-case types), if any."""
        return get_field(self.generation_config, "responseSchema", "response_schema")

    @property
    def response_json_schema(self) -> JsonObject | None:
        """The JSON-Schema ``responseJsonSchema``, if any."""
        return get_field(self.generation_config, "responseJsonSchema", "response_json_schema")

    @property
    def parts_summary(self) -> dict[str, list[Any]]:
        """``{"inline": [(mime, size), ...], "files": [uri, ...]}``."""
        return {
            "inline": [(p.mime_type, p.size) for p in self.inline_parts],
            "files": [p.uri for p in self.file_parts],
        }

    @property
    def media_part_count(self) -> int:
        return len(self.inline_parts) + len(self.file_parts)


def parse_generate_request(model: str, body: JsonObject, api_version: str, seq: int) -> GenerateRequest:
    """Reads contents, system instruction and media parts out of a request body."""
    texts: list[str] = []
    inline: list[InlinePart] = []
    files: list[FilePart] = []
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid_argument("* GenerateContentRequest.contents: contents is not specified\n")
    for ci, content in enumerate(contents):
        for pi, part in enumerate((content or {}).get("parts") or []):
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            inline_data = get_field(part, "inlineData", "inline_data")
            if inline_data is not None:
                inline.append(_inline_part(inline_data, f"contents[{ci}].parts[{pi}]"))
            file_data = get_field(part, "fileData", "file_data")
            if file_data is not None:
                files.append(
                    FilePart(
                        get_field(file_data, "fileUri", "file_uri") or "", get_field(file_data, "mimeType", "mime_type")
                    )
                )
    return GenerateRequest(
        model=model,
        text="\n".join(texts),
        body=body,
        inline_parts=tuple(inline),
        file_parts=tuple(files),
        system_text=_system_text(body),
        api_version=api_version,
        seq=seq,
    )


def _inline_part(inline_data: Any, location: str) -> InlinePart:
    try:
        size = len(_b64decode(get_field(inline_data, "data") or ""))
    except (binascii.Error, ValueError):
        raise invalid_argument(
            f"Invalid value at '{location}.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
        ) from None
    return InlinePart(get_field(inline_data, "mimeType", "mime_type"), size)


def _system_text(body: JsonObject) -> str:
    system = get_field(body, "systemInstruction", "system_instruction") or {}
    return "\n".join(
        p["text"] for p in (system.get("parts") or []) if isinstance(p, dict) and isinstance(p.get("text"), str)
    )


def _b64decode(data: str) -> bytes:
    """Decodes standard or URL-safe base64, with or without padding (the SDK sends URL-safe)."""
    s = data.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s, validate=True)
