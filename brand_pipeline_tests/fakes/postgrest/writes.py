"""POST (insert and upsert), PATCH and DELETE on a table, as PostgREST builds them.

The JSON body goes to Postgres untouched, as one parameter, and ``jsonb_populate_record`` turns each
object into a row of the table's type, so Postgres does every type conversion (arrays, jsonb,
timestamps) itself. A batch is one statement: one request, however many rows.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from .catalog import Table
from .errors import PostgrestError, column_not_found, invalid_body
from .messages import Preferences, Reply, ResponseShape, RestRequest
from .query import Params, filters, ident, select_list, split_top, trusted_sql, unquote


def _payload_rows(request: RestRequest) -> tuple[list[dict[str, Any]], bool]:
    """The body's objects, and whether the body was a single object rather than an array."""
    payload = request.json_body()
    if isinstance(payload, dict):
        return [payload], True
    if isinstance(payload, list) and all(isinstance(row, dict) for row in payload):
        return payload, False
    raise invalid_body()


def _payload_columns(request: RestRequest, rows: list[dict[str, Any]], table: Table) -> list[str]:
    """``columns=`` when given (other keys ignored), else the keys of the objects, which must all match."""
    columns_param = request.first("columns")
    if columns_param is not None:
        columns = [unquote(name.strip()) for name in split_top(columns_param) if name.strip()]
    else:
        columns = list(rows[0]) if rows else []
        if any(set(row) != set(columns) for row in rows):
            raise invalid_body("All object keys must match")
    for column in columns:
        if column not in table.columns:
            raise column_not_found(table.name, column)
    return columns


def _conflict_clause(
    request: RestRequest, table: Table, columns: list[str], preferences: Preferences
) -> sql.Composable:
    if preferences.resolution is None:
        return sql.SQL("")
    on_conflict = request.first("on_conflict")
    target = [unquote(c.strip()) for c in split_top(on_conflict)] if on_conflict else list(table.primary_key)
    if not target:  # no conflict target and no primary key: a plain insert, as PostgREST does
        return sql.SQL("")
    target_sql = sql.SQL(", ").join(ident(c) for c in target)
    if preferences.resolution == "ignore-duplicates" or not columns:
        return sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(target_sql)
    updates = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(ident(c)) for c in columns)
    return sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(target_sql, updates)


def insert(
    conn: psycopg.Connection, request: RestRequest, table: Table, preferences: Preferences, shape: ResponseShape
) -> Reply:
    rows, single_object = _payload_rows(request)
    columns = _payload_columns(request, rows, table)
    params = Params()
    if not rows:
        return _mutation_reply(201, "[]", 0, preferences, shape)
    values = []
    for column in columns:
        value: sql.Composable = sql.SQL("(pgrst_body.r).{}").format(ident(column))
        default = table.columns[column].default
        if preferences.missing_default and default is not None:  # absent key: the column's default
            value = sql.SQL("CASE WHEN pgrst_body.e ? {} THEN {} ELSE {} END").format(
                params.bind(column), value, trusted_sql(default)
            )
        values.append(value)
    body = params.bind(request.body.decode())
    elements = sql.SQL("jsonb_build_array({}::jsonb)" if single_object else "{}::jsonb").format(body)
    mutation = sql.SQL(
        "INSERT INTO {table} ({columns}) SELECT {values} FROM ("
        "SELECT x.e, x.n, jsonb_populate_record(NULL::{table}, x.e) AS r "
        "FROM jsonb_array_elements({elements}) WITH ORDINALITY AS x(e, n)) pgrst_body ORDER BY pgrst_body.n{conflict}"
    ).format(
        table=table.identifier,
        columns=sql.SQL(", ").join(ident(c) for c in columns),
        values=sql.SQL(", ").join(values),
        elements=elements,
        conflict=_conflict_clause(request, table, columns, preferences),
    )
    if not columns:  # an object with no keys: one row of defaults per object
        mutation = sql.SQL("INSERT INTO {} DEFAULT VALUES").format(table.identifier)
    return _run_mutation(conn, mutation, 201, request, params, preferences, shape)


