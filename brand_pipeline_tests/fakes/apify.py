"""A local fake of the Apify API v2, as the real ``apify-client`` 3.4 (``ApifyClientAsync``) speaks it.

Production code runs unchanged against it: ``api_url=fake.base_url`` (the client appends ``/v2``).
Routes, each with a name used for counters and faults:

* ``start``  ``POST /v2/actors/<user>~<name>/runs``: the body is the run input (gzipped when the client
  compressed it, i.e. bodies of 1 KiB and more); answers 201 with the new run. The input is kept as the
  run's ``INPUT`` record, as Apify does.
* ``runs``   ``GET /v2/actors/<user>~<name>/runs?limit&offset&desc&status&startedAfter``: the actor's runs.
* ``run``    ``GET /v2/actor-runs/<id>?waitForFinish=<s>``: one poll; a run finishes after its plan's
  number of polls (or never). Answered at once: the client's own deadline does the waiting.
* ``items``  ``GET /v2/datasets/<id>/items?offset&limit``: a bare JSON array plus the
  ``X-Apify-Pagination-*`` headers the client requires.
* ``record`` ``GET /v2/key-value-stores/<id>/records/<key>``.

Every route checks ``Authorization: Bearer <token>`` (401 ``user-or-token-not-found`` otherwise).
Faults are queued per route with :meth:`FakeApify.inject`: an error status, latency, or a dropped
connection, struck before the route acts or, with ``after_effect``, after it (a start whose run was
created but whose reply was lost). Run outcomes come from :class:`RunPlan`.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from brand_pipeline_tests.fakes.http import FakeHTTPHandler, LocalHTTPFake

DEFAULT_ACTOR = "curious_coder/facebook-ads-library-scraper"
TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED")
NO_LIMIT = 999_999_999_999  # what the API reports as the limit of an unlimited items request
_ERROR_TYPES = {
    400: "invalid-input",
    401: "user-or-token-not-found",
    402: "not-enough-usage-to-run-paid-actor",
    403: "insufficient-permissions",
    404: "record-not-found",
    429: "rate-limit-exceeded",
}
_BAD_TOKEN = "User was not found or authentication token is not valid"
_ROUTES = (
    ("start", "POST", re.compile(r"^/v2/(?:acts|actors)/(?P<actor>[^/]+)/runs$")),
    ("runs", "GET", re.compile(r"^/v2/(?:acts|actors)/(?P<actor>[^/]+)/runs$")),
    ("run", "GET", re.compile(r"^/v2/actor-runs/(?P<id>[^/]+)$")),
    ("items", "GET", re.compile(r"^/v2/datasets/(?P<id>[^/]+)/items$")),
    ("record", "GET", re.compile(r"^/v2/key-value-stores/(?P<id>[^/]+)/records/(?P<key>[^/]+)$")),
)


@dataclass(frozen=True)
class Fault:
    """One injected failure. ``status`` answers with an Apify error body; ``drop`` closes the
    connection without any reply; ``delay_s`` comes first. ``after_effect``: the route acts first
    (a start creates its run), then the fault strikes its reply."""

    status: int | None = None
    error_type: str | None = None
    message: str | None = None
    delay_s: float = 0.0
    drop: bool = False
    after_effect: bool = False


@dataclass
class RunPlan:
    """How the next started run behaves: its dataset, how it ends and after how many polls
    (``None``: it stays RUNNING), and what Apify bills for it (``None``: no ``usageTotalUsd``)."""

    items: list[Any] = field(default_factory=list)
    final_status: str = "SUCCEEDED"
    polls_to_finish: int | None = 1
    usage_total_usd: float | None = 0.25
    status_message: str | None = None


@dataclass
class FakeRun:
    id: str
    actor: str
    act_id: str
    user_id: str
    plan: RunPlan
    dataset_id: str
    kv_id: str
    request_queue_id: str
    started_at: datetime
    max_items: int | None = None
    status: str = "RUNNING"
    polls: int = 0
    finished_at: datetime | None = None

    def poll(self) -> None:
        self.polls += 1
        done_at = self.plan.polls_to_finish
        if self.status == "RUNNING" and done_at is not None and self.polls >= done_at:
            self.finish(self.plan.final_status)

    def finish(self, status: str) -> None:
        self.status, self.finished_at = status, datetime.now(UTC)

    def as_json(self) -> dict[str, Any]:
        """The run object, in the shape the client's pydantic ``Run`` model validates."""
        finished = self.status in TERMINAL_STATUSES
        body: dict[str, Any] = {
            "id": self.id,
            "actId": self.act_id,
            "userId": self.user_id,
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at) if self.finished_at else None,
            "status": self.status,
            "statusMessage": self.plan.status_message if finished else "Scraping the Ad Library",
            "meta": {"origin": "API", "userAgent": "ApifyClient"},
            "stats": {"inputBodyLen": 0, "restartCount": 0, "resurrectCount": 0, "computeUnits": 0.01},
            "options": {"build": "latest", "timeoutSecs": 3600, "memoryMbytes": 4096, "diskMbytes": 8192},
            "buildId": "fakeBuild0000001",
            "buildNumber": "1.2.3",
            "exitCode": (0 if self.status == "SUCCEEDED" else 1) if finished else None,
            "defaultKeyValueStoreId": self.kv_id,
            "defaultDatasetId": self.dataset_id,
            "defaultRequestQueueId": self.request_queue_id,
            "containerUrl": f"https://{self.id.lower()}.runs.apify.net",
        }
        if self.max_items is not None:
            body["options"]["maxItems"] = self.max_items
        if self.plan.usage_total_usd is not None:
            body["usageTotalUsd"] = self.plan.usage_total_usd
        return body

    def as_list_item(self) -> dict[str, Any]:
        keys = ("id", "actId", "userId", "status", "startedAt", "finishedAt", "buildId", "buildNumber", "meta")
        keys += ("defaultKeyValueStoreId", "defaultDatasetId", "defaultRequestQueueId")
        full = self.as_json()
        return {key: full[key] for key in keys} | {"usageTotalUsd": self.plan.usage_total_usd or 0.0}


