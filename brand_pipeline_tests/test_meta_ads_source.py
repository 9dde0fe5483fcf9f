"""The Ad Library API source, driven over real HTTP against a local fake of Graph's ``ads_archive``."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import aclosing
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.sources.base import SourceError, SourceItem
from brand_pipeline.sources.meta_ads import GRAPH_FIELDS, MetaAdLibrarySettings, MetaAdLibrarySource
from brand_pipeline_tests.fakes.graph_api import FakeGraphAPI, GraphFault, graph_ad

TOKEN = "EAAGtestTOKEN0123456789abcdefSECRET"
PAGE_ID = "1000123"
BRAND = Brand(slug="acme", name="Acme Outdoor", facebook_page_id=PAGE_ID)
NOW = datetime(2026, 6, 2, tzinfo=UTC)


@pytest.fixture
def graph() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI(access_token=TOKEN) as fake:
        yield fake


def source_for(graph: FakeGraphAPI, token: str = TOKEN, **settings: object) -> MetaAdLibrarySource:
    values = {"reached_countries": ["DE", "FR"], "backoff_initial_s": 0, "backoff_max_s": 0} | settings
    config = MetaAdLibrarySettings(access_token=token, base_url=graph.base_url, **values)
    return MetaAdLibrarySource(config, clock=lambda: NOW)


def collect(source: MetaAdLibrarySource, brand: Brand = BRAND) -> list[SourceItem]:
    async def run() -> list[SourceItem]:
        return [item async for item in source.items(brand)]

    return asyncio.run(run())


def failure(source: MetaAdLibrarySource, brand: Brand = BRAND) -> SourceError:
    with pytest.raises(SourceError) as caught:
        collect(source, brand)
    return caught.value


def add_ads(graph: FakeGraphAPI, count: int) -> list[str]:
    ids = [f"{9000000 + n}" for n in range(count)]
    graph.add_ads(PAGE_ID, [graph_ad(ad_id, PAGE_ID) for ad_id in ids])
    return ids


def ad_ids(items: list[SourceItem]) -> list[str]:
    return [item.item["ad_archive_id"] for item in items]


# -- paging ------------------------------------------------------------------------------------


def test_all_ads_are_read_by_following_paging_next(graph: FakeGraphAPI) -> None:
    ids = add_ads(graph, 130)
    items = collect(source_for(graph, page_size=25))
    assert ad_ids(items) == ids, "every ad once, in Graph's order"
    assert graph.requests == 6, "130 ads at 25 a page: five full pages and one of five"
    assert [q.get("after") is None for q in graph.queries] == [True] + [False] * 5


def test_an_empty_page_behind_a_next_link_ends_the_results(graph: FakeGraphAPI) -> None:
    graph.next_on_last_page = True  # Graph sometimes offers one more page, which is empty
    ids = add_ads(graph, 50)
    assert ad_ids(collect(source_for(graph, page_size=25))) == ids
    assert graph.requests == 3


def test_every_query_names_countries_page_fields_and_filters(graph: FakeGraphAPI) -> None:
    add_ads(graph, 60)
    collect(source_for(graph, page_size=25, delivery_date_min=date(2026, 1, 1), delivery_date_max=date(2026, 5, 31)))
    assert graph.requests == 3
    for query in graph.queries:
        assert json.loads(query["ad_reached_countries"]) == ["DE", "FR"]
        assert query["search_page_ids"] == PAGE_ID
        assert set(query["fields"].split(",")) == set(GRAPH_FIELDS)
        assert query["access_token"] == TOKEN
        assert query["ad_active_status"] == "ALL" and query["ad_type"] == "ALL"
        assert (query["ad_delivery_date_min"], query["ad_delivery_date_max"]) == ("2026-01-01", "2026-05-31")


def test_the_page_id_can_come_from_the_ad_library_url(graph: FakeGraphAPI) -> None:
    add_ads(graph, 3)
    url = f"https://www.facebook.com/ads/library/?active_status=all&country=DE&view_all_page_id={PAGE_ID}"
    items = collect(source_for(graph), Brand(slug="acme", name="Acme", ad_library_url=url))
    assert len(items) == 3 and graph.queries[0]["search_page_ids"] == PAGE_ID


def test_a_brand_without_a_page_id_says_what_to_set(graph: FakeGraphAPI) -> None:
    error = failure(source_for(graph), Brand(slug="acme", name="Acme", website="https://acme.example"))
    assert "'acme' has no Facebook page id" in str(error)
    assert "facebook_page_id" in str(error) and "view_all_page_id" in str(error)
    assert graph.requests == 0


def test_a_paging_link_to_another_host_is_not_followed(graph: FakeGraphAPI, loopback_only: list[str]) -> None:
    add_ads(graph, 30)
    graph.next_base_url = "https://graph.attacker.example"
    error = failure(source_for(graph, page_size=25))
    assert "refusing to follow" in str(error) and TOKEN not in str(error)
    assert graph.requests == 1 and loopback_only == [], "the token never left for the other host"


# -- "reduce the amount of data" ------------------------------------------------------------------


def test_reduce_data_halves_the_limit_and_still_yields_every_ad_once(graph: FakeGraphAPI) -> None:
    graph.reduce_data_above = 10
    ids = add_ads(graph, 45)
    items = collect(source_for(graph, page_size=40))
    assert ad_ids(items) == ids
    assert [q["limit"] for q in graph.queries] == ["40", "20", "10", "10", "10", "10", "10"]
    assert graph.errors_served[1] == 2


def test_reduce_data_mid_way_retries_the_same_cursor_with_half_the_limit(graph: FakeGraphAPI) -> None:
    ids = add_ads(graph, 60)

    async def run() -> list[SourceItem]:
        items = []
        async with aclosing(source_for(graph, page_size=20).items(BRAND)) as stream:
            async for item in stream:
                items.append(item)
                if len(items) == 20:  # first page read: the next request is refused
                    graph.fail_next(GraphFault.reduce_data())
        return items

    assert ad_ids(asyncio.run(run())) == ids
    refused, retried = graph.queries[1], graph.queries[2]
    assert retried["after"] == refused["after"], "continues from the cursor that was refused"
    assert (refused["limit"], retried["limit"]) == ("20", "10")


def test_reduce_data_even_at_limit_one_fails_clearly(graph: FakeGraphAPI) -> None:
    graph.reduce_data_above = 0
    add_ads(graph, 5)
    error = failure(source_for(graph, page_size=8))
    assert "at limit=1" in str(error)
    assert [q["limit"] for q in graph.queries] == ["8", "4", "2", "1"]


# -- rate limits and server errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [GraphFault.rate_limited(c) for c in (4, 17, 613, 80004)] + [GraphFault.server_error()],
    ids=["code4", "code17", "code613", "code80004", "http500"],
)
def test_rate_limits_and_server_errors_are_retried(graph: FakeGraphAPI, fault: GraphFault) -> None:
    ids = add_ads(graph, 30)
    graph.fail_next(fault, times=2)
    assert ad_ids(collect(source_for(graph, page_size=25))) == ids
    assert graph.requests == 2 + 2, "two refusals, then both pages"
    assert graph.errors_served[fault.code] == 2


def test_code_613_twice_then_success_costs_three_attempts_for_that_page(graph: FakeGraphAPI) -> None:
    ids = add_ads(graph, 10)
    graph.fail_next(GraphFault.rate_limited(613), times=2)
    assert ad_ids(collect(source_for(graph))) == ids
    assert graph.requests == 3 and graph.queries[0] == graph.queries[2], "the same request, three times"


def test_retries_are_bounded(graph: FakeGraphAPI) -> None:
    add_ads(graph, 10)
    graph.fail_next(GraphFault.rate_limited(4), times=10)
    error = failure(source_for(graph, max_retries=2))
    assert "gave up after 3 attempts" in str(error) and "rate limited" in str(error)
    assert graph.requests == 3


def test_an_unreachable_api_is_retried_then_reported_without_the_token(graph: FakeGraphAPI) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = MetaAdLibrarySettings(
        access_token=TOKEN, base_url=f"http://127.0.0.1:{port}", reached_countries=["DE"],
        max_retries=1, backoff_initial_s=0, backoff_max_s=0,
    )  # fmt: skip
    error = failure(MetaAdLibrarySource(config))
    assert "ConnectError" in str(error) and "gave up after 2 attempts" in str(error)
    assert "access_token=%5Bredacted%5D" in str(error) and TOKEN not in str(error)


# -- token and permission errors ------------------------------------------------------------------


def test_an_expired_token_names_the_setting_and_not_the_token(graph: FakeGraphAPI) -> None:
    graph.expire_token()
    error = failure(source_for(graph))
    assert "META_ACCESS_TOKEN is invalid or expired" in str(error)
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    assert graph.requests == 1, "a bad token is not retried"


def test_a_wrong_token_is_reported_the_same_way(graph: FakeGraphAPI) -> None:
    error = failure(source_for(graph, token="EAAGsomeoneElsesToken987"))
    assert "META_ACCESS_TOKEN is invalid or expired" in str(error) and "190" in str(error)
    assert "EAAGsomeoneElsesToken987" not in str(error)


def test_an_unconfirmed_identity_says_where_to_confirm_it(graph: FakeGraphAPI) -> None:
    graph.require_identity_confirmation()
    error = failure(source_for(graph))
    assert "has not confirmed its identity" in str(error) and "facebook.com/ID" in str(error)
    assert "2332002" in str(error) and graph.requests == 1


def test_other_refusals_show_the_request_with_the_token_redacted(graph: FakeGraphAPI) -> None:
    graph.fail_next(GraphFault.invalid_parameter(f"Invalid parameter (token {TOKEN} echoed back)"))
    message = str(failure(source_for(graph)))
    assert "ads_archive?" in message and "access_token=%5Bredacted%5D" in message
    assert "token [redacted] echoed back" in message and TOKEN not in message


def test_the_token_is_not_in_any_repr(graph: FakeGraphAPI) -> None:
    source = source_for(graph)
    for text in (repr(source), str(source), repr(source.settings), str(source.settings.model_dump())):
        assert TOKEN not in text
    with pytest.raises(ValidationError) as caught:
        MetaAdLibrarySettings(access_token=TOKEN, reached_countries=["Germany"])
    assert "not ISO country codes: GERMANY" in str(caught.value) and TOKEN not in str(caught.value)


def test_the_token_is_not_in_httpx_request_logs(graph: FakeGraphAPI, caplog: pytest.LogCaptureFixture) -> None:
    add_ads(graph, 30)
    caplog.set_level(logging.DEBUG)
    collect(source_for(graph, page_size=25))
    requests = [r.getMessage() for r in caplog.records if r.getMessage().startswith("HTTP Request: GET")]
    assert len(requests) == 2 and all("access_token=[redacted]" in line for line in requests)
    assert TOKEN not in caplog.text
    assert logging.getLogger("httpx").filters == [], "the redacting filter leaves with the client"


# -- items -------------------------------------------------------------------------------------


def test_each_item_is_a_valid_ad_record_with_copy_dates_and_reach(graph: FakeGraphAPI) -> None:
    graph.add_ads(PAGE_ID, [
        graph_ad("501", PAGE_ID, ad_creative_bodies=["Warm in the rain.", "Dry at the summit."],
                 ad_creative_link_titles=["Storm jacket"], ad_delivery_start_time="2026-03-02",
                 ad_delivery_stop_time="2026-04-15T00:00:00+0000"),
        graph_ad("502", PAGE_ID, ad_delivery_stop_time="2026-07-01"),  # scheduled to stop after NOW
        graph_ad("503", PAGE_ID, ad_delivery_stop_time=None),
    ])  # fmt: skip
    items = collect(source_for(graph))
    assert [item.error for item in items] == [None, None, None]
    stopped, ending, running = (parse_ad_item(item.item) for item in items)

    assert stopped.ad_archive_id == "501" and stopped.page_id == PAGE_ID and stopped.page_name == "Acme Outdoor"
    assert (stopped.body, stopped.title) == ("Warm in the rain.", "Storm jacket")
    assert (stopped.caption, stopped.link_description) == ("acme.example", "Free shipping")
    assert stopped.start_date == datetime(2026, 3, 2, tzinfo=UTC)
    assert stopped.end_date == datetime(2026, 4, 15, tzinfo=UTC)
    assert [r.is_active for r in (stopped, ending, running)] == [False, True, True]
    assert stopped.publisher_platforms == ["FACEBOOK", "INSTAGRAM"]
    assert stopped.display_format == "TEXT" and stopped.media == [], "the API gives no media URLs"
    assert stopped.copy_hash is not None

    assert stopped.snapshot["variants"]["bodies"] == ["Warm in the rain.", "Dry at the summit."]
    reach = stopped.snapshot["meta_reach"]
    assert reach["eu_total_reach"] == 12345 and reach["languages"] == ["de"]
    assert reach["target_ages"] == ["18", "65+"] and reach["target_gender"] == "All"
    assert reach["age_country_gender_reach_breakdown"][0]["country"] == "DE"
    assert reach["beneficiary_payers"][0]["payer"] == "Acme GmbH"


def test_stored_snapshot_links_do_not_carry_the_token(graph: FakeGraphAPI) -> None:
    add_ads(graph, 2)
    items = collect(source_for(graph))
    link = items[0].item["snapshot"]["ad_snapshot_url"]
    assert link == "https://www.facebook.com/ads/archive/render_ad/?id=9000000"
    assert all(TOKEN not in json.dumps(item.item) for item in items)


def test_a_malformed_ad_is_one_bad_item_not_a_failed_brand(graph: FakeGraphAPI) -> None:
    graph.add_ads(PAGE_ID, [graph_ad("601", PAGE_ID), graph_ad("602", PAGE_ID, ad_delivery_start_time="soon")])
    good, bad = collect(source_for(graph))
    assert good.error is None and parse_ad_item(good.item).ad_archive_id == "601"
    assert bad.error is not None and "ad_delivery_start_time" in bad.error
    assert bad.position == f"ads_archive:{PAGE_ID}:page 1[1]"
    assert TOKEN not in json.dumps(bad.item), "the raw item keeps its snapshot link, without the token"
