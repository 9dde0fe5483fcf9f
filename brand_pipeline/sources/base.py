"""The port every ad source implements (file export and the offline sample, Apify, Meta's API)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand


class SourceError(RuntimeError):
    """The source cannot produce ads for this brand at all (as opposed to one bad item)."""


@dataclass(frozen=True)
class SourceItem:
    """One raw item and where it came from; ``error`` is set when it could not even be parsed.

    ``refuse``, if the source has one, says why an ad parsed from the item cannot be used (None:
    it can). It runs only on ads that are parsed: an unchanged ad is recognised before that."""

    position: str
    item: Any = None
    error: str | None = None
    refuse: Callable[[AdRecord], str | None] | None = None


class PaidRun(BaseModel):
    """The paid run a scrape read (an Apify actor run), for the asset's metadata. ``cost_usd`` is
    the run's cost (the provider's figure, else items × price: ``cost_estimated``); a resumed run
    (``started_new`` False) was paid for by the step that started it."""

    source: str
    run_id: str
    run_url: str
    status: str
    items: int
    cost_usd: float
    cost_estimated: bool
    started_new: bool


class AdSource(Protocol):
    @property
    def name(self) -> str:
        """What kind of source this is (``file``, ``apify``, ``meta``), recorded with each scrape."""
        ...

    @property
    def complete(self) -> bool:
        """After ``items`` ran to its end: whether it listed every ad the brand has, so an ad it did
        not list has stopped (False when, say, the source stopped at a count limit)."""
        ...

    @property
    def paid_run(self) -> PaidRun | None:
        """After ``items``: the paid run it read, if the source works through one."""
        ...

    @property
    def media_base_dir(self) -> Path | None:
        """Folder that relative media paths resolve against; None if the source has none."""
        ...

    def items(self, brand: Brand) -> AsyncIterator[SourceItem]:
        """Every ad item the source holds for ``brand``, bad ones included."""
        ...
