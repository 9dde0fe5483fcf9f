"""Apply the SQL migrations shipped in ``store/migrations`` once, in order, idempotently.

Many processes may open the store at the same moment (webserver, daemon, run workers), so the
whole check-and-apply runs under a Postgres advisory lock; each file runs in one transaction.
"""

from __future__ import annotations

from importlib import resources

import psycopg

_LOCK_KEY = 0x6272616E64  # "brand": any constant shared by every process of this project


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in order."""
    folder = resources.files("brand_pipeline.store") / "migrations"
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


async def apply_migrations(conn: psycopg.AsyncConnection) -> list[str]:
    """Apply what is missing; returns the versions applied by this call."""
    applied_now: list[str] = []
    await conn.set_autocommit(True)
    await conn.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in await cursor.fetchall()}
        for version, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [version])
            applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    return applied_now