def _require_filters(request: RestRequest, verb: str, params: Params, safeupdate: bool) -> sql.Composable:
    conditions = filters(request.query, params)
    if not conditions:
        if safeupdate:  # Supabase loads pg-safeupdate: an unfiltered UPDATE/DELETE is refused
            raise PostgrestError(400, "21000", f"{verb} requires a WHERE clause")
        return sql.SQL("TRUE")
    return sql.SQL(" AND ").join(conditions)


def update_or_delete(
    conn: psycopg.Connection,
    request: RestRequest,
    table: Table,
    preferences: Preferences,
    shape: ResponseShape,
    *,
    safeupdate: bool,
) -> Reply:
    """PATCH or DELETE on the rows the filters match (on every row only where pg-safeupdate is off)."""
    params = Params()
    if request.method == "DELETE":
        where = _require_filters(request, "DELETE", params, safeupdate)
        mutation = sql.SQL("DELETE FROM {} WHERE {}").format(table.identifier, where)
    else:
        mutation = _update(request, table, params, safeupdate)
        if mutation is None:  # an empty object: nothing to set
            return _mutation_reply(200 if preferences.representation else 204, "[]", 0, preferences, shape)
    return _run_mutation(conn, mutation, 200, request, params, preferences, shape)


def _update(request: RestRequest, table: Table, params: Params, safeupdate: bool) -> sql.Composable | None:
    """The UPDATE a PATCH asks for, or None when its object sets nothing (checked, filters too)."""
    payload = request.json_body()
    if not isinstance(payload, dict):
        raise invalid_body()
    for column in payload:
        if column not in table.columns:
            raise column_not_found(table.name, column)
    where = _require_filters(request, "UPDATE", params, safeupdate)
    if not payload:
        return None
    return sql.SQL(
        "UPDATE {table} SET ({columns}) = (SELECT {values} FROM jsonb_populate_record(NULL::{table}, {body}::jsonb) "
        "AS pgrst_body) WHERE {where}"
    ).format(
        table=table.identifier,
        columns=sql.SQL(", ").join(ident(c) for c in payload),
        values=sql.SQL(", ").join(sql.SQL("pgrst_body.{}").format(ident(c)) for c in payload),
        body=params.bind(request.body.decode()),
        where=where,
    )


def _run_mutation(
    conn: psycopg.Connection,
    mutation: sql.Composable,
    status: int,
    request: RestRequest,
    params: Params,
    preferences: Preferences,
    shape: ResponseShape,
) -> Reply:
    returning = select_list(request.first("select"), params) if preferences.representation else sql.SQL("1")
    rows = sql.SQL(shape.row_aggregate()) if preferences.representation else sql.SQL("NULL::text")
    statement = sql.SQL("WITH pgrst_source AS ({} RETURNING {}) SELECT {}, count(*) FROM pgrst_source pgrst_row")
    array_text, affected = conn.execute(statement.format(mutation, returning, rows), params.values).fetchone()
    if preferences.max_affected is not None and affected > preferences.max_affected:
        raise PostgrestError(
            400,
            "PGRST124",
            "Query result exceeds max-affected preference constraint",
            details=f"The query affects {affected} rows",
        )
    if status != 201 and not preferences.representation:
        status = 204
    return _mutation_reply(status, array_text, affected, preferences, shape)


def _mutation_reply(
    status: int, array_text: str | None, affected: int, preferences: Preferences, shape: ResponseShape
) -> Reply:
    headers = {"Content-Range": f"*/{affected if preferences.count else '*'}", **preferences.headers()}
    if shape.single and affected != 1:
        shape.rows_body("[]", affected)  # raises PGRST116; the transaction rolls back
    if not preferences.representation:
        return Reply(status, b"", headers, rows=affected)
    body, content_type = shape.rows_body(array_text or "[]", affected)
    headers["Content-Type"] = content_type
    return Reply(status, body, headers, rows=affected)
