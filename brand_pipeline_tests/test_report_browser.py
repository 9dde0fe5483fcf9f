"""A brand report and a comparison opened in a real browser (Debian's chromium): nothing is
requested beyond the file itself, every chart and the gallery are visible, every thumbnail
decodes, and full-page screenshots are left for review in the artifacts folder."""

from __future__ import annotations

import os
from pathlib import Path

from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.report import render_brand_report, render_comparison
from brand_pipeline_tests.report_inputs import NOW, comparison_brand, sha256_of, synthetic_brand
from brand_pipeline_tests.test_report_render import BRAND_CHARTS, COMPARISON_CHARTS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
LOCAL_SCHEMES = ("file:", "data:", "about:")


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("BRAND_PIPELINE_ARTIFACTS") or ROOT / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sample_creatives(sample_dir: Path, slug: str) -> dict[str, tuple[CreativeKind, Path]]:
    """The sample brand's decodable media files (the sample also ships broken ones on purpose)."""
    paths = sorted((sample_dir / "media").glob(f"{slug}-*"))
    usable = [p for p in paths if not p.stem.endswith(("expired", "truncated"))]
    return {sha256_of(p): ("video" if p.suffix == ".mp4" else "image", p) for p in usable}


def test_reports_open_offline_with_every_chart_and_the_gallery_visible(
    sample_dir: Path, chromium: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    peak = synthetic_brand("cairnpeak", sample_creatives(sample_dir, "cairnpeak"), 160)
    veil = synthetic_brand("dewveil", sample_creatives(sample_dir, "dewveil"), 90, seed=2)
    report = tmp_path / "cairnpeak.html"
    report.write_text(render_brand_report(peak).html)
    comparison = tmp_path / "comparison.html"
    brands = [comparison_brand(peak), comparison_brand(veil)]
    comparison.write_text(render_comparison(brands, "outdoor and beauty", generated_at=NOW).html)
    shots = artifacts_dir()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            for path, charts, shot in (
                (report, BRAND_CHARTS, "report_brand.png"),
                (comparison, COMPARISON_CHARTS, "report_comparison.png"),
            ):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                requested: list[str] = []
                refused: list[str] = []  # what the page's CSP blocked: never even requested
                page.on("request", lambda request, seen=requested: seen.append(request.url))
                page.on("console", lambda message, seen=refused: seen.append(message.text))
                page.goto(path.as_uri())

                for chart in charts:
                    expect(page.locator(f'[data-chart="{chart}"]')).to_be_visible()
                if path == report:
                    expect(page.locator('[data-gallery="longest-running"]')).to_be_visible()
                    expect(page.locator("[data-gallery] img").first).to_be_visible()
                    assert page.locator("[data-gallery] article[data-kind=video] img").count() > 0
                    assert page.locator("[data-persona]").count() == 3
                decoded = "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
                assert page.evaluate(decoded), "every thumbnail decodes"
                page.screenshot(path=shots / shot, full_page=True)

                assert requested[0] == path.as_uri()  # the handler sees requests
                assert [url for url in requested if not url.startswith(LOCAL_SCHEMES)] == []
                assert refused == [], f"the page tried something its policy refused: {refused}"
                page.close()
        finally:
            browser.close()

    for shot in ("report_brand.png", "report_comparison.png"):
        assert (shots / shot).stat().st_size > 50_000, shot
