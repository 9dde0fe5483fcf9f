"""``SupabaseStore``: the ``BrandStore`` port over a Supabase project's API (supabase-py, async).

The same parts as PostgresStore (``store.calls``: every query with joins, set logic or a
transaction is a SQL function of the migrations, called through ``/rpc``), plus table routes for
the single-table reads and writes. It needs the service role key: the tables have row-level
security and no policy, so any other key reads nothing. The schema comes from the migrations
(``brand-pipeline db migrate`` or ``db sql``); opening checks it is there and current.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
from postgrest.exceptions import APIError
from pydantic import SecretStr
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from brand_pipeline.store.calls.shared import SharedCalls
from brand_pipeline.store.migrate import migration_files
from brand_pipeline.store.protocol import StoreError, StoreUnavailable
from brand_pipeline.store.supabase.base import DEFAULT_PAGE_ROWS
from brand_pipeline.store.supabase.brands import BrandRows
from brand_pipeline.store.supabase.reads import ReadRows
from brand_pipeline.store.supabase.runs import RunRows

HOW_TO_MIGRATE = (
    "run `brand-pipeline db migrate` with DATABASE_URL set to the project's database URL, "
    "or paste the output of `brand-pipeline db sql` into the project's SQL editor"
)


class SupabaseStore(
    BrandRows,
    RunRows,
    ReadRows,
    SharedCalls,
):
    """Intention-named, bulk operations on the brand research tables, through PostgREST."""

    async def check_schema(self) -> None:
        """Refuse a project without the schema, or with an older one than this code needs."""
        needed = migration_files()[-1][0]
        try:
            found = (await self._rpc("bp_schema_version", {}).execute()).data
        except APIError as error:
            if error.code != "PGRST202":  # PGRST202: no such function, i.e. no schema
                raise StoreError(f"cannot read the schema version at {self._where}: {error.message}") from None
            found = None
        except httpx.TransportError as error:
            raise StoreUnavailable(f"cannot reach the Supabase API at {self._where}: {error}") from None
        if not found or found < needed:
            # With a key other than the service role's, row-level security hides every row, so the
            # schema looks absent: say so rather than send the user to migrate a migrated project.
            have = f"has schema version {found}" if found else "shows no brand_pipeline schema to this key"
            raise StoreError(
                f"the Supabase project at {self._where} {have}, this code needs {needed}: {HOW_TO_MIGRATE}"
                + ("" if found else " (and check that SUPABASE_SERVICE_ROLE_KEY is the service role key)")
            )

    async def measure_page_rows(self, most: int = DEFAULT_PAGE_ROWS) -> int:
        """The most rows one answer holds (the project's max-rows, up to ``most``): reads page by it,
        so a short page really is the last one."""
        request = self._rpc("bp_numbers", {"p_count": most}).limit(most)
        self.page_rows = max(1, len((await self._execute(request, "bp_numbers")).data))
        return self.page_rows


def api_host(url: str) -> str:
    return urlsplit(url).netloc or "(an unparsable URL)"


@asynccontextmanager
async def open_supabase_client(
    url: str, service_key: SecretStr, *, timeout_s: float = 60.0
) -> AsyncIterator[AsyncClient]:
    """The async client on an HTTP client this coroutine opens and closes (the async rule)."""
    timeout = httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as http:
        options = AsyncClientOptions(httpx_client=http, auto_refresh_token=False, persist_session=False)
        yield await acreate_client(url, service_key.get_secret_value(), options=options)


async def connect_supabase_store(
    client: AsyncClient, url: str, *, most_page_rows: int = DEFAULT_PAGE_ROWS
) -> SupabaseStore:
    """A store over ``client``, its schema checked and its page size measured."""
    store = SupabaseStore(client, where=api_host(url))
    await store.check_schema()
    await store.measure_page_rows(most_page_rows)
    return store
