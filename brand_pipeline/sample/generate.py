"""Writes the whole sample set into a folder: media, one export per brand, brands.json, then manifest.json."""

from __future__ import annotations

import json
from pathlib import Path

from brand_pipeline.sample.brands import BRANDS
from brand_pipeline.sample.expectations import check_intent, expectation
from brand_pipeline.sample.items import export_bytes
from brand_pipeline.sample.manifest import GENERATOR_VERSION, MediaFile, SampleBrand, SampleManifest
from brand_pipeline.sample.media import DEFECT_DETAILS, sha256_hex, write_media
from brand_pipeline.sample.specs import BrandSpec


def generate_sample(dest: Path) -> SampleManifest:
    """Write the sample set into `dest` (which must not exist or be empty) and return its manifest.

    Layout: brands.json, one export per brand (<slug>.ndjson / <slug>.json), media/, manifest.json
    (written last). Prefer `ensure_sample`, which publishes atomically and skips up-to-date sets.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    (dest / "media").mkdir(parents=True, exist_ok=True)
    media: list[MediaFile] = []
    brands: list[SampleBrand] = []
    for index, brand in enumerate(BRANDS):
        files = write_media(dest, brand)
        media += files
        brands.append(_write_export(dest, index, brand, files))
    _write_brand_listing(dest, brands)
    manifest = SampleManifest(generator_version=GENERATOR_VERSION, brands=brands, media=media, files=_file_hashes(dest))
    (dest / "manifest.json").write_bytes((manifest.model_dump_json(indent=2) + "\n").encode())
    return manifest


# The spec's fields brands.json lists under the same name.
_LISTED_AS_IS = ("slug", "name", "ad_library_url", "export", "export_format")


def _write_export(dest: Path, index: int, brand: BrandSpec, files: list[MediaFile]) -> SampleBrand:
    """Write the brand's export next to media/ and describe it with what reading it back finds."""
    (dest / brand.export).write_bytes(export_bytes(index, brand))
    broken = {f.path: DEFECT_DETAILS[f.defect] for f in files if f.defect}
    expected = expectation(dest, brand.export, broken)
    check_intent(brand, expected)
    same_names = {name: getattr(brand, name) for name in _LISTED_AS_IS}
    return SampleBrand(**same_names, facebook_page_id=brand.page_id, key_style=brand.keys, expected=expected)


def _write_brand_listing(dest: Path, brands: list[SampleBrand]) -> None:
    """brands.json: the brands and where their exports are, as a user would list them for an import."""
    listing = [
        {
            "slug": b.slug,
            "name": b.name,
            "facebook_page_id": b.facebook_page_id,
            "ad_library_url": b.ad_library_url,
            "export": b.export,
        }
        for b in brands
    ]
    (dest / "brands.json").write_bytes((json.dumps(listing, indent=2) + "\n").encode())


def _file_hashes(dest: Path) -> dict[str, str]:
    """sha256 of every file written so far, by path relative to `dest`."""
    return {p.relative_to(dest).as_posix(): sha256_hex(p.read_bytes()) for p in sorted(dest.rglob("*")) if p.is_file()}
