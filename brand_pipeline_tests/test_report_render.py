"""Brand reports and comparisons, rendered from hand-built inputs and real small media files:
the numbers, every chart, thumbnails made from the files, no request to any host, hostile copy
escaped, and an inputs hash a caller can trust to skip re-rendering."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from brand_pipeline.domain.ads import days_running
from brand_pipeline.domain.personas import Persona
from brand_pipeline.report import ThumbnailCache, render_brand_report, render_comparison
from brand_pipeline.report.models import BrandReportInput, ComparisonBrand, ReportAd
from brand_pipeline_tests.report_inputs import NOW, ad, creative_of, draw_png, encode_mp4

DAY = timedelta(days=1)
BRAND_CHARTS = {"ads-over-time", "new-ads-per-week", "format-mix", "days-running", "hooks", "offers", "ctas"}
COMPARISON_CHARTS = {"launches-per-week", "format-mix", "offer-share", "median-days-running", "persona-overlap"}
HOSTILE = '<script>alert("copy")</script><img src=x onerror=alert(1)> https://evil.example/pixel.png'


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of style elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def having(self, attribute: str) -> list[dict[str, str | None]]:
        return [attrs for _, attrs in self.tags if attribute in attrs]

    def references(self) -> list[str]:
        """Every src / href value and every url(...) in inline styles and style attributes."""
        found = [v for _, attrs in self.tags for k, v in attrs.items() if k in ("src", "href", "srcset") and v]
        styles = self.styles + [attrs["style"] or "" for attrs in self.having("style")]
        return found + [m for style in styles for m in re.findall(r"url\(\s*['\"]?([^'\")]+)", style)]


def brand(ads: list[ReportAd], **fields: object) -> BrandReportInput:
    return BrandReportInput(brand_slug="cairnpeak", brand_name="Cairnpeak", generated_at=NOW, ads=ads, **fields)


def boundary_ads() -> list[ReportAd]:
    return [
        ad("1", NOW - 7 * DAY, is_active=True),  # started exactly 7 days ago: counts
        ad("2", NOW - 7 * DAY - timedelta(seconds=1), NOW - 3 * DAY, is_active=False),
        ad("3", NOW - 30 * DAY, NOW - 7 * DAY, is_active=False),  # stopped exactly 7 days ago: counts
        ad("4", NOW - 30 * DAY - timedelta(minutes=1), NOW - 8 * DAY, is_active=False),
        ad("5", NOW - 400 * DAY, NOW - 31 * DAY, is_active=False),
        ad("6", NOW - 100 * DAY),  # the source did not say; no end yet: running
        ad("7", None, is_active=False),  # no dates at all
    ]


def test_days_running_runs_from_start_to_end_or_to_now_while_active() -> None:
    start = NOW - 10 * DAY
    assert days_running(start, NOW - 4 * DAY, NOW) == pytest.approx(6)
    assert days_running(start, None, NOW) == pytest.approx(10)
    # Active ads run to now, whatever end date the source stamped on them; no end lies in the future.
    assert days_running(start, NOW - 4 * DAY, NOW, is_active=True) == pytest.approx(10)
    assert days_running(start, NOW + 5 * DAY, NOW) == pytest.approx(10)
    assert days_running(None, NOW, NOW) == 0.0
    assert days_running(NOW + DAY, None, NOW) == 0.0


def test_the_headline_counts_ads_around_the_7_and_30_day_boundaries() -> None:
    headline = render_brand_report(brand(boundary_ads(), model_spend_usd=0.123456)).headline

    assert headline.ads_seen == 7
    assert headline.active_now == 2
    assert (headline.started_last_7_days, headline.started_last_30_days) == (1, 3)
    assert (headline.stopped_last_7_days, headline.stopped_last_30_days) == (2, 3)
    # Days of the six dated ads: 7, 4.00001, 23, 22.0007, 369, 100 -> median (22.0007 + 23) / 2.
    assert headline.median_days_running == 22.5
    assert (headline.longest_days_running, headline.longest_running_ad_id) == (369.0, "5")
    assert headline.model_spend_usd == 0.1235


def test_the_headline_is_a_markdown_table_too() -> None:
    markdown = render_brand_report(brand(boundary_ads())).markdown

    assert "| started, last 7 / 30 days | 1 / 3 |" in markdown
    assert "| longest running | 369 days (ad 5) |" in markdown


def test_every_chart_the_gallery_and_the_proxy_note_are_on_the_page() -> None:
    report = render_brand_report(brand(boundary_ads()))
    page = Page(report.html)

    assert {a["data-chart"] for a in page.having("data-chart")} == BRAND_CHARTS
    assert [a["data-gallery"] for a in page.having("data-gallery")] == ["longest-running"]
    assert "no performance data" in report.html.lower() and "proxy" in report.html
    assert sum(1 for tag, _ in page.tags if tag == "svg") == 4  # these ads have no copy: the copy charts say so
    assert "No hooks found in the copy." in report.html


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    broken = folder / "broken.mp4"
    broken.write_bytes(b"<html>an error page served as video/mp4</html>")
    return {
        "png": draw_png(folder / "red.png", (200, 30, 30)),
        "mp4": encode_mp4(folder / "blue.mp4", (30, 60, 200)),
        "broken": broken,
        "absent": draw_png(folder / "absent.png", (30, 200, 30)),
    }


def _thumbnail(page: Page, kind: str) -> Image.Image:
    html_index = [i for i, (_, a) in enumerate(page.tags) if a.get("data-kind") == kind][0]
    tag, attrs = page.tags[html_index + 2]  # article > div.thumb > img
    assert tag == "img" and (attrs["src"] or "").startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode((attrs["src"] or "").split(",", 1)[1])))


def test_the_gallery_shows_an_image_thumbnail_and_a_video_poster_frame_made_from_the_files(
    media: dict[str, Path],
) -> None:
    picture, video = creative_of("image", media["png"]), creative_of("video", media["mp4"])
    ads = [
        ad("10", NOW - 50 * DAY, display_format="IMAGE", hook="Red", creatives=[picture]),
        ad("11", NOW - 40 * DAY, display_format="VIDEO", hook="Blue", creatives=[video]),
    ]
    files = {picture.sha256: media["png"], video.sha256: media["mp4"]}

    page = Page(render_brand_report(brand(ads, blob_files=files)).html)

    thumbnail, poster = _thumbnail(page, "image"), _thumbnail(page, "video")
    assert thumbnail.format == poster.format == "JPEG"
    assert max(thumbnail.size) <= 300 and max(poster.size) <= 300
    red, green, blue = thumbnail.convert("RGB").getpixel((2, 2))
    assert red > 150 and green < 80 and blue < 80  # the PNG's red corner
    red, green, blue = poster.convert("RGB").getpixel((2, 2))
    assert blue > 150 and red < 80  # the video's blue background


def test_a_creative_without_a_file_or_that_cannot_be_decoded_shows_a_placeholder(media: dict[str, Path]) -> None:
    broken, absent = creative_of("video", media["broken"]), creative_of("image", media["absent"])
    ads = [ad("20", NOW - 9 * DAY, creatives=[broken]), ad("21", NOW - 8 * DAY, creatives=[absent])]

    report = render_brand_report(brand(ads, blob_files={broken.sha256: media["broken"]}))

    assert report.html.count("no preview") == 2
    assert not [t for t, a in Page(report.html).tags if t == "img"]


def test_thumbnails_are_made_once_and_kept_on_disk(media: dict[str, Path], tmp_path: Path) -> None:
    picture = creative_of("image", media["png"])
    report = brand([ad("30", NOW - 5 * DAY, creatives=[picture])], blob_files={picture.sha256: media["png"]})
    first, second = ThumbnailCache(tmp_path), ThumbnailCache(tmp_path)

    html = render_brand_report(report, thumbnails=first).html

    assert first.made == 1
    assert render_brand_report(report, thumbnails=second).html == html
    assert second.made == 0


def hostile_brand(media: dict[str, Path]) -> BrandReportInput:
    picture = creative_of("image", media["png"])
    ads = [
        ad("40", NOW - 60 * DAY, hook=HOSTILE, offers=[HOSTILE], cta=HOSTILE, angle=HOSTILE, creatives=[picture]),
        ad("41", NOW - 6 * DAY, display_format=HOSTILE, is_active=True),
    ]
    persona = Persona(name=HOSTILE, profile={"snapshot": HOSTILE, "desires": [HOSTILE]}, evidence_ad_ids=["40"])
    return BrandReportInput(
        brand_slug="cairnpeak",
        brand_name=HOSTILE,
        generated_at=NOW,
        ads=ads,
        personas=[persona],
        persona_status="done",
        blob_files={picture.sha256: media["png"]},
    )


def _assert_inert(html: str) -> None:
    page = Page(html)
    assert "<script" not in html.lower()
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    assert "&lt;script&gt;" in html


def test_hostile_ad_copy_is_escaped_everywhere(media: dict[str, Path]) -> None:
    report = hostile_brand(media)
    _assert_inert(render_brand_report(report).html)
    comparison = ComparisonBrand(brand_slug="cairnpeak", brand_name=HOSTILE, ads=report.ads, personas=report.personas)
    _assert_inert(render_comparison([comparison], HOSTILE, generated_at=NOW).html)


def test_the_pages_reference_nothing_on_another_host(media: dict[str, Path]) -> None:
    report = hostile_brand(media)
    comparison = ComparisonBrand(brand_slug="dewveil", brand_name="Dewveil", ads=report.ads)
    for html in (
        render_brand_report(report).html,
        render_comparison([comparison], "skincare", generated_at=NOW).html,
    ):
        page = Page(html)
        assert [r for r in page.references() if not r.startswith(("data:", "#"))] == []
        # The browser is told so too: nothing but data: images and the inline stylesheet.
        [policy] = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv")]
        assert policy == "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    # The check sees references at all: the brand report's thumbnail is one.
    assert any(r.startswith("data:image/jpeg") for r in Page(render_brand_report(report).html).references())


def test_the_inputs_hash_is_stable_for_equal_inputs_and_changes_with_an_ad(
    media: dict[str, Path], tmp_path: Path
) -> None:
    picture = creative_of("image", media["png"])
    ads = [ad("50", NOW - 20 * DAY, hook="Carry more.", creatives=[picture])]
    moved = tmp_path / "elsewhere.png"
    moved.write_bytes(media["png"].read_bytes())

    first = render_brand_report(brand(ads, blob_files={picture.sha256: media["png"]}))
    again = render_brand_report(brand(list(ads), blob_files={picture.sha256: moved}))
    changed = render_brand_report(
        brand([ads[0].model_copy(update={"hook": "Carry less."})], blob_files={picture.sha256: media["png"]})
    )

    assert len(first.inputs_hash) == 64
    assert again.inputs_hash == first.inputs_hash  # where the file lies is not an input; its content is
    assert again.html == first.html
    assert changed.inputs_hash != first.inputs_hash
    assert render_brand_report(brand(ads)).inputs_hash != first.inputs_hash  # no file: placeholders


def test_personas_are_cards_with_their_cited_ads_or_say_why_there_are_none(media: dict[str, Path]) -> None:
    picture = creative_of("image", media["png"])
    ads = [ad("60", NOW - 90 * DAY, creatives=[picture]), ad("61", NOW - 30 * DAY)]
    persona = Persona(name="Trail Tess", profile={"desires": ["lighter pack"]}, evidence_ad_ids=["60", "61"])
    files = {picture.sha256: media["png"]}

    done = Page(render_brand_report(brand(ads, personas=[persona], persona_status="done", blob_files=files)).html)
    skipped = render_brand_report(brand(ads, persona_status="skipped", persona_reason="no GEMINI_API_KEY")).html

    assert [a["data-persona"] for a in done.having("data-persona")] == ["Trail Tess"]
    assert [a["data-evidence-ad"] for a in done.having("data-evidence-ad")] == ["60"]  # 61 shows no creative
    assert "Persona synthesis skipped: no GEMINI_API_KEY." in skipped
    assert "not been synthesised" in render_brand_report(brand(ads)).html


def test_a_brand_without_ads_still_renders_every_chart() -> None:
    report = render_brand_report(brand([]))

    assert {a["data-chart"] for a in Page(report.html).having("data-chart")} == BRAND_CHARTS
    assert report.headline.median_days_running is None and report.headline.ads_seen == 0


def persona(name: str, desires: list[str], pains: list[str]) -> Persona:
    return Persona(name=name, profile={"desires": desires, "pain_points": pains}, evidence_ad_ids=["x"])


def test_the_comparison_puts_brands_side_by_side_with_their_numbers() -> None:
    weeks_ago = [NOW - timedelta(days=7 * w + 1) for w in range(8)]
    peak = ComparisonBrand(
        brand_slug="cairnpeak",
        brand_name="Cairnpeak",
        ads=[
            ad("p1", weeks_ago[0], offers=["20% off"], angle="lighter pack", display_format="VIDEO", is_active=True),
            ad("p2", weeks_ago[0], angle="lighter pack", display_format="VIDEO", is_active=True),
            ad("p3", weeks_ago[7], weeks_ago[7] + 10 * DAY, angle="built to last", display_format="IMAGE"),
            ad("p4", NOW - 200 * DAY, NOW - 100 * DAY, display_format="IMAGE"),
        ],
        personas=[persona("Tess", ["lighter pack", "fewer blisters"], ["heavy gear"])],
    )
    veil = ComparisonBrand(
        brand_slug="dewveil",
        brand_name="Dewveil",
        ads=[ad("d1", weeks_ago[3], hook="Glow in a week.", is_active=True)],
        personas=[persona("Gemma", ["lighter routine"], ["heavy creams", "breakouts"])],
    )

    comparison = render_comparison([peak, veil], "outdoor vs beauty", generated_at=NOW)

    first, second = comparison.rows
    assert (first.ads_seen, first.active_now, first.offer_share) == (4, 2, 0.25)
    assert first.launches_per_week == [1, 0, 0, 0, 0, 0, 0, 2]  # oldest week first
    assert first.format_mix == {"IMAGE": 0.5, "VIDEO": 0.5}
    assert first.median_days_running == 5.5  # of 1, 1, 10 and 100 days
    # By ad-days: one ad of 10 days outweighs two of one day each.
    assert (first.top_angles, first.angles_from) == (["built to last", "lighter pack"], "copy analyses")
    assert (second.top_angles, second.angles_from) == (["Glow in a week."], "hooks")
    # Vocabularies {lighter, pack, fewer, blisters, heavy, gear} and {lighter, routine, heavy, creams,
    # breakouts}: 2 shared of 9 distinct words.
    assert comparison.persona_overlap["cairnpeak"]["dewveil"] == pytest.approx(2 / 9, abs=1e-3)
    page = Page(comparison.html)
    assert {a["data-chart"] for a in page.having("data-chart")} == COMPARISON_CHARTS
    assert [a["data-brand"] for a in page.having("data-brand")] == ["cairnpeak", "dewveil"]
    assert "Jaccard" in comparison.html
    assert "| Cairnpeak | 4 | 2 | 3 |" in comparison.markdown


def test_the_comparison_hash_follows_its_inputs() -> None:
    brands = [ComparisonBrand(brand_slug="cairnpeak", brand_name="Cairnpeak", ads=[ad("1", NOW - DAY)])]

    same = render_comparison(brands, "g", generated_at=NOW).inputs_hash
    assert render_comparison(list(brands), "g", generated_at=NOW).inputs_hash == same
    assert render_comparison(brands, "other", generated_at=NOW).inputs_hash != same
    assert render_comparison(brands, "g", generated_at=NOW + DAY).inputs_hash != same
