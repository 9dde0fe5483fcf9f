"""Bulk writes and paged reads of both stores, against row-at-a-time writes of rows like them.

    .venv/bin/python -m benchmarks.store_bulk [--ads 10000] [--single 1000] [--read 2500] [--repeat 5]

For PostgresStore (an embedded Postgres) and SupabaseStore (the real supabase-py client against the
local Supabase fake from brand_pipeline_tests/fakes, executing on a database of the same server),
measured in one run:
- bulk: one ``upsert_ads`` call with ``--ads`` new ads (rows/s);
- row at a time: ``--single`` new ads of the same shape, one ``upsert_ads`` call each (rows/s);
  the ratio bulk / row at a time is what batching buys;
- read: a brand with ``--read`` ads, all its copies to analyse (``copies_to_analyse``: one SQL
  function; on Supabase three pages past PostgREST's 1,000-row cap) (rows/s).
Each figure is the best of ``--repeat`` rounds (the machine may be shared); each round's ratio is
printed too. Targets: bulk at least 20x row at a time on PostgresStore, 10x on SupabaseStore.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline.store.migrate import migrate_database
from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.protocol import BrandStore
from brand_pipeline.store.supabase import connect_supabase_store, open_supabase_client
from brand_pipeline_tests.fakes.postgrest import FakeSupabase

TARGETS = {"postgres": 20.0, "supabase": 10.0}
OpenStore = Callable[[], AbstractAsyncContextManager[BrandStore]]


def make_ad(i: int, prefix: str) -> AdRecord:
    """An ad the shape the Ad Library gives: copy, a card image, dates, platforms (about 1 KB)."""
    return parse_ad_item(
        {
            "ad_archive_id": f"{prefix}{i}",
            "page_id": "1234567890",
            "page_name": "Cairnpeak Outfitters",
            "is_active": i % 3 != 0,
            "start_date": 1_700_000_000 + i * 60,
            "publisher_platforms": ["facebook", "instagram", "audience_network"],
            "collation_count": 1 + i % 4,
            "snapshot": {
                "body": {"text": f"Trail-tested layers for every season. Offer {i}: free returns, 30 days."},
                "title": f"The Ridge Shell {i}",
                "caption": "cairnpeak.example",
                "cta_text": "Shop now",
                "cta_type": "SHOP_NOW",
                "link_url": f"https://cairnpeak.example/p/{i}?utm_source=meta",
                "link_description": "Waterproof, breathable, packs into its own pocket.",
                "display_format": "IMAGE",
                "images": [{"original_image_url": f"https://scontent.xx.fbcdn.net/v/t45/{i}_n.jpg",
                            "resized_image_url": f"https://scontent.xx.fbcdn.net/v/t45/{i}_s.jpg"}],
            },
        }
    )  # fmt: skip


async def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    await work()  # type: ignore[misc]
    return time.perf_counter() - started


async def one_round(open_store: OpenStore, args: argparse.Namespace, round_no: int) -> dict[str, float]:
    """Seconds for the bulk write, the row-at-a-time writes and the read, with fresh ids."""
    bulk = [make_ad(i, f"bulk{round_no}-") for i in range(args.ads)]
    single = [make_ad(i, f"one{round_no}-") for i in range(args.single)]
    reads = [make_ad(i, f"read{round_no}-") for i in range(args.read)]
    brand = f"read-{round_no}"
    async with open_store() as store:
        await store.upsert_brands([Brand(slug="bench", name="Bench"), Brand(slug=brand, name="Read")])
        await store.upsert_ads(brand, reads)
        bulk_s = await seconds(lambda: store.upsert_ads("bench", bulk))

        async def one_at_a_time() -> None:
            for ad in single:
                await store.upsert_ads("bench", [ad])

        single_s = await seconds(one_at_a_time)
        found: list[int] = []

        async def read() -> None:
            found.append(len(await store.copies_to_analyse(brand, "bench-v1", retry_semantic=False)))

        read_s = await seconds(read)
    assert found == [args.read], f"read {found} rows, expected {args.read}"
    return {"bulk": bulk_s, "single": single_s, "read": read_s}


def measure(open_store: OpenStore, args: argparse.Namespace) -> dict[str, Any]:
    """The best of ``--repeat`` rounds, as rows per second, and each round's ratio."""
    rounds = [asyncio.run(one_round(open_store, args, n)) for n in range(args.repeat)]
    best = {key: min(r[key] for r in rounds) for key in rounds[0]}
    ratios = [(args.ads / r["bulk"]) / (args.single / r["single"]) for r in rounds]
    return {
        "bulk": args.ads / best["bulk"],
        "single": args.single / best["single"],
        "read": args.read / best["read"],
        "rounds": ratios,
    }


def fresh_database(server: EmbeddedPostgres, name: str) -> str:
    with psycopg.connect(server.status().dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = server.status().dsn(name)
    asyncio.run(migrate_database(dsn))
    return dsn


def report(name: str, rates: dict[str, Any], args: argparse.Namespace) -> bool:
    ratio = rates["bulk"] / rates["single"]
    met = ratio >= TARGETS[name]
    print(f"{name}:")
    print(f"  bulk upsert of {args.ads} ads:         {rates['bulk']:9.0f} rows/s")
    print(f"  row at a time ({args.single} ads, one call each): {rates['single']:9.0f} rows/s")
    print(f"  read of {args.read} rows (copies_to_analyse): {rates['read']:9.0f} rows/s")
    print(f"  ratio bulk / row at a time: {ratio:.1f}x (target >= {TARGETS[name]:.0f}x: {'met' if met else 'NOT met'})")
    print(f"  ratio in each round: {', '.join(f'{r:.1f}x' for r in rates['rounds'])}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--read", type=int, default=2_500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", durable=False)
        server.ensure_running()
        try:
            postgres_dsn = fresh_database(server, "bench_postgres")
            supabase_dsn = fresh_database(server, "bench_supabase")
            with FakeSupabase(supabase_dsn, storage_dir=Path(tmp) / "storage") as fake:

                @asynccontextmanager
                async def supabase() -> AsyncIterator[BrandStore]:
                    async with open_supabase_client(fake.base_url, SecretStr(fake.service_key)) as client:
                        yield await connect_supabase_store(client, fake.base_url)

                results = {
                    "postgres": measure(lambda: open_postgres_store(postgres_dsn), args),
                    "supabase": measure(supabase, args),
                }
        finally:
            server.stop()
    print(f"best of {args.repeat} rounds; ads of about 1 KB (copy, a card image, dates, platforms)")
    met = [report(name, rates, args) for name, rates in results.items()]
    sys.exit(0 if all(met) else 1)


if __name__ == "__main__":
    main()
