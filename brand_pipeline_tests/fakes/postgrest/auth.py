"""API keys and JWTs the way Supabase uses them: HS256 tokens whose ``role`` claim names a Postgres role.

The gateway in front of PostgREST and Storage wants an ``apikey`` header holding one of the project's
keys; the ``Authorization: Bearer <jwt>`` header (the same key unless a user signed in) decides the
role. Only the standard library signs and checks tokens: three base64 parts and an HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

ANON_ROLE = "anon"
SERVICE_ROLE = "service_role"
AUTHENTICATED_ROLE = "authenticated"


class JwtClaims(BaseModel):
    """The claims the fake reads from a token; any others ride along into ``request.jwt.claims``."""

    model_config = ConfigDict(extra="allow")
    role: str
    exp: int | None = None


class GatewayRefusal(Exception):
    """The API gateway refused the request before it reached PostgREST or Storage (HTTP 401)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["message"])
        self.body = body


class TokenRefusal(Exception):
    """The bearer token is malformed, badly signed or expired (PostgREST codes PGRST301/PGRST303)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: the Postgres role to switch to and the claims to expose to SQL."""

    role: str
    claims: dict[str, Any]

    @property
    def is_anonymous(self) -> bool:
        return self.role == ANON_ROLE


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ProjectKeys:
    """The project's JWT secret and its two API keys (anon and service_role), minted at construction."""

    def __init__(self, jwt_secret: str, *, issuer: str = "supabase-fake") -> None:
        self._secret = SecretStr(jwt_secret)
        self._issuer = issuer
        self._anon = SecretStr(self.mint(ANON_ROLE))
        self._service = SecretStr(self.mint(SERVICE_ROLE))

    def __repr__(self) -> str:
        return "ProjectKeys(<secret>)"

    @property
    def anon_key(self) -> str:
        return self._anon.get_secret_value()

    @property
    def service_key(self) -> str:
        return self._service.get_secret_value()

    def mint(self, role: str, *, expires_in: int = 10 * 365 * 24 * 3600, **claims: Any) -> str:
        """An HS256 token for ``role`` signed with the project's secret (negative ``expires_in``: expired)."""
        now = int(time.time())
        payload = {"iss": self._issuer, "role": role, "iat": now, "exp": now + expires_in, **claims}
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{header}.{body}.{self._sign(f'{header}.{body}')}"

    def _sign(self, signing_input: str) -> str:
        key = self._secret.get_secret_value().encode()
        return _b64(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def verify(self, token: str) -> JwtClaims:
        """The token's claims, or :class:`TokenRefusal` with PostgREST's code and message."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenRefusal("PGRST301", f"Expected 3 parts in JWT; got {len(parts)}")
        header, body, signature = parts
        if not hmac.compare_digest(self._sign(f"{header}.{body}"), signature):
            raise TokenRefusal("PGRST301", "JWT cryptographic operation failed")
        try:
            claims = JwtClaims.model_validate(json.loads(_unb64(body)))
        except (ValueError, ValidationError) as exc:
            raise TokenRefusal("PGRST303", "Parsing claims failed") from exc
        if claims.exp is not None and claims.exp < time.time():
            raise TokenRefusal("PGRST303", "JWT expired")
        return claims

    def caller(self, headers: Any) -> Caller:
        """The caller of a request, from its ``apikey`` and ``Authorization`` headers.

        Raises :class:`GatewayRefusal` for a missing or unknown API key (as Supabase's gateway does)
        and :class:`TokenRefusal` for a bad bearer token.
        """
        api_key = headers.get("apikey")
        if not api_key:
            raise GatewayRefusal(
                {"message": "No API key found in request", "hint": "No `apikey` request header or url param was found."}
            )
        if not (hmac.compare_digest(api_key, self.anon_key) or hmac.compare_digest(api_key, self.service_key)):
            raise GatewayRefusal(
                {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}
            )
        authorization = headers.get("Authorization") or f"Bearer {api_key}"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefusal("PGRST301", "Empty JWT is sent in Authorization header")
        claims = self.verify(token.strip())
        return Caller(role=claims.role, claims=claims.model_dump(exclude_none=True))
