"""The Apify Ad Library source, driven by the real apify-client against a local Apify API.

A start is a paid run: it is sent once, recorded before waiting, found again by its tag when its
reply is lost, and never repeated by the client. Reads are retried. Every failure names what to fix.
"""

from __future__ import annotations

import asyncio
import gc
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.sources.apify import ApifySource
from brand_pipeline.sources.apify_settings import RUN_TAG_KEY, ApifySettings
from brand_pipeline.sources.base import SourceError, SourceItem
from brand_pipeline_tests.fakes.apify import FakeApify, Fault, RunPlan

TOKEN = "apify_api_TOPSECRET0123456789abcdef"
BRAND = Brand(slug="acme", name="Acme", facebook_page_id="1234567890")


def ad(number: int) -> dict[str, Any]:
    return {
        "ad_archive_id": str(number),
        "page_id": "1234567890",
        "page_name": "Acme",
        "snapshot": {
            "body": {"text": f"Hot coffee, ad {number}"},
            "link_url": "https://acme.example/shop",
            "images": [{"original_image_url": f"https://cdn.example/{number}.jpg"}],
        },
    }


class MemoryLedger:
    """The ``ActorRunLedger`` a store will provide, kept in memory."""

    def __init__(self, started: dict[str, str] | None = None, on_record: Callable[[], None] | None = None) -> None:
        self.started = dict(started or {})
        self.recorded: list[tuple[str, str, str, str]] = []
        self.finished: list[tuple[str, str, str, float, int]] = []
        self.on_record = on_record

    async def started_run(self, brand_slug: str) -> str | None:
        return self.started.get(brand_slug)

    async def record_started_run(self, brand_slug: str, run_id: str, dataset_id: str, tag: str) -> None:
        self.started[brand_slug] = run_id
        self.recorded.append((brand_slug, run_id, dataset_id, tag))
        if self.on_record:
            self.on_record()

    async def record_finished_run(self, brand_slug: str, run_id: str, status: str, cost_usd: float, items: int) -> None:
        self.finished.append((brand_slug, run_id, status, cost_usd, items))


@pytest.fixture
def fake() -> Iterator[FakeApify]:
    with FakeApify(token=TOKEN) as api:
        yield api


def settings_for(fake: FakeApify, **overrides: Any) -> ApifySettings:
    fast = {"wait_timeout_s": 2.0, "start_timeout_s": 0.5, "retry_backoff_s": 0.01, "find_run_attempts": 2}
    return ApifySettings(**({"token": TOKEN, "api_url": fake.base_url} | fast | overrides))


def scrape(
    fake: FakeApify,
    brand: Brand = BRAND,
    ledger: MemoryLedger | None = None,
    run_key: str = "dagster-run-1",
    **overrides: Any,
) -> tuple[list[SourceItem], ApifySource]:
    source = ApifySource(settings_for(fake, **overrides), ledger or MemoryLedger(), run_key=run_key)

    async def collect() -> list[SourceItem]:
        return [item async for item in source.items(brand)]

    return asyncio.run(collect()), source


