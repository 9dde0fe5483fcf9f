"""Which store the environment selects, what it refuses at start-up, and the schema commands.

SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY: Supabase tables and Storage; DATABASE_URL: Postgres rows,
with Storage still from the Supabase keys if given; nothing: the embedded default.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from brand_pipeline.definitions import resources_from_env
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.settings import SettingConflict, SettingError
from brand_pipeline.store.blobs import LocalBlobStore
from brand_pipeline.store.migrate import apply_migrations, migration_files, migration_script
from brand_pipeline.store.postgres import PostgresStore
from brand_pipeline.store.supabase import SupabaseBlobStore, SupabaseStore
from brand_pipeline_tests.fakes.postgrest import FakeSupabase
from brand_pipeline_tests.stores import migrate

ENV = ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "DATABASE_URL", "SUPABASE_STORAGE_BUCKET")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BRAND_PIPELINE_HOME", str(tmp_path / "home"))
    return monkeypatch


def _supabase(strict: bool = False) -> SupabaseResource:
    return resources_from_env(strict=strict)["supabase"].process_config_and_initialize()


async def _opened(resource: SupabaseResource) -> tuple[type, type]:
    async with resource.open() as storage:
        return type(storage.store), type(storage.blobs)


def test_the_supabase_url_and_key_select_supabase_tables_and_storage(
    env: pytest.MonkeyPatch, fake_supabase: FakeSupabase, database_url: str
) -> None:
    migrate(database_url)
    env.setenv("SUPABASE_URL", fake_supabase.base_url)
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", fake_supabase.service_key)
    env.setenv("SUPABASE_STORAGE_BUCKET", "ad-media")
    resource = _supabase(strict=True)
    assert asyncio.run(_opened(resource)) == (SupabaseStore, SupabaseBlobStore)
    assert resource.configuration == "rows in Supabase tables, creatives in Supabase Storage bucket 'ad-media'"
    assert [r.path for r in fake_supabase.requests_to("POST", "/storage/v1/bucket")] == ["/storage/v1/bucket"]


def test_a_database_url_with_the_supabase_keys_is_postgres_rows_and_storage_creatives(
    env: pytest.MonkeyPatch, fake_supabase: FakeSupabase, database_url: str
) -> None:
    env.setenv("DATABASE_URL", database_url)
    env.setenv("SUPABASE_URL", fake_supabase.base_url)
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", fake_supabase.service_key)
    assert asyncio.run(_opened(_supabase(strict=True))) == (PostgresStore, SupabaseBlobStore)
    assert not fake_supabase.requests_to(None, "/rest/v1"), "rows go to the database, not through the API"


def test_a_database_url_alone_is_postgres_and_nothing_is_the_embedded_default(
    env: pytest.MonkeyPatch, database_url: str
) -> None:
    env.setenv("DATABASE_URL", database_url)
    assert asyncio.run(_opened(_supabase(strict=True))) == (PostgresStore, LocalBlobStore)
    env.delenv("DATABASE_URL")
    embedded = _supabase(strict=True)
    assert embedded.uses_embedded_database and not embedded.uses_supabase_api
    assert embedded.configuration == "rows in the embedded database, creatives in a local folder"


@pytest.mark.parametrize("given", ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"])
def test_half_of_the_supabase_pair_is_refused_at_start_up_naming_both(env: pytest.MonkeyPatch, given: str) -> None:
    env.setenv(given, "https://example.supabase.co" if given == "SUPABASE_URL" else "sb_secret_abc123")
    with pytest.raises(SettingConflict) as refused:
        _supabase(strict=True)
    message = str(refused.value)
    assert "SUPABASE_URL" in message and "SUPABASE_SERVICE_ROLE_KEY" in message and "DATABASE_URL" in message
    assert "sb_secret_abc123" not in message
    # Dagster loads the project all the same; the step that opens the resource fails with the message.
    lenient = _supabase()
    assert lenient.setting_errors == [message]
    with pytest.raises(dg.Failure, match="SUPABASE_SERVICE_ROLE_KEY"):
        asyncio.run(_opened(lenient))


def test_the_anon_key_in_place_of_the_service_key_is_refused_without_showing_it(
    env: pytest.MonkeyPatch, fake_supabase: FakeSupabase
) -> None:
    env.setenv("SUPABASE_URL", fake_supabase.base_url)
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", fake_supabase.anon_key)
    with pytest.raises(SettingError) as refused:
        _supabase(strict=True)
    assert "SUPABASE_SERVICE_ROLE_KEY" in str(refused.value) and "anon key" in str(refused.value)
    assert fake_supabase.anon_key not in str(refused.value)


def test_a_url_that_is_not_one_and_a_bad_bucket_name_are_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("SUPABASE_URL", "example.supabase.co")
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", "sb_secret_abc123")
    with pytest.raises(SettingError, match="SUPABASE_URL='example.supabase.co' is not accepted"):
        _supabase(strict=True)
    env.setenv("SUPABASE_URL", "https://example.supabase.co")
    env.setenv("SUPABASE_STORAGE_BUCKET", "Not A Bucket")
    with pytest.raises(SettingError, match="SUPABASE_STORAGE_BUCKET"):
        _supabase(strict=True)


def test_keys_and_passwords_never_appear_in_repr_config_or_errors(
    env: pytest.MonkeyPatch, fake_supabase: FakeSupabase
) -> None:
    env.setenv("SUPABASE_URL", "http://127.0.0.1:9")  # nothing listens there
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", fake_supabase.service_key)
    env.setenv("DATABASE_URL", "postgresql://user:hunter2-password@127.0.0.1:9/db")
    unresolved = resources_from_env(strict=True)["supabase"]
    resource = unresolved.process_config_and_initialize()
    assert resource.supabase_service_role_key == fake_supabase.service_key  # resolved from the EnvVar
    with pytest.raises(dg.Failure) as unreachable:
        asyncio.run(_opened(resource))
    shown = repr(unresolved) + repr(resource) + str(resource) + str(unreachable.value) + resource.configuration
    assert fake_supabase.service_key not in shown and "hunter2-password" not in shown
    assert "SUPABASE_SERVICE_ROLE_KEY" in repr(unresolved), "the UI shows the variable's name"


# -- schema commands --------------------------------------------------------------------------------


def test_the_printed_sql_script_builds_the_schema_and_can_run_again(database_url: str) -> None:
    script = migration_script()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(script)
        conn.execute(script)  # pasted twice into the SQL editor: harmless
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        functions = conn.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'bp\\_%'").fetchone()[0]

    async def then_migrate() -> list[str]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return await apply_migrations(conn)

    assert versions == [version for version, _ in migration_files()]
    assert functions >= 20
    assert asyncio.run(then_migrate()) == [], "db migrate afterwards finds nothing to do"


ROOT = Path(__file__).resolve().parents[1]


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = env | {"PYTHONPATH": str(ROOT)}  # this checkout's package, whichever one is installed
    return subprocess.run(
        [sys.executable, "-m", "brand_pipeline.cli", *args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_db_migrate_applies_the_migrations_over_database_url_once(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV} | {"DATABASE_URL": database_url}
    env["BRAND_PIPELINE_HOME"] = str(tmp_path / "home")
    first, again = _cli(["db", "migrate"], env, tmp_path), _cli(["db", "migrate"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout and migration_files()[-1][0] in first.stdout
    assert "up to date" in again.stdout
    only_api = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    only_api |= {"SUPABASE_URL": "https://example.supabase.co", "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_x"}
    refused = _cli(["db", "migrate"], only_api, tmp_path)
    assert refused.returncode == 2 and "db sql" in refused.stderr and "DATABASE_URL" in refused.stderr
    printed = _cli(["db", "sql"], env, tmp_path)
    assert printed.returncode == 0 and printed.stdout == migration_script()


def test_many_event_loops_on_supabase_leak_no_sockets_and_warn_nothing(
    fake_supabase: FakeSupabase, database_url: str, tmp_path: Path
) -> None:
    import gc
    import warnings

    from brand_pipeline.aio import run_async

    migrate(database_url)
    resource = SupabaseResource(
        supabase_url=fake_supabase.base_url, supabase_service_role_key=fake_supabase.service_key, home=str(tmp_path)
    )

    async def one_run() -> int:
        # What one asset run does: the API client opened, rows and blobs used, all closed again.
        async with resource.open() as storage:
            await storage.store.list_brands()
            await storage.blobs.exists("00/nothing.png")
            return storage.store.page_rows

    for _ in range(3):  # warm-up: imports, lazily created files
        run_async(one_run())
    gc.collect()
    before = len(os.listdir("/proc/self/fd"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        pages = {run_async(one_run()) for _ in range(40)}
        gc.collect()
    after = len(os.listdir("/proc/self/fd"))
    assert pages == {1000}, "every loop got a working client"
    assert after - before <= 2, f"file descriptors grew from {before} to {after}"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
