"""The brand report's charts, each a ``<figure data-chart=…>`` card: what it shows, and the SVG."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from brand_pipeline.report import metrics, svg
from brand_pipeline.report.metrics import TimedAd
from brand_pipeline.report.models import ReportAd
from brand_pipeline.report.page import empty, figure, html_legend

# Past this many ads, the timeline shows the longest-running ones (a row per ad stays readable).
MAX_TIMELINE_ADS = 200
MAX_WEEKS = 52
MAX_MONTHS = 24
# Format mix per week up to this span, per month beyond it.
WEEKLY_MIX_UP_TO = timedelta(weeks=16)


def _formats(ads: list[TimedAd]) -> list[str]:
    return list(metrics.format_shares(ads))


def ads_over_time(ads: list[TimedAd], now: datetime) -> str:
    dated = [t for t in ads if t.ad.start_date is not None]
    shown = sorted(dated, key=lambda t: (-t.days, t.ad.ad_archive_id))[:MAX_TIMELINE_ADS]
    shown.sort(key=lambda t: (t.ad.start_date, t.ad.ad_archive_id))
    formats = _formats(dated)
    bars = [
        svg.GanttBar(
            t.ad.start_date,
            t.ends(now),
            t.running,
            svg.colour_for(t.format, formats),
            f"ad {t.ad.ad_archive_id} · {t.format} · {t.ad.start_date:%d %b %Y} → "
            f"{'now' if t.running else f'{t.ends(now):%d %b %Y}'} · {t.days:.0f} days",
        )
        for t in shown
    ]
    caption = (
        "One bar per ad, from its start to its end, or to now while it runs (solid: running; pale: ended); "
        "oldest start on top."
    )
    if len(dated) > len(shown):
        caption += f" Showing the {len(shown)} longest-running of {len(dated):,} ads."
    legend = html_legend(formats, [svg.colour_for(f, formats) for f in formats])
    content = svg.gantt(bars, now, label="Ads running over time") if bars else empty("No dated ads yet.")
    return figure("ads-over-time", "Ads running over time", caption, content, legend)


def new_ads_per_week(ads: list[TimedAd], now: datetime) -> str:
    periods = metrics.weeks_spanning(ads, now, MAX_WEEKS)
    counts = metrics.launches(ads, periods)
    caption = f"Ads by the week they started; seven-day weeks ending {now:%d %b %Y}, labelled by their first day."
    earlier = sum(1 for t in ads if t.ad.start_date and t.ad.start_date <= periods[0].start)
    if earlier:
        caption += f" {earlier:,} ads started before the first week shown."
    content = svg.columns(
        [p.label for p in periods], counts, label="New ads per week", unit="new ads", x_title="week starting"
    )
    return figure("new-ads-per-week", "New ads per week", caption, content if ads else empty("No ads yet."))


def format_mix(ads: list[TimedAd], now: datetime) -> str:
    first = min((t.ad.start_date for t in ads if t.ad.start_date), default=now)
    if now - first <= WEEKLY_MIX_UP_TO:
        periods, unit = metrics.weeks(now, max(4, (now - first).days // 7 + 1)), "week"
    else:
        periods, unit = metrics.months(now, first, MAX_MONTHS), "month"
    stacks = metrics.running_by_format(ads, periods, now)
    caption = f"Ads running at some point in each {unit}, split by display format."
    content = svg.stacked_columns([p.label for p in periods], stacks, label="Format mix over time", unit="ads running")
    return figure("format-mix", "Format mix over time", caption, content if ads else empty("No ads yet."))


def days_running_histogram(ads: list[TimedAd]) -> str:
    bins = metrics.day_bins(ads)
    caption = "How many ads have run for how long (days, as of this report); long runs suggest what works."
    content = svg.columns(
        [label for label, _ in bins],
        [count for _, count in bins],
        label="Days running",
        unit="ads",
        x_title="days running",
    )
    return figure("days-running", "Distribution of days running", caption, content if ads else empty("No ads yet."))


_WHAT = {
    "hooks": "the first sentence of each ad's copy",
    "offers": "offers found in the copy: discounts, free shipping, codes, guarantees",
    "ctas": "the text on each ad's button",
}


def weighted_bars(chart: str, title: str, ads: list[TimedAd], values: Callable[[ReportAd], Iterable[str]]) -> str:
    tallies = metrics.weighted(ads, values)
    caption = (
        f"The top {title.lower()} ({_WHAT[chart]}) weighted by ad-days: each ad counts for the days it has "
        "run (at least one)."
    )
    items = [
        (t.value, t.weight_days, f"{t.weight_days:,.0f} ad-days · {t.ads:,} ad{'s' if t.ads != 1 else ''}")
        for t in tallies
    ]
    content = (
        svg.hbars(items, label=f"{title} by ad-days") if items else empty(f"No {title.lower()} found in the copy.")
    )
    return figure(chart, f"{title}, weighted by ad-days", caption, content)
