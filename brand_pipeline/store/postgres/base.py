"""What every part of ``PostgresStore`` shares: the pool, one query helper, bulk-write helpers.

Bulk by default: each write sends one JSON array and lets Postgres expand it with
``jsonb_to_recordset``, so a batch of 500 rows is one round trip. Every batch is de-duplicated on
its conflict key first (last wins): Postgres refuses an upsert that touches a row twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

BATCH_SIZE = 500


def batches(rows: Sequence[Any], size: int = BATCH_SIZE) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def dedupe(rows: Iterable[dict[str, Any]], *key: str) -> list[dict[str, Any]]:
    """One row per key, the last one given winning."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        latest[tuple(row[k] for k in key)] = row
    return list(latest.values())


def json_rows(rows: Sequence[dict[str, Any]]) -> Jsonb:
    # Rows come from model_dump(mode="json"), so they are plain JSON already.
    return Jsonb(rows)


class PostgresRows:
    """Base of the store's parts: each part is a mixin over the same pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _fetch(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()
