"""The demo's summary in an 80-column terminal: every column and every count stays visible, and a
failure's long description is printed in full below the table instead of widening it."""

from __future__ import annotations

from rich.console import Console

from brand_pipeline.cli_tables import print_demo_summary
from brand_pipeline.demo import BrandRun
from brand_pipeline.store.models import BrandSummary

LONG_FAILURE = (
    "5 of 7 copy_analyses items failed (more than 20%); the rest were saved and a rerun retries only "
    "the failures: HTTP 503 UNAVAILABLE: The model is overloaded. Please try again later."
)


def _summary(
    ads: int, bad: int, videos: tuple[int, int], images: tuple[int, int], copies: tuple[int, int]
) -> BrandSummary:
    return BrandSummary(
        ads=ads,
        bad_items=bad,
        videos_analysed=videos[0],
        videos=videos[1],
        images_analysed=images[0],
        images=images[1],
        copies_analysed=copies[0],
        copies=copies[1],
        copies_skipped=1,
        personas=4,
    )


def _runs() -> list[BrandRun]:
    ok = BrandRun(
        slug="lumen-hollow",
        success=True,
        failed_assets=[],
        asset_counts={"scraped_ads": {"ads_new": 14}, "personas": {"status": "done"}},
        totals=_summary(14, 6, (2, 2), (4, 4), (7, 8)),
    )
    failing = BrandRun(
        slug="a-brand-with-a-rather-long-slug",
        success=False,
        failed_assets=["copy_analyses", "personas"],
        asset_counts={"scraped_ads": {"ads_new": 23}, "image_analyses": {"analysed_new": 5}},
        totals=_summary(31, 9, (3, 11), (5, 17), (2, 19)),
        failures={"copy_analyses": LONG_FAILURE},
    )
    return [ok, failing]


def _rendered(width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    print_demo_summary(console, _runs(), gemini_configured=True)
    return console.export_text()


def test_every_column_and_count_fits_80_columns_with_a_long_failure() -> None:
    text = _rendered()
    assert max(len(line) for line in text.splitlines()) <= 80
    header = next(line for line in text.splitlines() if "brand" in line and "result" in line)
    for column in ("brand", "ads", "bad", "videos", "images", "copy", "new", "personas", "result"):
        assert column in header.split(), f"column {column!r} is missing from {header!r}"
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.split()[:1] == ["lumen-hollow"]}
    assert rows["lumen-hollow"] == ["14", "6", "2/2", "4/4", "7/8", "14", "4", "ok"]
    for count in ("31", "9", "3/11", "5/17", "2/19", "28", "not run", "failed: 2"):
        assert count in text, f"{count!r} is missing:\n{text}"


def test_the_failure_description_is_printed_in_full_below_the_table() -> None:
    text = _rendered()
    table_end = text.index("failed: 2")
    below = " ".join(text[table_end:].split())
    assert "copy_analyses failed:" in below
    assert " ".join(LONG_FAILURE.split()) in below
    assert "not materialised: personas" in below