def scrape_error(fake: FakeApify, **kwargs: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        scrape(fake, **kwargs)
    return caught.value


def test_a_large_dataset_is_read_in_pages_of_1000_every_item_once_in_order(fake: FakeApify) -> None:
    fake.plan = RunPlan(items=[ad(n) for n in range(2345)], usage_total_usd=1.76)
    items, source = scrape(fake)
    assert [item.item["ad_archive_id"] for item in items] == [str(n) for n in range(2345)]
    assert all(item.error is None for item in items)
    assert fake.requests["items"] == 3, "pages of 1000, 1000 and 345"
    assert source.last_run is not None
    assert (source.last_run.items, source.last_run.cost_usd, source.last_run.started_new) == (2345, 1.76, True)
    assert source.last_run.status == "SUCCEEDED" and source.last_run.run_id in source.last_run.run_url


def test_the_input_has_the_actors_literal_dotted_keys_and_a_url_built_from_the_page_id(fake: FakeApify) -> None:
    scrape(fake, country_code="DE", period="last30d", sort_by="most_recent", active_status="active", count=50)
    (start,) = fake.starts
    tag = start.input.pop(RUN_TAG_KEY)
    assert start.input == {
        "urls": [
            {
                "url": "https://www.facebook.com/ads/library/?active_status=all&ad_type=all"
                "&country=DE&view_all_page_id=1234567890"
            }
        ],
        "count": 50,
        "scrapeAdDetails": False,
        "scrapePageAds.activeStatus": "active",
        "scrapePageAds.countryCode": "DE",
        "scrapePageAds.period": "last30d",
        "scrapePageAds.sortBy": "most_recent",
    }
    assert tag == "brand_pipeline:acme:dagster-run-1"
    assert start.params["maxItems"] == "50", "a pay-per-result actor cannot bill past count"


def test_a_brands_own_ad_library_url_wins_and_a_large_input_arrives_gzipped(fake: FakeApify) -> None:
    long_url = "https://www.facebook.com/ads/library/?view_all_page_id=42&q=" + "coffee%20" * 200
    scrape(fake, brand=Brand(slug="acme", name="Acme", facebook_page_id="99", ad_library_url=long_url))
    (start,) = fake.starts
    assert start.gzipped and start.body_bytes > 1024
    assert start.input["urls"] == [{"url": long_url}]


def test_a_brand_without_url_or_page_id_is_refused_before_any_request(fake: FakeApify) -> None:
    error = scrape_error(fake, brand=Brand(slug="acme", name="Acme"))
    assert "neither ad_library_url nor facebook_page_id" in str(error)
    assert sum(fake.requests.values()) == 0


@pytest.mark.parametrize("status", ["FAILED", "TIMED-OUT", "ABORTED"])
def test_a_run_that_does_not_succeed_raises_with_its_status_and_console_url(fake: FakeApify, status: str) -> None:
    fake.plan = RunPlan(items=[ad(1)], final_status=status, polls_to_finish=2, status_message="Facebook blocked us")
    ledger = MemoryLedger()
    error = scrape_error(fake, ledger=ledger)
    run = next(iter(fake.runs.values()))
    assert status in str(error) and "Facebook blocked us" in str(error)
    assert f"https://console.apify.com/actors/{run.act_id}/runs/{run.id}" in str(error)
    assert ledger.finished == [("acme", run.id, status, 0.25, 0)]
    assert fake.requests["items"] == 0, "a failed run's partial dataset is not read"


def test_a_run_still_running_at_the_deadline_raises_and_stays_recorded_for_resuming(fake: FakeApify) -> None:
    fake.plan = RunPlan(polls_to_finish=None)
    ledger = MemoryLedger()
    error = scrape_error(fake, ledger=ledger, wait_timeout_s=0.3)
    run = next(iter(fake.runs.values()))
    assert "still RUNNING" in str(error) and "wait_timeout_s" in str(error) and run.id in str(error)
    assert ledger.started == {"acme": run.id} and ledger.finished == []


def test_the_run_id_is_recorded_before_the_first_status_poll(fake: FakeApify) -> None:
    polls_at_record: list[int] = []
    ledger = MemoryLedger(on_record=lambda: polls_at_record.append(fake.requests["run"]))
    scrape(fake, ledger=ledger)
    (recorded,) = ledger.recorded
    assert polls_at_record == [0]
    run = fake.runs[recorded[1]]
    assert recorded == ("acme", run.id, run.dataset_id, "brand_pipeline:acme:dagster-run-1")


def test_an_invalid_token_names_the_setting_and_never_shows_the_token(fake: FakeApify) -> None:
    wrong = "apify_api_WRONG9876543210zyxwvu"
    error = scrape_error(fake, token=wrong)
    assert "APIFY_TOKEN is invalid" in str(error) and "ApifySettings.token" in str(error)
    assert wrong not in str(error) and wrong not in repr(error) and TOKEN not in str(error)
    assert fake.starts == [], "the start was refused"


def test_a_forbidden_start_is_reported_as_a_token_problem(fake: FakeApify) -> None:
    fake.inject("start", Fault(status=403))
    assert "APIFY_TOKEN is invalid" in str(scrape_error(fake))


def test_an_account_out_of_credit_says_so_and_names_the_setting(fake: FakeApify) -> None:
    fake.inject("start", Fault(status=402))
    message = str(scrape_error(fake))
    assert "out of credit" in message and "not-enough-usage-to-run-paid-actor" in message
    assert "ApifySettings.token" in message
    assert fake.requests["start"] == 1


def test_a_503_on_start_is_not_retried_and_the_started_run_is_found_by_its_tag(fake: FakeApify) -> None:
    fake.plan = RunPlan(items=[ad(1), ad(2)])
    fake.inject("start", Fault(status=503, after_effect=True))  # the run exists; its reply was a 503
    ledger = MemoryLedger()
    items, source = scrape(fake, ledger=ledger)
    assert fake.requests["start"] == 1 and len(fake.starts) == 1, "one start, one paid run"
    assert [item.item["ad_archive_id"] for item in items] == ["1", "2"]
    (run,) = fake.runs.values()
    assert ledger.started == {"acme": run.id}
    assert source.last_run is not None and source.last_run.started_new


def test_a_start_whose_reply_is_lost_finds_the_run_it_created(fake: FakeApify) -> None:
    fake.plan = RunPlan(items=[ad(7)])
    fake.inject("start", Fault(drop=True, after_effect=True))
    items, _ = scrape(fake)
    assert fake.requests["start"] == 1 and len(fake.starts) == 1
    assert [item.item["ad_archive_id"] for item in items] == ["7"]


def test_a_start_that_times_out_finds_the_run_the_slow_reply_was_for(fake: FakeApify) -> None:
    fake.plan = RunPlan(items=[ad(8)])
    fake.inject("start", Fault(delay_s=1.0, after_effect=True))
    items, _ = scrape(fake, start_timeout_s=0.2)
    assert fake.requests["start"] == 1 and len(fake.starts) == 1
    assert [item.item["ad_archive_id"] for item in items] == ["8"]


def test_a_failed_start_that_created_no_run_raises_instead_of_starting_again(fake: FakeApify) -> None:
    fake.inject("start", Fault(status=503))  # refused before any run existed
    error = scrape_error(fake)
    assert fake.requests["start"] == 1 and fake.starts == []
    assert "HTTP 503" in str(error) and "none was started" in str(error)


def test_other_runs_of_the_actor_are_not_mistaken_for_the_lost_one(fake: FakeApify) -> None:
    fake.add_run(RunPlan(items=[ad(1)]), run_input={RUN_TAG_KEY: "brand_pipeline:acme:another-run"})
    fake.add_run(RunPlan(items=[ad(2)]), run_input={"urls": []})
    fake.inject("start", Fault(status=500))
    assert "none was started" in str(scrape_error(fake))


@pytest.mark.parametrize("status", [429, 503])
def test_a_failing_dataset_page_is_retried_and_the_scrape_completes(fake: FakeApify, status: int) -> None:
    fake.plan = RunPlan(items=[ad(n) for n in range(1500)])
    fake.inject("items", Fault(status=status), times=2)
    items, _ = scrape(fake)
    assert len(items) == 1500 and len({item.position for item in items}) == 1500
    assert fake.requests["items"] == 2 + 2, "two pages, two retried failures"


def test_a_dataset_that_keeps_failing_raises_after_the_retries(fake: FakeApify) -> None:
    fake.inject("items", Fault(status=500, message="storage down"), times=10)
    error = scrape_error(fake, read_retries=2)
    assert "HTTP 500" in str(error) and "storage down" in str(error)
    assert fake.requests["items"] == 3


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
def test_a_recorded_run_that_is_running_or_succeeded_is_read_instead_of_starting_one(
    fake: FakeApify, status: str
) -> None:
    earlier = fake.add_run(RunPlan(items=[ad(3)], polls_to_finish=2 if status == "RUNNING" else 0))
    assert earlier.status == status
    items, source = scrape(fake, ledger=MemoryLedger(started={"acme": earlier.id}))
    assert fake.starts == []
    assert [item.item["ad_archive_id"] for item in items] == ["3"]
    assert source.last_run is not None and source.last_run.run_id == earlier.id
    assert not source.last_run.started_new


def test_fresh_scrape_starts_a_run_despite_a_recorded_one(fake: FakeApify) -> None:
    earlier = fake.add_run(RunPlan(items=[ad(3)], polls_to_finish=0))
    fake.plan = RunPlan(items=[ad(4)])
    items, _ = scrape(fake, ledger=MemoryLedger(started={"acme": earlier.id}), fresh_scrape=True)
    assert len(fake.starts) == 1
    assert [item.item["ad_archive_id"] for item in items] == ["4"]


def test_a_recorded_run_that_failed_is_replaced_by_a_new_one(fake: FakeApify) -> None:
    earlier = fake.add_run(RunPlan(items=[], final_status="FAILED", polls_to_finish=0))
    fake.plan = RunPlan(items=[ad(5)])
    items, _ = scrape(fake, ledger=MemoryLedger(started={"acme": earlier.id}))
    assert len(fake.starts) == 1 and [item.item["ad_archive_id"] for item in items] == ["5"]


def test_error_records_and_login_gated_ads_become_items_with_the_reason(fake: FakeApify) -> None:
    gated = {"ad_archive_id": "66", "gated_type": "AGE_GATED", "snapshot": {"body": {"text": "18+ only"}}}
    failed = {"error": "Page not found", "errorDescription": "view_all_page_id 1234567890 has no ads", "url": "x"}
    fake.plan = RunPlan(items=[ad(1), failed, gated])
    items, _ = scrape(fake)
    good, actor_error, login_gated = items
    assert good.error is None and parse_ad_item(good.item).media
    assert actor_error.error == "the actor reported: Page not found (view_all_page_id 1234567890 has no ads)"
    assert actor_error.item == failed
    # A login-gated ad is readable: the source refuses the ad made of it (only if it is parsed).
    assert login_gated.error is None and login_gated.refuse is not None and good.refuse is not None
    assert good.refuse(parse_ad_item(good.item)) is None
    refusal = login_gated.refuse(parse_ad_item(login_gated.item))
    assert refusal is not None and "no media and no link" in refusal and "AGE_GATED" in refusal
    assert [item.position for item in items] == [f"apify run {next(iter(fake.runs))} item {n}" for n in range(3)]


def test_cost_falls_back_to_the_price_per_1000_items_when_apify_reports_none(fake: FakeApify) -> None:
    fake.plan = RunPlan(items=[ad(n) for n in range(400)], usage_total_usd=None)
    _, source = scrape(fake, usd_per_1000_items=2.5)
    assert source.last_run is not None
    assert (source.last_run.cost_usd, source.last_run.cost_estimated) == (1.0, True)


def test_the_token_appears_in_no_setting_repr_dump_or_error(fake: FakeApify) -> None:
    settings = settings_for(fake)
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    shown.append(repr(ApifySource(settings, MemoryLedger())))
    fake.plan = RunPlan(final_status="FAILED", status_message=f"crashed with {TOKEN}")
    errors = [scrape_error(fake, run_key="failed")]
    fake.plan = RunPlan(polls_to_finish=None)
    errors.append(scrape_error(fake, run_key="slow", wait_timeout_s=0.2))
    fake.inject("start", Fault(status=402, message=f"no credit for token {TOKEN}"))
    errors.append(scrape_error(fake, run_key="broke"))
    fake.inject("start", Fault(status=503))
    errors.append(scrape_error(fake, run_key="lost"))
    errors.append(scrape_error(fake, token=TOKEN[::-1]))
    shown += [text for error in errors for text in (str(error), repr(error))]
    assert all(TOKEN not in text and TOKEN[::-1] not in text for text in shown)
    expected = ["crashed with ***", "still RUNNING", "out of credit", "none was started", "APIFY_TOKEN is invalid"]
    assert [phrase in str(error) for error, phrase in zip(errors, expected, strict=True)] == [True] * 5


def test_scrapes_in_twenty_event_loops_leak_no_sockets(fake: FakeApify) -> None:
    fake.plan = RunPlan(items=[ad(1)])
    scrape(fake)  # warm-up: imports and the client's lazily built parts
    before = len(os.listdir("/proc/self/fd"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        counts = {len(scrape(fake)[0]) for _ in range(20)}
        gc.collect()
    assert counts == {1}
    assert len(os.listdir("/proc/self/fd")) - before <= 2, "each scrape closes the clients it opened"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
