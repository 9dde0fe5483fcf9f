"""The five assets end to end on the real store, through Dagster, in one process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from brand_pipeline.sample import read_manifest
from brand_pipeline_tests.helpers import (
    materialize_brand,
    metadata_of,
    register_sample_brands,
    resources_for,
    store_call,
)


@pytest.fixture
def resources(database_url: str, tmp_path: Path, sample_dir: Path) -> dict:
    return resources_for(database_url, tmp_path / "home", sample_dir)


def _state(resources: dict, slug: str) -> dict:
    """Everything a run leaves behind for a brand, as comparable plain data."""
    return {
        "summary": store_call(resources, "brand_summary", slug),
        "outcomes": sorted((o.item_key, o.status) for o in store_call(resources, "outcomes", slug)),
    }


def test_one_partition_materialised_ten_times_in_one_process_gives_the_same_result(
    resources: dict, instance: dg.DagsterInstance, sample_dir: Path, database_url: str
) -> None:
    # The seed bug: a client cached across event loops made every run after the first analyse
    # nothing, silently. Each run here gets a fresh loop and, with the analyses forgotten before
    # it, real work to do: a run that silently did nothing would leave different counts.
    [slug, *_] = register_sample_brands(resources, sample_dir, instance)
    states, analysed_new = [], []
    for _ in range(10):
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DELETE FROM creative_analyses; DELETE FROM copy_analyses")
        result = materialize_brand(slug, resources, instance)
        assert result.success
        states.append(_state(resources, slug))
        analysed_new.append(
            tuple(
                metadata_of(result, asset)["analysed_new"]
                for asset in ("video_analyses", "image_analyses", "copy_analyses")
            )
        )
    first = states[0]
    assert first["summary"].videos_analysed > 0
    assert first["summary"].images_analysed > 0
    assert first["summary"].copies_analysed > 0
    assert all(state == first for state in states)
    assert all(n > 0 for n in analysed_new[0]) and analysed_new == [analysed_new[0]] * 10


def test_a_rerun_finds_everything_done_and_says_so(
    resources: dict, instance: dg.DagsterInstance, sample_dir: Path
) -> None:
    [slug, *_] = register_sample_brands(resources, sample_dir, instance)
    assets = ("video_analyses", "image_analyses", "copy_analyses")
    first = materialize_brand(slug, resources, instance)
    rerun = materialize_brand(slug, resources, instance)
    assert all(metadata_of(first, asset)["analysed_new"] > 0 for asset in assets)
    assert [metadata_of(rerun, asset)["analysed_new"] for asset in assets] == [0, 0, 0]
    assert [metadata_of(rerun, asset)["already_done"] for asset in assets] == [
        metadata_of(first, asset)["total"] for asset in assets
    ]


def test_two_brands_interleaved_each_get_exactly_their_own_ads_and_creatives(
    resources: dict, instance: dg.DagsterInstance, sample_dir: Path
) -> None:
    slug_a, slug_b, *_ = register_sample_brands(resources, sample_dir, instance)
    for slug in (slug_a, slug_b, slug_a, slug_b):
        assert materialize_brand(slug, resources, instance).success
    manifest = read_manifest(sample_dir)
    for slug in (slug_a, slug_b):
        expected = manifest.brand(slug).expected
        summary = _state(resources, slug)["summary"]
        assert summary.ads == expected.importable_ads
        assert summary.images == summary.images_analysed == expected.image_files
        assert summary.videos == summary.videos_analysed == expected.video_files


def test_every_materialisation_reports_counts_and_a_markdown_preview(
    resources: dict, instance: dg.DagsterInstance, sample_dir: Path
) -> None:
    [slug, *_] = register_sample_brands(resources, sample_dir, instance)
    result = materialize_brand(slug, resources, instance)
    scraped = metadata_of(result, "scraped_ads")
    assert scraped["ads_new"] > 0 and scraped["invalid_records"] > 0 and scraped["media_failed"] > 0
    assert "| item | status | reason |" in scraped["preview"]
    for asset in ("video_analyses", "image_analyses", "copy_analyses"):
        metadata = metadata_of(result, asset)
        assert metadata["analysed_new"] == metadata["total"] > 0
        assert metadata["failed"] == 0
        assert metadata["dagster_run"] == result.run_id  # rendered as a link to the run
        assert "GEMINI_API_KEY is not set" in metadata["preview"]
    personas = metadata_of(result, "personas")
    assert personas["status"] == "skipped" and personas["personas"] == 0
    assert "Longest-running ads" in personas["preview"]


def test_without_a_key_the_model_step_is_recorded_as_skipped_never_invented(
    resources: dict, instance: dg.DagsterInstance, sample_dir: Path
) -> None:
    [slug, *_] = register_sample_brands(resources, sample_dir, instance)
    assert materialize_brand(slug, resources, instance).success
    synthesis = store_call(resources, "latest_persona_synthesis", slug)
    assert synthesis.status == "skipped" and "GEMINI_API_KEY" in synthesis.reason
    assert synthesis.personas == []
    # The exact evidence is still there, ordered by longevity.
    days = [ad["days_running"] for ad in synthesis.evidence["longest_running"]]
    assert days == sorted(days, reverse=True) and days[0] > days[-1]
    todo = store_call(resources, "creatives_to_analyse", slug, "image", "any-version", retry_semantic=False)
    assert todo, "a new analysis version makes every creative due again"


def test_bad_records_are_recorded_per_item_and_nothing_stored_is_lost(
    resources: dict, instance: dg.DagsterInstance, sample_dir: Path, tmp_path: Path, database_url: str
) -> None:
    manifest = read_manifest(sample_dir)
    brand = manifest.brand(manifest.brands[0].slug)
    register_sample_brands(resources, sample_dir, instance)
    assert materialize_brand(brand.slug, resources, instance).success
    before = _state(resources, brand.slug)

    outcomes = store_call(resources, "outcomes", brand.slug)
    reasons = " | ".join(o.reason for o in outcomes)
    assert "missing ad_archive_id" in reasons
    assert "snapshot is" in reasons
    assert "HTML page" in reasons  # an error page served where a video should be
    assert "cannot be decoded" in reasons  # a truncated video
    assert "does not exist" in reasons  # media missing next to the export

    # A later export of the same ads arrives broken: snapshots gone, media paths dead.
    broken = tmp_path / "broken_export"
    shutil.copytree(sample_dir, broken)
    export = broken / brand.export
    items = _read_items(export)
    for item in items:
        if isinstance(item, dict):
            item.pop("snapshot", None)
    _write_items(export, items)
    shutil.rmtree(broken / "media")
    broken_resources = resources_for(database_url, tmp_path / "home", broken)
    result = materialize_brand(brand.slug, broken_resources, instance)
    assert result.success, "bad input is recorded per item, it does not fail the run"

    after = _state(broken_resources, brand.slug)
    assert after["summary"].ads == before["summary"].ads
    for key in ("videos", "images", "videos_analysed", "images_analysed", "copies_analysed"):
        assert after["summary"].model_dump()[key] == before["summary"].model_dump()[key], key
    assert metadata_of(result, "scraped_ads")["invalid_records"] == metadata_of(result, "scraped_ads")["records"]


def _read_items(path: Path) -> list:
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)
    items = []
    for line in text.splitlines():
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError:
            items.append(line)
    return items


def _write_items(path: Path, items: list) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(items))
    else:
        path.write_text("\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n")
