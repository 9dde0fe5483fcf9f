"""The three invented brands of the sample, in the order they are generated (their index seeds the ad ids).

Each brand is a table of data in its own JSON file, read into the spec types of ``specs``:

- ``lumen_hollow.json``: Lumen Hollow Coffee, a coffee roaster (NDJSON export, snake_case keys);
- ``cairnpeak.json``: Cairnpeak Outfitters, an outdoor gear brand (NDJSON export, camelCase keys);
- ``dewveil.json``: Dewveil Skin, a skincare brand (JSON array export, snake_case keys).

An ad lists only the fields that differ from ``AdSpec``'s defaults.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from brand_pipeline.sample.specs import AdCopy, AdSpec, BrandSpec, ImageSpec, VideoSpec

_SCALARS = ("slug", "name", "page_id", "domain", "category", "likes", "keys", "export_format")


def _video(fields: dict[str, Any]) -> VideoSpec:
    scenes = tuple(tuple(scene) for scene in fields["scenes"])
    return VideoSpec(**fields | {"size": tuple(fields["size"]), "scenes": scenes})


def load_brand(name: str) -> BrandSpec:
    """The brand table ``<name>.json`` of this package, JSON arrays read as the specs' tuples."""
    data = json.loads(resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8"))
    return BrandSpec(
        **{key: data[key] for key in _SCALARS},
        palette=tuple(tuple(colour) for colour in data["palette"]),
        copy={key: AdCopy(**copy) for key, copy in data["copy"].items()},
        cards={key: tuple(card) for key, card in data["cards"].items()},
        images=tuple(ImageSpec(**image) for image in data["images"]),
        videos=tuple(_video(video) for video in data["videos"]),
        ads=tuple(AdSpec(**ad | {"media": tuple(ad["media"])}) for ad in data["ads"]),
    )


BRANDS: tuple[BrandSpec, ...] = tuple(load_brand(name) for name in ("lumen_hollow", "cairnpeak", "dewveil"))