@dataclass(frozen=True)
class StartRequest:
    """What a start request carried, as the fake decoded it."""

    actor: str
    input: Any
    params: dict[str, str]
    gzipped: bool
    body_bytes: int


class FakeApify(LocalHTTPFake):
    def __init__(self, token: str = "apify_api_FAKE0123456789", user_id: str = "fakeUser0000001") -> None:
        self.token, self.user_id = token, user_id
        self.plan = RunPlan()
        self.runs: dict[str, FakeRun] = {}
        self.datasets: dict[str, list[Any]] = {}
        self.records: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.starts: list[StartRequest] = []  # runs started through the API (each one a paid run)
        self.requests: Counter[str] = Counter()  # requests received, by route name
        self._faults: dict[str, deque[Fault]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        super().__init__(_Handler)

    def inject(self, route: str, fault: Fault, times: int = 1) -> None:
        """Strike the next ``times`` requests on ``route`` with ``fault``."""
        with self._lock:
            self._faults.setdefault(route, deque()).extend([fault] * times)

    def add_run(self, plan: RunPlan, *, run_input: Any = None, actor: str = DEFAULT_ACTOR) -> FakeRun:
        """A run that already exists (started by an earlier step), with its dataset and INPUT."""
        with self._lock:
            run = self._create_run(actor, plan, json.dumps(run_input).encode(), None)
            if plan.polls_to_finish == 0:
                run.finish(plan.final_status)
            return run

    # The API's side of each route; called with the lock held.

    def _create_run(self, actor: str, plan: RunPlan, raw_input: bytes, max_items: int | None) -> FakeRun:
        number = next(self._ids)
        run = FakeRun(
            id=f"run{number:014d}",
            actor=actor,
            act_id=_act_id(actor),
            user_id=self.user_id,
            plan=plan,
            dataset_id=f"ds{number:015d}",
            kv_id=f"kv{number:015d}",
            request_queue_id=f"rq{number:015d}",
            started_at=datetime.now(UTC),
            max_items=max_items,
        )
        self.runs[run.id] = run
        self.datasets[run.dataset_id] = list(plan.items)
        self.records[(run.kv_id, "INPUT")] = (raw_input, "application/json; charset=utf-8")
        return run

    def _start(self, actor: str, query: dict[str, str], body: bytes, gzipped: bool) -> tuple[int, Any]:
        try:
            run_input = json.loads(body) if body else None
        except ValueError:
            return _error(400, "invalid-input", "Input is not valid JSON")
        self.starts.append(StartRequest(actor, run_input, query, gzipped, len(body)))
        max_items = int(query["maxItems"]) if "maxItems" in query else None
        return 201, {"data": self._create_run(actor, self.plan, body, max_items).as_json()}

    def _list_runs(self, actor: str, query: dict[str, str]) -> tuple[int, Any]:
        runs = sorted((r for r in self.runs.values() if actor in (r.actor, r.act_id)), key=lambda r: r.started_at)
        if "startedAfter" in query:
            runs = [r for r in runs if r.started_at >= _parse_iso(query["startedAfter"])]
        if "status" in query:
            runs = [r for r in runs if r.status in query["status"].split(",")]
        desc = query.get("desc") == "true"
        runs = runs[::-1] if desc else runs
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 1000))
        page = [run.as_list_item() for run in runs[offset : offset + limit]]
        data = {"total": len(runs), "offset": offset, "limit": limit, "desc": desc, "count": len(page), "items": page}
        return 200, {"data": data}

    def _get_run(self, run_id: str) -> tuple[int, Any]:
        run = self.runs.get(run_id)
        if run is None:
            return _error(404, "record-not-found", "Actor run was not found")
        run.poll()
        return 200, {"data": run.as_json()}

    def _items(self, dataset_id: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if dataset_id not in self.datasets:
            return (*_error(404, "record-not-found", "Dataset was not found"), {})
        items = self.datasets[dataset_id]
        desc = query.get("desc") in ("true", "1")
        ordered = items[::-1] if desc else items
        offset = int(query.get("offset", 0))
        limit = int(query["limit"]) if "limit" in query else NO_LIMIT
        page = ordered[offset : offset + limit]
        headers = {
            "X-Apify-Pagination-Total": str(len(items)),
            "X-Apify-Pagination-Offset": str(offset),
            "X-Apify-Pagination-Count": str(len(page)),
            "X-Apify-Pagination-Limit": str(limit),
            "X-Apify-Pagination-Desc": str(desc).lower(),
        }
        return 200, page, headers

    def _dispatch(
        self, route: str, match: re.Match[str] | None, query: dict[str, str], body: bytes, gzipped: bool
    ) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]:
        if match is None:
            return _error(404, "page-not-found", "We have bad news: there is no API endpoint at this URL.")
        params = {key: unquote(value) for key, value in match.groupdict().items()}
        if route == "start":
            return self._start(params["actor"].replace("~", "/"), query, body, gzipped)
        if route == "runs":
            return self._list_runs(params["actor"].replace("~", "/"), query)
        if route == "run":
            return self._get_run(params["id"])
        if route == "items":
            return self._items(params["id"], query)
        stored = self.records.get((params["id"], params["key"]))
        if stored is None:
            return _error(404, "record-not-found", "Record was not found")
        return 200, stored[0], {"Content-Type": stored[1]}


