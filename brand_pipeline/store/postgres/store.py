"""``PostgresStore``: the ``BrandStore`` port over psycopg 3 (async) and a connection pool.

One class, assembled from one part per concern. The queries that need joins, set logic or a
transaction are SQL functions of the migrations, called by the parts SupabaseStore shares
(``store.calls``); the single-table ones are SQL of its own (brands, runs, reads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from brand_pipeline.store.calls.shared import SharedCalls
from brand_pipeline.store.migrate import apply_migrations
from brand_pipeline.store.postgres.brands import BrandRows
from brand_pipeline.store.postgres.reads import ReadRows
from brand_pipeline.store.postgres.runs import RunRows
from brand_pipeline.store.protocol import StoreUnavailable

# DSNs whose schema this process has already brought up to date.
_migrated: set[str] = set()


class PostgresStore(
    BrandRows,
    RunRows,
    ReadRows,
    SharedCalls,
):
    """Intention-named, bulk operations on the brand research tables, over any Postgres."""


@asynccontextmanager
async def open_postgres_store(
    dsn: str, *, max_connections: int = 4, configured_by: str = "the database URL"
) -> AsyncIterator[PostgresStore]:
    """Open a pool on ``dsn``, migrate once per process, yield the store, close the pool.

    A database that cannot be reached raises ``StoreUnavailable`` naming its host and port and
    ``configured_by`` (e.g. ``DATABASE_URL``), never the password.
    """
    try:
        if dsn not in _migrated:
            async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=10) as conn:
                await apply_migrations(conn)
            _migrated.add(dsn)
    except psycopg.OperationalError as error:
        raise StoreUnavailable(_unreachable(dsn, configured_by, error)) from None
    pool = AsyncConnectionPool(dsn, min_size=1, max_size=max_connections, open=False, kwargs={"row_factory": dict_row})
    await pool.open(wait=True, timeout=30)
    try:
        yield PostgresStore(pool)
    finally:
        await pool.close()


def _unreachable(dsn: str, configured_by: str, error: psycopg.OperationalError) -> str:
    try:
        info = conninfo_to_dict(dsn)
        where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
    except psycopg.ProgrammingError:
        where = "(an unparsable URL)"
    # psycopg says "connection to server at …, port … failed: <reason>" and then a hint line; keep
    # the reason and the hint. Neither holds the password, but the DSN's password is removed all
    # the same in case a driver version echoes it.
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    reason = "; ".join([lines[0].rsplit(" failed: ", 1)[-1], *lines[1:]]) if lines else type(error).__name__
    password = conninfo_to_dict(dsn).get("password") if where != "(an unparsable URL)" else None
    if password:
        reason = reason.replace(str(password), "***")
    return f"cannot reach the database at {where} (from {configured_by}): {reason}"
