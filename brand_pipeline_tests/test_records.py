"""Ad records: both key styles of Apify items, and a clear reason for every bad one."""

from __future__ import annotations

import pytest

from brand_pipeline.domain.ads import copy_hash, template_variables
from brand_pipeline.sample.items import camelise
from brand_pipeline.sources.ad_items import InvalidAdRecord, parse_ad_item

SNAKE = {
    "ad_archive_id": "1234",
    "page_id": 99,
    "page_name": "Acme",
    "is_active": True,
    "start_date": 1767225600,
    "end_date": None,
    "publisher_platform": ["FACEBOOK", "INSTAGRAM"],
    "snapshot": {
        "body": {"text": "Tired of cold coffee? Try ours."},
        "title": "Hot for hours",
        "cta_text": "Shop now",
        "display_format": "VIDEO",
        "videos": [{"video_hd_url": "https://cdn/v_hd.mp4", "video_sd_url": "https://cdn/v_sd.mp4"}],
        "images": [{"resized_image_url": "https://cdn/i.jpg"}],
        "cards": [{"original_image_url": "https://cdn/c0.jpg"}, {"video_sd_url": "https://cdn/c1.mp4"}],
    },
}


# The same ad in the actor's camelCase; like the actor, it leaves out a missing end date.
CAMEL = camelise({key: value for key, value in SNAKE.items() if key != "end_date"})


def test_both_key_styles_give_the_same_record() -> None:
    snake, camel = parse_ad_item(SNAKE), parse_ad_item(CAMEL)
    assert snake.model_dump(exclude={"snapshot"}) == camel.model_dump(exclude={"snapshot"})
    assert snake.page_id == "99" and snake.start_date.year == 2026
    assert snake.cta_text == "Shop now" and snake.display_format == "VIDEO"


def test_media_are_found_everywhere_with_stable_slots_and_the_best_url() -> None:
    media = parse_ad_item(SNAKE).media
    assert [(m.slot, m.kind, m.url) for m in media] == [
        ("videos[0]", "video", "https://cdn/v_hd.mp4"),
        ("images[0]", "image", "https://cdn/i.jpg"),
        ("cards[0].image", "image", "https://cdn/c0.jpg"),
        ("cards[1].video", "video", "https://cdn/c1.mp4"),
    ]


def test_older_html_bodies_are_read_as_text() -> None:
    item = {"ad_archive_id": "1", "snapshot": {"body": {"markup": {"__html": "<p>Fish &amp; chips<br>today</p>"}}}}
    assert parse_ad_item(item).body == "Fish & chips today"


@pytest.mark.parametrize(
    "item, reason",
    [
        ({"snapshot": {}}, "missing ad_archive_id"),
        ({"ad_archive_id": "  ", "snapshot": {}}, "missing ad_archive_id"),
        ({"ad_archive_id": "1"}, "snapshot is missing"),
        ({"ad_archive_id": "1", "snapshot": "oops"}, "snapshot is str"),
        ({"ad_archive_id": "1 2", "snapshot": {}}, "ad_archive_id"),
        ({"ad_archive_id": "1", "start_date": "yesterday", "snapshot": {}}, "start_date"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_bad_items_name_what_is_wrong(item: object, reason: str) -> None:
    with pytest.raises(InvalidAdRecord, match=reason):
        parse_ad_item(item)


def test_copy_identity_ignores_case_and_spacing_but_not_words() -> None:
    assert copy_hash("Shop  NOW\n") == copy_hash("shop now")
    assert copy_hash("shop now") != copy_hash("shop later")


def test_template_variables_are_found() -> None:
    assert template_variables("Get {{product.name}} for {{ product.price }}!") == [
        "{{ product.price }}",
        "{{product.name}}",
    ]
    assert template_variables("Plain {copy} here") == []


def test_hostile_values_are_refused_as_bad_records_not_crashes() -> None:
    deep: dict = {}
    for _ in range(5000):
        deep = {"x": deep}
    with pytest.raises(InvalidAdRecord, match="epoch seconds out of range"):
        parse_ad_item({"ad_archive_id": "1", "start_date": 10**20, "snapshot": {}})
    with pytest.raises(InvalidAdRecord, match="nested too deeply"):
        parse_ad_item({"ad_archive_id": "1", "snapshot": deep})
