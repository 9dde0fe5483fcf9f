"""Builders of report inputs for the report tests and the render benchmark: real small media files
(a PNG drawn with Pillow, an mp4 encoded with PyAV) and a deterministic synthetic brand."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.domain.personas import Persona
from brand_pipeline.report.models import BrandReportInput, ComparisonBrand, ReportAd, ReportCreative

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def draw_png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> Path:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill="white")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")
    return path


def encode_mp4(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48), frames: int = 12) -> Path:
    """A short H.264 mp4: flat ``colour`` with a white square sliding across."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", size, colour)
            x = i * (size[0] - 16) // max(frames - 1, 1)
            ImageDraw.Draw(image).rectangle((x, 16, x + 16, 32), fill="white")
            frame = av.VideoFrame.from_image(image)
            frame.pts, frame.time_base = i, Fraction(1, 12)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def creative_of(kind: CreativeKind, path: Path, slot: str = "0") -> ReportCreative:
    sha = sha256_of(path)
    return ReportCreative(slot=slot, kind=kind, sha256=sha, blob_path=f"{sha[:2]}/{sha}{path.suffix}")


def ad(ad_id: str, start: datetime | None, end: datetime | None = None, **fields: object) -> ReportAd:
    return ReportAd(ad_archive_id=ad_id, start_date=start, end_date=end, **fields)


HOOKS = [
    "Your pack shouldn't hurt more than the climb.",
    "We tested 40 rain shells so you don't have to.",
    "The last trail shoe you'll buy this decade?",
    "3 reasons thru-hikers switched to merino.",
    "Cold mornings hit different with the right layer.",
    "Stop carrying water you don't need.",
    "Built in a garage, tested on the Pacific Crest Trail.",
    "What 2,000 miles did to our boots (and yours).",
]
OFFERS = ["20% off", "free shipping", "free returns", "buy 2, get 1 free", "code TRAIL15", "30-day guarantee"]
CTAS = ["Shop Now", "Learn More", "Get Offer", "Sign Up"]
ANGLES = ["comfort on long days", "tested by experts", "buy once, buy well", "lighter pack", "weatherproof"]
FORMATS = ["VIDEO", "IMAGE", "IMAGE", "CAROUSEL", "DCO", "VIDEO"]


def synthetic_ads(media: list[ReportCreative], count: int, now: datetime = NOW, seed: int = 1) -> list[ReportAd]:
    """``count`` ads over the 14 months before ``now``: launches speed up lately, a third still run."""
    rng = random.Random(seed)
    ads = []
    for i in range(count):
        start = now - timedelta(days=420 * rng.random() ** 1.6, hours=rng.randrange(24))
        end = start + timedelta(days=rng.choice([3, 9, 20, 45, 80, 150, 300]))
        running = rng.random() < 0.35 or end >= now
        end = None if running else end
        ads.append(
            ReportAd(
                ad_archive_id=f"{9_900_000_000 + i}",
                display_format=rng.choice(FORMATS),
                is_active=running,
                start_date=start,
                end_date=end,
                first_seen_at=max(start, now - timedelta(days=200)),
                last_seen_at=now if running else end,
                hook=rng.choice(HOOKS),
                offers=rng.sample(OFFERS, k=rng.choice([0, 0, 1, 2])),
                cta=rng.choice(CTAS),
                angle=rng.choice(ANGLES),
                creatives=[media[(i * 7 + k) % len(media)] for k in range(rng.choice([1, 1, 2]))] if media else [],
            )
        )
    return ads


PERSONA_SKETCHES = [
    ("Weekend Summiter", "30-44, urban professional", ["lighter pack", "gear that lasts"], ["sore shoulders"]),
    ("Thru-Hiker Tess", "25-34, long-distance hiker", ["fewer resupplies", "lighter pack"], ["blisters", "wet gear"]),
    ("Gift-Giving Gary", "45-60, buys for family", ["easy returns", "trusted brands"], ["picking sizes"]),
    ("Glow-Up Gemma", "22-30, skincare hobbyist", ["clear skin", "simple routine"], ["breakouts", "wasted money"]),
    ("Busy Parent Pat", "35-45, two kids", ["simple routine", "time for myself"], ["no time", "wasted money"]),
]


def synthetic_personas(ads: list[ReportAd], seed: int = 1) -> list[Persona]:
    """Three personas (which three depends on ``seed``), each citing five of the oldest ads."""
    oldest = sorted(ads, key=lambda a: (a.start_date or NOW, a.ad_archive_id))
    sketches = [PERSONA_SKETCHES[(seed - 1 + i) % len(PERSONA_SKETCHES)] for i in range(3)]
    return [
        Persona(
            id=i + 1,
            name=name,
            profile={
                "snapshot": f"{name} wants results without having to think about the product every day.",
                "demographics": {"age_range": who.split(",")[0], "occupation": who.split(", ")[1]},
                "desires": desires,
                "pain_points": pains,
                "buying_objections": ["price", "fit online"],
            },
            evidence_ad_ids=[a.ad_archive_id for a in oldest[i * 4 : i * 4 + 5]],
        )
        for i, (name, who, desires, pains) in enumerate(sketches)
    ]


def synthetic_brand(
    slug: str, files: dict[str, tuple[CreativeKind, Path]], count: int, *, now: datetime = NOW, seed: int = 1
) -> BrandReportInput:
    """A brand of ``count`` ads showing the creatives in ``files`` (sha256 → kind and path), with personas."""
    media = [
        ReportCreative(slot="0", kind=kind, sha256=sha, blob_path=f"{sha[:2]}/{sha}{path.suffix}")
        for sha, (kind, path) in sorted(files.items())
    ]
    ads = synthetic_ads(media, count, now, seed)
    return BrandReportInput(
        brand_slug=slug,
        brand_name=slug.replace("-", " ").title(),
        generated_at=now,
        ads=ads,
        personas=synthetic_personas(ads, seed),
        persona_status="done",
        model_spend_usd=1.2345,
        blob_files={sha: path for sha, (_, path) in files.items()},
    )


def comparison_brand(report: BrandReportInput) -> ComparisonBrand:
    return ComparisonBrand(
        brand_slug=report.brand_slug, brand_name=report.brand_name, ads=report.ads, personas=report.personas
    )
