"""The PostgREST half of the fake: one transaction per request, run as the caller's Postgres role.

Like PostgREST, each request is one transaction: ``SET LOCAL ROLE`` to the JWT's role (so grants and
row-level security apply), the claims in ``request.jwt.claims`` (what ``auth.uid()``-style helpers
read), then the statement. ``Prefer: tx=rollback`` rolls it back after answering.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from . import rpc, writes
from .catalog import load_table
from .errors import PostgrestError, from_database
from .messages import Preferences, Reply, ResponseShape, RestRequest
from .query import Params, ident
from .reads import select_rows


class RestService:
    def __init__(
        self,
        pool: ConnectionPool,
        *,
        schemas: tuple[str, ...],
        max_rows: Callable[[], int | None],
        safeupdate: bool = True,
    ) -> None:
        self._pool = pool
        self._schemas = schemas
        self._max_rows = max_rows
        self._safeupdate = safeupdate

    def handle(self, request: RestRequest) -> Reply:
        schema = self._schema(request)
        preferences = Preferences.parse(request.headers)
        shape = ResponseShape.parse(request.headers.get("Accept"))
        reply = Reply(500)
        try:
            with self._pool.connection() as conn, conn.transaction() as transaction:
                if request.method in ("GET", "HEAD"):
                    conn.execute("SET TRANSACTION READ ONLY")
                reply = self._dispatch(conn, request, schema, preferences, shape)
                if preferences.rollback:
                    raise psycopg.Rollback(transaction)
        except psycopg.Error as exc:
            raise from_database(exc, anonymous=request.caller.is_anonymous) from exc
        return reply

    def _schema(self, request: RestRequest) -> str:
        header = "Accept-Profile" if request.method in ("GET", "HEAD") else "Content-Profile"
        schema = request.headers.get(header) or self._schemas[0]
        if schema not in self._schemas:
            raise PostgrestError(
                406,
                "PGRST106",
                f"Invalid schema: {schema}",
                hint=f"Only the following schemas are exposed: {', '.join(self._schemas)}",
            )
        return schema

    def _dispatch(
        self,
        conn: psycopg.Connection,
        request: RestRequest,
        schema: str,
        preferences: Preferences,
        shape: ResponseShape,
    ) -> Reply:
        def become_caller(connection: psycopg.Connection) -> None:
            _become(connection, request)

        if request.is_rpc:
            if request.method not in ("GET", "HEAD", "POST"):
                raise PostgrestError(405, "PGRST101", f"Cannot use the {request.method} method on RPC")
            return rpc.call(
                conn, request, schema, preferences, shape, become_caller=become_caller, max_rows=self._max_rows()
            )
        table = load_table(conn, schema, request.resource)  # as the connecting role: the schema cache sees all
        _become(conn, request)
        if request.method in ("GET", "HEAD"):
            return select_rows(
                conn,
                table.identifier,
                request,
                params=Params(),
                preferences=preferences,
                shape=shape,
                max_rows=self._max_rows(),
            )
        if request.method == "POST":
            return writes.insert(conn, request, table, preferences, shape)
        if request.method in ("PATCH", "DELETE"):
            return writes.update_or_delete(conn, request, table, preferences, shape, safeupdate=self._safeupdate)
        raise PostgrestError(405, "PGRST117", f"Unsupported HTTP method: {request.method}")


def _become(conn: psycopg.Connection, request: RestRequest) -> None:
    """Switch the transaction to the caller's role and expose its claims, as PostgREST does."""
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(ident(request.caller.role)), {})
    conn.execute(
        "SELECT set_config('request.jwt.claims', %(claims)s, true), set_config('request.method', %(method)s, true),"
        " set_config('request.jwt.claim.role', %(role)s, true)",
        {"claims": json.dumps(request.caller.claims), "method": request.method, "role": request.caller.role},
    )
