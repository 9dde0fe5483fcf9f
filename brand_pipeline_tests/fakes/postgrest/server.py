"""``FakeSupabase``: PostgREST and Storage over HTTP on 127.0.0.1, executing against a real Postgres.

Threaded ``http.server`` in the house style (HTTP/1.1, Nagle off); one pooled psycopg connection per
request in flight. Every request is logged (method, path, query, status, rows sent and returned) and
any route can be made to fail for its next N requests.
"""

from __future__ import annotations

import json
import secrets
import socket
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg_pool import ConnectionPool

from .auth import ANON_ROLE, AUTHENTICATED_ROLE, SERVICE_ROLE, GatewayRefusal, ProjectKeys, TokenRefusal
from .bodies import BodyStream, MalformedBody
from .errors import PostgrestError
from .messages import JSON_TYPE, Reply, RestRequest
from .rest import RestService
from .storage import StorageService
from .storage_model import StorageError

_REST, _STORAGE = "/rest/v1/", "/storage/v1/"
_MAX_JSON_BODY = 64 * 1024 * 1024
_DRAIN_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: tuple[tuple[str, str], ...]
    status: int
    role: str | None  # the caller's role; None when refused before it was known
    rows_sent: int | None  # objects in a JSON request body
    rows_returned: int | None  # rows in (or affected by) the reply
    injected: bool = False  # answered by a fault switch


@dataclass
class Fault:
    """The next ``times`` requests matching ``method`` and ``path`` get this answer instead."""

    method: str
    path: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0  # seconds to wait before answering
    disconnect: bool = False  # close the connection without any answer

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and _under(path, self.path)


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def prepare_database(dsn: str, schemas: tuple[str, ...]) -> None:
    """Create Supabase's API roles if missing and grant them what a Supabase project grants."""
    roles = (ANON_ROLE, AUTHENTICATED_ROLE, SERVICE_ROLE)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for role in roles:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                continue
            extra = sql.SQL(" BYPASSRLS" if role == SERVICE_ROLE else "")
            try:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT{}").format(sql.Identifier(role), extra))
            except (pg_errors.DuplicateObject, pg_errors.UniqueViolation):
                pass  # created meanwhile by another database's fake on the same server
        grantees = sql.SQL(", ").join(sql.Identifier(r) for r in roles)
        if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            conn.execute(sql.SQL("GRANT {} TO current_user").format(grantees))  # needed for SET ROLE
        for schema in schemas:
            target = sql.Identifier(schema)
            for statement in (
                "GRANT USAGE ON SCHEMA {s} TO {g}",
                "GRANT ALL ON ALL TABLES IN SCHEMA {s} TO {g}",
                "GRANT ALL ON ALL SEQUENCES IN SCHEMA {s} TO {g}",
                "GRANT ALL ON ALL ROUTINES IN SCHEMA {s} TO {g}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON TABLES TO {g}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON SEQUENCES TO {g}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON ROUTINES TO {g}",
            ):
                conn.execute(sql.SQL(statement).format(s=target, g=grantees))


