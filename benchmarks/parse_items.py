"""Parsing Apify Ad Library items into ``AdRecord``: 10,000 camelCase items of ~80 keys each.

    .venv/bin/python -m benchmarks.parse_items [--items 10000] [--repeat 5]

A scrape of a large brand returns thousands of items, all parsed on the event loop's thread, so
parsing must stay a small part of a run. Ours: ``parse_ad_item``. Baseline, measured in the same
run on the same items: the parser as it was before key conversion was memoised
(``brand_pipeline_tests/reference_ad_items.py``: the parts the speed-up rewrote, kept as they were;
the helpers it left alone are shared). Both must give equal records.
Targets: at least 5x faster than the baseline, and 10,000 items in at most 0.6 s of CPU time.
Time is the parsing thread's CPU time (wall time is printed too): parsing is single-threaded CPU
work, and on a shared machine wall time also counts the moments other processes held the core.
"""

from __future__ import annotations

import contextlib
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.common import options_parser
from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.sources.apify import PAGE_SIZE
from brand_pipeline_tests.reference_ad_items import reference_parse

MIN_SPEED_UP = 5.0
MAX_SECONDS_PER_10K = 0.6
# Most ads show one image or video; one in five is a carousel or dynamic creative (with cards).
_FORMATS = ("IMAGE",) * 9 + ("VIDEO",) * 7 + ("CAROUSEL",) * 2 + ("DCO",) * 2
_CTAS = (("SHOP_NOW", "Shop Now"), ("LEARN_MORE", "Learn More"), ("SIGN_UP", "Sign Up"), ("ORDER_NOW", "Order Now"))


def _cdn(rng: random.Random, kind: str) -> str:
    path = f"{rng.getrandbits(64):x}_{rng.getrandbits(32)}_n.{'mp4' if kind == 'video' else 'jpg'}"
    host = "video.xx.fbcdn.net" if kind == "video" else "scontent.xx.fbcdn.net"
    return f"https://{host}/v/t42.1790-2/{path}?_nc_cat=1&ccb=1-7&oh=00_{rng.getrandbits(64):x}&oe=6A1B2C3D"


def _image(rng: random.Random) -> dict[str, Any]:
    url = _cdn(rng, "image")
    return {"originalImageUrl": url, "resizedImageUrl": url, "watermarkedResizedImageUrl": None, "imageCrops": []}


def _video(rng: random.Random) -> dict[str, Any]:
    url = _cdn(rng, "video")
    return {
        "videoHdUrl": url,
        "videoSdUrl": url,
        "videoPreviewImageUrl": _cdn(rng, "image"),
        "watermarkedVideoHdUrl": None,
        "watermarkedVideoSdUrl": None,
    }


def _card(rng: random.Random, n: int, link: str) -> dict[str, Any]:
    cta_type, cta_text = rng.choice(_CTAS)
    video = rng.random() < 0.3
    url = _cdn(rng, "video" if video else "image")
    return {
        "title": f"Card {n}: roasted this week",
        "body": f"Single origin, batch {rng.randint(1, 999)}.",
        "caption": "example-coffee.com",
        "ctaText": cta_text,
        "ctaType": cta_type,
        "linkUrl": link,
        "linkDescription": None,
        "originalImageUrl": None if video else url,
        "resizedImageUrl": None if video else url,
        "watermarkedResizedImageUrl": None,
        "videoHdUrl": url if video else None,
        "videoSdUrl": url if video else None,
        "videoPreviewImageUrl": _cdn(rng, "image") if video else None,
    }


def _snapshot(rng: random.Random, n: int, fmt: str) -> dict[str, Any]:
    cta_type, cta_text = rng.choice(_CTAS)
    link = f"https://example-coffee.com/p/{n}?utm_source=facebook&utm_content={n}"
    multi = fmt in ("CAROUSEL", "DCO")
    return {
        "pageId": "104857600123",
        "pageName": "Example Coffee",
        "pageProfileUri": "https://www.facebook.com/examplecoffee/",
        "pageProfilePictureUrl": _cdn(rng, "image"),
        "pageLikeCount": rng.randint(1_000, 2_000_000),
        "pageCategories": ["Coffee shop"],
        "pageEntityType": "PERSON_PROFILE",
        "pageIsDeleted": False,
        "currentPageName": "Example Coffee",
        "adCreativeId": str(rng.getrandbits(50)),
        "body": {"text": f"Tired of bitter coffee? Batch {n} ships within 48 hours of roasting. ☕"},
        "title": "Fresh beans, every week",
        "caption": "example-coffee.com",
        "ctaText": cta_text,
        "ctaType": cta_type,
        "linkUrl": link,
        "linkDescription": "Free shipping over $50",
        "displayFormat": fmt,
        "images": [] if multi or fmt == "VIDEO" else [_image(rng)],
        "videos": [_video(rng)] if fmt == "VIDEO" else [],
        "cards": [_card(rng, k, link) for k in range(rng.randint(2, 3))] if multi else [],
        "extraImages": [_image(rng)] if fmt == "IMAGE" and rng.random() < 0.2 else [],
        "extraVideos": [],
        "extraLinks": [],
        "extraTexts": [],
        "byline": None,
        "disclaimerLabel": None,
        "isReshared": False,
        "rootReshareCreativeId": None,
        "brandedContent": None,
        "effectiveAuthorizationCategory": "NONE",
        "dynamicVersions": None,
    }


