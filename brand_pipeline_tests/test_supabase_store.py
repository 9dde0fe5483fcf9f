"""What PostgREST and Storage make easy to get wrong, on the Supabase path: SupabaseStore and
SupabaseBlobStore through the real supabase-py client against the local fake (its request log shows
what went over the wire)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.store.models import ItemOutcome
from brand_pipeline.store.protocol import BlobTooLarge, RowMissing, StoreError
from brand_pipeline.store.supabase import (
    SupabaseBlobStore,
    SupabaseStore,
    connect_supabase_store,
    open_supabase_blobs,
    open_supabase_client,
)
from brand_pipeline_tests.fakes.postgrest import FakeSupabase
from brand_pipeline_tests.stores import migrate

T = TypeVar("T")


@pytest.fixture
def fake(database_url: str, fake_supabase: FakeSupabase) -> FakeSupabase:
    migrate(database_url)
    return fake_supabase


def with_store(fake: FakeSupabase, work: Callable[[SupabaseStore], Awaitable[T]], key: str | None = None) -> T:
    async def main() -> T:
        async with open_supabase_client(fake.base_url, SecretStr(key or fake.service_key)) as client:
            return await work(await connect_supabase_store(client, fake.base_url))

    return asyncio.run(main())


def with_blobs(fake: FakeSupabase, work: Callable[[SupabaseBlobStore], Awaitable[T]], **options: Any) -> T:
    async def main() -> T:
        async with open_supabase_client(fake.base_url, SecretStr(fake.service_key)) as client:
            async with open_supabase_blobs(client, **options) as blobs:
                return await work(blobs)

    return asyncio.run(main())


def _ad(ad_id: str) -> AdRecord:
    return parse_ad_item({"ad_archive_id": ad_id, "snapshot": {"body": {"text": f"copy {ad_id}"}}})


def _seed_brand_with_ads(database_url: str, count: int) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO brands (slug, name) VALUES ('acme', 'Acme')")
        conn.execute(
            "INSERT INTO ads (ad_archive_id, snapshot, copy_text, copy_hash) "
            "SELECT 'ad-' || i, '{}', 'copy ' || i, md5(i::text) FROM generate_series(1, %s) i",
            [count],
        )
        conn.execute("INSERT INTO brand_ads (brand_slug, ad_archive_id) SELECT 'acme', ad_archive_id FROM ads")
        conn.execute(
            "INSERT INTO item_outcomes (brand_slug, asset, item_key, kind, status, reason) "
            "SELECT 'acme', a, 'item-' || i, 'record', 'invalid', 'bad' "
            "FROM generate_series(1, %s) i, unnest(ARRAY['scraped_ads', 'other']) a",
            [count // 2],
        )


# -- 3: at most 1,000 rows per answer, silently -----------------------------------------------------


def test_reads_page_by_key_past_the_servers_row_cap(fake: FakeSupabase, database_url: str) -> None:
    _seed_brand_with_ads(database_url, 2500)

    async def work(store: SupabaseStore) -> tuple[int, int, int]:
        copies = await store.copies_to_analyse("acme", "v1", retry_semantic=False)  # an rpc read
        outcomes = await store.outcomes("acme")  # a table read, paged by (asset, item_key)
        evidence = await store.brand_evidence("acme", video_version="v", image_version="i", copy_version="c")
        return len({c.copy_hash for c in copies}), len({(o.asset, o.item_key) for o in outcomes}), len(evidence)

    assert fake.max_rows == 1000
    assert with_store(fake, work) == (2500, 2500, 2500)
    pages = [r.rows_returned for r in fake.requests_to("POST", "/rest/v1/rpc/bp_copies_to_analyse")]
    assert pages == [1000, 1000, 500], "three pages, the last one short"
    assert len(fake.requests_to("GET", "/rest/v1/item_outcomes")) == 3


def test_a_project_with_a_lower_row_cap_is_still_read_in_full(fake: FakeSupabase, database_url: str) -> None:
    _seed_brand_with_ads(database_url, 700)
    fake.max_rows = 300  # a project whose API settings cut answers at 300 rows

    async def work(store: SupabaseStore) -> tuple[int, int]:
        return store.page_rows, len(await store.copies_to_analyse("acme", "v1", retry_semantic=False))

    assert with_store(fake, work) == (300, 700), "the page size is the cap measured when the store opened"


# -- 4: one batch holding the same key twice --------------------------------------------------------


def test_an_upsert_batch_repeating_a_key_writes_one_row_and_no_error(fake: FakeSupabase, database_url: str) -> None:
    async def work(store: SupabaseStore) -> Brand | None:
        await store.upsert_brands([Brand(slug="acme", name="first"), Brand(slug="acme", name="second")])
        return await store.get_brand("acme")

    fake.reset_log()
    assert with_store(fake, work).name == "second", "the last one given wins"
    [upsert] = fake.requests_to("POST", "/rest/v1/brands")
    assert (upsert.status, upsert.rows_sent, dict(upsert.query)["on_conflict"]) == (201, 1, "slug")


def test_every_conflict_target_has_a_unique_index_behind_it(fake: FakeSupabase, database_url: str) -> None:
    import psycopg

    # The conflict targets the store's upserts (tables and SQL functions) name.
    targets = {
        "brands": ["slug"],
        "ads": ["ad_archive_id"],
        "brand_ads": ["brand_slug", "ad_archive_id"],
        "creatives": ["sha256"],
        "ad_creatives": ["ad_archive_id", "slot"],
        "creative_analyses": ["sha256", "kind", "prompt_version"],
        "copy_analyses": ["copy_hash", "prompt_version"],
        "item_outcomes": ["brand_slug", "asset", "item_key"],
        "source_runs": ["brand_slug", "run_key"],
    }
    with psycopg.connect(database_url) as conn:
        unique = {
            (table, tuple(columns))
            for table, columns in conn.execute(
                "SELECT c.relname, array_agg(a.attname ORDER BY k.n) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indrelid "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
                "WHERE i.indisunique GROUP BY c.relname, i.indexrelid"
            ).fetchall()
        }
    assert all((table, tuple(columns)) in unique for table, columns in targets.items())


# -- 5: rows of one bulk upsert with different keys -------------------------------------------------


def test_a_partial_upsert_leaves_the_columns_it_does_not_send_intact(fake: FakeSupabase, database_url: str) -> None:
    async def work(store: SupabaseStore) -> list[Brand]:
        await store.upsert_brands([Brand(slug="globex", name="Globex", website="https://globex.example")])
        fake.reset_log()
        # One call, two shapes: acme brings a website, globex only a new name.
        await store.upsert_brands([Brand(slug="acme", name="Acme", website="https://acme.example"),
                                   Brand(slug="globex", name="Globex Inc")])  # fmt: skip
        return await store.list_brands()

    acme, globex = with_store(fake, work)
    assert (globex.name, globex.website) == ("Globex Inc", "https://globex.example"), "not overwritten with NULL"
    assert acme.website == "https://acme.example"
    columns = [
        set(dict(r.query)["columns"].replace('"', "").split(",")) for r in fake.requests_to("POST", "/rest/v1/brands")
    ]
    assert len(columns) == 2 and "website" in columns[0] and "website" not in columns[1]


# -- 6: row-level security turns an update into [] instead of an error -----------------------------


def test_an_update_that_touches_no_row_raises_instead_of_answering_empty(fake: FakeSupabase) -> None:
    async def work(store: SupabaseStore) -> None:
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        await store.finish_source_run("acme", "never-recorded", "run-1", "SUCCEEDED", 1.0, 3)

    with pytest.raises(RowMissing, match="never-recorded"):
        with_store(fake, work)
    [patch] = fake.requests_to("PATCH", "/rest/v1/source_runs")
    assert (patch.status, patch.rows_returned) == (200, 0), "PostgREST itself answered an empty success"


def test_the_anon_key_reads_nothing_and_is_refused_by_the_store(fake: FakeSupabase) -> None:
    with_store(fake, lambda store: store.ensure_brand("acme"))

    async def as_anon() -> tuple[Any, Any, Any]:
        async with httpx.AsyncClient() as http:
            headers = {"apikey": fake.anon_key}
            brands = await http.get(f"{fake.base_url}/rest/v1/brands?select=slug", headers=headers)
            listed = await http.post(f"{fake.base_url}/rest/v1/rpc/bp_new_ads_since", json={"p_cursor": 0},
                                     headers=headers)  # fmt: skip
            version = await http.post(f"{fake.base_url}/rest/v1/rpc/bp_schema_version", json={}, headers=headers)
        return brands.json(), listed.json(), version.json()

    assert asyncio.run(as_anon()) == ([], [], None), "row-level security: no policy, nothing visible"
    with pytest.raises(StoreError, match="SUPABASE_SERVICE_ROLE_KEY is the service role key"):
        with_store(fake, lambda store: store.list_brands(), key=fake.anon_key)
    assert fake.anon_key not in " ".join(str(r) for r in fake.requests)


# -- bulk, schema ------------------------------------------------------------------------------------


def test_bulk_writes_go_in_batches_never_a_request_per_row(fake: FakeSupabase) -> None:
    async def work(store: SupabaseStore) -> int:
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        stored = await store.upsert_ads("acme", [_ad(str(i)) for i in range(1200)])
        outcomes = [ItemOutcome(brand_slug="acme", asset="scraped_ads", kind="record", item_key=str(i),
                                status="invalid", reason="bad") for i in range(1200)]  # fmt: skip
        await store.replace_outcomes("acme", "scraped_ads", "run-1", outcomes)
        return len(stored.new)

    assert with_store(fake, work) == 1200
    assert [r.rows_sent for r in fake.requests_to("POST", "/rest/v1/rpc/bp_upsert_ads")] == [1, 1, 1]  # 500+500+200
    assert len(fake.requests_to("POST", "/rest/v1/rpc/bp_replace_outcomes")) == 1


def test_a_project_without_the_schema_is_refused_with_how_to_migrate(fake_supabase: FakeSupabase) -> None:
    with pytest.raises(StoreError, match="brand-pipeline db migrate"):
        with_store(fake_supabase, lambda store: store.list_brands())


# -- 7 and the blob store: Storage ------------------------------------------------------------------


def _staged(blobs: SupabaseBlobStore, data: bytes) -> Path:
    path = blobs.staging_dir() / f"{len(data)}.part"
    path.write_bytes(data)
    return path


def test_uploading_the_same_creative_twice_is_success_at_its_content_address(fake: FakeSupabase) -> None:
    sha = "ab" * 32

    async def work(blobs: SupabaseBlobStore) -> tuple[str, str, bool, bytes]:
        first = await blobs.put_file(_staged(blobs, b"png bytes"), sha, ".png")
        second = await blobs.put_file(_staged(blobs, b"png bytes"), sha, ".png")
        async with blobs.local_path(first) as local:
            data = local.read_bytes()
        return first, second, await blobs.exists(first), data

    first, second, exists, data = with_blobs(fake, work)
    assert first == second == f"ab/{sha}.png"
    assert (exists, data) == (True, b"png bytes")
    uploads = fake.requests_to("POST", f"/storage/v1/object/creatives/ab/{sha}.png")
    assert [r.status for r in uploads] == [200, 400], "Storage said Duplicate; the store counts it as stored"


def test_a_creative_over_the_upload_limit_is_refused_before_any_byte_is_sent(fake: FakeSupabase) -> None:
    async def work(blobs: SupabaseBlobStore) -> None:
        await blobs.put_file(_staged(blobs, b"x" * 2048), "cd" * 32, ".mp4")

    with pytest.raises(BlobTooLarge, match="resumable"):
        with_blobs(fake, work, max_upload_bytes=1024)
    assert not fake.requests_to("POST", "/storage/v1/object/creatives")


def test_reads_stream_to_a_temporary_file_that_is_removed_afterwards_even_when_cancelled(fake: FakeSupabase) -> None:
    sha = "ef" * 32

    async def work(blobs: SupabaseBlobStore) -> tuple[Path, bool, Path | None]:
        blob = await blobs.put_file(_staged(blobs, b"v" * 300_000), sha, ".mp4")
        async with blobs.local_path(blob) as local:
            size, kept = local.stat().st_size, local
        seen: list[Path] = []

        async def analyse() -> None:
            async with blobs.local_path(blob) as path:
                seen.append(path)
                await asyncio.sleep(30)

        task = asyncio.create_task(analyse())
        while not seen:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert size == 300_000
        return kept, kept.exists(), seen[0] if seen[0].exists() else None

    kept, still_there, cancelled_left = with_blobs(fake, work)
    assert (still_there, cancelled_left) == (False, None)
    assert not kept.parent.exists(), "the store's temporary folder goes when it closes"


def test_a_missing_object_reads_as_a_missing_file(fake: FakeSupabase) -> None:
    async def work(blobs: SupabaseBlobStore) -> bool:
        async with blobs.local_path("00/" + "0" * 64 + ".png"):
            pass
        return True

    with pytest.raises(FileNotFoundError):
        with_blobs(fake, work)
