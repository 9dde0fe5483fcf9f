"""Exact analysis: measured media and copy facts match what the sample generator made."""

from __future__ import annotations

from pathlib import Path

import pytest

from brand_pipeline.analysis.copy_facts import copy_facts
from brand_pipeline.analysis.image_facts import image_facts
from brand_pipeline.analysis.media_shape import aspect_ratio
from brand_pipeline.analysis.video_facts import MediaDecodeError, video_facts
from brand_pipeline.sample import read_manifest


def test_video_facts_match_how_each_sample_video_was_made(sample_dir: Path) -> None:
    videos = [m for m in read_manifest(sample_dir).media if m.kind == "video"]
    assert len(videos) >= 6
    for made in videos:
        facts = video_facts(sample_dir / made.path)
        assert facts.duration_s == pytest.approx(made.duration_s, abs=0.1), made.path
        assert (facts.width, facts.height) == (made.width, made.height)
        assert facts.fps == pytest.approx(made.fps, abs=0.01)
        assert facts.cuts == made.scene_cuts, made.path
        assert facts.has_audio == made.has_audio


def test_a_broken_video_raises_a_decode_error(sample_dir: Path) -> None:
    broken = next(m for m in read_manifest(sample_dir).media if m.defect == "truncated")
    with pytest.raises(MediaDecodeError):
        video_facts(sample_dir / broken.path)


def test_image_facts_measure_size_aspect_and_colour(sample_dir: Path) -> None:
    images = [m for m in read_manifest(sample_dir).media if m.kind == "image"]
    for made in images:
        facts = image_facts(sample_dir / made.path)
        assert (facts.width, facts.height) == (made.width, made.height)
        assert facts.format == made.format
        assert 0 < facts.brightness < 1
        assert facts.dominant_colours and sum(c.share for c in facts.dominant_colours) == pytest.approx(1, abs=0.01)


def test_a_plain_colour_image_has_that_colour_dominant(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (120, 80), (200, 30, 30)).save(tmp_path / "red.png")
    facts = image_facts(tmp_path / "red.png")
    assert facts.dominant_colours[0].hex == "#c81e1e" and facts.dominant_colours[0].share == 1.0
    assert facts.aspect_ratio == "3:2" and facts.orientation == "horizontal"


@pytest.mark.parametrize(
    "size, name",
    [
        ((1080, 1920), "9:16"),
        ((1080, 1350), "4:5"),
        ((1080, 1080), "1:1"),
        ((1200, 628), "1.91:1"),
        ((1000, 700), "10:7"),
    ],
)
def test_aspect_ratios_are_named_as_ad_platforms_name_them(size: tuple[int, int], name: str) -> None:
    assert aspect_ratio(*size) == name


def test_copy_facts_find_hook_offers_cta_and_proof() -> None:
    facts = copy_facts(
        "Still drinking bitter coffee? ☕ Roasted 48 hours before it ships.\n"
        "Join 40,000+ happy customers. Get 20% off with code BREW20 + free shipping over $50!\nShop now"
    )
    assert facts.hook == "Still drinking bitter coffee?"
    assert facts.questions == 1 and facts.exclamations == 1 and facts.emoji == 1
    assert {"20% off", "code BREW20", "free shipping over $50"} <= set(facts.offers)
    assert facts.calls_to_action == ["Shop now"]
    assert "40,000+" in facts.numbers and "20" not in facts.numbers  # not the digits inside BREW20
    assert facts.social_proof == ["Join 40,000+ happy customers"]
