"""Prompts live as versioned Markdown files in ``analysis/prompts/``.

A prompt's version is its declared ``version`` plus a short hash of its text and its response
schema, so editing either — even without bumping the declared version — makes a new version:
every item is due again under it, and the asset's ``code_version`` changes so the UI marks it stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel

from brand_pipeline.analysis.schemas import SCHEMAS


@dataclass(frozen=True)
class Prompt:
    kind: str
    version: str
    template: str
    schema: type[BaseModel]

    def render(self, **values: Any) -> str:
        return self.template.format_map(values)


def load_prompt(kind: str) -> Prompt:
    text = (resources.files("brand_pipeline.analysis") / "prompts" / f"{kind}.md").read_text()
    _, front_matter, template = text.split("---\n", 2)
    declared = dict(line.split(":", 1) for line in front_matter.strip().splitlines())["version"].strip()
    schema = SCHEMAS[kind]
    return Prompt(
        kind=kind, version=prompt_version(declared, template, schema), template=template.strip(), schema=schema
    )


def prompt_version(declared: str, template: str, schema: type[BaseModel]) -> str:
    fingerprint = hashlib.sha256((template + json.dumps(schema.model_json_schema(), sort_keys=True)).encode())
    return f"{declared}.{fingerprint.hexdigest()[:8]}"


PROMPTS: dict[str, Prompt] = {kind: load_prompt(kind) for kind in SCHEMAS}
