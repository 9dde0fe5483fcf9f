"""new_ads_sensor's query on a large store: 500 brands x 200 ads (100,000 brand-ad rows).

    .venv/bin/python -m benchmarks.sensor_query [--brands 500] [--ads-per-brand 200] [--repeat 20]

A sensor evaluation must finish well inside Dagster's 60 s limit however large the store grows.
The sensor asks for ads stored after its cursor, grouped by brand, through an index on
`brand_ads.stored_seq`. Baseline, measured in the same run on the same data: the same question
answered by scanning every row (what a query without that index, or a per-brand loop, costs).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from benchmarks.common import median_seconds, options_parser
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline.store.postgres import open_postgres_store

SCAN = """
SELECT ba.brand_slug, max(ba.stored_seq), count(*) FROM brand_ads ba
JOIN brands b ON b.slug = ba.brand_slug AND b.archived_at IS NULL
WHERE ba.stored_seq + 0 > %s GROUP BY ba.brand_slug
"""  # "+ 0" hides the column from the index: the planner must scan


def seed(dsn: str, brands: int, ads_per_brand: int) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO brands (slug, name) SELECT 'brand-' || b, 'Brand ' || b FROM generate_series(1, %s) b",
            [brands],
        )
        conn.execute(
            "INSERT INTO ads (ad_archive_id, snapshot) SELECT b || '-' || a, '{}'::jsonb "
            "FROM generate_series(1, %s) b, generate_series(1, %s) a",
            [brands, ads_per_brand],
        )
        conn.execute(
            "INSERT INTO brand_ads (brand_slug, ad_archive_id) SELECT 'brand-' || b, b || '-' || a "
            "FROM generate_series(1, %s) a, generate_series(1, %s) b ORDER BY a, b",
            [ads_per_brand, brands],
        )
        conn.execute("ANALYZE")
        return conn.execute("SELECT max(stored_seq) FROM brand_ads").fetchone()[0]


def main() -> None:
    args = options_parser(__doc__, brands=500, ads_per_brand=200, repeat=20).parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp), durable=False)
        dsn = server.ensure_running()
        try:

            async def migrate() -> None:
                async with open_postgres_store(dsn):
                    pass

            asyncio.run(migrate())
            newest = seed(dsn, args.brands, args.ads_per_brand)
            cursor = newest - 50  # a tick after a scrape stored 50 new ads

            async def sensor_query() -> int:
                async with open_postgres_store(dsn) as store:
                    return len(await store.new_ads_since(cursor))

            tick = median_seconds(args.repeat, lambda: asyncio.run(sensor_query()))

            async def query_only() -> float:
                async with open_postgres_store(dsn) as store:
                    samples = []
                    for _ in range(args.repeat):
                        started = time.perf_counter()
                        await store.new_ads_since(cursor)
                        samples.append(time.perf_counter() - started)
                    return statistics.median(samples)

            ours = asyncio.run(query_only())
            with psycopg.connect(dsn) as conn:
                scan = median_seconds(args.repeat, lambda: conn.execute(SCAN, [cursor]).fetchall())
                plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + SCAN.replace("+ 0", ""), [cursor]))
            brands_found = asyncio.run(sensor_query())
        finally:
            server.stop()
    rows = args.brands * args.ads_per_brand
    print(f"store: {args.brands} brands x {args.ads_per_brand} ads = {rows} brand-ad rows; cursor 50 rows from the end")
    print(
        f"sensor query, new_ads_since:                 {ours * 1000:8.2f} ms median of {args.repeat} "
        f"({brands_found} brands with new ads)"
    )
    print(f"baseline, same question by a full scan:       {scan * 1000:8.2f} ms")
    print(f"whole sensor tick (open store, query, close): {tick * 1000:8.2f} ms")
    print(f"ratio: baseline / ours = {scan / ours:.1f}x; index used: {'Index' in plan}")
    ok = tick < 1.0 and "Index" in plan
    print("targets: " + ("met (well under the 60 s sensor limit, index used)" if ok else "NOT met"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
