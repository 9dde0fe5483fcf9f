"""Analysis throughput against a Gemini-compatible local server with a set latency and quota.

    .venv/bin/python -m benchmarks.analysis_throughput [--creatives 300] [--unique 240] [--rpm 600]
                                                       [--latency 0.5] [--concurrency 8]

Measures, in one run and against the same server:
- ours: the real `analyse_creatives` (videos and images of one brand, run together as in one
  Dagster run) over PostgresStore + the real google-genai client;
- the limit: max(unique / RPM, unique x latency / concurrency), the best any client could do;
- the original system's approach: one call per ad's creative, in sequence, with its fixed sleeps
  (5 s after each video, 2 s after each image). It is measured on a few ads and scaled linearly
  to all of them, and the output says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import av
from google import genai
from google.genai import types
from PIL import Image

from benchmarks.common import options_parser
from brand_pipeline.analysis.creatives import analyse_creatives
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sources.scrape import scrape_brand
from brand_pipeline.store.embedded import EmbeddedPostgres

ORIGINAL_SLEEP_S = {"video": 5.0, "image": 2.0}  # the replaced system's fixed pauses


def make_export(folder: Path, creatives: int, unique: int) -> dict[str, int]:
    """One brand, `creatives` ad creatives over `unique` distinct files (a fifth of them videos)."""
    media = folder / "media"
    media.mkdir(parents=True)
    files = []
    for i in range(unique):
        colour = ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)
        if i % 5 == 0:
            path = media / f"v{i}.mp4"
            with av.open(str(path), "w") as out:
                stream = out.add_stream("libx264", rate=10)
                stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
                for _ in range(10):
                    frame = av.VideoFrame.from_image(Image.new("RGB", (64, 64), colour))
                    out.mux(stream.encode(frame))
                out.mux(stream.encode())
            files.append(("video", path))
        else:
            path = media / f"i{i}.png"
            Image.new("RGB", (64, 64), colour).save(path)
            files.append(("image", path))
    items = []
    for n in range(creatives):
        kind, path = files[n % unique]  # the first creatives-unique files are used twice
        slot = (
            {"videos": [{"video_hd_url": f"media/{path.name}"}]}
            if kind == "video"
            else {"images": [{"original_image_url": f"media/{path.name}"}]}
        )
        items.append({"ad_archive_id": str(10_000 + n), "snapshot": {"body": {"text": f"ad {n}"}, **slot}})
    (folder / "bench.ndjson").write_text("\n".join(json.dumps(item) for item in items) + "\n")
    references = [files[n % unique][0] for n in range(creatives)]
    return {"video": references.count("video"), "image": references.count("image")}


async def run_ours(supabase: SupabaseResource, library: AdLibraryResource, gemini: GeminiResource) -> float:
    async with supabase.open() as storage:
        brand = await storage.store.ensure_brand("bench")
        async with library.open(storage.blobs.staging_dir()) as lib:
            await scrape_brand(
                brand, source=lib.source, fetcher=lib.fetcher, store=storage.store, blobs=storage.blobs, run_id="bench"
            )
        started = time.perf_counter()
        async with gemini.open() as analyser:
            reports = await asyncio.gather(
                *(
                    analyse_creatives(
                        "bench", kind, store=storage.store, blobs=storage.blobs, analyser=analyser, run_id="bench"
                    )
                    for kind in ("video", "image")
                )
            )
        elapsed = time.perf_counter() - started
    failed = sum(r.failed for r in reports)
    if failed:
        raise SystemExit(f"{failed} analyses failed; the benchmark needs a clean run")
    return elapsed


async def run_original(base_url: str, api_key: str, sample: list[tuple[str, Path]]) -> dict[str, float]:
    """The replaced system's loop: one creative at a time, then a fixed sleep. Mean seconds per kind."""
    client = genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=base_url))
    durations: dict[str, list[float]] = {"video": [], "image": []}
    try:
        for kind, path in sample:
            started = time.perf_counter()
            part = types.Part.from_bytes(
                data=path.read_bytes(), mime_type="video/mp4" if kind == "video" else "image/png"
            )
            await client.aio.models.generate_content(
                model="gemini-3.8-flash",
                contents=[part, "Analyse this ad."],
                config=types.GenerateContentConfig(response_mime_type="application/json"),
            )
            await asyncio.sleep(ORIGINAL_SLEEP_S[kind])
            durations[kind].append(time.perf_counter() - started)
    finally:
        await client.aio.aclose()
        client.close()
    return {kind: sum(times) / len(times) for kind, times in durations.items()}


