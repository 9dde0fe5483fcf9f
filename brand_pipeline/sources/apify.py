"""Ads from the Apify Ad Library actor: start (or resume) one run per brand, wait for it, page its dataset.

A start is a paid run, so it is sent once and never retried blindly: it goes through a client with
retries off, its run id is recorded in the ledger before any waiting, and a start whose reply failed
(5xx, 429, a dropped connection, a timeout: the run may exist all the same) is followed by a search
of the actor's recent runs for the tag the input carries, not by a second start. Reads (run status,
dataset pages, run listings) are safe to repeat and go through a client that retries with backoff.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apify_client import ApifyClientAsync
from apify_client.errors import ApifyApiError
from apify_client.http_clients import ImpitHttpClientAsync
from pydantic import BaseModel, ConfigDict

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.apify_settings import RUN_TAG_KEY, TOKEN_ENV, ApifySettings, actor_input, run_tag
from brand_pipeline.sources.base import PaidRun, SourceError, SourceItem
from brand_pipeline.store.protocol import BrandStore

PAGE_SIZE = 1000
CONSOLE_URL = "https://console.apify.com"
RECENT_RUNS = 20  # runs listed when looking for a lost start; far more than start together
CLOCK_SKEW = timedelta(minutes=5)  # Apify's clock against ours, when listing runs started since
RESUMABLE = frozenset({"READY", "RUNNING", "SUCCEEDED"})
FAILED = frozenset({"FAILED", "TIMED-OUT", "ABORTED", "TIMING-OUT", "ABORTING"})
_REASON_CHARS = 500


class ActorRunLedger(Protocol):
    """Where the source records the run it started for a brand, so a re-executed step resumes it."""

    async def started_run(self, brand_slug: str) -> str | None:
        """The run id a scrape of this brand should resume, if any (the store decides for how long)."""
        ...

    async def record_started_run(self, brand_slug: str, run_id: str, dataset_id: str, tag: str) -> None:
        """Called as soon as a run is known to exist, before any waiting."""
        ...

    async def record_finished_run(self, brand_slug: str, run_id: str, status: str, cost_usd: float, items: int) -> None:
        """Called once the run ended, whether it succeeded or not (``items``: those read from it); not
        called when the wait ran out, as the run keeps going and a re-executed step resumes it."""
        ...


class ActorRun(BaseModel):
    """The part of Apify's run object the source relies on."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    act_id: str
    status: str
    status_message: str | None = None
    default_dataset_id: str
    default_key_value_store_id: str
    usage_total_usd: float | None = None

    @property
    def url(self) -> str:
        return f"{CONSOLE_URL}/actors/{self.act_id}/runs/{self.id}"


