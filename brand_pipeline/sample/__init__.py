"""Offline synthetic sample of Facebook Ad Library exports: three invented brands, their ads and media files.

Why this exists: the whole pipeline (import -> download assets -> analyse images, videos and copy ->
personas) must run end to end with no network and no API keys: in tests, in CI and on a fresh
checkout. Real ads come from the Apify actor `curious_coder/facebook-ads-library-scraper`; this package
writes a small data set that imitates that actor's exports for three invented brands, together with the
media files the ads point at, so the *same* file-import code path that handles real exports handles it.

It deliberately carries the mess of real exports: JSON arrays and NDJSON, snake_case and camelCase
keys, the older `body.markup.__html` form, copy reused on several ads, creatives shared between ads,
carousels and dynamic (DCO) ads, and bad records of every kind in `BAD_KINDS`. Media URLs are relative
paths (`media/<file>`) resolved against the export file's folder.

The sample is deterministic: the same bytes on every run on a machine (given the pinned Pillow and
PyAV builds), so content sha256s are stable and the manifest can list them. Nothing reads the clock or
a random generator, dates are pinned to 2026, iteration is ordered, and x264 runs single-threaded.

`SampleManifest` (also written as `manifest.json`) records what was generated and the counts an importer
should find; they are computed by reading the written exports back, not typed in by hand.

Generating is blocking CPU work (drawing and encoding); async callers run it in a thread.
"""

from brand_pipeline.sample.generate import generate_sample
from brand_pipeline.sample.manifest import (
    BAD_KINDS,
    GENERATOR_VERSION,
    BadKind,
    BadRecord,
    BrandExpectation,
    MediaFile,
    SampleBrand,
    SampleManifest,
    read_manifest,
)
from brand_pipeline.sample.publish import SampleGenerator, ensure_sample

__all__ = [
    "BAD_KINDS",
    "GENERATOR_VERSION",
    "BadKind",
    "BadRecord",
    "BrandExpectation",
    "MediaFile",
    "SampleBrand",
    "SampleGenerator",
    "SampleManifest",
    "ensure_sample",
    "generate_sample",
    "read_manifest",
]
