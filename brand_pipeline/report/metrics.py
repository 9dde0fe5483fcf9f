"""The numbers a report shows, computed from its input: headline counts, periods, tallies, bins.

"In the last 7 days" is the closed window [now - 7 days, now]: an ad that started exactly 7 days
before the report counts. An ad stopped when it is no longer running and its end date falls in
the window. Weights are ad-days, as in the persona evidence: an ad counts for the days it has run
(at least one), because advertisers keep paying for what works.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from brand_pipeline.report.models import BrandHeadline, ReportAd

UNKNOWN_FORMAT = "UNKNOWN"
# Ranges of days running a marketer reads at a glance: a week, a fortnight, a month, a quarter …
DAY_BINS: tuple[tuple[float, float | None, str], ...] = (
    (0, 7, "< 7"),
    (7, 14, "7–13"),
    (14, 30, "14–29"),
    (30, 60, "30–59"),
    (60, 90, "60–89"),
    (90, 180, "90–179"),
    (180, 365, "180–364"),
    (365, None, "365+"),
)


class TimedAd(NamedTuple):
    """An ad with its longevity as of the report's ``now``, computed once."""

    ad: ReportAd
    days: float
    running: bool

    @property
    def weight(self) -> float:
        return max(self.days, 1.0)

    @property
    def format(self) -> str:
        return self.ad.display_format or UNKNOWN_FORMAT

    def ends(self, now: datetime) -> datetime:
        """Where its bar ends: now while it runs, else its end date (or start, if none)."""
        if self.running or self.ad.end_date is None:
            return now
        return min(self.ad.end_date, now)


class Period(NamedTuple):
    label: str
    start: datetime  # exclusive
    end: datetime  # inclusive


class Tally(NamedTuple):
    value: str
    weight_days: float
    ads: int


def timed(ads: Iterable[ReportAd], now: datetime) -> list[TimedAd]:
    return [TimedAd(ad, ad.days_running(now), ad.running_at(now)) for ad in ads]


def headline(ads: list[TimedAd], now: datetime, model_spend_usd: float) -> BrandHeadline:
    def started(days: int) -> int:
        return sum(1 for t in ads if t.ad.start_date and now - timedelta(days=days) <= t.ad.start_date <= now)

    def stopped(days: int) -> int:
        return sum(
            1 for t in ads if not t.running and t.ad.end_date and now - timedelta(days=days) <= t.ad.end_date <= now
        )

    dated = [t for t in ads if t.ad.start_date is not None]
    longest = min(dated, key=lambda t: (-t.days, t.ad.ad_archive_id)) if dated else None
    return BrandHeadline(
        ads_seen=len(ads),
        active_now=sum(1 for t in ads if t.running),
        started_last_7_days=started(7),
        started_last_30_days=started(30),
        stopped_last_7_days=stopped(7),
        stopped_last_30_days=stopped(30),
        median_days_running=round(statistics.median(t.days for t in dated), 1) if dated else None,
        longest_days_running=round(longest.days, 1) if longest else None,
        longest_running_ad_id=longest.ad.ad_archive_id if longest else None,
        model_spend_usd=round(model_spend_usd, 4),
    )


def weeks(now: datetime, count: int) -> list[Period]:
    """``count`` seven-day periods, oldest first, the last one ending at ``now``."""
    periods = []
    for back in range(count - 1, -1, -1):
        end = now - timedelta(days=7 * back)
        start = end - timedelta(days=7)
        periods.append(Period(f"{(start + timedelta(days=1)):%d %b}", start, end))
    return periods


def months(now: datetime, first: datetime, limit: int) -> list[Period]:
    """Calendar months from ``first``'s to ``now``'s, oldest first (at most ``limit``, the latest)."""
    starts = []
    cursor = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor <= now:
        starts.append(cursor)
        cursor = _next_month(cursor)
    tick = timedelta(microseconds=1)  # a period's start is exclusive, its end inclusive
    return [Period(f"{s:%b %y}", s - tick, min(_next_month(s) - tick, now)) for s in starts[-limit:]]


def _next_month(day_one: datetime) -> datetime:
    return (day_one + timedelta(days=32)).replace(day=1)


def weeks_spanning(ads: list[TimedAd], now: datetime, limit: int) -> list[Period]:
    """Weeks back to the first start (at least 8, at most ``limit``)."""
    first = min((t.ad.start_date for t in ads if t.ad.start_date), default=now)
    return weeks(now, max(8, min(limit, (now - first).days // 7 + 1)))


def launches(ads: list[TimedAd], periods: list[Period]) -> list[int]:
    """Ads that started in each period."""
    counts = [0] * len(periods)
    for t in ads:
        start = t.ad.start_date
        if start is None:
            continue
        for i, period in enumerate(periods):
            if period.start < start <= period.end:
                counts[i] += 1
                break
    return counts


def running_by_format(ads: list[TimedAd], periods: list[Period], now: datetime) -> list[dict[str, int]]:
    """Per period, ads running at some point in it, by display format."""
    mix: list[dict[str, int]] = [defaultdict(int) for _ in periods]
    for t in ads:
        if t.ad.start_date is None:
            continue
        begins, ends = t.ad.start_date, t.ends(now)
        for i, period in enumerate(periods):
            if begins <= period.end and ends > period.start:
                mix[i][t.format] += 1
    return [dict(m) for m in mix]


def day_bins(ads: list[TimedAd]) -> list[tuple[str, int]]:
    counts = [0] * len(DAY_BINS)
    for t in ads:
        for i, (low, high, _) in enumerate(DAY_BINS):
            if t.days >= low and (high is None or t.days < high):
                counts[i] += 1
                break
    return [(label, count) for (_, _, label), count in zip(DAY_BINS, counts, strict=True)]


def weighted(ads: list[TimedAd], values: Callable[[ReportAd], Iterable[str]], top: int = 8) -> list[Tally]:
    """The ``top`` values by ad-days, with how many ads carry each."""
    weights: dict[str, float] = defaultdict(float)
    carriers: dict[str, set[str]] = defaultdict(set)
    for t in ads:
        for value in dict.fromkeys(v.strip() for v in values(t.ad) if v and v.strip()):
            weights[value] += t.weight
            carriers[value].add(t.ad.ad_archive_id)
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [Tally(value, round(weight, 1), len(carriers[value])) for value, weight in ranked]


def format_shares(ads: list[TimedAd]) -> dict[str, float]:
    counts: dict[str, int] = defaultdict(int)
    for t in ads:
        counts[t.format] += 1
    return {fmt: counts[fmt] / len(ads) for fmt in sorted(counts, key=lambda f: (-counts[f], f))} if ads else {}
