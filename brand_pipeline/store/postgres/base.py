"""What every part of ``PostgresStore`` shares: the pool, the query helper, and the transport of
the shared parts (``FunctionCalls``): each SQL function runs as one ``SELECT`` over the pool.

A refusal by the database (a constraint, a function's own error) becomes a ``StoreError`` carrying
its SQLSTATE, as SupabaseStore passes on PostgREST's; a lost connection stays psycopg's error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from brand_pipeline.store.calls.base import Arguments, FunctionCalls, Json, JsonText
from brand_pipeline.store.protocol import RowMissing, StoreError

NO_DATA_FOUND = "P0002"  # what the functions raise when asked to change a row that does not exist


def json_rows(rows: Sequence[dict[str, Any]] | dict[str, Any]) -> Jsonb:
    # Rows come from model_dump(mode="json"), so they are plain JSON already.
    return Jsonb(rows)


def refusal(error: psycopg.Error, what: str) -> StoreError:
    """The database's refusal as a ``StoreError``: its message and detail, and its SQLSTATE."""
    diag = error.diag
    message = f"{what}: {diag.message_primary or error}" + (f" ({diag.message_detail})" if diag.message_detail else "")
    kind = RowMissing if error.sqlstate == NO_DATA_FOUND else StoreError
    return kind(message, sqlstate=error.sqlstate)


def _call(function: str, args: Arguments) -> tuple[sql.Composed, dict[str, Any]]:
    """``bp_x(p_a => %(p_a)s, ...)``, with ``Json`` arguments sent as jsonb and ``JsonText`` ones as
    their text (untyped: the server reads it as the parameter's json or jsonb)."""

    def param(value: Any) -> Any:
        return Jsonb(value.value) if isinstance(value, Json) else value.text if isinstance(value, JsonText) else value

    named = sql.SQL(", ").join(sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in args)
    params = {name: param(value) for name, value in args.items()}
    return sql.SQL("{}({})").format(sql.Identifier(function), named), params


class PostgresRows(FunctionCalls):
    """Base of the store's parts: each part is a mixin over the same pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _fetch(
        self, query: str | sql.Composable, params: Any = None, *, what: str = "query"
    ) -> list[dict[str, Any]]:
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                return await cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            if error.sqlstate is None:
                raise
            raise refusal(error, what) from None

    async def _call_rows(self, function: str, args: Arguments, *, key: tuple[str, ...]) -> list[dict[str, Any]]:
        call, params = _call(function, args)
        order = sql.SQL(", ").join(sql.Identifier(column) for column in key)
        return await self._fetch(sql.SQL("SELECT * FROM {} ORDER BY {}").format(call, order), params, what=function)

    async def _call_row(self, function: str, args: Arguments) -> dict[str, Any]:
        call, params = _call(function, args)
        [row] = await self._fetch(sql.SQL("SELECT * FROM {}").format(call), params, what=function)
        return row

    async def _call_value(self, function: str, args: Arguments) -> Any:
        call, params = _call(function, args)
        [row] = await self._fetch(sql.SQL("SELECT {} AS value").format(call), params, what=function)
        return row["value"]