class ApifySource:
    """The Ad Library as scraped by an Apify actor, one run per brand."""

    def __init__(self, settings: ApifySettings, ledger: ActorRunLedger, *, run_key: str | None = None) -> None:
        self.settings = settings
        self.ledger = ledger
        self.run_key = run_key  # e.g. the Dagster run id: part of each run's tag
        self.last_run: PaidRun | None = None

    name = "apify"

    @property
    def paid_run(self) -> PaidRun | None:
        return self.last_run

    @property
    def complete(self) -> bool:
        """The actor stops at ``count`` ads: a scrape that reached it may have missed some."""
        return self.last_run is not None and self.last_run.items < self.settings.count

    @property
    def media_base_dir(self) -> None:
        return None  # media are URLs on Facebook's CDN

    async def items(self, brand: Brand) -> AsyncIterator[SourceItem]:
        self.last_run = None
        tag = run_tag(brand, self.run_key)
        run_input = actor_input(brand, self.settings, tag)
        async with self._client(max_retries=0) as starter, self._client(self.settings.read_retries) as reader:
            with self._api_errors(reader, brand):
                run = None if self.settings.fresh_scrape else await self._recorded_run(reader, brand)
                started_new = run is None
                if run is None:
                    run = await self._start(starter, reader, brand, run_input, tag)
                run = await self._wait(reader, brand, run, started_new)
                count = 0
                async for item in self._dataset_items(reader, run):
                    count += 1
                    yield item
                await self._finish(brand, run, count, started_new)

    def __repr__(self) -> str:
        return f"ApifySource(actor_id={self.settings.actor_id!r}, api_url={self.settings.api_url!r})"

    @asynccontextmanager
    async def _client(self, max_retries: int) -> AsyncIterator[ApifyClientAsync]:
        """A client whose connections close when the block ends (``ApifyClientAsync`` has no close)."""
        http = ImpitHttpClientAsync(
            token=self.settings.token.get_secret_value(),
            max_retries=max_retries,
            min_delay_between_retries=timedelta(seconds=self.settings.retry_backoff_s),
        )
        async with http:
            yield ApifyClientAsync.with_custom_http_client(api_url=self.settings.api_url, http_client=http)

    async def _recorded_run(self, reader: ApifyClientAsync, brand: Brand) -> ActorRun | None:
        """The run recorded for this brand, if it is still running or succeeded."""
        run_id = await self.ledger.started_run(brand.slug)
        if run_id is None:
            return None
        run = await reader.run(run_id).get()
        if run is None or run.status not in RESUMABLE:
            return None
        return ActorRun.model_validate(run)

    async def _start(
        self, starter: ApifyClientAsync, reader: ApifyClientAsync, brand: Brand, run_input: dict[str, Any], tag: str
    ) -> ActorRun:
        since = datetime.now(UTC) - CLOCK_SKEW
        try:
            started = await starter.actor(self.settings.actor_id).start(
                run_input=run_input,
                max_items=self.settings.count,  # caps what a pay-per-result actor can bill
                timeout=timedelta(seconds=self.settings.start_timeout_s),
            )
        except ApifyApiError as error:
            if error.status_code < 500 and error.status_code != 429:
                raise  # refused outright (bad token, no credit, bad input): no run exists
            failure = f"HTTP {error.status_code}"
        except Exception as error:
            http = starter.http_client
            if not (http.is_timeout_error(error) or http.is_retryable_transport_error(error)):
                raise
            failure = f"{type(error).__name__}: no reply"
        else:
            run = ActorRun.model_validate(started)
            await self.ledger.record_started_run(brand.slug, run.id, run.default_dataset_id, tag)
            return run
        found = await self._find_tagged_run(reader, tag, since)
        if found is None:
            raise SourceError(
                f"starting Apify actor {self.settings.actor_id} for {brand.slug!r} failed ({failure}) and no run "
                f"tagged {tag!r} appeared among its recent runs, so none was started; re-run the step"
            )
        await self.ledger.record_started_run(brand.slug, found.id, found.default_dataset_id, tag)
        return found

    async def _find_tagged_run(self, reader: ApifyClientAsync, tag: str, since: datetime) -> ActorRun | None:
        """The recent run whose INPUT carries ``tag``; listed a few times, as a new run can show late."""
        checked: set[str] = set()
        for attempt in range(self.settings.find_run_attempts):
            if attempt:
                await asyncio.sleep(self.settings.retry_backoff_s * 2 ** (attempt - 1))
            listing = (
                await reader.actor(self.settings.actor_id)
                .runs()
                .list(desc=True, limit=RECENT_RUNS, started_after=since)
            )
            for listed in listing.items:
                if listed.id in checked:
                    continue
                checked.add(listed.id)
                record = await reader.key_value_store(listed.default_key_value_store_id).get_record("INPUT")
                value = record["value"] if record else None
                if isinstance(value, dict) and value.get(RUN_TAG_KEY) == tag:
                    run = await reader.run(listed.id).get()
                    return ActorRun.model_validate(run) if run is not None else None
        return None

    async def _wait(self, reader: ApifyClientAsync, brand: Brand, run: ActorRun, started_new: bool) -> ActorRun:
        """The run once it succeeded; SourceError if it ended otherwise or outlived the wait."""
        if run.status != "SUCCEEDED":
            waited = await reader.run(run.id).wait_for_finish(
                wait_duration=timedelta(seconds=self.settings.wait_timeout_s)
            )
            if waited is None:
                raise SourceError(f"Apify run {run.id} for {brand.slug!r} disappeared while waiting: {run.url}")
            run = ActorRun.model_validate(waited)
        if run.status == "SUCCEEDED":
            return run
        if run.status in FAILED:
            await self._finish(brand, run, 0, started_new)
            detail = f": {run.status_message[:_REASON_CHARS]}" if run.status_message else ""
            raise SourceError(f"Apify run {run.id} for {brand.slug!r} ended {run.status}{detail}; see {run.url}")
        raise SourceError(
            f"Apify run {run.id} for {brand.slug!r} is still {run.status} after {self.settings.wait_timeout_s:g} s "
            f"(wait_timeout_s); it keeps running and a re-executed step resumes it: {run.url}"
        )

    async def _dataset_items(self, reader: ApifyClientAsync, run: ActorRun) -> AsyncIterator[SourceItem]:
        """The run's dataset, a page at a time, so memory stays flat however many ads a brand has."""
        dataset = reader.dataset(run.default_dataset_id)
        offset = 0
        while True:
            page = await dataset.list_items(offset=offset, limit=PAGE_SIZE)
            for index, item in enumerate(page.items, start=offset):
                yield dataset_item(run.id, index, item)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    async def _finish(self, brand: Brand, run: ActorRun, items: int, started_new: bool) -> None:
        estimated = run.usage_total_usd is None
        cost = items * self.settings.usd_per_1000_items / 1000 if estimated else run.usage_total_usd
        self.last_run = PaidRun(
            source=self.name,
            run_id=run.id,
            run_url=run.url,
            status=run.status,
            items=items,
            cost_usd=round(cost or 0.0, 6),
            cost_estimated=estimated,
            started_new=started_new,
        )
        await self.ledger.record_finished_run(brand.slug, run.id, run.status, self.last_run.cost_usd, items)

    @contextmanager
    def _api_errors(self, client: ApifyClientAsync, brand: Brand) -> Iterator[None]:
        """API and transport errors as a SourceError a person can act on (never carrying the token)."""
        try:
            yield
        except SourceError as error:
            raise SourceError(self._scrub(str(error))) from None
        except ApifyApiError as error:
            raise SourceError(self._scrub(api_error_message(error, self.settings, brand))) from None
        except Exception as error:
            if not client.http_client.is_retryable_transport_error(error):  # the HTTP library's own errors
                raise
            raise SourceError(
                f"Apify API at {self.settings.api_url} unreachable while scraping {brand.slug!r} "
                f"({type(error).__name__}), after {self.settings.read_retries} retries"
            ) from None

    def _scrub(self, message: str) -> str:
        return message.replace(self.settings.token.get_secret_value(), "***")


