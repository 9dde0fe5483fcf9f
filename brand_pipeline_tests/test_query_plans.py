"""The plans of the queries run per scrape, per check and per sensor tick, on a brand with 20,000
ads whose media all failed: none loops over every outcome or every ad for each row.

Each store method runs its real SQL through a pool that asks Postgres to EXPLAIN it instead
(``PostgresRows`` takes its pool as an argument), so the plans are those of the queries as written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.postgres.store import PostgresStore

ADS = 20_000
BRAND = "big-brand"
# A per-row loop whose inner side reads one of these tables without an index is quadratic.
LARGE_TABLES = {"item_outcomes", "brand_ads", "ads", "ad_creatives", "creatives"}


class _Explained:
    """What the store reads back from an EXPLAIN: no rows (the methods only get empty results)."""

    description = ("plan",)

    async def fetchall(self) -> list[dict[str, Any]]:
        return []


class _ExplainingConnection:
    def __init__(self, conn: psycopg.AsyncConnection, plans: list[tuple[str, dict]]) -> None:
        self._conn, self._plans = conn, plans

    async def execute(self, query: str | sql.Composable, params: Any = None) -> _Explained:
        # The stores call SQL functions; set-returning SQL functions are inlined by the planner,
        # so the plan shown is that of the function's own query.
        explain = sql.SQL("EXPLAIN (FORMAT JSON) {}").format(
            query if isinstance(query, sql.Composable) else sql.SQL(query)
        )
        cursor = await self._conn.execute(explain, params)
        [row] = await cursor.fetchall()
        self._plans.append((query, row["QUERY PLAN"][0]["Plan"]))
        return _Explained()

    def transaction(self) -> Any:
        return self._conn.transaction()


class ExplainingPool:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self.plans: list[tuple[str, dict]] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[_ExplainingConnection]:
        async with self._pool.connection() as conn:
            yield _ExplainingConnection(conn, self.plans)


def _seed(database_url: str) -> None:
    asyncio.run(_migrate(database_url))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO brands (slug, name) VALUES (%s, 'Big'), ('other', 'Other')", [BRAND])
        conn.execute(
            "INSERT INTO ads (ad_archive_id, snapshot) SELECT b || '-' || i, "
            """'{"images": [{"original_image_url": "https://cdn.example/x.jpg"}]}'::jsonb """
            "FROM generate_series(1, %s) i, (VALUES ('big'), ('other')) v(b)",
            [ADS],
        )
        conn.execute(
            "INSERT INTO brand_ads (brand_slug, ad_archive_id) SELECT CASE b WHEN 'big' THEN %s ELSE b END, "
            "b || '-' || i FROM generate_series(1, %s) i, (VALUES ('big'), ('other')) v(b)",
            [BRAND, ADS],
        )
        conn.execute(
            "INSERT INTO item_outcomes (brand_slug, asset, item_key, kind, ad_archive_id, slot, status, reason) "
            "SELECT %s, 'scraped_ads', 'media:big-' || i || ':images[0]', 'media', 'big-' || i, 'images[0]', "
            "'expired', 'URL expired' FROM generate_series(1, %s) i",
            [BRAND, ADS],
        )
        # The other brand's media all arrived: a creative and a link per ad.
        conn.execute(
            "INSERT INTO creatives (sha256, kind, mime_type, size_bytes, blob_path) "
            "SELECT encode(sha256(i::text::bytea), 'hex'), 'image', 'image/jpeg', 1, 'x/' || i || '.jpg' "
            "FROM generate_series(1, %s) i",
            [ADS],
        )
        conn.execute(
            "INSERT INTO ad_creatives (ad_archive_id, slot, sha256, source_url) "
            "SELECT 'other-' || i, 'images[0]', encode(sha256(i::text::bytea), 'hex'), 'https://cdn.example/x.jpg' "
            "FROM generate_series(1, %s) i",
            [ADS],
        )
        conn.execute("ANALYZE")


async def _migrate(database_url: str) -> None:
    async with open_postgres_store(database_url):
        pass


def _queries() -> dict[str, Callable[[PostgresStore], Awaitable[object]]]:
    ad_ids = [f"big-{i}" for i in range(1, 501)]
    return {
        "ads_missing_creatives": lambda s: s.ads_missing_creatives(BRAND),
        "brand_creatives": lambda s: s.brand_creatives(BRAND),
        "brand_summary": lambda s: s.brand_summary(BRAND),
        "stored_slots": lambda s: s.stored_slots(ad_ids),
        "known_creatives": lambda s: s.known_creatives(["0" * 64] * 500),
        "outcomes": lambda s: s.outcomes(BRAND, "scraped_ads"),
        "new_ads_since": lambda s: s.new_ads_since(ADS),
        "pending_alerts": lambda s: s.pending_alerts(BRAND),
        "latest_scrape_at": lambda s: s.latest_scrape_at(BRAND),
    }


async def _explain_all(database_url: str) -> dict[str, list[tuple[str, dict]]]:
    plans = {}
    async with AsyncConnectionPool(database_url, min_size=1, kwargs={"row_factory": dict_row}) as pool:
        for name, call in _queries().items():
            explaining = ExplainingPool(pool)
            try:
                await call(PostgresStore(explaining))
            except (IndexError, KeyError, TypeError, ValueError):
                pass  # the method read the (empty) EXPLAIN result as rows; the plan is what counts
            plans[name] = explaining.plans
    return plans


def _nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _unindexed_inner_scans(plan: dict) -> list[str]:
    """Tables a Nested Loop reads in full once per outer row."""
    found = []
    for node in _nodes(plan):
        if node["Node Type"] == "Nested Loop":
            inner = [child for child in node.get("Plans", []) if child.get("Parent Relationship") == "Inner"]
            for scan in (n for child in inner for n in _nodes(child)):
                if scan["Node Type"] == "Seq Scan" and scan.get("Relation Name") in LARGE_TABLES:
                    found.append(scan["Relation Name"])
    return found


@pytest.fixture(scope="module")
def plans(pg_server: Any) -> dict[str, list[tuple[str, dict]]]:
    import uuid

    admin = pg_server.status().dsn("postgres")
    name = f"test_plans_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = pg_server.status().dsn(name)
    try:
        _seed(database_url)
        yield asyncio.run(_explain_all(database_url))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORMAT)'.replace("FORMAT", "FORCE"))


@pytest.mark.parametrize("query", list(_queries()))
def test_no_query_loops_over_a_large_table_per_row(plans: dict, query: str) -> None:
    assert plans[query], f"{query} ran no SQL"
    for statement, plan in plans[query]:
        assert not _unindexed_inner_scans(plan), f"{query} scans per row: {statement}"


def test_the_blocking_check_reads_each_table_once_not_once_per_ad(plans: dict) -> None:
    [(_, plan)] = plans["ads_missing_creatives"]
    scanned = [n["Relation Name"] for n in _nodes(plan) if "Relation Name" in n]
    assert sorted(scanned) == sorted(set(scanned)), scanned
    assert "SubPlan" not in {n.get("Parent Relationship") for n in _nodes(plan)}, "no correlated subquery per ad"
