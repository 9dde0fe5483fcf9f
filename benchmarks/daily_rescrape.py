"""The daily re-scrape of 1,000 brands x 10 unchanged ads, batched versus one run per brand.

    .venv/bin/python -m benchmarks.daily_rescrape [--brands 1000] [--batch-size 100] [--sample 20]

Both sides go through the daily schedule's path: the real ``daily_scrape`` schedule is evaluated
against an on-disk Dagster instance, and each of its run requests is launched as its own process
(as the run launcher does: a fresh interpreter that loads the definitions and executes the run),
at most two at a time (the cores of the machine). The batched side is measured in full; the
one-run-per-brand side (batch size 1, the schedule before batching) is measured on ``--sample``
brands and extrapolated, which the output says. Wall and CPU (of every run process) are reported.

Then the blocking check ``ads_with_media_have_creatives`` on a brand with 20,000 failed-media ads.
Targets: the batched re-scrape of 1,000 brands in at most 3 minutes; the check under 0.1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import psycopg

from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline.store.postgres import open_postgres_store

ADS_PER_BRAND = 10
PARALLEL_RUNS = 2
TARGET_S = 180.0
CHECK_TARGET_S = 0.1


def write_exports(folder: Path, slugs: Sequence[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, slug in enumerate(slugs):
        items = [
            {"ad_archive_id": f"{n}-{i}", "start_date": 1767225600, "snapshot": {"body": {"text": f"{slug} ad {i}"}}}
            for i in range(ADS_PER_BRAND)
        ]
        (folder / f"{slug}.ndjson").write_text("\n".join(json.dumps(item) for item in items) + "\n")


def run_one(tags_json: str) -> None:
    """One run process: load the definitions, execute the scrape job with the request's tags."""
    import dagster as dg

    from brand_pipeline.definitions import defs

    request = json.loads(tags_json)
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("scrape_all_brands").execute_in_process(
            instance=instance, tags=request["tags"], partition_key=request["partition_key"], raise_on_error=False
        )
    sys.exit(0 if result.success else 1)


def schedule_requests(batch_size: int) -> list[dict]:
    """The daily schedule's run requests for tomorrow's tick, as the scheduler daemon gets them."""
    import dagster as dg

    from brand_pipeline.schedules import daily_scrape_schedule

    with dg.DagsterInstance.get() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 25, 5))
        requests = daily_scrape_schedule(batch_size)(context)
    return [{"tags": dict(r.tags), "partition_key": r.partition_key} for r in requests]


def launch(requests: Sequence[dict], env: dict[str, str]) -> tuple[float, float, int]:
    """Every request as its own process, PARALLEL_RUNS at a time: (wall s, CPU s, failed runs)."""
    command = [sys.executable, "-m", "benchmarks.daily_rescrape", "--run-one"]

    def one(request: dict) -> int:
        done = subprocess.run([*command, json.dumps(request)], env=env, capture_output=True, check=False)
        return done.returncode

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        codes = list(pool.map(one, requests))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, sum(code != 0 for code in codes)


def register(dsn: str, slugs: Sequence[str], env: dict[str, str]) -> None:
    import dagster as dg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO brands (slug, name) SELECT s, s FROM unnest(%s::text[]) s", [list(slugs)])
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("brands", list(slugs))


async def migrate(dsn: str) -> None:
    async with open_postgres_store(dsn):
        pass