def api_error_message(error: ApifyApiError, settings: ApifySettings, brand: Brand) -> str:
    said = f"HTTP {error.status_code} {error.type or 'error'}: {(error.message or '')[:_REASON_CHARS]}"
    if error.status_code in (401, 403):
        return (
            f"{TOKEN_ENV} is invalid or may not run {settings.actor_id} (Apify said {said}); "
            f"set {TOKEN_ENV} (ApifySettings.token) to a valid token from {CONSOLE_URL}/settings/integrations"
        )
    if error.status_code == 402 or error.type == "not-enough-usage-to-run-paid-actor":
        return (
            f"the Apify account behind {TOKEN_ENV} is out of credit for {settings.actor_id} ({said}); "
            f"top it up at {CONSOLE_URL}/billing or set {TOKEN_ENV} (ApifySettings.token) to an account with credit"
        )
    if error.status_code == 404:
        return (
            f"Apify has no such actor, run or dataset ({said}); check ApifySettings.actor_id "
            f"({settings.actor_id}), or set fresh_scrape if a recorded run's data has expired"
        )
    if error.status_code == 400:
        return (
            f"Apify refused the input for {brand.slug!r} ({said}); check the brand's ad_library_url / "
            "facebook_page_id and the ApifySettings filters"
        )
    return f"Apify API kept failing while scraping {brand.slug!r} ({said}), after {settings.read_retries} retries"


def dataset_item(run_id: str, index: int, item: Any) -> SourceItem:
    """One dataset item; the actor's error records carry their reason, and an ad made of it is
    refused if it is login-gated."""
    position = f"apify run {run_id} item {index}"
    if isinstance(item, dict) and item.get("error"):
        return SourceItem(position=position, item=item, error=actor_error_reason(item))
    return SourceItem(position=position, item=item, refuse=functools.partial(login_gated_reason, item))


def actor_error_reason(item: dict[str, Any]) -> str:
    reason = f"the actor reported: {item['error']}"
    description = item.get("errorDescription") or item.get("error_description")
    if description:
        reason += f" ({description})"
    return reason[:_REASON_CHARS]


def login_gated_reason(item: dict[str, Any], record: AdRecord) -> str | None:
    """Why an ad without any media or link cannot be used; None for every other ad.

    The Ad Library shows some ads (age-restricted ones, for instance) only to logged-in users, and the
    actor then returns the ad's ids with an empty creative.
    """
    if record.media or record.link_url:
        return None
    gate = item.get("gated_type") or item.get("gatedType")
    shown_as = f" (gated_type {gate})" if gate and gate != "ELIGIBLE" else ""
    return (
        f"ad {record.ad_archive_id} has no media and no link{shown_as}: the Ad Library shows it only to "
        "logged-in users, so the actor could not read its creative"
    )


class StoreRunLedger:
    """The ledger kept in the store, for one scrape: ``run_key`` is the root Dagster run, so a
    retried or re-executed step finds the run its first attempt started (and paid for)."""

    def __init__(self, store: BrandStore, run_key: str) -> None:
        self._store, self._run_key = store, run_key

    async def started_run(self, brand_slug: str) -> str | None:
        return await self._store.source_run(brand_slug, self._run_key)

    async def record_started_run(self, brand_slug: str, run_id: str, dataset_id: str, tag: str) -> None:
        await self._store.record_source_run(brand_slug, self._run_key, "apify", run_id, dataset_id, tag)

    async def record_finished_run(self, brand_slug: str, run_id: str, status: str, cost_usd: float, items: int) -> None:
        await self._store.finish_source_run(brand_slug, self._run_key, run_id, status, cost_usd, items)
