"""Rendering a large brand's report: 2,000 ads, ~100 thumbnails from real-size creatives.

    .venv/bin/python -m benchmarks.report_render [--ads 2000] [--images 80] [--videos 20] [--repeat 5]

Target: a report renders in under a second once its thumbnails exist (the usual case: a brand is
re-rendered after each scrape, and thumbnails are kept on disk by sha256). Baseline, measured in
the same run on the same input: the same report with every thumbnail made again from the blobs
(decoding 1080 px JPEGs and the first half second of each video).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from benchmarks.common import median_seconds, options_parser
from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.report import BrandReportInput, ThumbnailCache, render_brand_report
from brand_pipeline_tests.report_inputs import encode_mp4, sha256_of, synthetic_brand

TARGET_S = 1.0


def creatives(folder: Path, images: int, videos: int) -> dict[str, tuple[CreativeKind, Path]]:
    """Real-size creatives: 1080 x 1080 JPEG images and 2 s, 360 x 640 H.264 videos."""
    files: dict[str, tuple[CreativeKind, Path]] = {}
    for i in range(images):
        picture = Image.new("RGB", (1080, 1080), (40 + i * 2 % 200, 90, 160 - i % 120))
        draw = ImageDraw.Draw(picture)
        draw.ellipse((200 + i % 300, 200, 880, 880 - i % 200), fill=(240, 140, 60))
        draw.rectangle((120, 860, 960, 1000), fill=(20, 40, 30))
        path = folder / f"image-{i}.jpg"
        picture.save(path, "JPEG", quality=85)
        files[sha256_of(path)] = ("image", path)
    for i in range(videos):
        path = encode_mp4(folder / f"video-{i}.mp4", (30 + i * 9, 60, 200 - i * 5), size=(360, 640), frames=48)
        files[sha256_of(path)] = ("video", path)
    return files


def main() -> None:
    args = options_parser(__doc__, ads=2000, images=80, videos=20, repeat=5).parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        folder = Path(tmp)
        (folder / "blobs").mkdir()
        files = creatives(folder / "blobs", args.images, args.videos)
        report: BrandReportInput = synthetic_brand("benchmark-brand", files, args.ads).model_copy(
            update={"gallery_size": 80}
        )
        kept = folder / "thumbnails"
        first = render_brand_report(report, thumbnails=ThumbnailCache(kept))  # makes and keeps them on disk
        thumbnails = len(re.findall(r'src="data:image/jpeg', first.html))
        cold = median_seconds(args.repeat, lambda: render_brand_report(report, thumbnails=ThumbnailCache()))
        disk = median_seconds(args.repeat, lambda: render_brand_report(report, thumbnails=ThumbnailCache(kept)))
        memory_cache = ThumbnailCache(kept)
        memory = median_seconds(args.repeat, lambda: render_brand_report(report, thumbnails=memory_cache))
        hashing = median_seconds(args.repeat, report.inputs_hash)
    print(
        f"brand: {args.ads} ads, {len(files)} creatives ({args.images} images 1080 px, {args.videos} videos); "
        f"page: {thumbnails} thumbnails, {len(first.html) / 1e6:.1f} MB"
    )
    print(f"baseline, every thumbnail made again:   {cold * 1000:8.1f} ms median of {args.repeat}")
    print(f"thumbnails kept on disk (a new run):    {disk * 1000:8.1f} ms")
    print(f"thumbnails in memory (same process):    {memory * 1000:8.1f} ms")
    print(f"inputs hash alone (to skip a render):   {hashing * 1000:8.1f} ms")
    print(f"ratio: baseline / kept on disk = {cold / disk:.1f}x")
    ok = disk < TARGET_S and thumbnails > 0  # a page without previews renders fast for the wrong reason
    verdict = "met" if ok else "NOT met"
    print(f"target (< {TARGET_S:g} s with thumbnails kept): {verdict}; without kept thumbnails: {cold:.2f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
