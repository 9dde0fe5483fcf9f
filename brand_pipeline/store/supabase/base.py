"""What every part of ``SupabaseStore`` shares: the client, the transport of the shared parts
(each SQL function through PostgREST's ``/rpc``), and the table helpers.

What PostgREST makes easy to get wrong is handled here, once:

- an answer holds at most the server's max-rows (1,000 by default) and says nothing when it cut:
  every read pages by its key until a page comes back short, and the page size is the cap the
  server is measured to apply when the store opens;
- an upsert batch that holds the same key twice fails: each batch is de-duplicated (last wins);
- a bulk upsert writes a key some rows lack as NULL: rows are sent in groups with the same keys;
- an update that row-level security (or a wrong filter) hides from comes back as ``[]``: an
  update that touches no row raises ``RowMissing``;
- writes go in batches, never a request per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx
from postgrest.exceptions import APIError
from postgrest.types import ReturnMethod
from supabase import AsyncClient

from brand_pipeline.store.calls.base import Arguments, FunctionCalls, Json, JsonText
from brand_pipeline.store.protocol import RowMissing, StoreError, StoreUnavailable
from brand_pipeline.store.rows import BATCH_SIZE, batches, dedupe

NO_DATA_FOUND = "P0002"  # what the functions raise when asked to change a row that does not exist
DEFAULT_PAGE_ROWS = 1000  # PostgREST's default max-rows on Supabase


def quoted(value: Any) -> str:
    """A value inside a PostgREST logic tree (``or=(...)``): double-quoted, with \\ and " escaped."""
    text = "true" if value is True else "false" if value is False else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def after(key: tuple[str, ...], last: tuple[Any, ...]) -> str:
    """``or=`` filter for rows after ``last`` in ``key`` order: (a > x) or (a = x and b > y) ..."""
    terms = []
    for depth, column in enumerate(key):
        equal = [f"{key[i]}.eq.{quoted(last[i])}" for i in range(depth)]
        greater = f"{column}.gt.{quoted(last[depth])}"
        terms.append(f"and({','.join([*equal, greater])})" if equal else greater)
    return ",".join(terms)


def same_keys(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped by their set of keys (in order of first appearance)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


def _plain(value: Any) -> Any:
    if isinstance(value, JsonText):  # postgrest-py encodes the arguments itself
        return json.loads(value.text)
    return value.value if isinstance(value, Json) else value


class SupabaseRows(FunctionCalls):
    """Base of the store's parts: each part is a mixin over the same client."""

    def __init__(self, client: AsyncClient, *, where: str, page_rows: int = DEFAULT_PAGE_ROWS) -> None:
        self._client = client
        self._where = where  # the API's host, for messages (never the key)
        self.page_rows = page_rows

    async def _execute(self, request: Any, what: str) -> Any:
        """``request.execute()``, its refusals as ``StoreError`` (``RowMissing`` for P0002)."""
        try:
            return await request.execute()
        except APIError as error:
            code = error.code or None
            detail = f" ({error.details})" if error.details else ""
            kind = RowMissing if code == NO_DATA_FOUND else StoreError
            sqlstate = code if code and not code.startswith("PGRST") else None
            raise kind(f"{what}: {error.message or code}{detail}", sqlstate=sqlstate) from None
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise StoreUnavailable(f"cannot reach the Supabase API at {self._where}: {reason}") from None

    async def _pages(self, build: Callable[[], Any], key: tuple[str, ...], what: str) -> list[dict[str, Any]]:
        """Every row of a read, a page at a time in ``key`` order, until a page comes back short."""
        rows: list[dict[str, Any]] = []
        while True:
            request = build()
            if rows:
                last = tuple(rows[-1][column] for column in key)
                request = request.gt(key[0], last[0]) if len(key) == 1 else request.or_(after(key, last))
            for column in key:
                request = request.order(column)
            page = (await self._execute(request.limit(self.page_rows), what)).data
            rows += page
            if len(page) < self.page_rows:
                return rows

    async def _select(
        self, table: str, key: tuple[str, ...], filters: Callable[[Any], Any] = lambda r: r, columns: str = "*"
    ) -> list[dict[str, Any]]:
        return await self._pages(lambda: filters(self._client.table(table).select(columns)), key, f"read {table}")

    async def _upsert(
        self,
        table: str,
        rows: Iterable[dict[str, Any]],
        on_conflict: Sequence[str],
        *,
        ignore_duplicates: bool = False,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        """Upsert in batches of rows with the same keys, each batch de-duplicated on the conflict
        key (a unique index backs every conflict target the store uses)."""
        for group in same_keys(dedupe(rows, *on_conflict)):
            for batch in batches(group, batch_size):
                request = self._client.table(table).upsert(
                    list(batch),
                    on_conflict=",".join(on_conflict),
                    ignore_duplicates=ignore_duplicates,
                    returning=ReturnMethod.minimal,
                )
                await self._execute(request, f"upsert into {table}")

    async def _insert(self, table: str, rows: Sequence[dict[str, Any]], *, batch_size: int = BATCH_SIZE) -> None:
        for group in same_keys(rows):
            for batch in batches(group, batch_size):
                request = self._client.table(table).insert(list(batch), returning=ReturnMethod.minimal)
                await self._execute(request, f"insert into {table}")

    async def _update_one(self, table: str, values: dict[str, Any], match: dict[str, Any], what: str) -> None:
        """Update the row ``match`` names; none touched is ``RowMissing``, never a silent []."""
        request = self._client.table(table).update(values, returning=ReturnMethod.representation).match(match)
        if not (await self._execute(request, what)).data:
            raise RowMissing(f"{what}: no row of {table} matches {match}")

    # -- the shared parts' transport ---------------------------------------------------------------

    def _rpc(self, function: str, args: Arguments) -> Any:
        return self._client.rpc(function, {name: _plain(value) for name, value in args.items()})

    async def _call_rows(self, function: str, args: Arguments, *, key: tuple[str, ...]) -> list[dict[str, Any]]:
        return await self._pages(lambda: self._rpc(function, args), key, function)

    async def _call_row(self, function: str, args: Arguments) -> dict[str, Any]:
        return (await self._execute(self._rpc(function, args), function)).data

    async def _call_value(self, function: str, args: Arguments) -> Any:
        return (await self._execute(self._rpc(function, args), function)).data
