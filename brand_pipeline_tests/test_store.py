"""The store contract, one suite for both stores: each test runs on PostgresStore and on SupabaseStore
(the real supabase-py client against the local Supabase fake), on a real Postgres either way."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.domain.brands import Brand
from brand_pipeline.domain.personas import Persona, PersonaSynthesis
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.store.migrate import apply_migrations, migration_files
from brand_pipeline.store.models import (
    AdCreativeLink,
    CopyAnalysis,
    Creative,
    CreativeAnalysis,
    ItemOutcome,
    ModelUsage,
)
from brand_pipeline.store.protocol import RowMissing, StoreError
from brand_pipeline.store.rows import ad_json
from brand_pipeline_tests.stores import STORE_KINDS, StoreRunner, migrate


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, database_url: str) -> StoreRunner:
    """Run work against one of the two stores; both sit on this test's fresh database."""
    if request.param == "postgres":
        return StoreRunner("postgres", database_url, None)
    migrate(database_url)  # as `brand-pipeline db migrate` would, over the project's database URL
    return StoreRunner("supabase", database_url, request.getfixturevalue("fake_supabase"))


def _ad(ad_id: str, **snapshot: object) -> AdRecord:
    return parse_ad_item({"ad_archive_id": ad_id, "snapshot": {"body": {"text": "hello"}, **snapshot}})


def _running(ad_id: str, running: bool) -> AdRecord:
    return parse_ad_item({"ad_archive_id": ad_id, "is_active": running, "snapshot": {"body": {"text": ad_id}}})


def _creative(char: str) -> Creative:
    return Creative(sha256=char * 64, kind="image", mime_type="image/png", size_bytes=3, blob_path=f"{char}.png")


def _outcome(key: str) -> ItemOutcome:
    return ItemOutcome(
        brand_slug="acme", asset="scraped_ads", kind="record", item_key=key, status="invalid", reason="x"
    )


def test_migrations_applied_twice_are_a_no_op(database_url: str) -> None:
    async def apply() -> tuple[list[str], list[str], int]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            first = await apply_migrations(conn)
            cursor = await conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            tables = (await cursor.fetchone())[0]
            second = await apply_migrations(conn)
            return first, second, tables

    first, second, tables = asyncio.run(apply())
    assert first == [version for version, _ in migration_files()]
    assert second == []
    assert tables >= 10


