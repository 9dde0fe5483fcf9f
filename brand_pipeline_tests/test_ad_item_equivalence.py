"""The fast item parser gives exactly what the parser before it gave: the same records (snapshot
included, snake_cased as stored) and the same refusals, on the whole sample set and on hand-made
camelCase, snake_case and hostile items."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.sample import read_manifest
from brand_pipeline.sample.items import camelise
from brand_pipeline.sources.ad_items import InvalidAdRecord, parse_ad_item, snake_keys
from brand_pipeline_tests.reference_ad_items import reference_parse


def outcome(parse: Any, item: Any) -> AdRecord | tuple[str, str]:
    """The record, or the refusal as (exception type, message), so refusals compare too."""
    try:
        return parse(item)
    except Exception as error:  # the reference may fail with any type; the new one must match it
        return type(error).__name__, str(error)


def assert_same(item: Any) -> AdRecord | tuple[str, str]:
    ours, reference = outcome(parse_ad_item, item), outcome(reference_parse, item)
    assert ours == reference
    if isinstance(ours, AdRecord):
        assert ours.model_fields_set == reference.model_fields_set
        assert json.dumps(ours.snapshot) == json.dumps(reference.snapshot), "same keys in the same order"
    return ours


def export_items(path: Path) -> list[Any]:
    """What the file export source hands the parser: every item that is valid JSON."""
    if path.suffix == ".json":
        return json.loads(path.read_text())
    items = []
    for line in path.read_text().splitlines():
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a cut-off line never reaches the parser
    return items


def test_every_sample_item_parses_as_before(sample_dir: Path) -> None:
    manifest = read_manifest(sample_dir)
    assert {brand.key_style for brand in manifest.brands} == {"snake", "camel"}
    for brand in manifest.brands:
        items = export_items(sample_dir / brand.export)
        results = [assert_same(item) for item in items]
        records = [r for r in results if isinstance(r, AdRecord)]
        refused = [r for r in results if not isinstance(r, AdRecord)]
        # Independent of both parsers: what the generator says an importer must find.
        expected = brand.expected
        assert len(records) == expected.importable_ads, brand.slug
        assert len(refused) == expected.bad_records["missing_ad_id"] + expected.bad_records["invalid_snapshot"]
        assert set(expected.valid_ad_ids) <= {r.ad_archive_id for r in records}
        assert all(kind == "InvalidAdRecord" for kind, _ in refused)
        # The stored snapshot is the item's own, keys snake_cased and nothing else changed.
        raw = {str(i.get("ad_archive_id") or i.get("adArchiveID")): i.get("snapshot") for i in items}
        for record in records:
            original = raw[record.ad_archive_id]
            assert (camelise(record.snapshot) if brand.key_style == "camel" else record.snapshot) == original


CAMEL = {
    "adArchiveID": "777",
    "pageID": "42",
    "pageName": "Acme",
    "isActive": False,
    "startDate": 1767225600,
    "endDate": 1767312000,
    "publisherPlatform": ["FACEBOOK"],
    "collationID": "c1",
    "collationCount": 3,
    "impressionsWithIndex": {"impressionsText": None},
    "snapshot": {
        "body": {"markup": {"__html": "<b>Fish</b> &amp; chips"}},
        "pageLikeCount": 12,
        "cards": [{"title": "Card", "ctaText": "Buy", "videoSdUrl": " https://cdn/c.mp4 ", "originalImageUrl": ""}],
        "extraImages": [{"resizedImageUrl": "https://cdn/x.jpg", "imageCrops": [{"cropURL": "u"}]}],
        "extraVideos": [],
        "HTTPStatusCode": 200,
        "nested": [[{"innerKey": [{"deepCamelKey": 1}]}], "text"],
    },
}


def test_a_camel_case_item_gives_the_expected_record() -> None:
    record = assert_same(CAMEL)
    assert record.model_dump(exclude={"snapshot"}) == {
        "ad_archive_id": "777",
        "page_id": "42",
        "page_name": "Acme",
        "is_active": False,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "publisher_platforms": ["FACEBOOK"],
        "collation_id": "c1",
        "collation_count": 3,
        "title": "Card",
        "body": "Fish & chips",
        "caption": None,
        "cta_text": "Buy",
        "cta_type": None,
        "link_url": None,
        "link_description": None,
        "display_format": None,
        "media": [
            {"slot": "extra_images[0]", "kind": "image", "url": "https://cdn/x.jpg"},
            {"slot": "cards[0].video", "kind": "video", "url": "https://cdn/c.mp4"},
        ],
    }
    assert (record.end_date - record.start_date).days == 1
    assert record.snapshot["http_status_code"] == 200
    assert record.snapshot["extra_images"][0]["image_crops"] == [{"crop_url": "u"}]
    assert record.snapshot["nested"] == [[{"inner_key": [{"deep_camel_key": 1}]}], "text"]


def test_the_snake_case_twin_gives_the_same_record_and_snapshot() -> None:
    assert assert_same(snake_keys(CAMEL)) == assert_same(CAMEL)


def _with(**changes: Any) -> dict[str, Any]:
    return {"ad_archive_id": "1", "snapshot": {"title": "t"}} | changes


@pytest.mark.parametrize(
    "item",
    [
        # Both spellings of one field: the later one wins, at the top and in the snapshot.
        {"pageID": "first", "page_id": "second", "adArchiveID": "1", "snapshot": {"pageName": "a", "page_name": "b"}},
        {"ad_archive_id": "1", "adArchiveID": "2", "snapshot": {}},
        # Values that are not what the field wants, each refused or coerced exactly as before.
        _with(is_active="true"),
        _with(is_active="perhaps"),
        _with(is_active=1),
        _with(collation_count="5"),
        _with(collation_count=True),
        _with(collation_count=2.5),
        _with(start_date="2026-01-01T00:00:00Z"),
        _with(start_date="1767225600"),
        _with(start_date=1767225600.5),
        _with(start_date=-86400),
        _with(start_date=True),
        _with(start_date=10**20),
        _with(end_date={"secondsValue": 1}),
        _with(ad_archive_id=12345),
        _with(ad_archive_id=" 12345 "),
        _with(ad_archive_id="x" * 65),
        _with(ad_archive_id="١٢٣"),
        _with(ad_archive_id={"idValue": 1}),
        _with(ad_archive_id=False),
        _with(publisher_platform={"platformName": "FACEBOOK"}),
        _with(publisher_platform="INSTAGRAM", publisher_platforms=["FACEBOOK"]),
        _with(page_id=["a"], page_name={"nameText": "x"}),
        # Snapshots in odd shapes.
        _with(snapshot={1: "int key"}),
        _with(snapshot=OrderedDict(pageName="ordered")),
        _with(snapshot={"images": {"originalImageUrl": "https://cdn/i.jpg"}}),
        _with(snapshot={"images": ["not a dict", None, {"resizedImageUrl": "  "}], "cards": "nope"}),
        _with(snapshot={"cards": [None, {"title": "second card"}], "body": ["list body"]}),
        _with(snapshot={"body": {"text": "", "markup": {"__html": "<i>x</i>"}}}),
        _with(snapshot=[]),
        _with(snapshot="a string"),
        {"snapshot": {}},
        {"adArchiveID": None, "snapshot": {}},
        {},
        {1: "one", None: "none", "adArchiveID": "9", "snapshot": {}},
        # Keys the conversion has to get right.
        _with(snapshot={"URL": 1, "ID": 2, "A1B2": 3, "already_snake": 4, "__html": 5, "XMLHttpRequest": 6, "": 7}),
    ],
)
def test_hostile_items_give_what_the_previous_parser_gave(item: dict[Any, Any]) -> None:
    assert_same(item)


def test_the_later_spelling_of_a_field_wins_as_before() -> None:
    record = assert_same({"pageID": "first", "page_id": "second", "adArchiveID": "1", "snapshot": {}})
    assert record.page_id == "second"


def test_non_objects_are_refused_with_the_same_reason() -> None:
    for item in (None, [], "item", 3):
        kind, reason = assert_same(item)
        assert kind == "InvalidAdRecord" and reason.startswith("expected a JSON object")
    with pytest.raises(InvalidAdRecord, match="expected a JSON object, got list"):
        parse_ad_item([])


def test_items_with_ever_new_keys_do_not_grow_the_key_memo_without_bound() -> None:
    from brand_pipeline.sources.ad_items import _snake

    for n in range(_snake.cache_info().maxsize + 100):
        parse_ad_item({"adArchiveID": "1", "snapshot": {f"uniqueKey{n}": n}})
    assert _snake.cache_info().currsize <= _snake.cache_info().maxsize
