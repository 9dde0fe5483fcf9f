"""One brand's report: the brand at a glance, its ads over time, what it says, what lasts, and who
it is talking to. ``render_brand_report`` is pure: input in, one HTML file (as a string) out."""

from __future__ import annotations

from brand_pipeline.markdown import cell
from brand_pipeline.report import charts
from brand_pipeline.report.metrics import TimedAd, headline, timed
from brand_pipeline.report.models import BrandHeadline, BrandReport, BrandReportInput, ReportCreative
from brand_pipeline.report.page import PROXY_NOTE, days_text, empty, money, page, stat, thumb
from brand_pipeline.report.personas import persona_section
from brand_pipeline.report.svg import e
from brand_pipeline.report.thumbnails import ThumbnailCache

IDS_SHOWN = 4


class Thumbnails:
    """The report's view of creatives' thumbnails: made from the local files it was given."""

    def __init__(self, report: BrandReportInput, cache: ThumbnailCache) -> None:
        self.files = report.blob_files
        self.cache = cache

    def prepare(self, creatives: list[ReportCreative]) -> None:
        self.cache.prepare((c.sha256, c.kind, self.files[c.sha256]) for c in creatives if c.sha256 in self.files)

    def tile(self, creative: ReportCreative) -> str:
        path = self.files.get(creative.sha256)
        uri = self.cache.data_uri(creative.sha256, creative.kind, path) if path else None
        alt = f"{'Poster frame of video' if creative.kind == 'video' else 'Image'} {creative.sha256[:12]}"
        return thumb(uri, alt, "▶ Video" if creative.kind == "video" else None)


def render_brand_report(report: BrandReportInput, *, thumbnails: ThumbnailCache | None = None) -> BrandReport:
    """The brand's report as one self-contained HTML page, its headline numbers and their hash.

    ``thumbnails`` keeps thumbnails between reports (pass one with a folder to keep them on disk);
    without it they are made afresh from ``report.blob_files``.
    """
    now = report.generated_at
    ads = timed(report.ads, now)
    numbers = headline(ads, now, report.model_spend_usd)
    pictures = Thumbnails(report, thumbnails or ThumbnailCache())
    gallery_items = longest_running_creatives(ads, report.gallery_size)
    cited = {ad_id for persona in report.personas for ad_id in persona.evidence_ad_ids}
    pictures.prepare(
        [c for c, _ in gallery_items]
        + [t.ad.creatives[0] for t in ads if t.ad.ad_archive_id in cited and t.ad.creatives]
    )
    body = "".join(
        [
            f'<p class="note" data-section="proxy-note"><strong>No performance data.</strong> {e(PROXY_NOTE)}</p>',
            '<h2 id="at-a-glance">At a glance</h2>',
            glance(numbers),
            '<h2 id="activity">Activity</h2>',
            charts.ads_over_time(ads, now),
            charts.new_ads_per_week(ads, now),
            charts.format_mix(ads, now),
            charts.days_running_histogram(ads),
            '<h2 id="messaging">What the ads say</h2>',
            charts.weighted_bars("hooks", "Hooks", ads, lambda ad: [ad.hook or ""]),
            charts.weighted_bars("offers", "Offers", ads, lambda ad: [o.lower() for o in ad.offers]),
            charts.weighted_bars("ctas", "Calls to action", ads, lambda ad: [ad.cta or ""]),
            '<h2 id="longest-running">Longest-running creatives</h2>',
            gallery(gallery_items, pictures),
            '<h2 id="personas">Personas</h2>',
            persona_section(report, {t.ad.ad_archive_id: t for t in ads}, pictures.tile),
        ]
    )
    header = (
        '<p class="kicker">Paid social ads · brand report</p>'
        f"<h1>{e(report.brand_name)}</h1>"
        f'<p class="meta">{e(report.brand_slug)} · {len(ads):,} ads seen · generated {now:%d %B %Y, %H:%M %Z}</p>'
    )
    inputs_hash = report.inputs_hash()
    footer = f"Self-contained report; nothing is loaded from the network. Inputs <code>{inputs_hash[:16]}</code>."
    return BrandReport(
        html=page(f"{report.brand_name} — ads report", header, body, footer),
        headline=numbers,
        markdown=headline_markdown(report.brand_name, numbers),
        inputs_hash=inputs_hash,
    )


