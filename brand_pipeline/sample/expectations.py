"""What an importer should find: the written exports read back and every record classified, valid or bad."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from brand_pipeline.sample.items import camel
from brand_pipeline.sample.manifest import BAD_KINDS, BadRecord, BrandExpectation
from brand_pipeline.sample.specs import BrandSpec

_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_URL_FIELDS = (
    "original_image_url",
    "resized_image_url",
    "watermarked_resized_image_url",
    "video_hd_url",
    "video_sd_url",
    "video_preview_image_url",
    "watermarked_video_hd_url",
)
_CREATIVE_FIELDS = ("original_image_url", "video_hd_url")
_TEXT_FIELDS = ("title", "caption", "link_description", "cta_text")


def _get(obj: dict[str, Any], key: str) -> Any:
    return obj[key] if key in obj else obj.get(camel(key))


def _read_records(path: Path) -> list[Any]:
    """Items of an export; an NDJSON line that does not parse is kept as its raw text."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    records: list[Any] = []
    for line in text.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                records.append(line)
    return records


def _media_refs(snapshot: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, path) of every media URL in a snapshot, in order."""
    refs = []
    for group in ("images", "videos", "cards", "extra_images", "extra_videos"):
        for entry in _get(snapshot, group) or []:
            refs += [(f, _get(entry, f)) for f in _URL_FIELDS if _get(entry, f)]
    return refs


def _texts(snapshot: dict[str, Any]) -> list[str]:
    body = _get(snapshot, "body") or {}
    texts = [body.get("text") or (body.get("markup") or {}).get("__html") or ""]
    texts += [_get(snapshot, f) or "" for f in _TEXT_FIELDS]
    for card in _get(snapshot, "cards") or []:
        texts += [_get(card, "body") or "", _get(card, "title") or ""]
    return texts


def _classify(record: Any, folder: Path, broken: dict[str, str]) -> tuple[str | None, str | None, list[str], str]:
    """(bad kind or None if valid, ad id, offending paths, detail) of one record."""
    if isinstance(record, str):
        return "invalid_json", None, [], "line is not valid JSON (export cut off mid-record)"
    ad_id = _get(record, "ad_archive_id")
    if not ad_id:
        return "missing_ad_id", None, [], "item has no ad_archive_id"
    snapshot = _get(record, "snapshot")
    if not isinstance(snapshot, dict):
        shown = "missing" if "snapshot" not in record else json.dumps(snapshot)
        return "invalid_snapshot", ad_id, [], f"snapshot is {shown}, not an object"
    paths = [p for _, p in _media_refs(snapshot)]
    if missing := sorted({p for p in paths if not (folder / p).is_file()}):
        return "missing_media", ad_id, missing, "media file does not exist"
    if bad := sorted({p for p in paths if p in broken}):
        return "broken_media", ad_id, bad, "; ".join(f"{p}: {broken[p]}" for p in bad)
    if found := sorted({m for t in _texts(snapshot) for m in _TEMPLATE.findall(t)}):
        return "template_copy", ad_id, [], "copy holds template variables " + ", ".join(found)
    return None, ad_id, [], ""


def expectation(folder: Path, export: str, broken: dict[str, str]) -> BrandExpectation:
    records = _read_records(folder / export)
    valid: list[str] = []
    bad: list[BadRecord] = []
    images: set[str] = set()
    videos: set[str] = set()
    users: dict[str, set[str]] = {}
    for no, record in enumerate(records, start=1):
        kind, ad_id, paths, detail = _classify(record, folder, broken)
        if kind:
            bad.append(BadRecord(record_no=no, kind=kind, ad_archive_id=ad_id, paths=paths, detail=detail))
            continue
        valid.append(ad_id)
        for field, path in _media_refs(_get(record, "snapshot")):
            (videos if path.endswith(".mp4") else images).add(path)
            if field in _CREATIVE_FIELDS:
                users.setdefault(path, set()).add(ad_id)
    counts = {k: sum(b.kind == k for b in bad) for k in BAD_KINDS}
    return BrandExpectation(
        records=len(records),
        valid_ads=len(valid),
        importable_ads=len(valid) + counts["broken_media"] + counts["missing_media"] + counts["template_copy"],
        bad_records=counts,
        image_files=len(images),
        video_files=len(videos),
        valid_ad_ids=valid,
        image_paths=sorted(images),
        video_paths=sorted(videos),
        shared_creatives={p: sorted(ids) for p, ids in sorted(users.items()) if len(ids) > 1},
        bad=bad,
    )


def check_intent(brand: BrandSpec, expected: BrandExpectation) -> None:
    """The classification read back must match the defects the table asked for (a generator self-check)."""
    intended = [(n + 1, ad.bad.split(":")[0]) for n, ad in enumerate(brand.ads) if ad.bad]
    found = [(b.record_no, b.kind) for b in expected.bad]
    if intended != found:
        raise RuntimeError(f"sample {brand.slug}: intended bad records {intended}, generated {found}")
