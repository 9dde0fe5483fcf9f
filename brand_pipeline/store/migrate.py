"""Apply the SQL migrations shipped in ``store/migrations`` once, in order, idempotently.

Many processes may open the store at the same moment (webserver, daemon, run workers), so the
whole check-and-apply runs under a Postgres advisory lock; each file runs in one transaction.

``migration_script`` is the same, as one SQL script for a place that takes SQL but no program
(Supabase's SQL editor): each migration in a block that runs it only if ``schema_migrations`` does
not list it yet, and then lists it, so the script can run again and ``apply_migrations`` later
applies only what is missing.
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


async def migrate_database(dsn: str) -> list[str]:
    """Connect to ``dsn``, apply what is missing; returns the versions applied."""
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=10) as conn:
        return await apply_migrations(conn)


_BLOCK, _BODY = "$bp_migration$", "$bp_sql$"


def migration_script() -> str:
    """Every migration, in order, as one re-runnable SQL script."""
    parts = [
        "-- brand_pipeline schema: every migration, in order. Safe to run again: a migration runs once",
        "-- and is recorded in schema_migrations (`brand-pipeline db migrate` then applies only what is new).",
        "CREATE TABLE IF NOT EXISTS schema_migrations (",
        "    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());",
    ]
    for version, sql in migration_files():
        if _BLOCK in sql or _BODY in sql:
            raise ValueError(f"migration {version} holds {_BLOCK} or {_BODY}, which the script quotes with")
        parts += [
            "",
            f"-- {version}",
            f"DO {_BLOCK}",
            "BEGIN",
            f"    PERFORM pg_advisory_xact_lock({_LOCK_KEY});",
            f"    IF NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '{version}') THEN",
            f"        EXECUTE {_BODY}",
            sql.rstrip(),
            f"{_BODY};",
            f"        INSERT INTO schema_migrations (version) VALUES ('{version}');",
            "    END IF;",
            "END",
            f"{_BLOCK};",
        ]
    return "\n".join(parts) + "\n"


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
