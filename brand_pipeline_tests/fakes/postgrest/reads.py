"""GET/HEAD on a table (or on a set-returning function's rows): filtered, ordered, windowed, counted.

One statement per read, shaped like PostgREST's: the filtered rows in a CTE, the window (offset,
limit, server max-rows) over it, and the exact count from the same CTE only when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from .messages import Preferences, Reply, ResponseShape, RestRequest
from .query import Params, order_clause, range_error, row_window, select_list, where_clause


def select_rows(
    conn: psycopg.Connection,
    source: sql.Composable,
    request: RestRequest,
    *,
    params: Params,
    preferences: Preferences,
    shape: ResponseShape,
    max_rows: int | None,
    query: Iterable[tuple[str, str]] | None = None,
) -> Reply:
    """Read rows from ``source`` (``schema.table`` or ``fn(...) AS alias``) as PostgREST would."""
    values = request.first_values()
    where = where_clause(request.query if query is None else query, params)
    window = row_window(values, request.range_header, max_rows)
    total = sql.SQL("(SELECT count(*) FROM pgrst_source)") if preferences.count else sql.SQL("NULL::bigint")
    statement = sql.SQL(
        "WITH pgrst_source AS (SELECT {select} FROM {source} WHERE {where}{order}) "
        "SELECT {total}, {rows}, count(*) FROM (SELECT * FROM pgrst_source{window}) pgrst_row"
    ).format(
        select=select_list(values.get("select"), params),
        source=source,
        where=where,
        order=order_clause(values.get("order"), params),
        total=total,
        rows=sql.SQL(shape.row_aggregate()),
        window=window.clause(),
    )
    counted, array_text, returned = conn.execute(statement, params.values).fetchone()
    return range_reply(request, array_text, returned, window.offset, counted, preferences, shape)


def range_reply(
    request: RestRequest,
    array_text: str,
    returned: int,
    offset: int,
    total: int | None,
    preferences: Preferences,
    shape: ResponseShape,
) -> Reply:
    """Status and ``Content-Range`` as PostgREST sets them: 206 when a counted result was cut, 416 past its end."""
    if total is not None and offset > total:
        raise range_error(f"An offset of {offset} was requested, but there are only {total} rows.")
    status = 206 if total is not None and returned < total else 200
    total_text = "*" if total is None else str(total)
    content_range = f"{offset}-{offset + returned - 1}/{total_text}" if returned else f"*/{total_text}"
    body, content_type = shape.rows_body(array_text, returned)
    headers = {"Content-Type": content_type, "Content-Range": content_range, **preferences.headers()}
    return Reply(status, b"" if request.method == "HEAD" else body, headers, rows=returned)
