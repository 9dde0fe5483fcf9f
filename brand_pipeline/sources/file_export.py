"""Ads from a file export: Apify Ad Library items as ``<slug>.json`` (array) or ``<slug>.ndjson``.

Media paths inside the items may be relative to the export's folder, which is how the offline
sample ships its creatives and how a downloaded export can be imported with its media.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

import ijson

from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.base import SourceError, SourceItem

EXPORT_SUFFIXES = (".ndjson", ".jsonl", ".json")
# Items parsed per hop to the worker thread.
_BATCH = 500


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
        """The export's items a batch at a time, parsed in a worker thread: memory stays flat
        however large the export."""
        path = self.export_for(brand)
        with path.open("rb") as export:
            batches = _item_batches(path.name, export)
            while batch := await asyncio.to_thread(next, batches, None):
                for item in batch:
                    yield item


def _item_batches(name: str, export: BinaryIO) -> Iterator[list[SourceItem]]:
    items = _ndjson_items(name, export) if not name.endswith(".json") else _json_items(name, export)
    while batch := list(itertools.islice(items, _BATCH)):
        yield batch


def _json_items(name: str, export: BinaryIO) -> Iterator[SourceItem]:
    """A JSON array of items, streamed; also ``{"items": [...]}`` as some exports wrap it, or one
    item on its own."""
    head = export.read(64).lstrip()
    export.seek(0)
    try:
        if head.startswith(b"["):
            for index, item in enumerate(ijson.items(export, "item", use_float=True)):
                yield SourceItem(position=f"{name}[{index}]", item=item)
            return
        if head.startswith(b"{"):
            data = json.loads(export.read())  # an object: a wrapper or one item
            if isinstance(data, dict):
                for index, item in enumerate(data.get("items", [data])):
                    yield SourceItem(position=f"{name}[{index}]", item=item)
                return
    except (ijson.JSONError, json.JSONDecodeError) as error:
        raise SourceError(f"{name} is not valid JSON: {error}") from None
    raise SourceError(f"{name} must hold a JSON array of ad items")


def _ndjson_items(name: str, export: BinaryIO) -> Iterator[SourceItem]:
    for number, raw in enumerate(export, start=1):
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            continue
        position = f"{name}:{number}"
        try:
            yield SourceItem(position=position, item=json.loads(line))
        except json.JSONDecodeError as error:
            yield SourceItem(position=position, error=f"line {number} is not valid JSON: {error.msg}")