def apify_item(rng: random.Random, n: int) -> dict[str, Any]:
    """One item as the Apify Facebook Ad Library actor returns it (camelCase, ~80 keys in all)."""
    start = 1_767_225_600 + rng.randint(0, 150) * 86_400
    active = rng.random() < 0.6
    return {
        "adArchiveID": f"{1_200_000_000_000_000 + n}",
        "adid": None,
        "archiveTypes": [],
        "categories": ["UNKNOWN"],
        "collationCount": rng.randint(1, 12),
        "collationID": f"{9_900_000_000_000 + n // 3}",
        "containsDigitalCreatedMedia": False,
        "containsSensitiveContent": False,
        "currency": "",
        "endDate": None if active else start + rng.randint(1, 60) * 86_400,
        "entityType": "PERSON_PROFILE",
        "gatedType": "ELIGIBLE",
        "hasUserReported": False,
        "hiddenSafetyData": False,
        "hideDataStatus": "NONE",
        "impressionsWithIndex": {"impressionsText": None, "impressionsIndex": -1},
        "isAAAEligible": True,
        "isActive": active,
        "menuItems": [],
        "pageID": "104857600123",
        "pageIsDeleted": False,
        "pageName": "Example Coffee",
        "politicalCountries": [],
        "publisherPlatform": rng.sample(["FACEBOOK", "INSTAGRAM", "AUDIENCE_NETWORK", "MESSENGER"], 2),
        "reachEstimate": None,
        "regionalRegulationData": {
            "finserv": {"isDeemedFinserv": False, "isLimitedDeliveryToResidents": False},
            "twAntiScam": {"isLimitedDeliveryToResidents": False},
        },
        "reportCount": None,
        "snapshot": _snapshot(rng, n, _FORMATS[n % len(_FORMATS)]),
        "spend": None,
        "startDate": start,
        "stateMediaRunLabel": None,
        "targetedOrReachedCountries": [],
        "totalActiveTime": None if active else rng.randint(86_400, 5_000_000),
        "url": f"https://www.facebook.com/ads/library/?id={1_200_000_000_000_000 + n}",
    }


def count_keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(count_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_keys(v) for v in value)
    return 0


def apify_items(count: int) -> list[dict[str, Any]]:
    """The same ``count`` items on every call (a fixed seed)."""
    rng = random.Random(20260602)
    return [apify_item(rng, n) for n in range(count)]


def apify_pages(count: int) -> Iterator[list[dict[str, Any]]]:
    """The same items as ``apify_items``, a page at a time as the Apify source reads them."""
    rng = random.Random(20260602)
    for start in range(0, count, PAGE_SIZE):
        yield [apify_item(rng, n) for n in range(start, min(start + PAGE_SIZE, count))]


@dataclass(frozen=True)
class Timing:
    cpu_s: float  # CPU time of the parsing thread: what parsing costs, whatever else runs on the machine
    wall_s: float
    gc_s: float  # CPU time of it spent in the garbage collector, which runs on that thread too


def timed(repeat: int, count: int, parse: Callable[[Any], AdRecord]) -> Timing:
    """Medians over ``repeat`` rounds of parsing ``count`` items.

    As in a scrape: items arrive a page at a time (building a page is not timed) and are dropped
    after it, the records are kept, and the garbage collector stays on. Each round starts from a
    collected heap, so one round's leftovers do not slow the next.
    """
    cpu, wall, collecting = [], [], []
    for _ in range(repeat):
        gc.collect()
        records: list[AdRecord] = []
        round_cpu = round_wall = round_gc = 0.0
        for page in apify_pages(count):
            with _gc_time() as gc_seconds:
                started, started_cpu = time.perf_counter(), time.thread_time()
                records += [parse(item) for item in page]
                round_cpu += time.thread_time() - started_cpu
                round_wall += time.perf_counter() - started
            round_gc += gc_seconds[0]
        cpu.append(round_cpu)
        wall.append(round_wall)
        collecting.append(round_gc)
        del records
    return Timing(statistics.median(cpu), statistics.median(wall), statistics.median(collecting))


@contextlib.contextmanager
def _gc_time() -> Iterator[list[float]]:
    spent, started = [0.0], [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            spent[0] += time.thread_time() - started[0]

    gc.callbacks.append(note)
    try:
        yield spent
    finally:
        gc.callbacks.remove(note)


def main() -> None:
    parser = options_parser(__doc__, items=10_000, repeat=5)
    args = parser.parse_args()
    keys = statistics.mean(count_keys(item) for item in apify_items(args.items))
    baseline = timed(max(1, args.repeat // 2), args.items, reference_parse)
    ours = timed(args.repeat, args.items, parse_ad_item)
    same = all(
        [parse_ad_item(item) for item in page] == [reference_parse(item) for item in page]
        for page in apify_pages(args.items)
    )
    per_10k = ours.cpu_s * 10_000 / args.items
    speed_up = baseline.cpu_s / ours.cpu_s
    print(
        f"items: {args.items} camelCase Apify items, {keys:.0f} keys each on average; "
        f"medians of {args.repeat} rounds (baseline: {max(1, args.repeat // 2)})"
    )
    for name, timing in (("ours, parse_ad_item", ours), ("baseline, the unmemoised parser", baseline)):
        print(
            f"{name + ':':33s} {timing.cpu_s:6.3f} s CPU ({timing.gc_s:.3f} s of it garbage collection), "
            f"{timing.wall_s:6.3f} s wall"
        )
    print(f"ours per 10,000 items: {per_10k:.3f} s CPU")
    print(
        f"ratio: baseline / ours = {speed_up:.1f}x CPU, {baseline.wall_s / ours.wall_s:.1f}x wall; "
        f"records identical: {same}"
    )
    ok = same and speed_up >= MIN_SPEED_UP and per_10k <= MAX_SECONDS_PER_10K
    print(
        f"targets (>= {MIN_SPEED_UP:g}x, <= {MAX_SECONDS_PER_10K} s per 10,000, same records): "
        + ("met" if ok else "NOT met")
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