def check_timing(dsn: str, repeat: int = 20) -> float:
    """Median time of the blocking check's two queries on 20,000 failed-media ads of one brand."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO brands (slug, name) VALUES ('check-brand', 'Check')")
        conn.execute(
            "INSERT INTO ads (ad_archive_id, snapshot) SELECT 'c-' || i, "
            """'{"images": [{"original_image_url": "https://cdn.example/x.jpg"}]}'::jsonb """
            "FROM generate_series(1, 20000) i"
        )
        conn.execute(
            "INSERT INTO brand_ads (brand_slug, ad_archive_id) SELECT 'check-brand', 'c-' || i "
            "FROM generate_series(1, 20000) i"
        )
        conn.execute(
            "INSERT INTO item_outcomes (brand_slug, asset, item_key, kind, ad_archive_id, slot, status, reason) "
            "SELECT 'check-brand', 'scraped_ads', 'media:c-' || i || ':images[0]', 'media', 'c-' || i, "
            "'images[0]', 'expired', 'URL expired' FROM generate_series(1, 20000) i"
        )
        conn.execute("ANALYZE")

    async def timed() -> float:
        from brand_pipeline.assets.scrape_checks import ads_with_media_have_creatives
        from brand_pipeline.resources.supabase import Storage
        from brand_pipeline.store.blobs import LocalBlobStore

        samples = []
        async with open_postgres_store(dsn) as store:
            storage = Storage(store=store, blobs=LocalBlobStore(Path(tempfile.gettempdir())))
            for _ in range(repeat):
                started = time.perf_counter()
                outcome = await ads_with_media_have_creatives(storage, "check-brand")
                samples.append(time.perf_counter() - started)
            assert outcome.passed, "every ad's missing media has its recorded reason"
        return statistics.median(samples)

    return asyncio.run(timed())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--run-one")
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args.run_one)
    with tempfile.TemporaryDirectory(prefix="daily-rescrape-") as tmp:
        return measure(Path(tmp), args.brands, args.batch_size, args.sample)


def measure(tmp: Path, brands: int, batch_size: int, sample: int) -> int:
    server = EmbeddedPostgres(tmp / "postgres", durable=False)
    dsn = server.ensure_running()
    try:
        asyncio.run(migrate(dsn))
        slugs = [f"brand-{n:04d}" for n in range(brands)]
        write_exports(tmp / "exports", slugs)
        (tmp / "dagster").mkdir()
        (tmp / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = os.environ | {
            "DAGSTER_HOME": str(tmp / "dagster"),
            "DATABASE_URL": dsn,
            "BRAND_PIPELINE_HOME": str(tmp / "home"),
            "BRAND_PIPELINE_SOURCE": "file",
            "BRAND_PIPELINE_EXPORT_DIR": str(tmp / "exports"),
            "BRAND_PIPELINE_SCRAPE_BATCH_SIZE": str(batch_size),
        }
        os.environ.update(env)
        register(dsn, slugs, env)
        batched = schedule_requests(batch_size)
        print(f"first scrape ({len(batched)} runs, untimed): every ad is new …", flush=True)
        launch(batched, env)
        wall, cpu, failed = launch(batched, env)
        print(f"batched: {brands} brands x {ADS_PER_BRAND} unchanged ads in {len(batched)} runs of up to "
              f"{batch_size}: wall {wall:.1f} s, CPU {cpu:.1f} s, failed runs {failed}")  # fmt: skip
        single = schedule_requests(1)[:sample]
        s_wall, s_cpu, s_failed = launch(single, env)
        scale = brands / len(single)
        print(f"one run per brand: measured {len(single)} brands as {len(single)} runs (wall {s_wall:.1f} s, "
              f"CPU {s_cpu:.1f} s, failed {s_failed}); EXTRAPOLATED to {brands}: "
              f"wall {s_wall * scale:.0f} s, CPU {s_cpu * scale:.0f} s")  # fmt: skip
        print(f"ratio (one run per brand / batched): wall {s_wall * scale / wall:.1f}x, CPU {s_cpu * scale / cpu:.1f}x")
        check_s = check_timing(dsn)
        print(
            f"blocking check at 20,000 failed-media ads: {check_s * 1000:.1f} ms (target < {CHECK_TARGET_S * 1000:.0f})"
        )
        ok = wall <= TARGET_S and not failed and check_s < CHECK_TARGET_S
        print(f"target (batched <= {TARGET_S:.0f} s, check < {CHECK_TARGET_S} s): {'met' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