@contextlib.contextmanager
def gemini_server(api_key: str, latency: float, rpm: int) -> Iterator[str]:
    """The repository's Gemini-compatible server, in its own process so it does not share our GIL."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brand_pipeline_tests.fakes.gemini",
            "--api-key",
            api_key,
            "--latency",
            str(latency),
            "--rpm",
            str(rpm),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        yield server.stdout.readline().strip()
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def server_stats(base_url: str, api_key: str) -> dict:
    import httpx

    return httpx.get(f"{base_url}/__fake/stats", headers={"x-goog-api-key": api_key}).json()


def main() -> None:
    parser = options_parser(__doc__, creatives=300, unique=240, rpm=600, latency=0.5, concurrency=8)
    parser.add_argument("--original-sample", type=int, default=3, help="videos and images each, for the baseline")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = Path(tmp)
        references = make_export(root / "exports", args.creatives, args.unique)
        server = EmbeddedPostgres(root / "home", durable=False)
        dsn = server.ensure_running()
        try:
            with gemini_server("bench-key", args.latency, args.rpm) as base_url:
                supabase = SupabaseResource(database_url=dsn, home=str(root / "home"))
                library = AdLibraryResource(source="file", export_dir=str(root / "exports"), home=str(root / "home"))
                gemini = GeminiResource(
                    api_key="bench-key",
                    base_url=base_url,
                    requests_per_minute=args.rpm,
                    max_concurrency=args.concurrency,
                )
                ours = asyncio.run(run_ours(supabase, library, gemini))
                stats = server_stats(base_url, "bench-key")
                calls, rejected = stats["total_generate_calls"], stats["quota_rejections"]

                media = sorted((root / "exports" / "media").iterdir())
                sample = [("video", p) for p in media if p.suffix == ".mp4"][: args.original_sample]
                sample += [("image", p) for p in media if p.suffix == ".png"][: args.original_sample]
                measured = asyncio.run(run_original(base_url, "bench-key", sample))
        finally:
            server.stop()

    # Scaled linearly: every ad's creative costs what the measured ones of its kind cost.
    original = references["video"] * measured["video"] + references["image"] * measured["image"]
    limit = max(args.unique / args.rpm * 60, args.unique * args.latency / args.concurrency)

    print(
        f"creatives: {args.creatives} ({references['video']} video, {references['image']} image) over "
        f"{args.unique} unique files; server latency {args.latency} s, quota {args.rpm} requests/min, "
        f"concurrency {args.concurrency}"
    )
    print(f"ours:      {ours:8.1f} s   model calls {calls} (unique creatives {args.unique}), quota 429s {rejected}")
    print(
        f"limit:     {limit:8.1f} s   max(unique/RPM = {args.unique / args.rpm * 60:.1f} s, "
        f"unique x latency / concurrency = {args.unique * args.latency / args.concurrency:.1f} s)"
    )
    print(
        f"original:  {original:8.1f} s   one call per ad, sequential, sleeps 5 s/video 2 s/image: measured "
        f"{measured['video']:.2f} s per video and {measured['image']:.2f} s per image on {args.original_sample} "
        f"of each, scaled linearly to all {args.creatives}"
    )
    print(
        f"ratios:    ours / limit = {ours / limit:.2f} (target <= 1.10); original / ours = {original / ours:.1f}x "
        f"(target >= 20x); model calls / unique creatives = {calls / args.unique:.2f} (target 1.00)"
    )
    ok = ours <= 1.1 * limit and original / ours >= 20 and calls == args.unique
    print("targets:   " + ("met" if ok else "NOT met"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
