"""Both stores, opened the way the resource opens them, for the contract suite and the Supabase tests.

``open_store(kind, database_url, fake)``: PostgresStore over the test database, or SupabaseStore
through the real supabase-py client talking to the local fake (``fakes/postgrest``) over
127.0.0.1, whose requests execute on the same database. The schema comes from the migrations
either way (for Supabase as ``brand-pipeline db migrate`` would apply them over DATABASE_URL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from pydantic import SecretStr

from brand_pipeline.store.migrate import migrate_database
from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.protocol import BrandStore
from brand_pipeline.store.supabase import connect_supabase_store, open_supabase_client
from brand_pipeline_tests.fakes.postgrest import FakeSupabase

T = TypeVar("T")
STORE_KINDS = ["postgres", "supabase"]


def migrate(database_url: str) -> None:
    asyncio.run(migrate_database(database_url))


@asynccontextmanager
async def open_store(kind: str, database_url: str, fake: FakeSupabase | None) -> AsyncIterator[BrandStore]:
    if kind == "postgres":
        async with open_postgres_store(database_url) as store:
            yield store
        return
    assert fake is not None
    async with open_supabase_client(fake.base_url, SecretStr(fake.service_key)) as client:
        yield await connect_supabase_store(client, fake.base_url)


class StoreRunner:
    """Runs a coroutine with a freshly opened store in its own event loop, as each asset does."""

    def __init__(self, kind: str, database_url: str, fake: FakeSupabase | None) -> None:
        self.kind, self.database_url, self.fake = kind, database_url, fake

    def __call__(self, work: Callable[[BrandStore], Awaitable[T]]) -> T:
        async def main() -> T:
            async with open_store(self.kind, self.database_url, self.fake) as store:
                return await work(store)

        return asyncio.run(main())

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """What the database holds, read directly (not through the store under test)."""
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()