class FakeSupabase:
    """A local Supabase API (``/rest/v1`` and ``/storage/v1``) over the Postgres database at ``dsn``."""

    def __init__(
        self,
        dsn: str,
        *,
        storage_dir: Path | None = None,
        jwt_secret: str | None = None,
        max_rows: int | None = 1000,
        max_object_bytes: int = 50 * 1024 * 1024,
        schemas: tuple[str, ...] = ("public",),
        safeupdate: bool = True,
        pool_size: int = 4,
    ) -> None:
        self.keys = ProjectKeys(jwt_secret or secrets.token_urlsafe(32))
        self.max_rows = max_rows  # PostgREST's db-max-rows; change it per test if needed
        self.max_object_bytes = max_object_bytes
        self._scratch = None if storage_dir else tempfile.TemporaryDirectory(prefix="fake-supabase-storage-")
        self.storage_dir = Path(storage_dir or self._scratch.name)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        prepare_database(dsn, schemas)
        self._pool = ConnectionPool(dsn, min_size=1, max_size=pool_size, open=True, name="fake-supabase")
        self._pool.wait(timeout=30)
        self.rest = RestService(self._pool, schemas=schemas, max_rows=lambda: self.max_rows, safeupdate=safeupdate)
        self.storage = StorageService(self.storage_dir, max_object_bytes=lambda: self.max_object_bytes)
        self._lock = threading.Lock()
        self._log: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self.server_errors: list[BaseException] = []  # bugs of the fake itself, answered with 500
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(  # a short poll: stop() waits for one poll to pass
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-supabase", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"FakeSupabase({self.base_url})"

    # -- what tests use --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def anon_key(self) -> str:
        return self.keys.anon_key

    @property
    def service_key(self) -> str:
        return self.keys.service_key

    def mint_jwt(self, role: str, **claims: Any) -> str:
        """A token signed with the project's secret, e.g. a signed-in user's (role ``authenticated``)."""
        return self.keys.mint(role, **claims)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def requests_to(self, method: str | None, path: str) -> list[RecordedRequest]:
        """Logged requests with this method (None: any) to ``path`` or below it (``/rest/v1/ads``)."""
        return [r for r in self.requests if (method is None or r.method == method) and _under(r.path, path)]

    def route_counts(self) -> Counter[str]:
        """``"POST /rest/v1/ads" -> 3``: how often each method and path was requested."""
        return Counter(f"{r.method} {r.path}" for r in self.requests)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | bytes | None = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
    ) -> Fault:
        """Answer the next ``times`` requests on ``method`` (``"*"``: any) and ``path`` with ``status``."""
        if body is None:
            body = _default_fault_body(path, status)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        fault = Fault(
            method, path, status, payload, {"Content-Type": JSON_TYPE, **(headers or {})}, times, delay, disconnect
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._pool.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> FakeSupabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        method, parts = handler.command, urlsplit(handler.path)
        path, query = parts.path, parse_qsl(parts.query, keep_blank_values=True)
        body = BodyStream(handler.rfile, handler.headers)
        fault = self._take_fault(method, path)
        if fault is not None:
            _drain(body, handler)
            time.sleep(fault.delay)
            self._record(RecordedRequest(method, path, tuple(query), fault.status, None, None, None, injected=True))
            if fault.disconnect:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            _write(handler, Reply(fault.status, fault.body, fault.headers), method)
            return
        role, rows_sent = None, None
        try:
            caller = self.keys.caller(handler.headers)
            role = caller.role
            if path.startswith(_REST):
                raw = body.read_all(_MAX_JSON_BODY)
                rows_sent = _count_objects(raw)
                resource = [unquote(s) for s in path[len(_REST) :].split("/")]
                is_rpc = len(resource) == 2 and resource[0] == "rpc"
                if len(resource) != 1 + is_rpc or not resource[-1]:
                    raise PostgrestError(404, "PGRST125", "Invalid path specified in request URL")
                request = RestRequest(method, resource[-1], is_rpc, query, handler.headers, raw, caller)
                reply = self.rest.handle(request)
            elif path.startswith(_STORAGE):
                segments = [unquote(s) for s in path[len(_STORAGE) :].split("/") if s]
                reply = self.storage.handle(method, segments, handler.headers, body, caller)
            else:
                reply = Reply(404, b'{"message":"no Supabase service at this path"}', {"Content-Type": JSON_TYPE})
        except GatewayRefusal as exc:
            reply = Reply(401, json.dumps(exc.body).encode(), {"Content-Type": JSON_TYPE})
        except TokenRefusal as exc:
            reply = _token_refusal(path, exc)
        except PostgrestError as exc:
            reply = Reply(exc.status, exc.body(), {"Content-Type": JSON_TYPE, **exc.headers})
        except MalformedBody as exc:
            reply = Reply(400, json.dumps({"message": str(exc)}).encode(), {"Content-Type": JSON_TYPE})
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test to see
            self.server_errors.append(exc)
            reply = Reply(
                500, json.dumps({"code": "FAKE500", "message": repr(exc)}).encode(), {"Content-Type": JSON_TYPE}
            )
        _drain(body, handler)
        self._record(RecordedRequest(method, path, tuple(query), reply.status, role, rows_sent, reply.rows))
        _write(handler, reply, method)


def _default_fault_body(path: str, status: int) -> dict[str, Any]:
    if path.startswith(_STORAGE.rstrip("/")):
        return {"statusCode": str(status), "error": "injected", "message": f"injected fault {status}"}
    return {"code": str(status), "details": None, "hint": None, "message": f"injected fault {status}"}


def _token_refusal(path: str, exc: TokenRefusal) -> Reply:
    if path.startswith(_STORAGE):
        error = StorageError("400", "InvalidJWT", exc.message, code="InvalidJWT")
        return Reply(error.http_status, error.body(), {"Content-Type": JSON_TYPE})
    error = PostgrestError(401, exc.code, exc.message, headers={"WWW-Authenticate": "Bearer"})
    return Reply(401, error.body(), {"Content-Type": JSON_TYPE, **error.headers})


def _count_objects(raw: bytes) -> int | None:
    if not raw.strip():
        return None
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    return len(payload) if isinstance(payload, list) else 1 if isinstance(payload, dict) else None


def _drain(body: BodyStream, handler: BaseHTTPRequestHandler) -> None:
    """Read what the handler left of the body so the connection can carry the next request."""
    drained = 0
    try:
        while data := body.read():
            drained += len(data)
            if drained > _DRAIN_LIMIT:
                handler.close_connection = True
                return
    except (MalformedBody, OSError, ValueError):
        handler.close_connection = True


def _write(handler: BaseHTTPRequestHandler, reply: Reply, method: str) -> None:
    try:
        handler.send_response(reply.status)
        headers = dict(reply.headers)
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(reply.body))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if method == "HEAD":
            return
        if reply.file is not None:
            with reply.file.open("rb") as stored:
                while chunk := stored.read(64 * 1024):
                    handler.wfile.write(chunk)
        else:
            handler.wfile.write(reply.body)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


def _handler_for(fake: FakeSupabase) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no delayed-ACK stall between headers and body

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            fake.serve(self)

        do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    return Handler
