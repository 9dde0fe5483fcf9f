"""The plans of the statements run per scrape, per check and per sensor tick, on a brand with 20,000
ads whose media all failed: none reads a large table again for each row.

The store methods run for real, over a pool whose connections load Postgres's ``auto_explain``: each
statement executed sends its plan as a notice, and so do the statements inside the functions the
store calls (``log_nested_statements``). An EXPLAIN of ``SELECT fn(...)`` shows only a Result for a
plpgsql function, or a SQL one the planner does not inline; here the plans are those of the
functions' own statements, as they ran.

The reads run first, on the seeded data. Then two scrapes of 500 of the brand's ads write: one that
stores them in full (their media failed last time, so none is only sighted again), then one that
sights again the half whose media arrived. The same two scrapes then run for a brand whose 20,000
ads were stored after the last ANALYZE: statistics that know nothing of its ads (they put it at
about one row) must not turn a write into a loop over them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from brand_pipeline.domain.ads import AdRecord, MediaRef
from brand_pipeline.store.models import AdCreativeLink, AdSighting, Creative, ItemOutcome
from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.postgres.store import PostgresStore

ADS = 20_000
BRAND = "big-brand"
LATE_BRAND = "late-brand"  # its ads are stored after the last ANALYZE
SCRAPED = 500
RUN = "plans-run"
# The tables seeded with tens of thousands of rows: reading one of them per row is quadratic.
LARGE_TABLES = {"item_outcomes", "brand_ads", "ads", "ad_creatives", "creatives"}
AUTO_EXPLAIN = (
    "LOAD 'auto_explain'",
    "SET auto_explain.log_min_duration = 0",
    "SET auto_explain.log_nested_statements = on",
    "SET auto_explain.log_format = 'json'",
    "SET client_min_messages = log",  # the plans are LOG messages: send them to the client
)
T = TypeVar("T")


class Plan(NamedTuple):
    statement: str
    tree: dict[str, Any]


class PlanLog:
    """The plans auto_explain sends, filed under the store method that was running."""

    def __init__(self) -> None:
        self.by_method: dict[str, list[Plan]] = {}
        self._current: list[Plan] = []

    async def configure(self, conn: psycopg.AsyncConnection) -> None:
        conn.add_notice_handler(self._notice)
        for setting in AUTO_EXPLAIN:
            await conn.execute(setting)
        await conn.commit()

    def _notice(self, diagnostic: psycopg.errors.Diagnostic) -> None:
        _, marker, body = (diagnostic.message_primary or "").partition("plan:\n")  # "duration: … ms  plan:\n{…}"
        if marker:
            logged = json.loads(body)
            self._current.append(Plan(logged["Query Text"], logged["Plan"]))

    async def watch(self, method: str, call: Awaitable[T]) -> T:
        self._current = self.by_method.setdefault(method, [])
        try:
            return await call
        finally:
            self._current = []


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in nodes(child))]


def tables(plans: list[Plan]) -> set[str]:
    return {node["Relation Name"] for plan in plans for node in nodes(plan.tree) if "Relation Name" in node}


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_QUALIFIED = re.compile(r"\b(\w+)\.\w")


def _keyed(scan: dict[str, Any]) -> bool:
    """An index lookup by a value of another row: the outer row of a join, or of a correlated query.
    (EXPLAIN names a scan's own columns bare, and others' qualified.)"""
    condition = _LITERAL.sub("''", scan.get("Index Cond") or scan.get("Recheck Cond") or "")
    return any(alias != scan.get("Alias") for alias in _QUALIFIED.findall(condition))


def _whole_reads(subtree: dict[str, Any], ctes: dict[str, dict[str, Any]]) -> list[str]:
    """The large tables ``subtree`` reads other than by keyed lookups, each time it runs. A CTE scan
    reads the CTE whole: it counts as reading the large tables the CTE read that way."""
    found = []
    for node in nodes(subtree):
        if node.get("Relation Name") in LARGE_TABLES and "Scan" in node["Node Type"] and not _keyed(node):
            found.append(node["Relation Name"])
        if node["Node Type"] == "CTE Scan":
            found += [f"{table} (CTE {node['CTE Name']})" for table in _whole_reads(ctes[node["CTE Name"]], ctes)]
    return found


def _one_row(loop: dict[str, Any]) -> bool:
    """Whether the outer side of a Nested Loop is an aggregate without groups: one row, one pass."""
    [outer] = [child for child in loop["Plans"] if child.get("Parent Relationship") == "Outer"]
    return outer["Node Type"] == "Aggregate" and outer.get("Strategy") == "Plain"


def per_row_scans(plan: dict[str, Any]) -> list[str]:
    """Large tables read again for each row, in full or by a condition that does not depend on the
    row: on the inner side of a Nested Loop, or in a correlated subquery (a SubPlan not hashed)."""
    everything = nodes(plan)
    ctes = {
        n["Subplan Name"].removeprefix("CTE "): n for n in everything if n.get("Subplan Name", "").startswith("CTE ")
    }
    repeated = [
        child
        for node in everything
        for child in node.get("Plans", [])
        if (node["Node Type"] == "Nested Loop" and child.get("Parent Relationship") == "Inner" and not _one_row(node))
        or (child.get("Parent Relationship") == "SubPlan" and not child.get("Subplan Name", "").startswith("hashed"))
    ]
    return [table for child in repeated for table in _whole_reads(child, ctes)]


def _loops(plans: list[Plan]) -> str:
    looping = [plan for plan in plans if per_row_scans(plan.tree)]
    return "\n".join(
        f"{per_row_scans(p.tree)} per row in:\n{p.statement}\n{json.dumps(p.tree, indent=1)}" for p in looping
    )


# -- the data ----------------------------------------------------------------------------------


def _add_brand_whose_media_failed(conn: psycopg.Connection, brand: str, prefix: str) -> None:
    """ADS ads, every other one running, all seen by the brand's previous (finished) scrape, each
    with its image failed."""
    [(scrape_id,)] = conn.execute(
        "INSERT INTO scrapes (brand_slug, source, finished_at, complete) VALUES (%s, 'seed', now(), true) RETURNING id",
        [brand],
    ).fetchall()
    conn.execute(
        "INSERT INTO ads (ad_archive_id, snapshot) SELECT %s || '-' || i, "
        """'{"images": [{"original_image_url": "https://cdn.example/x.jpg"}]}'::jsonb """
        "FROM generate_series(1, %s) i",
        [prefix, ADS],
    )
    conn.execute(
        "INSERT INTO brand_ads (brand_slug, ad_archive_id, last_scrape_id, running, item_hash) "
        "SELECT %s, %s || '-' || i, %s, i %% 2 = 0, 'item-' || i FROM generate_series(1, %s) i",
        [brand, prefix, scrape_id, ADS],
    )
    conn.execute(
        "INSERT INTO item_outcomes (brand_slug, asset, item_key, kind, ad_archive_id, slot, status, reason) "
        "SELECT %s, 'scraped_ads', 'media:' || %s || '-' || i || ':images[0]', 'media', %s || '-' || i, "
        "'images[0]', 'expired', 'URL expired' FROM generate_series(1, %s) i",
        [brand, prefix, prefix, ADS],
    )


def _seed(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO brands (slug, name) VALUES (%s, 'Big'), ('other', 'Other'), (%s, 'Late')", [BRAND, LATE_BRAND]
    )
    _add_brand_whose_media_failed(conn, BRAND, "big")
    # The other brand's media all arrived: a creative and a link per ad.
    conn.execute(
        "INSERT INTO ads (ad_archive_id, snapshot) SELECT 'other-' || i, "
        """'{"images": [{"original_image_url": "https://cdn.example/x.jpg"}]}'::jsonb """
        "FROM generate_series(1, %s) i",
        [ADS],
    )
    conn.execute(
        "INSERT INTO brand_ads (brand_slug, ad_archive_id) SELECT 'other', 'other-' || i FROM generate_series(1, %s) i",
        [ADS],
    )
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
    # The statistics change only when this test says so.
    for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
        conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = off)").format(sql.Identifier(table)))
    conn.execute("ANALYZE")


# -- what runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    run: Callable[[PostgresStore], Awaitable[object]]
    tables: set[str]  # tables its SQL reads: the plans seen are those of its own statements
    inlined: bool = False  # a set-returning SQL function, planned inside the statement calling it


def _reads() -> dict[str, Read]:
    ad_ids = [f"big-{i}" for i in range(1, 501)]
    return {
        "ads_missing_creatives": Read(
            lambda s: s.ads_missing_creatives(BRAND), {"brand_ads", "ads", "ad_creatives", "item_outcomes"}, True
        ),
        "brand_creatives": Read(lambda s: s.brand_creatives(BRAND), {"brand_ads", "ad_creatives", "creatives"}, True),
        "brand_summary": Read(lambda s: s.brand_summary(BRAND), {"brand_ads", "item_outcomes", "creative_analyses"}),
        "stored_slots": Read(lambda s: s.stored_slots(ad_ids), {"ad_creatives"}, True),
        "known_creatives": Read(lambda s: s.known_creatives(["0" * 64] * 500), {"creatives"}, True),
        "outcomes": Read(lambda s: s.outcomes(BRAND, "scraped_ads"), {"item_outcomes"}),
        "new_ads_since": Read(lambda s: s.new_ads_since(ADS), {"brand_ads", "brands"}, True),
        "pending_alerts": Read(lambda s: s.pending_alerts(BRAND), {"alerts"}, True),
        "latest_scrape_at": Read(lambda s: s.latest_scrape_at(BRAND), {"brand_ads"}),
    }


# The store methods a scrape writes with, and the tables each one's statements touch.
WRITES = {
    "begin_scrape": {"scrapes"},
    "sight_ads": {"brand_ads", "scrapes", "item_outcomes", "ad_creatives"},
    "upsert_ads": {"ads", "brand_ads"},
    "remember_items": {"brand_ads"},
    "save_creatives": {"creatives", "ad_creatives"},
    "replace_outcomes": {"item_outcomes"},
    "finish_scrape": {"brand_ads", "scrapes"},
}


def _ad(ad_id: str) -> AdRecord:
    url = f"https://cdn.example/{ad_id}.jpg"
    media = [MediaRef(slot="images[0]", kind="image", url=url)]
    return AdRecord(ad_archive_id=ad_id, body=f"Copy of {ad_id}", media=media, snapshot={"images": [{"url": url}]})


def _media(ad_id: str) -> tuple[Creative, AdCreativeLink]:
    sha256 = hashlib.sha256(ad_id.encode()).hexdigest()
    creative = Creative(sha256=sha256, kind="image", mime_type="image/jpeg", size_bytes=1, blob_path=f"x/{sha256}")
    return creative, AdCreativeLink(ad_archive_id=ad_id, slot="images[0]", sha256=sha256, run_id=RUN)


def _failed(brand: str, ad_id: str) -> ItemOutcome:
    return ItemOutcome(
        brand_slug=brand, asset="scraped_ads", kind="media", ad_archive_id=ad_id, slot="images[0]",
        status="expired", reason="URL expired",
    )  # fmt: skip


async def _two_scrapes(store: PostgresStore, log: PlanLog, brand: str, prefix: str) -> dict[str, Any]:
    """500 of the brand's ads stored in full, the media of half of them arriving; then sighted again."""
    ids = [f"{prefix}-{i}" for i in range(1, SCRAPED + 1)]
    arrived = ids[: SCRAPED // 2]
    sightings = [AdSighting(ad_archive_id=ad_id, item_hash=f"item-{ad_id}") for ad_id in ids]
    media = [_media(ad_id) for ad_id in arrived]
    scrape = await log.watch("begin_scrape", store.begin_scrape(brand, RUN, "plans"))
    first = await log.watch("sight_ads", store.sight_ads(brand, sightings, RUN, scrape_id=scrape))
    stored = await log.watch("upsert_ads", store.upsert_ads(brand, [_ad(i) for i in ids], RUN, scrape_id=scrape))
    await log.watch("remember_items", store.remember_items(brand, sightings))
    await log.watch("save_creatives", store.save_creatives([c for c, _ in media], [link for _, link in media]))
    outcomes = [_failed(brand, ad_id) for ad_id in ids[SCRAPED // 2 :]]
    await log.watch("replace_outcomes", store.replace_outcomes(brand, "scraped_ads", RUN, outcomes))
    finished = await log.watch("finish_scrape", store.finish_scrape(brand, scrape, complete=True, seen=stored))
    scrape = await log.watch("begin_scrape", store.begin_scrape(brand, RUN, "plans"))
    again = await log.watch("sight_ads", store.sight_ads(brand, sightings, RUN, scrape_id=scrape))
    await log.watch("finish_scrape", store.finish_scrape(brand, scrape, complete=False, seen=again.as_stored()))
    return {"first": first, "stored": stored, "finished": finished, "again": again, "arrived": arrived}


async def _read_all(store: PostgresStore, log: PlanLog) -> None:
    for name, read in _reads().items():
        await log.watch(name, read.run(store))


async def _logged(database_url: str, work: Callable[[PostgresStore, PlanLog], Awaitable[T]]) -> tuple[PlanLog, T]:
    """``work`` on a store whose connections send the plan of every statement they run."""
    log = PlanLog()
    async with AsyncConnectionPool(
        database_url, min_size=1, max_size=4, kwargs={"row_factory": dict_row}, configure=log.configure
    ) as pool:
        return log, await work(PostgresStore(pool), log)


async def _migrate(database_url: str) -> None:
    async with open_postgres_store(database_url):
        pass


@pytest.fixture(scope="module")
def plans(pg_server: Any) -> Iterator[dict[str, Any]]:
    admin = pg_server.status().dsn("postgres")
    name = f"test_plans_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = pg_server.status().dsn(name)
    try:
        asyncio.run(_migrate(url))
        with psycopg.connect(url, autocommit=True) as conn:
            _seed(conn)
        reads, _ = asyncio.run(_logged(url, _read_all))
        fresh, fresh_scrapes = asyncio.run(_logged(url, lambda s, log: _two_scrapes(s, log, BRAND, "big")))
        with psycopg.connect(url, autocommit=True) as conn:
            _add_brand_whose_media_failed(conn, LATE_BRAND, "late")  # and no ANALYZE after
        stale, stale_scrapes = asyncio.run(_logged(url, lambda s, log: _two_scrapes(s, log, LATE_BRAND, "late")))
        yield {
            "reads": reads.by_method,
            "fresh": fresh.by_method,
            "stale": stale.by_method,
            "scrapes": {"fresh": fresh_scrapes, "stale": stale_scrapes},
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# -- the plans ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(_reads()))
def test_the_plans_seen_are_those_of_the_reads_own_statements(plans: dict, method: str) -> None:
    read, seen = _reads()[method], plans["reads"][method]
    assert read.tables <= tables(seen), f"{method}: saw plans of {[p.statement for p in seen]}"
    if read.inlined:  # one statement: the function's query planned inside the one the store sent
        [plan] = seen
        assert read.tables <= tables([plan]), plan.statement


@pytest.mark.parametrize("method", list(_reads()))
def test_no_read_loops_over_a_large_table_per_row(plans: dict, method: str) -> None:
    assert not _loops(plans["reads"][method]), _loops(plans["reads"][method])


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
@pytest.mark.parametrize("method", list(WRITES))
def test_no_write_of_a_scrape_loops_over_a_large_table_per_row(plans: dict, statistics: str, method: str) -> None:
    seen = plans[statistics][method]
    assert WRITES[method] <= tables(seen), f"{method}: saw plans of {[p.statement for p in seen]}"
    assert not _loops(seen), _loops(seen)


def test_a_plpgsql_function_alone_would_show_a_bare_result(plans: dict) -> None:
    """Why the nested plans are needed: the statement the store sends plans to a Result."""
    [sent] = [p for p in plans["fresh"]["upsert_ads"] if '"bp_upsert_ads"(' in p.statement]
    assert [node["Node Type"] for node in nodes(sent.tree)] == ["Result"]
    assert {"ads", "brand_ads"} <= tables([p for p in plans["fresh"]["upsert_ads"] if p is not sent])


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
def test_the_scrapes_wrote_what_scrapes_write(plans: dict, statistics: str) -> None:
    """The plans are those of real work: every branch of the writes ran on the brand's ads."""
    scrapes = plans["scrapes"][statistics]
    assert scrapes["first"].unchanged == []  # every ad's media failed last time: all stored in full
    assert len(scrapes["stored"].updated) == SCRAPED
    assert (len(scrapes["stored"].started), len(scrapes["stored"].still_running)) == (SCRAPED // 2, SCRAPED // 2)
    assert scrapes["finished"].no_longer_seen == (ADS - SCRAPED) // 2  # the unseen ads that were running
    assert scrapes["again"].unchanged == scrapes["arrived"]  # the others' media failed again
    assert scrapes["again"].media_stored == len(scrapes["arrived"])


def test_the_blocking_check_reads_each_table_once_not_once_per_ad(plans: dict) -> None:
    [(_, plan)] = plans["reads"]["ads_missing_creatives"]
    scanned = [n["Relation Name"] for n in nodes(plan) if "Relation Name" in n]
    assert sorted(scanned) == sorted(set(scanned)), scanned
    assert "SubPlan" not in {n.get("Parent Relationship") for n in nodes(plan)}, "no correlated subquery per ad"
