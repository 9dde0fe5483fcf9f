"""PostgREST's error replies: the ``{"code","message","details","hint"}`` body and its HTTP status.

The SQLSTATE-to-status table follows PostgREST's own ``mapSQLtoHTTP`` (PostgREST 12-14): database
errors are forwarded with their SQLSTATE as ``code``; errors PostgREST raises itself carry ``PGRSTnnn``.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg


class PostgrestError(Exception):
    """An error reply in PostgREST's shape; raised anywhere while serving a request."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = {"Proxy-Status": f"PostgREST; error={code}", **(headers or {})}

    def body(self) -> bytes:
        payload: dict[str, Any] = {
            "code": self.code,
            "details": self.details,
            "hint": self.hint,
            "message": self.message,
        }
        return json.dumps(payload).encode()


def bad_query(message: str, details: str | None = None) -> PostgrestError:
    """PGRST100: a query parameter PostgREST cannot parse (or the fake does not support)."""
    return PostgrestError(400, "PGRST100", message, details=details)


def table_not_found(schema: str, table: str) -> PostgrestError:
    return PostgrestError(404, "PGRST205", f"Could not find the table '{schema}.{table}' in the schema cache")


def column_not_found(table: str, column: str) -> PostgrestError:
    return PostgrestError(400, "PGRST204", f"Could not find the '{column}' column of '{table}' in the schema cache")


def invalid_body(message: str = "Empty or invalid json") -> PostgrestError:
    return PostgrestError(400, "PGRST102", message)


def not_single(rows: int) -> PostgrestError:
    return PostgrestError(
        406, "PGRST116", "Cannot coerce the result to a single JSON object", details=f"The result contains {rows} rows"
    )


_EXACT = {
    "23503": 409,  # foreign key violation
    "23505": 409,  # unique violation
    "25006": 405,  # read-only transaction
    "53400": 500,
    "57P01": 503,
    "P0001": 400,  # plain RAISE
    "42P01": 404,  # undefined table
    "42P17": 500,  # infinite recursion (usually in a policy)
}

_PREFIX = {
    "08": 503,
    "09": 500,
    "0L": 403,
    "0P": 403,
    "25": 500,
    "28": 403,
    "2D": 500,
    "38": 500,
    "39": 500,
    "3B": 500,
    "40": 500,
    "53": 503,
    "54": 500,
    "55": 500,
    "57": 500,
    "58": 500,
    "F0": 500,
    "HV": 500,
    "P0": 500,
    "XX": 500,
}


def status_for_sqlstate(sqlstate: str, message: str, *, anonymous: bool) -> int:
    """The HTTP status PostgREST answers a database error with."""
    if sqlstate in _EXACT:
        return _EXACT[sqlstate]
    if sqlstate == "21000":  # cardinality violation: a client error only for pg-safeupdate's refusal
        return 400 if message.endswith("requires a WHERE clause") else 500
    if sqlstate == "22023":  # the role named in the JWT does not exist
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if sqlstate == "42883":
        return 404
    if sqlstate == "42501":  # insufficient privilege: 401 for the anonymous role, 403 for everyone else
        return 401 if anonymous else 403
    return _PREFIX.get(sqlstate[:2], 400)


def from_database(exc: psycopg.Error, *, anonymous: bool) -> PostgrestError:
    """Forward a Postgres error as PostgREST does: SQLSTATE as code, message, detail and hint."""
    sqlstate = exc.sqlstate
    if sqlstate is None:  # no server error: the connection itself failed
        return PostgrestError(503, "PGRST000", "Database connection error. Retrying the connection.", details=str(exc))
    message = exc.diag.message_primary or str(exc)
    status = status_for_sqlstate(sqlstate, message, anonymous=anonymous)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return PostgrestError(
        status, sqlstate, message, details=exc.diag.message_detail, hint=exc.diag.message_hint, headers=headers
    )
