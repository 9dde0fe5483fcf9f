"""Ads from Meta's official Ad Library API (Graph API ``GET /<version>/ads_archive``).

For accounts with Ad Library API access (identity confirmed at facebook.com/ID). Commercial ads
are only in the API for ads delivered in the EU, so ``reached_countries`` should name EU countries;
the EU reach fields (``eu_total_reach``, the age/country/gender breakdown) exist only there.

- One brand is one Facebook page: ``brand.facebook_page_id``, else ``view_all_page_id`` in
  ``brand.ad_library_url``.
- Pages are followed through ``paging.next`` and yielded one at a time, so memory does not grow
  with the brand. A "reduce the amount of data" error (code 1) halves ``limit`` and retries the
  same cursor, down to 1.
- Rate limits (codes 4, 17, 613, 80004), 5xx and dropped connections are retried with
  exponential backoff (``tenacity``), a bounded number of times.
- The access token travels in the query string (and Graph signs ``paging.next`` and
  ``ad_snapshot_url`` with it): every URL in a message, and httpx's request log lines, are
  redacted, the token is stripped from stored snapshot URLs, and it is only ever sent to
  ``base_url``'s host.
- Each ad becomes an Apify-style item that ``parse_ad_item`` accepts (``meta_ad_items``);
  an ad that does not parse is one bad item, not a failed brand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from brand_pipeline.domain.brands import Brand, NotAnAdLibraryUrl, page_id_from_ad_library_url
from brand_pipeline.redaction import non_blank_secret, redacted_logs
from brand_pipeline.sources.base import SourceError, SourceItem
from brand_pipeline.sources.meta_ad_items import GRAPH_FIELDS, GraphAd, apify_item

ACCESS_TOKEN_ENV = "META_ACCESS_TOKEN"
RATE_LIMIT_CODES = frozenset({4, 17, 613, 80004})
REDACTED = "[redacted]"
_REDUCE_DATA = "reduce the amount of data"
_IDENTITY_SUBCODE = 2332002
_HTTPX_LOGGER = logging.getLogger("httpx")


class MetaQuery(BaseModel):
    """What to ask the Ad Library API for and how to reach it: everything but the token. Each field
    can be set as ``BRAND_PIPELINE_META_<FIELD>``."""

    model_config = ConfigDict(frozen=True)

    api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    base_url: str = Field(default="https://graph.facebook.com", pattern=r"^https?://[^/?#]+/?$")
    reached_countries: list[str] = Field(default=[], description="ISO country codes (or ALL) ads reached.")
    active_status: Literal["ACTIVE", "INACTIVE", "ALL"] = "ALL"  # research wants stopped ads too
    # ISO dates (YYYY-MM-DD): plain strings, so they are also valid Dagster config.
    delivery_date_min: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    delivery_date_max: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    page_size: int = Field(default=25, ge=1, le=1000)
    max_retries: int = Field(default=5, ge=0, description="Retries of one page on rate limits and 5xx.")
    backoff_initial_s: float = Field(default=2.0, ge=0)
    backoff_max_s: float = Field(default=120.0, ge=0)
    timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("reached_countries")
    @classmethod
    def _country_codes(cls, countries: list[str]) -> list[str]:
        codes = [country.strip().upper() for country in countries]
        bad = [code for code in codes if not (code == "ALL" or (len(code) == 2 and code.isalpha()))]
        if bad:
            raise ValueError(f"not ISO country codes: {', '.join(bad)}")
        return codes

    @field_validator("delivery_date_min", "delivery_date_max", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("delivery_date_max")
    @classmethod
    def _not_before_min(cls, high: str | None, info: ValidationInfo) -> str | None:
        low = info.data.get("delivery_date_min")
        if high and low and high < low:
            raise ValueError(f"is before delivery_date_min ({low})")
        return high


class MetaAdLibrarySettings(MetaQuery):
    """``MetaQuery`` plus the token (a ``SecretStr``: never shown in repr or logs); the API needs
    at least one reached country."""

    access_token: SecretStr = Field(description=f"Graph API user access token ({ACCESS_TOKEN_ENV}).")
    reached_countries: list[str] = Field(min_length=1, description="ISO country codes (or ALL) ads reached.")

    @field_validator("access_token")
    @classmethod
    def _not_blank(cls, token: SecretStr) -> SecretStr:
        return non_blank_secret(token, f"is empty (set {ACCESS_TOKEN_ENV})")


class GraphError(BaseModel):
    message: str = ""
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    is_transient: bool | None = None
    fbtrace_id: str | None = None


class GraphPaging(BaseModel):
    next: str | None = None


class GraphPage(BaseModel):
    data: list[Any]
    paging: GraphPaging | None = None


class _Transient(Exception):
    """Worth retrying after a pause: rate limits, 5xx, dropped connections."""


class _ReduceData(Exception):
    """Graph asks for smaller pages."""


class MetaAdLibrarySource:
    """``AdSource`` over the Ad Library API. Holds no client: ``items()`` opens and closes its own."""

    def __init__(self, settings: MetaAdLibrarySettings, *, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        self._base = httpx.URL(settings.base_url.rstrip("/"))

    def __repr__(self) -> str:
        countries = ",".join(self.settings.reached_countries)
        return f"MetaAdLibrarySource({self._base}/{self.settings.api_version}, countries={countries})"

    name = "meta"
    # Paging runs to the end or raises, so a scrape that finished listed every ad.
    complete = True
    paid_run = None  # the API is free to call

    @property
    def media_base_dir(self) -> None:
        return None

    async def items(self, brand: Brand) -> AsyncIterator[SourceItem]:
        """Every ad of the brand's page, one page of results at a time. Stop early only through
        ``contextlib.aclosing`` so the client is closed at once."""
        page_id = page_id_for(brand)
        url: httpx.URL | None = self._base.join(f"/{self.settings.api_version}/ads_archive").copy_merge_params(
            archive_query(self.settings, page_id)
        )
        limit, number = self.settings.page_size, 0
        timeout = httpx.Timeout(self.settings.timeout_s)
        with redacted_logs(_HTTPX_LOGGER, self.redact):  # httpx logs each URL, token and all
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
                while url is not None:
                    page, limit = await self._page_shrinking_on_demand(http, url, limit)
                    number += 1
                    for index, raw in enumerate(page.data):
                        yield self._source_item(raw, f"ads_archive:{page_id}:page {number}[{index}]")
                    url = self._next_url(page, url) if page.data else None

    async def _page_shrinking_on_demand(
        self, http: httpx.AsyncClient, url: httpx.URL, limit: int
    ) -> tuple[GraphPage, int]:
        while True:
            try:
                return await self._page_with_retries(http, url.copy_set_param("limit", str(limit))), limit
            except _ReduceData as error:
                if limit == 1:
                    raise SourceError(
                        f"the Ad Library API still asks to reduce the amount of data at limit=1 ({error}); "
                        "request fewer fields"
                    ) from None
                limit = max(1, limit // 2)

    async def _page_with_retries(self, http: httpx.AsyncClient, url: httpx.URL) -> GraphPage:
        settings = self.settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.max_retries + 1),
            wait=wait_exponential_jitter(
                initial=settings.backoff_initial_s, max=settings.backoff_max_s, jitter=settings.backoff_initial_s
            ),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            return await retrying(self._page_once, http, url)
        except _Transient as error:
            attempts = settings.max_retries + 1
            raise SourceError(f"the Ad Library API kept failing, gave up after {attempts} attempts: {error}") from None

    async def _page_once(self, http: httpx.AsyncClient, url: httpx.URL) -> GraphPage:
        url = url.copy_set_param("access_token", self.settings.access_token.get_secret_value())
        try:
            response = await http.get(url)
        except httpx.TransportError as error:
            raise _Transient(f"GET {self._shown(url)} failed: {type(error).__name__}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            problem = f"GET {self._shown(url)}: HTTP {response.status_code}, reply is not a JSON object"
            raise (_Transient(problem) if response.status_code >= 500 else SourceError(problem))
        if "error" in payload or response.is_error:
            raise self._classify(response.status_code, payload.get("error"), url)
        try:
            return GraphPage.model_validate(payload)
        except ValidationError:
            raise SourceError(f"GET {self._shown(url)}: the reply has no list of ads under 'data'") from None

    def _classify(self, status: int, raw_error: Any, url: httpx.URL) -> Exception:
        try:
            error = GraphError.model_validate(raw_error if isinstance(raw_error, dict) else {})
        except ValidationError:
            error = GraphError()
        said = self.redact(f"HTTP {status}, Graph error {error.code}/{error.error_subcode}: {error.message}")
        if error.code == 1 and _REDUCE_DATA in error.message.lower():
            return _ReduceData(said)
        if error.code in RATE_LIMIT_CODES:
            return _Transient(f"rate limited ({said})")
        if error.code == 190:
            return SourceError(
                f"{ACCESS_TOKEN_ENV} is invalid or expired ({said}); create a new token and set {ACCESS_TOKEN_ENV}"
            )
        if error.code == 10 and error.error_subcode == _IDENTITY_SUBCODE:
            return SourceError(
                f"the Meta account behind {ACCESS_TOKEN_ENV} has not confirmed its identity for Ad Library API "
                f"access ({said}); confirm it at https://www.facebook.com/ID, then retry"
            )
        if status >= 500 or error.is_transient:
            return _Transient(said)
        return SourceError(f"the Ad Library API refused GET {self._shown(url)} ({said})")

    def _next_url(self, page: GraphPage, current: httpx.URL) -> httpx.URL | None:
        if page.paging is None or not page.paging.next:
            return None
        url = httpx.URL(page.paging.next)
        if (url.scheme, url.host, url.port) != (self._base.scheme, self._base.host, self._base.port):
            # The token is added to every request; it goes to the configured host only.
            raise SourceError(f"paging.next points at {url.host!r}, not {self._base.host!r}: refusing to follow it")
        if url.copy_remove_param("limit") == current.copy_remove_param("limit"):
            raise SourceError(f"paging.next repeats the page just read ({self._shown(url)})")
        return url

    def _source_item(self, raw: Any, position: str) -> SourceItem:
        try:
            ad = GraphAd.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
            # Keep the item (its hash names the outcome) but not the token Graph signed its links with.
            scrubbed = json.loads(self.redact(json.dumps(raw)))
            return SourceItem(position=position, item=scrubbed, error=f"not an ads_archive ad: {problems}")
        return SourceItem(position=position, item=apify_item(ad, self._clock(), self.redact))

    def _shown(self, url: httpx.URL) -> str:
        # The request as a person can read it: token redacted, the constant field list left out.
        return self.redact(url.copy_remove_param("fields"))

    def redact(self, text: str | httpx.URL) -> str:
        """``text`` with the access token replaced, wherever it appears (URLs included)."""
        if isinstance(text, httpx.URL):
            text = str(text.copy_set_param("access_token", REDACTED)) if "access_token" in text.params else str(text)
        return text.replace(self.settings.access_token.get_secret_value(), REDACTED)


def page_id_for(brand: Brand) -> str:
    """The brand's Facebook page id: ``facebook_page_id``, else the Ad Library URL's ``view_all_page_id``."""
    page_id = (brand.facebook_page_id or "").strip()
    if not page_id and brand.ad_library_url:
        try:
            page_id = page_id_from_ad_library_url(brand.ad_library_url) or ""
        except NotAnAdLibraryUrl as error:
            raise SourceError(f"brand {brand.slug!r}: {error}") from None
    if not page_id:
        raise SourceError(
            f"brand {brand.slug!r} has no Facebook page id: set its facebook_page_id, or an ad_library_url "
            "with view_all_page_id=<page id>"
        )
    if not page_id.isdigit():
        raise SourceError(f"brand {brand.slug!r}: Facebook page id {page_id!r} is not numeric")
    return page_id


def archive_query(settings: MetaAdLibrarySettings, page_id: str) -> dict[str, str]:
    """The ``ads_archive`` query for one page, without the token (added per request) or cursor."""
    query = {
        "ad_reached_countries": json.dumps(settings.reached_countries, separators=(",", ":")),
        "search_page_ids": page_id,
        "ad_active_status": settings.active_status,
        "ad_type": "ALL",
        "fields": ",".join(GRAPH_FIELDS),
        "limit": str(settings.page_size),
    }
    if settings.delivery_date_min:
        query["ad_delivery_date_min"] = settings.delivery_date_min
    if settings.delivery_date_max:
        query["ad_delivery_date_max"] = settings.delivery_date_max
    return query