def test_a_batch_holding_the_same_key_twice_writes_one_row_last_wins(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        return await s.upsert_ads("acme", [_ad("1", title="first"), _ad("1", title="second")])

    stored = store(work)
    assert stored.new == ["1"]
    assert store.sql("SELECT title FROM ads") == [("second",)]


def test_a_partial_brand_update_leaves_other_columns_intact(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme", ad_library_url="https://x", facebook_page_id="42")])
        await s.upsert_brands([Brand(slug="acme", name="Acme Inc")])
        return await s.get_brand("acme")

    brand = store(work)
    assert (brand.name, brand.ad_library_url, brand.facebook_page_id) == ("Acme Inc", "https://x", "42")


def test_bulk_writes_and_reads_are_not_capped(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        stored = await s.upsert_ads("acme", [_ad(str(i), title=f"t{i}") for i in range(2500)])
        copies = await s.copies_to_analyse("acme", "v1", retry_semantic=False)
        evidence = await s.brand_evidence("acme", video_version="v", image_version="i", copy_version="c")
        return stored, await s.new_ads_since(0), await s.brand_summary("acme"), copies, evidence

    stored, new_ads, summary, copies, evidence = store(work)
    assert len(stored.new) == 2500
    assert [(n.brand_slug, n.count) for n in new_ads] == [("acme", 2500)]
    assert summary.ads == 2500
    assert len({c.copy_hash for c in copies}) == 2500
    assert len({ad.ad_archive_id for ad in evidence}) == 2500


def test_outcomes_of_a_run_replace_the_previous_runs(store: StoreRunner) -> None:
    async def work(s):
        await s.replace_outcomes("acme", "scraped_ads", "run-1", [_outcome("a"), _outcome("b"), _outcome("a")])
        await s.replace_outcomes("acme", "scraped_ads", "run-2", [_outcome("b")])
        return await s.outcomes("acme")

    assert [(o.item_key, o.run_id) for o in store(work)] == [("b", "run-2")]


def test_a_link_to_a_creative_that_was_never_stored_is_refused(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        await s.upsert_ads("acme", [_ad("1")])
        await s.save_creatives([], [AdCreativeLink(ad_archive_id="1", slot="images[0]", sha256="f" * 64)])

    with pytest.raises(StoreError) as refused:
        store(work)
    assert refused.value.sqlstate == "23503"  # foreign_key_violation, whichever store passed it on


def test_the_same_creative_saved_twice_is_one_row(store: StoreRunner) -> None:
    creative = _creative("a")

    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        await s.upsert_ads("acme", [_ad("1"), _ad("2")])
        for ad_id in ("1", "2"):
            await s.save_creatives(
                [creative], [AdCreativeLink(ad_archive_id=ad_id, slot="images[0]", sha256=creative.sha256)]
            )
        slots = await s.stored_slots(["1", "2", "3"])
        return await s.count_creatives("acme", "image"), await s.known_creatives([creative.sha256, "b" * 64]), slots

    assert store(work) == (1, {creative.sha256}, {("1", "images[0]"), ("2", "images[0]")})


def test_scrapes_tell_which_ads_started_stopped_or_kept_running(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        first = await s.begin_scrape("acme", "run-1", "sample")
        seen = await s.upsert_ads("acme", [_running("a", True), _running("b", True), _running("c", False)], "run-1",
                                  scrape_id=first)  # fmt: skip
        again = await s.upsert_ads("acme", [_running("a", True)], "run-1", scrape_id=first)  # same scrape
        one = await s.finish_scrape("acme", first, complete=True, seen=seen)
        second = await s.begin_scrape("acme", "run-2", "sample")
        seen_2 = await s.upsert_ads("acme", [_running("a", True), _running("c", True)], "run-2", scrape_id=second)
        two = await s.finish_scrape("acme", second, complete=True, seen=seen_2)
        return seen, again, one, seen_2, two

    seen, again, one, seen_2, two = store(work)
    assert (seen.new, seen.started, seen.stopped) == (["a", "b", "c"], ["a", "b"], [])
    assert (again.unchanged, again.started, again.still_running) == (["a"], [], []), "counted once per scrape"
    assert (one.seen, one.started, one.stopped, one.no_longer_seen) == (3, 2, 0, 0)
    assert (seen_2.still_running, seen_2.started) == (["a"], ["c"])
    assert (two.started, two.stopped, two.still_running, two.no_longer_seen) == (1, 1, 1, 1)  # b went away
    assert store.sql("SELECT ad_archive_id, times_seen, running FROM brand_ads ORDER BY 1") == [
        ("a", 2, True),
        ("b", 1, False),
        ("c", 2, True),
    ]


def test_an_update_of_a_row_that_does_not_exist_raises(store: StoreRunner) -> None:
    async def finish_missing_run(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        await s.finish_source_run("acme", "no-such-key", "run-x", "SUCCEEDED", 0.5, 10)

    async def finish_missing_scrape(s):
        await s.finish_scrape("acme", 424242, complete=True, seen=await s.upsert_ads("acme", []))

    with pytest.raises(RowMissing):
        store(finish_missing_run)
    with pytest.raises(RowMissing):
        store(finish_missing_scrape)


def test_paid_runs_and_model_usage_are_ledgered(store: StoreRunner) -> None:
    usage = ModelUsage(brand_slug="acme", asset="copy_analyses", run_id="r1", model="m", item_key="k", status="done",
                       input_tokens=10, output_tokens=5, cost_usd=0.25, attempts=2)  # fmt: skip

    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        await s.record_source_run("acme", "key-1", "apify", "apify-run-1", "ds-1", "tag")
        await s.finish_source_run("acme", "key-1", "apify-run-1", "SUCCEEDED", 0.5, 10)
        await s.record_model_usage([usage, usage.model_copy(update={"run_id": "r2"})])
        return await s.source_run("acme", "key-1"), await s.model_costs("acme"), await s.model_costs(run_ids=["r2"])

    run, costs, of_r2 = store(work)
    assert run == "apify-run-1"
    assert [(c.model, c.calls, c.attempts, c.input_tokens, c.cost_usd) for c in costs] == [("m", 2, 4, 20, 0.5)]
    assert [(c.calls, c.cost_usd) for c in of_r2] == [(1, 0.25)]
    assert store.sql("SELECT status, items FROM source_runs") == [("SUCCEEDED", 10)]


def test_a_repeated_analysis_adds_its_tokens_and_retrying_finds_it_again(store: StoreRunner) -> None:
    quota = SemanticResult(status="quota_exhausted", reason="429", model="m", input_tokens=7, cost_usd=0.1, attempts=3)
    creative = _creative("c")

    def analysis(ad_ids: list[str]) -> CreativeAnalysis:
        return CreativeAnalysis(sha256=creative.sha256, kind="image", prompt_version="v1", facts={"w": 1},
                                facts_status="done", semantic=quota, ad_ids=ad_ids)  # fmt: skip

    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        await s.upsert_ads("acme", [_ad("1"), _ad("2")])
        await s.save_creatives([creative], [AdCreativeLink(ad_archive_id="1", slot="images[0]", sha256="c" * 64)])
        await s.save_analyses([analysis(["1"])])
        await s.save_analyses([analysis(["2"])])
        await s.save_copy_analyses([CopyAnalysis(copy_hash="h", copy_text="hello", prompt_version="v1", facts=None,
                                                 facts_status="skipped", semantic=quota, ad_ids=["1"])])  # fmt: skip
        retry = await s.creatives_to_analyse("acme", "image", "v1", retry_semantic=True)
        return retry, await s.creatives_to_analyse("acme", "image", "v1", retry_semantic=False)

    retry, fresh = store(work)
    assert [(c.sha256, c.facts) for c in retry] == [(creative.sha256, {"w": 1})], "facts are reused on a retry"
    assert fresh == []
    assert store.sql("SELECT input_tokens, attempts, ad_ids, cost_usd::float FROM creative_analyses") == [
        (14, 6, ["1", "2"], 0.2)
    ]


def test_a_synthesis_is_stored_with_its_personas_and_traced_back(store: StoreRunner) -> None:
    creative = _creative("d")
    persona = Persona(name="Hiker", profile={"age": "30s"}, evidence_ad_ids=["1"], evidence_creative_shas=["d" * 64])
    synthesis = PersonaSynthesis(brand_slug="acme", prompt_version="p1", status="done", evidence={"ads": 1},
                                 model="m", cost_usd=0.5, personas=[persona], run_id="run-9")  # fmt: skip

    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        await s.upsert_ads("acme", [_ad("1")], "run-1")
        await s.save_creatives([creative], [AdCreativeLink(ad_archive_id="1", slot="images[0]", sha256="d" * 64)])
        synthesis_id = await s.save_persona_synthesis(synthesis)
        latest = await s.latest_persona_synthesis("acme")
        lineage = await s.persona_lineage(latest.personas[0].id)
        return synthesis_id, latest, lineage, await s.creative_lineage("dddddddd"), await s.persona_lineage(999)

    synthesis_id, latest, lineage, by_creative, missing = store(work)
    assert (latest.id, latest.cost_usd, [p.name for p in latest.personas]) == (synthesis_id, 0.5, ["Hiker"])
    assert [(ad.ad_archive_id, ad.scraped_in_run) for ad in lineage.ads] == [("1", "run-1")]
    assert [c.sha256 for c in lineage.ads[0].creatives] == ["d" * 64]
    assert [p.name for p in by_creative.personas] == ["Hiker"] and by_creative.ads[0].brands == ["acme"]
    assert missing is None


def test_brands_are_listed_and_archived_but_never_deleted(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme"), Brand(slug="globex", name="Globex", group="g")])
        archived = await s.archive_brand("globex"), await s.archive_brand("globex")
        ensured = await s.ensure_brand("initech")
        return archived, await s.list_brands(), await s.list_brands(include_archived=True), ensured

    archived, active, every, ensured = store(work)
    assert archived == (True, False), "archiving an archived brand is a no, not an error"
    assert [b.slug for b in active] == ["acme", "initech"]
    assert [(b.slug, b.group, b.archived_at is not None) for b in every][1] == ("globex", "g", True)
    assert ensured.name == "initech"


def test_brand_slugs_are_validated_before_reaching_the_database() -> None:
    with pytest.raises(ValueError):
        Brand(slug="Not A Slug", name="x")


def test_an_ad_is_rewritten_only_when_what_the_source_says_changed(store: StoreRunner) -> None:
    async def work(s):
        await s.upsert_brands([Brand(slug="acme", name="Acme")])
        first = await s.upsert_ads("acme", [_ad("1", title="a"), _ad("2", title="b")])
        again = await s.upsert_ads("acme", [_ad("1", title="a"), _ad("2", title="changed")])
        return first, again

    first, again = store(work)
    assert (first.new, again.unchanged, again.updated) == (["1", "2"], ["1"], ["2"])
    assert store.sql("SELECT title FROM ads ORDER BY ad_archive_id") == [("a",), ("changed",)]


def test_the_stored_content_hash_is_the_ads_own_and_ignores_media_signatures(sample_dir: Path) -> None:
    # The definition the stored hashes are made with: a change to it would rewrite every ad once.
    def defined(ad: AdRecord) -> str:
        return ad.content_hash

    ads = [parse_ad_item(item) for item in _sample_items(sample_dir)]
    ads += [
        parse_ad_item({"ad_archive_id": "tz", "start_date": "2024-01-01T10:00:00.25+05:30",
                       "snapshot": {"n": [1, 2.5, None, True], "ü": {"b": "é", "a": 1}}}),
        AdRecord(ad_archive_id="odd", snapshot={"when": datetime(2024, 1, 1, tzinfo=UTC), "tags": {"x"}}),
    ]  # fmt: skip
    assert len(ads) > 10
    assert [json.loads(ad_json(ad))["content_hash"] for ad in ads] == [defined(ad) for ad in ads]
    signed = {"images": [{"original_image_url": "https://scontent.example/1.jpg?oe=1&sig=a"}]}
    resigned = {"images": [{"original_image_url": "https://scontent.example/1.jpg?oe=2&sig=b"}]}
    first, again = (parse_ad_item({"ad_archive_id": "s", "snapshot": snap}) for snap in (signed, resigned))
    assert first.content_hash == again.content_hash
    assert first.content_hash != parse_ad_item({"ad_archive_id": "s", "snapshot": {}}).content_hash


def _sample_items(sample_dir: Path) -> list[dict]:
    items = []
    for export in sample_dir.glob("*.json*"):
        lines = [export.read_text()] if export.suffix == ".json" else export.read_text().splitlines()
        for line in lines:
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                continue
            items += [i for i in (parsed if isinstance(parsed, list) else [parsed]) if isinstance(i, dict)]
    return [i for i in items if isinstance(i.get("snapshot"), dict) and i.get("ad_archive_id")]


def test_ads_of_a_brand_that_does_not_exist_are_refused_with_the_databases_reason(store: StoreRunner) -> None:
    with pytest.raises(StoreError) as refused:
        store(lambda s: s.upsert_ads("nobody", [_ad(str(i)) for i in range(1200)]))
    assert refused.value.sqlstate == "23503"
    assert store.sql("SELECT count(*) FROM brand_ads") == [(0,)]
