"""One PostgREST request as the fake sees it, its reply, and the ``Prefer``/``Accept`` headers it obeys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from .auth import Caller
from .errors import PostgrestError, invalid_body, not_single

JSON_TYPE = "application/json; charset=utf-8"
OBJECT_TYPE = "application/vnd.pgrst.object+json; charset=utf-8"


@dataclass(frozen=True)
class RestRequest:
    method: str
    resource: str  # table name, or function name when ``is_rpc``
    is_rpc: bool
    query: list[tuple[str, str]]  # in request order; a key may repeat
    headers: Message
    body: bytes
    caller: Caller

    def first(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)

    def first_values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in self.query:
            values.setdefault(key, value)
        return values

    def json_body(self) -> Any:
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError as exc:
            raise invalid_body() from exc

    @property
    def range_header(self) -> str | None:
        unit = (self.headers.get("Range-Unit") or "items").strip().lower()
        return self.headers.get("Range") if unit == "items" and self.method in ("GET", "HEAD") else None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    rows: int | None = None  # rows in (or affected by) the reply, for the request log
    file: Path | None = None  # streamed after the headers instead of ``body`` (storage downloads)


@dataclass(frozen=True)
class Preferences:
    """The ``Prefer`` header values the fake honours (others are ignored, as with handling=lenient)."""

    representation: bool = False
    count: bool = False  # exact, planned and estimated all count exactly here
    resolution: str | None = None  # "merge-duplicates" or "ignore-duplicates"
    missing_default: bool = False
    rollback: bool = False
    max_affected: int | None = None
    applied: tuple[str, ...] = ()

    @classmethod
    def parse(cls, headers: Message) -> Preferences:
        found: dict[str, str] = {}
        for header in headers.get_all("Prefer") or []:
            for item in header.split(","):
                key, _, value = item.strip().partition("=")
                if key:
                    found[key.strip()] = value.strip()
        applied = [f"{k}={found[k]}" for k in ("return", "count", "resolution", "missing", "tx") if k in found]
        strict = found.get("handling") == "strict"
        max_affected = int(found["max-affected"]) if strict and found.get("max-affected", "").isdigit() else None
        return cls(
            representation=found.get("return") == "representation",
            count=found.get("count") in ("exact", "planned", "estimated"),
            resolution=found.get("resolution")
            if found.get("resolution") in ("merge-duplicates", "ignore-duplicates")
            else None,
            missing_default=found.get("missing") == "default",
            rollback=found.get("tx") == "rollback",
            max_affected=max_affected,
            applied=tuple(applied),
        )

    def headers(self) -> dict[str, str]:
        return {"Preference-Applied": ", ".join(self.applied)} if self.applied else {}


@dataclass(frozen=True)
class ResponseShape:
    """What the ``Accept`` header asks for: an array (default) or one object, nulls kept or stripped."""

    single: bool = False
    strip_nulls: bool = False

    @classmethod
    def parse(cls, accept: str | None) -> ResponseShape:
        if not accept:
            return cls()
        for media_range in accept.split(","):
            media_type, *parameters = [part.strip() for part in media_range.split(";")]
            strip = "nulls=stripped" in parameters
            if media_type in ("application/json", "*/*", "application/*", "application/vnd.pgrst.array+json"):
                return cls(single=False, strip_nulls=strip)
            if media_type == "application/vnd.pgrst.object+json":
                return cls(single=True, strip_nulls=strip)
        raise PostgrestError(406, "PGRST107", f"None of these media types are available: {accept}")

    def row_aggregate(self) -> str:
        """SQL that turns the rows of ``pgrst_row`` into a JSON array text."""
        row = "json_strip_nulls(to_json(pgrst_row))" if self.strip_nulls else "pgrst_row"
        return f"coalesce(json_agg({row}), '[]')::text"

    def rows_body(self, array_text: str, rows: int) -> tuple[bytes, str]:
        """The reply body and its content type; one object (or PGRST116) when a single row was asked for."""
        if not self.single:
            return array_text.encode(), JSON_TYPE
        if rows != 1:
            raise not_single(rows)
        return json.dumps(json.loads(array_text)[0]).encode(), OBJECT_TYPE