class _Handler(FakeHTTPHandler):
    """One request to the fake."""

    @property
    def fake(self) -> FakeApify:
        return self.server.fake

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        body, gzipped = self._read_body()
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        route, match = _route(method, parts.path)
        with self.fake._lock:
            self.fake.requests[route] += 1
            queued = self.fake._faults.get(route)
            fault = queued.popleft() if queued else None
        if fault and not fault.after_effect and self._strike(fault):
            return
        if not self._authorised(query):
            self._json(*_error(401, _ERROR_TYPES[401], _BAD_TOKEN))
            return
        with self.fake._lock:
            reply = self.fake._dispatch(route, match, query, body, gzipped)
        if fault and fault.after_effect and self._strike(fault):
            return
        self._json(*reply)

    def _read_body(self) -> tuple[bytes, bool]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = b""
            while size := int(self.rfile.readline().strip() or b"0", 16):
                raw += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        gzipped = self.headers.get("Content-Encoding", "").lower() == "gzip"
        return (gzip.decompress(raw) if gzipped else raw), gzipped

    def _authorised(self, query: dict[str, str]) -> bool:
        header = self.headers.get("Authorization", "")
        return header == f"Bearer {self.fake.token}" or query.get("token") == self.fake.token

    def _strike(self, fault: Fault) -> bool:
        """Apply ``fault``; True when it replaced the reply."""
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.drop:
            self.close_connection = True  # hang up without a byte: the reply is lost
            return True
        if fault.status is not None:
            error_type = fault.error_type or _ERROR_TYPES.get(fault.status, "internal-server-error")
            self._json(*_error(fault.status, error_type, fault.message or f"Injected HTTP {fault.status}"))
            return True
        return False

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(payload, bytes):  # a key-value record, sent as stored
            body, content_type = payload, (headers or {}).pop("Content-Type")
        else:
            body, content_type = json.dumps(payload).encode(), "application/json; charset=utf-8"
        try:
            self.send_body(status, body, content_type, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (its own timeout)


def actor_item(ad_id: str, **fields: Any) -> dict[str, Any]:
    """An item as the Ad Library actor returns it (camelCase keys, epoch dates), of the page "Acme
    Coffee" (4242); ``fields`` add to it or override."""
    ad = {
        "adArchiveID": ad_id,
        "pageID": "4242",
        "pageName": "Acme Coffee",
        "isActive": True,
        "startDate": 1_767_225_600,
    }
    return ad | fields


def _route(method: str, path: str) -> tuple[str, re.Match[str] | None]:
    for name, route_method, pattern in _ROUTES:
        if method == route_method and (match := pattern.match(path)):
            return name, match
    return "unknown", None


def _error(status: int, error_type: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"type": error_type, "message": message}}


def _act_id(actor: str) -> str:
    return "act" + hashlib.sha256(actor.encode()).hexdigest()[:14]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
