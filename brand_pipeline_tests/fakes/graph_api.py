"""A local fake of Meta's Ad Library API (Graph API ``GET /<version>/ads_archive``), for tests.

It speaks the documented wire protocol on 127.0.0.1, so production code runs unchanged with
``base_url=fake.base_url``:

* Query parameters ``access_token``, ``ad_reached_countries`` (required; a JSON array such as
  ``['US']`` or ``["DE","FR"]``), ``search_page_ids`` (comma list or JSON array, at most 10),
  ``ad_active_status`` (ACTIVE by default, INACTIVE, ALL), ``ad_delivery_date_min/max``
  (YYYY-MM-DD), ``fields`` (only those fields are returned; ``id`` always) and ``limit`` (25).
* Replies ``{"data": [...], "paging": {"cursors": {"before", "after"}, "next": <url>}}``; ``next``
  is a full URL back to the fake, carrying the query it was asked (access token included, as
  Graph does); the last page has no ``next``. ``next_on_last_page`` imitates Graph's habit of
  offering one more page that then comes back with an empty ``data``; ``next_base_url`` points
  ``next`` elsewhere (a client must not follow it with its token).
* ``ad_snapshot_url`` embeds the access token, as the real API's does.
* Graph errors ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``:
  code 1 "reduce the amount of data" (HTTP 500) above ``reduce_data_above``; missing (104) or
  wrong (190) tokens; ``expire_token()`` (190/463); ``require_identity_confirmation()`` (10/2332002);
  invalid parameters (100); and any scripted fault queued with ``fail_next``.

Country filtering is not imitated: ``ad_reached_countries`` is validated, not applied.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from brand_pipeline_tests.fakes.http import FakeHTTPHandler, LocalHTTPFake

REDUCE_DATA_MESSAGE = "Please reduce the amount of data you're asking for, then retry your request"
ACTIVE_STATUSES = ("ACTIVE", "INACTIVE", "ALL")
MAX_PAGE_IDS = 10


@dataclass(frozen=True)
class GraphFault:
    """One Graph error reply. Build with the class methods; queue with ``FakeGraphAPI.fail_next``."""

    http_status: int
    code: int
    message: str
    subcode: int | None = None
    error_type: str = "OAuthException"

    @classmethod
    def rate_limited(cls, code: int = 613) -> GraphFault:
        """The rate-limit answers: app (4), user (17), API (613), ads-account (80004)."""
        messages = {
            4: (403, "(#4) Application request limit reached"),
            17: (403, "(#17) User request limit reached"),
            613: (400, "(#613) Calls to this api have exceeded the rate limit."),
            80004: (400, "(#80004) There have been too many calls to this ad-account."),
        }
        status, message = messages[code]
        return cls(status, code, message)

    @classmethod
    def reduce_data(cls) -> GraphFault:
        return cls(500, 1, REDUCE_DATA_MESSAGE)

    @classmethod
    def server_error(cls) -> GraphFault:
        return cls(500, 2, "An unexpected error has occurred. Please retry your request later.")

    @classmethod
    def invalid_token(cls) -> GraphFault:
        return cls(400, 190, "Invalid OAuth access token - Cannot parse access token")

    @classmethod
    def expired_token(cls) -> GraphFault:
        return cls(400, 190, "Error validating access token: Session has expired.", subcode=463)

    @classmethod
    def identity_not_confirmed(cls) -> GraphFault:
        return cls(400, 10, "Application does not have permission for this action", subcode=2332002)

    @classmethod
    def invalid_parameter(cls, message: str) -> GraphFault:
        return cls(400, 100, f"(#100) {message}", error_type="GraphMethodException")


class FakeGraphAPI(LocalHTTPFake):
    """Serves ads added with ``add_ads`` to clients holding ``access_token``."""

    def __init__(self, *, access_token: str, api_version: str = "v23.0") -> None:
        self.access_token = access_token
        self.api_version = api_version
        self.reduce_data_above: int | None = None  # a limit above this answers code 1
        self.next_on_last_page = False
        self.next_base_url: str | None = None  # where paging.next points; default: back to this fake
        self.queries: list[dict[str, str]] = []  # every query received, in order
        self.errors_served: Counter[int] = Counter()  # by Graph error code
        self._ads: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[GraphFault] = []
        self._always: GraphFault | None = None
        self._lock = threading.Lock()
        self._trace_ids = itertools.count(1)
        super().__init__(_GraphHandler)

    # -- per-test setup -------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self.queries)

    def add_ads(self, page_id: str, ads: list[dict[str, Any]]) -> None:
        """Ads as Graph returns them (every field); the fake trims them to the requested fields."""
        with self._lock:
            self._ads.setdefault(page_id, []).extend(ads)

    def fail_next(self, fault: GraphFault, times: int = 1) -> None:
        """The next ``times`` requests (whatever they ask) answer with ``fault``."""
        with self._lock:
            self._faults.extend([fault] * times)

    def expire_token(self) -> None:
        with self._lock:
            self._always = GraphFault.expired_token()

    def require_identity_confirmation(self) -> None:
        with self._lock:
            self._always = GraphFault.identity_not_confirmed()

    # -- one request ----------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.queries.append(dict(query))
            fault = self._faults.pop(0) if self._faults else self._always
        fault = fault or self._refusal(path, query)
        if fault is not None:
            with self._lock:
                self.errors_served[fault.code] += 1
            return fault.http_status, self._error_body(fault)
        return 200, self._page(query)

    def _refusal(self, path: str, query: dict[str, str]) -> GraphFault | None:
        if path != f"/{self.api_version}/ads_archive":
            return GraphFault.invalid_parameter(f"Unsupported get request: {path}")
        token = query.get("access_token")
        if not token:
            return GraphFault(400, 104, "An access token is required to request this resource.")
        if token != self.access_token:
            return GraphFault.invalid_token()
        problem = _parameter_problem(query)
        if problem:
            return GraphFault.invalid_parameter(problem)
        if self.reduce_data_above is not None and _limit(query) > self.reduce_data_above:
            return GraphFault.reduce_data()
        return None

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        matching = self._matching_ads(query)
        limit, start = _limit(query), _decode_cursor(query.get("after"))
        chunk = matching[start : start + limit]
        fields = {"id", *filter(None, query.get("fields", "").split(","))}
        data = [self._trimmed(ad, fields) for ad in chunk]
        if not data:
            return {"data": []}
        end = start + len(data)
        paging: dict[str, Any] = {"cursors": {"before": _encode_cursor(start), "after": _encode_cursor(end)}}
        if end < len(matching) or self.next_on_last_page:
            paging["next"] = f"{self.next_base_url or self.base_url}/{self.api_version}/ads_archive?" + urlencode(
                query | {"after": _encode_cursor(end), "limit": str(limit)}
            )
        return {"data": data, "paging": paging}

    def _matching_ads(self, query: dict[str, str]) -> list[dict[str, Any]]:
        status = query.get("ad_active_status", "ACTIVE")
        low, high = query.get("ad_delivery_date_min"), query.get("ad_delivery_date_max")
        with self._lock:
            ads = [ad for page_id in _page_ids(query) for ad in self._ads.get(page_id, [])]
        matching = []
        for ad in ads:
            stop = ad.get("ad_delivery_stop_time")
            if (status == "ACTIVE" and stop) or (status == "INACTIVE" and not stop):
                continue
            if low and stop and stop[:10] < low:
                continue
            if high and ad.get("ad_delivery_start_time", "")[:10] > high:
                continue
            matching.append(ad)
        return matching

    def _trimmed(self, ad: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        trimmed = {key: value for key, value in ad.items() if key in fields}
        if "ad_snapshot_url" in trimmed:  # the real API signs snapshot links with the caller's token
            trimmed["ad_snapshot_url"] += "&" + urlencode({"access_token": self.access_token})
        return trimmed

    def _error_body(self, fault: GraphFault) -> dict[str, Any]:
        error: dict[str, Any] = {"message": fault.message, "type": fault.error_type, "code": fault.code}
        if fault.subcode is not None:
            error["error_subcode"] = fault.subcode
        error["fbtrace_id"] = f"FakeTrace{next(self._trace_ids):06d}"
        return {"error": error}


def graph_ad(ad_id: str, page_id: str, **fields: Any) -> dict[str, Any]:
    """An ``ads_archive`` ad with every field the source asks for, overridable per test."""
    ad: dict[str, Any] = {
        "id": ad_id,
        "page_id": page_id,
        "page_name": "Acme Outdoor",
        "ad_creative_bodies": [f"Body of ad {ad_id}"],
        "ad_creative_link_titles": [f"Title of ad {ad_id}"],
        "ad_creative_link_captions": ["acme.example"],
        "ad_creative_link_descriptions": ["Free shipping"],
        "ad_delivery_start_time": "2026-03-02",
        "ad_delivery_stop_time": None,
        "ad_snapshot_url": f"https://www.facebook.com/ads/archive/render_ad/?id={ad_id}",
        "publisher_platforms": ["facebook", "instagram"],
        "languages": ["de"],
        "eu_total_reach": 12345,
        "target_ages": ["18", "65+"],
        "target_gender": "All",
        "target_locations": [{"name": "Germany", "num_obfuscated": 0, "type": "countries", "excluded": False}],
        "age_country_gender_reach_breakdown": [
            {"country": "DE", "age_gender_breakdowns": [{"age_range": "25-34", "male": 4000, "female": 5000}]}
        ],
        "beneficiary_payers": [{"payer": "Acme GmbH", "beneficiary": "Acme GmbH", "current": True}],
    }
    return ad | fields


class _GraphHandler(FakeHTTPHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        status, body = self.server.fake.answer(parts.path, query)
        # Graph's usage header on success; clients should not need it
        usage = {"call_count": 1, "total_time": 1, "total_cputime": 1}
        headers = {"X-App-Usage": json.dumps(usage)} if status == 200 else {}
        self.send_body(status, json.dumps(body).encode(), "application/json; charset=UTF-8", headers)


def _parameter_problem(query: dict[str, str]) -> str | None:
    countries = _json_list(query.get("ad_reached_countries", ""))
    if not countries or not all(isinstance(c, str) and (len(c) == 2 or c == "ALL") for c in countries):
        return "The parameter ad_reached_countries is required and must be a JSON array of country codes"
    page_ids = _page_ids(query)
    if len(page_ids) > MAX_PAGE_IDS:
        return f"search_page_ids accepts at most {MAX_PAGE_IDS} page ids"
    if not page_ids and not query.get("search_terms"):
        return "Either search_terms or search_page_ids is required"
    if query.get("ad_active_status", "ACTIVE") not in ACTIVE_STATUSES:
        return "Param ad_active_status must be one of {ACTIVE, ALL, INACTIVE}"
    for name in ("ad_delivery_date_min", "ad_delivery_date_max"):
        if name in query:
            try:
                date.fromisoformat(query[name])
            except ValueError:
                return f"Param {name} must be a date (YYYY-mm-dd)"
    limit = query.get("limit", "25")
    if not limit.isdigit() or int(limit) < 1:
        return "Param limit must be a positive integer"
    return None


def _json_list(text: str) -> list[Any] | None:
    try:
        value = json.loads(text.replace("'", '"'))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def _page_ids(query: dict[str, str]) -> list[str]:
    text = query.get("search_page_ids", "").strip()
    if not text:
        return []
    listed = _json_list(text) if text.startswith("[") else text.split(",")
    return [str(page_id).strip() for page_id in listed or [] if str(page_id).strip()]


def _limit(query: dict[str, str]) -> int:
    return int(query.get("limit", "25"))


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("offset:"))
