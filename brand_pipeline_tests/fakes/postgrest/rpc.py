"""``/rest/v1/rpc/<fn>``: call a SQL function with named arguments (POST body or GET query string).

Set-returning functions answer an array (rows, or bare values for ``SETOF scalar``) and take filters,
``select``, ``order`` and the row window on their result; others answer their single value or object;
``void`` functions answer 204. GET and HEAD calls run in a read-only transaction, as PostgREST's do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from .catalog import Function, choose_function, list_functions
from .errors import invalid_body
from .messages import JSON_TYPE, Preferences, Reply, ResponseShape, RestRequest
from .query import Params, ident, row_window, trusted_sql
from .reads import range_reply, select_rows


def _arguments(request: RestRequest, functions: list[Function]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The call's named arguments, and the query pairs left over as filters on its result."""
    if request.method == "POST":
        body = request.json_body()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise invalid_body()
        return body, request.query
    argument_names = {name for function in functions for name, _ in function.inputs}
    arguments = {key: value for key, value in request.query if key in argument_names}
    return arguments, [(key, value) for key, value in request.query if key not in argument_names]


def _call_sql(function: Function, arguments: dict[str, Any], arguments_json: str, params: Params) -> sql.Composable:
    """``fn(a => ..., b => ...)``; each argument read from the JSON arguments with its declared type."""
    if not arguments:
        return sql.SQL("{}()").format(function.identifier)
    body = sql.SQL("{}::jsonb").format(params.bind(arguments_json))
    types = dict(function.inputs)
    passed = [
        sql.SQL("{name} => (SELECT pgrst_a.{name} FROM jsonb_to_record({body}) AS pgrst_a({name} {type}))").format(
            name=ident(name), body=body, type=trusted_sql(types[name])
        )
        for name in arguments
    ]
    return sql.SQL("{}({})").format(function.identifier, sql.SQL(", ").join(passed))


def call(
    conn: psycopg.Connection,
    request: RestRequest,
    schema: str,
    preferences: Preferences,
    shape: ResponseShape,
    *,
    become_caller: Callable[[psycopg.Connection], None],
    max_rows: int | None,
) -> Reply:
    functions = list_functions(conn, schema, request.resource)
    arguments, leftover_query = _arguments(request, functions)
    function = choose_function(functions, schema, request.resource, set(arguments))
    become_caller(conn)
    params = Params()
    # A POST body reaches Postgres as sent (no float round trip); GET arguments are query-string text.
    arguments_json = request.body.decode() if request.method == "POST" and arguments else json.dumps(arguments)
    called = _call_sql(function, arguments, arguments_json, params)
    if function.returns_set and function.returns_rows:
        source = sql.SQL("{} AS pgrst_call").format(called)
        return select_rows(
            conn,
            source,
            request,
            params=params,
            preferences=preferences,
            shape=shape,
            max_rows=max_rows,
            query=leftover_query,
        )
    if function.returns_set:
        window = row_window(request.first_values(), request.range_header, max_rows)
        statement = sql.SQL(
            "SELECT NULL::bigint, coalesce(json_agg(pgrst_value), '[]')::text, count(*) "
            "FROM (SELECT pgrst_value FROM {} AS pgrst_call(pgrst_value){}) pgrst_row"
        ).format(called, window.clause())
        _, array_text, returned = conn.execute(statement, params.values).fetchone()
        return range_reply(request, array_text, returned, window.offset, None, preferences, ResponseShape())
    if function.returns_void:
        conn.execute(sql.SQL("SELECT {}").format(called), params.values)
        return Reply(204, b"", preferences.headers(), rows=0)
    if function.returns_rows:
        statement = sql.SQL("SELECT to_json(pgrst_call)::text FROM {} AS pgrst_call").format(called)
    else:
        statement = sql.SQL("SELECT to_json({})::text").format(called)
    (value_text,) = conn.execute(statement, params.values).fetchone()
    headers = {"Content-Type": JSON_TYPE, "Content-Range": "0-0/*", **preferences.headers()}
    body = b"" if request.method == "HEAD" else (value_text or "null").encode()
    return Reply(200, body, headers, rows=1)