def glance(numbers: BrandHeadline) -> str:
    longest = f"ad {numbers.longest_running_ad_id}" if numbers.longest_running_ad_id else ""
    tiles = [
        stat("Ads seen", f"{numbers.ads_seen:,}"),
        stat("Active now", f"{numbers.active_now:,}"),
        stat(
            "Started, last 7 days", f"{numbers.started_last_7_days:,}", f"{numbers.started_last_30_days:,} in 30 days"
        ),
        stat(
            "Stopped, last 7 days", f"{numbers.stopped_last_7_days:,}", f"{numbers.stopped_last_30_days:,} in 30 days"
        ),
        stat("Median run", days_text(numbers.median_days_running)),
        stat("Longest run", days_text(numbers.longest_days_running), longest),
        stat("Model spend", money(numbers.model_spend_usd), "analysing this brand"),
    ]
    return f'<dl class="tiles" data-section="at-a-glance">{"".join(tiles)}</dl>'


def longest_running_creatives(ads: list[TimedAd], limit: int) -> list[tuple[ReportCreative, list[TimedAd]]]:
    """Creatives ranked by the longest run of any ad showing them, with those ads (longest first)."""
    shown_by: dict[str, tuple[ReportCreative, list[TimedAd]]] = {}
    for t in ads:
        for creative in t.ad.creatives:
            shown_by.setdefault(creative.sha256, (creative, []))[1].append(t)
    for _, showing in shown_by.values():
        showing.sort(key=lambda t: (-t.days, t.ad.ad_archive_id))
    ranked = sorted(shown_by.values(), key=lambda item: (-item[1][0].days, item[0].sha256))
    return ranked[:limit]


def gallery(items: list[tuple[ReportCreative, list[TimedAd]]], pictures: Thumbnails) -> str:
    tiles = []
    for creative, showing in items:
        best = showing[0]
        state = (
            '<span class="running">running</span>'
            if any(t.running for t in showing)
            else ('<span class="ended">ended</span>')
        )
        ids = [t.ad.ad_archive_id for t in showing]
        more = f" +{len(ids) - IDS_SHOWN} more" if len(ids) > IDS_SHOWN else ""
        hook = best.ad.hook or next((t.ad.hook for t in showing if t.ad.hook), None)
        tiles.append(
            f'<article class="creative" data-creative="{e(creative.sha256)}" data-kind="{e(creative.kind)}">'
            f"{pictures.tile(creative)}"
            f'<div class="body"><p class="days">{e(days_text(best.days))} · {state}</p>'
            f'<p class="hook">{e(hook or "(no hook: the ad has no copy)")}</p>'
            f'<p class="ids">{"ad" if len(ids) == 1 else "ads"} {e(", ".join(ids[:IDS_SHOWN]))}{e(more)}</p>'
            "</div></article>"
        )
    caption = (
        "Each creative once, ranked by the longest run of any ad that shows it; the ads listed are "
        "every ad that shows it, longest first."
    )
    content = f'<div class="gallery">{"".join(tiles)}</div>' if tiles else empty("No creatives stored yet.")
    return (
        f'<section class="chart-like" id="gallery" data-gallery="longest-running">'
        f'<p class="caption">{e(caption)}</p>{content}</section>'
    )


def headline_markdown(brand_name: str, numbers: BrandHeadline) -> str:
    rows = [
        ("ads seen", f"{numbers.ads_seen}"),
        ("active now", f"{numbers.active_now}"),
        ("started, last 7 / 30 days", f"{numbers.started_last_7_days} / {numbers.started_last_30_days}"),
        ("stopped, last 7 / 30 days", f"{numbers.stopped_last_7_days} / {numbers.stopped_last_30_days}"),
        ("median days running", days_text(numbers.median_days_running)),
        ("longest running", f"{days_text(numbers.longest_days_running)} (ad {numbers.longest_running_ad_id or '—'})"),
        ("model spend", money(numbers.model_spend_usd)),
    ]
    lines = [f"**{cell(brand_name)}** at a glance", "", "| measure | value |", "|---|---|"]
    return "\n".join(lines + [f"| {label} | {cell(value)} |" for label, value in rows])
