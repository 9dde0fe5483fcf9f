"""Ads from a file export: Apify Ad Library items as ``<slug>.json`` (array) or ``<slug>.ndjson``.

Media paths inside the items may be relative to the export's folder, which is how the offline
sample ships its creatives and how a downloaded export can be imported with its media.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.base import SourceError, SourceItem

EXPORT_SUFFIXES = (".ndjson", ".jsonl", ".json")


class FileExportSource:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).resolve()

    name = "file"
    complete = True  # an export holds every ad it was made with
    paid_run = None

    @property
    def media_base_dir(self) -> Path:
        return self.folder

    def export_for(self, brand: Brand) -> Path:
        candidates = [self.folder / f"{brand.slug}{suffix}" for suffix in EXPORT_SUFFIXES]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        names = ", ".join(c.name for c in candidates)
        raise SourceError(f"no export for brand {brand.slug!r} in {self.folder} (looked for {names})")

    async def items(self, brand: Brand) -> AsyncIterator[SourceItem]:
        path = self.export_for(brand)
        for item in await asyncio.to_thread(_read_export, path):
            yield item


def _read_export(path: Path) -> list[SourceItem]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SourceError(f"{path.name} is not valid JSON: {error}") from None
        if isinstance(data, dict):  # a single item, or {"items": [...]} as some exports wrap it
            data = data.get("items", [data])
        if not isinstance(data, list):
            raise SourceError(f"{path.name} must hold a JSON array of ad items")
        return [SourceItem(position=f"{path.name}[{index}]", item=item) for index, item in enumerate(data)]
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        position = f"{path.name}:{number}"
        try:
            items.append(SourceItem(position=position, item=json.loads(line)))
        except json.JSONDecodeError as error:
            items.append(SourceItem(position=position, error=f"line {number} is not valid JSON: {error.msg}"))
    return items
