"""The offline sample data set: deterministic, decodable where intended, broken where intended, and
its manifest matches what is really in the exports (checked here with an independent reader)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from array import array
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageStat

from brand_pipeline.sample import BAD_KINDS, SampleManifest

ROOT = Path(__file__).resolve().parents[1]
MEDIA_RE = re.compile(r"^media/.+\.(jpg|png|mp4)$")


def records(path: Path) -> list[Any]:
    """Records of an export; an unparsable NDJSON line is returned as its text."""
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    out: list[Any] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append(line)
    return out


def snake(value: Any) -> Any:
    """adArchiveID -> ad_archive_id, recursively."""
    if isinstance(value, dict):
        return {
            re.sub(r"(?<!^)(?=[A-Z])", "_", re.sub(r"ID(?=[A-Z]|$)", "Id", k)).lower(): snake(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def values(value: Any, only: set[str] | None = None) -> list[Any]:
    """All scalar values (of keys in `only`, if given), depth first."""
    if isinstance(value, dict):
        return [
            x
            for k, v in value.items()
            for x in (values(v, only) if isinstance(v, (dict, list)) else ([v] if only is None or k in only else []))
        ]
    if isinstance(value, list):
        return [x for v in value for x in values(v, only)]
    return []


def media_paths(snapshot: dict[str, Any]) -> set[str]:
    return {v for v in values(snapshot) if isinstance(v, str) and MEDIA_RE.match(v)}


def decodes(path: Path) -> bool:
    try:
        with av.open(str(path)) as container:
            return sum(1 for _ in container.decode(video=0)) > 0
    except (av.FFmpegError, IndexError):
        return False


def test_generation_is_byte_identical_across_processes(
    generated: tuple[Path, SampleManifest], tmp_path: Path, folder_hashes: Callable[[Path], dict[str, str]]
) -> None:
    dest, manifest = generated
    other = tmp_path / "elsewhere" / "copy"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # another process, another hash order
    code = (
        "import sys; from pathlib import Path; from brand_pipeline.sample import generate_sample; "
        "generate_sample(Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(other)], cwd=ROOT, env=env, check=True, timeout=60)
    first, second = folder_hashes(dest), folder_hashes(other)
    assert first == second
    assert {p: h for p, h in first.items() if p != "manifest.json"} == manifest.files
    assert SampleManifest.model_validate_json((dest / "manifest.json").read_bytes()) == manifest


def test_layout_brands_and_size(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    listing = json.loads((dest / "brands.json").read_text())
    assert [b["slug"] for b in listing] == [b.slug for b in manifest.brands] and len(listing) == 3
    for entry in listing:
        assert set(entry) == {"slug", "name", "facebook_page_id", "ad_library_url", "export"}
        assert entry["facebook_page_id"].isdigit()
        assert entry["ad_library_url"] == (
            "https://www.facebook.com/ads/library/?active_status=all&ad_type=all"
            f"&country=US&view_all_page_id={entry['facebook_page_id']}"
        )
        assert entry["export"] in (f"{entry['slug']}.json", f"{entry['slug']}.ndjson")
        assert (dest / entry["export"]).is_file()
    assert sorted(b.export_format for b in manifest.brands) == ["json", "ndjson", "ndjson"]
    assert sorted(b.key_style for b in manifest.brands) == ["camel", "snake", "snake"]
    assert sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()) < 3_000_000
    for brand in manifest.brands:
        images = [m for m in manifest.media if m.brand == brand.slug and m.kind == "image"]
        videos = [m for m in manifest.media if m.brand == brand.slug and m.kind == "video"]
        assert 3 <= len(images) <= 5 and 2 <= len(videos) <= 3
        assert {m.format for m in images} == {"JPEG", "PNG"}
    assert {v.has_audio for v in manifest.media if v.kind == "video"} == {True, False}


def test_videos_decode_with_intended_duration_cuts_and_audio(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    videos = [m for m in manifest.media if m.kind == "video"]
    assert len(videos) == 7
    for video in videos:
        with av.open(str(dest / video.path)) as container:
            assert len(container.streams.audio) == (1 if video.has_audio else 0), video.path
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264" and stream.average_rate == video.fps
            frames = list(container.decode(stream))
        assert video.duration_s is not None and 2.0 <= video.duration_s <= 4.0
        assert abs(len(frames) / video.fps - video.duration_s) <= 0.2
        assert abs(float(frames[-1].time) + 1 / video.fps - video.duration_s) <= 0.2
        images = [f.to_image() for f in frames]
        assert {i.size for i in images} == {(video.width, video.height)}
        means = [ImageStat.Stat(i.reduce(4)).mean for i in images]
        jumps = [
            sum(abs(a - b) for a, b in zip(m1, m2, strict=True)) / 3 for m1, m2 in zip(means, means[1:], strict=False)
        ]
        assert sum(j > 20 for j in jumps) == video.scene_cuts, (video.path, sorted(jumps)[-4:])
        assert max(j for j in jumps if j <= 20) < 5  # within a scene only the moving shape changes
        assert all(a.tobytes() != b.tobytes() for a, b in zip(images, images[1:], strict=False))  # frames differ
        if video.has_audio:
            with av.open(str(dest / video.path)) as container:
                chunks = [f for f in container.decode(audio=0)]
            samples = array("f")
            for f in chunks:
                samples.frombytes(bytes(f.planes[0])[: f.samples * 4])
            assert abs(len(samples) / chunks[0].sample_rate - video.duration_s) <= 0.2
            assert 0.1 < max(abs(s) for s in samples) < 0.5  # an audible, unclipped tone


def test_images_open_at_intended_size(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    images = [m for m in manifest.media if m.kind == "image"]
    assert len(images) == 13
    sizes = set()
    for image in images:
        with Image.open(dest / image.path) as img:
            assert (img.format, img.size) == (image.format, (image.width, image.height)), image.path
            img.load()
            sizes.add(img.size)
            colours = img.convert("RGB").getcolors(1 << 16)  # None: more colours than that
            assert colours is None or len(colours) > 50  # drawn (gradient, shapes, text), not a flat fill
    assert sizes == {(270, 270), (270, 338), (300, 157)}


def test_broken_and_missing_media_really_are(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    broken = [m for m in manifest.media if m.kind == "broken_video"]
    assert Counter(m.defect for m in broken) == {"html_error_page": 3, "truncated": 3}
    for media in broken:
        data = (dest / media.path).read_bytes()
        assert media.path.endswith(".mp4") and not decodes(dest / media.path)
        if media.defect == "html_error_page":
            assert data.lstrip()[:15].lower() == b"<!doctype html>"
        else:
            sources = [m for m in manifest.media if m.brand == media.brand and m.kind == "video"]
            assert len(data) == 2048 and any((dest / s.path).read_bytes()[:2048] == data for s in sources)
    for video in (m for m in manifest.media if m.kind == "video"):
        assert decodes(dest / video.path)
    for brand in manifest.brands:
        missing = [b for b in brand.expected.bad if b.kind == "missing_media"]
        assert missing and all(b.paths and not any((dest / p).exists() for p in b.paths) for b in missing)


def test_manifest_counts_match_exports(generated: tuple[Path, SampleManifest]) -> None:
    """Recount everything with an independent reader and compare with the manifest."""
    dest, manifest = generated
    sound = {p: decodes(dest / p) for p in {m.path for m in manifest.media if m.path.endswith(".mp4")}}
    for brand in manifest.brands:
        expected = brand.expected
        recs = records(dest / brand.export)
        kinds: list[str | None] = []
        valid: list[dict[str, Any]] = []
        for rec in recs:
            if isinstance(rec, str):
                kinds.append("invalid_json")
                continue
            item = snake(rec)
            snap = item.get("snapshot")
            paths = media_paths(snap) if isinstance(snap, dict) else set()
            if not item.get("ad_archive_id"):
                kinds.append("missing_ad_id")
            elif not isinstance(snap, dict):
                kinds.append("invalid_snapshot")
            elif any(not (dest / p).exists() for p in paths):
                kinds.append("missing_media")
            elif any(p.endswith(".mp4") and not sound[p] for p in paths):
                kinds.append("broken_media")
            elif "{{" in json.dumps(snap):
                kinds.append("template_copy")
            else:
                kinds.append(None)
                valid.append(item)
        assert expected.records == len(recs)
        assert expected.valid_ads == len(valid) == len(expected.valid_ad_ids)
        assert [v["ad_archive_id"] for v in valid] == expected.valid_ad_ids
        assert expected.bad_records == {k: kinds.count(k) for k in BAD_KINDS}
        assert [(b.record_no, b.kind) for b in expected.bad] == [(n, k) for n, k in enumerate(kinds, 1) if k]
        assert expected.records == expected.valid_ads + sum(expected.bad_records.values())
        assert expected.importable_ads == expected.valid_ads + sum(
            expected.bad_records[k] for k in ("broken_media", "missing_media", "template_copy")
        )
        for kind in BAD_KINDS:  # every kind per brand; invalid JSON lines only in the one NDJSON file
            assert expected.bad_records[kind] >= (0 if kind == "invalid_json" else 1), (brand.slug, kind)
        used = {p for v in valid for p in media_paths(v["snapshot"])}
        assert sorted(p for p in used if not p.endswith(".mp4")) == expected.image_paths
        assert sorted(p for p in used if p.endswith(".mp4")) == expected.video_paths
        assert (expected.image_files, expected.video_files) == (len(expected.image_paths), len(expected.video_paths))
        users: dict[str, set[str]] = {}
        for v in valid:
            for p in values(v["snapshot"], {"original_image_url", "video_hd_url"}):
                if p:
                    users.setdefault(p, set()).add(v["ad_archive_id"])
        assert expected.shared_creatives == {p: sorted(ids) for p, ids in sorted(users.items()) if len(ids) > 1}
        # every preview image is also a creative, so the counts hold whether or not an importer fetches previews
        assert sorted(users) == sorted(expected.image_paths + expected.video_paths)
        assert 8 <= len(valid) <= 12


def test_one_ndjson_file_has_one_invalid_line(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    invalid = []
    for brand in manifest.brands:
        if brand.export_format == "json":
            assert isinstance(json.loads((dest / brand.export).read_text(encoding="utf-8")), list)
            continue
        for no, line in enumerate((dest / brand.export).read_text(encoding="utf-8").splitlines(), 1):
            try:
                json.loads(line)
            except json.JSONDecodeError:
                invalid.append((brand.slug, no))
    assert len(invalid) == 1
    slug, no = invalid[0]
    assert [(b.record_no, b.kind) for b in manifest.brand(slug).expected.bad if b.kind == "invalid_json"] == [
        (no, "invalid_json")
    ]


def test_key_styles(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    for brand in manifest.brands:
        items = [r for r in records(dest / brand.export) if isinstance(r, dict)]
        found = keys(items)
        if brand.key_style == "camel":
            assert {
                "adArchiveID",
                "pageID",
                "pageName",
                "isActive",
                "startDate",
                "endDate",
                "publisherPlatform",
                "collationID",
                "collationCount",
                "ctaText",
                "ctaType",
                "linkUrl",
                "displayFormat",
                "videoHdUrl",
                "originalImageUrl",
                "pageLikeCount",
                "extraImages",
                "extraVideos",
            } <= found
            assert not [k for k in found if "_" in k and k != "__html"]
        else:
            assert {
                "ad_archive_id",
                "page_id",
                "page_name",
                "is_active",
                "start_date",
                "end_date",
                "publisher_platform",
                "collation_id",
                "collation_count",
                "cta_text",
                "cta_type",
                "link_url",
                "display_format",
                "video_hd_url",
                "original_image_url",
                "video_preview_image_url",
                "extra_images",
                "extra_videos",
                "cards",
            } <= found
            assert not [k for k in found if k != k.lower()]


def test_ads_look_like_real_ad_library_items(generated: tuple[Path, SampleManifest]) -> None:
    dest, manifest = generated
    all_bodies: set[str] = set()
    for brand in manifest.brands:
        items = {
            i["ad_archive_id"]: i
            for i in map(snake, records(dest / brand.export))
            if isinstance(i, dict) and i.get("ad_archive_id")
        }
        valid = [items[i] for i in brand.expected.valid_ad_ids]
        assert all(i.isdigit() for i in items)
        assert len({v["page_id"] for v in valid}) == 1 and valid[0]["page_id"] == brand.facebook_page_id
        # dates pinned in 2026: short runs, long runs and still-active ads
        runs = []
        for v in valid:
            start = datetime.fromtimestamp(v["start_date"], UTC)
            assert start.year == 2026
            if v["end_date"] is None:
                assert v["is_active"] is True
                runs.append(None)
            else:
                assert v["is_active"] is False and datetime.fromtimestamp(v["end_date"], UTC).year == 2026
                runs.append((v["end_date"] - v["start_date"]) / 86400)
        assert None in runs and any(r is not None and r <= 3 for r in runs)
        assert any(r is not None and r >= 120 for r in runs)
        formats = {v["snapshot"]["display_format"] for v in valid}
        assert formats == {"IMAGE", "VIDEO", "CAROUSEL", "DCO"}
        # one creative behind several ads, and a carousel with several images
        assert brand.expected.shared_creatives
        assert all(2 <= len(ids) <= 4 and (dest / p).is_file() for p, ids in brand.expected.shared_creatives.items())
        carousels = [v for v in valid if v["snapshot"]["display_format"] == "CAROUSEL"]
        assert any(
            len({c["original_image_url"] for c in v["snapshot"]["cards"] if c["original_image_url"]}) >= 2
            for v in carousels
        )
        for card in (c for v in carousels for c in v["snapshot"]["cards"]):
            assert card["title"] and card["body"] and card["cta_type"]
        # copy: the same body on 2-3 ads, the older markup form, real offers, no template leftovers
        bodies = Counter(v["snapshot"]["body"].get("text") for v in valid if "text" in v["snapshot"]["body"])
        assert 2 <= max(bodies.values()) <= 3
        assert any("markup" in v["snapshot"]["body"] for v in valid)
        text = json.dumps([v["snapshot"] for v in valid], ensure_ascii=False)
        assert "{{" not in text and "%" in text and "$50" in text and "+" in text
        assert re.search(r"[\U0001F300-\U0001FAFF]", text)
        all_bodies |= set(bodies)
    assert len(all_bodies) >= 18
