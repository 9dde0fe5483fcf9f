"""Conventions every endpoint of the fake shares: how a JSON field is looked up, how an error looks
(the ``google.rpc.Status`` envelope) and what a route answers."""

from __future__ import annotations

from typing import Any, NamedTuple

JsonObject = dict[str, Any]

QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. "
    "For more information on this error, head to: "
    "https://ai.google.dev/gemini-api/docs/rate-limits."
)


class Answer(NamedTuple):
    """What a route answers: HTTP status, extra headers, and a JSON payload (None: empty body)."""

    status: int
    headers: dict[str, str]
    payload: Any


class BadRequest(Exception):
    """A request the real API would refuse; carries the HTTP status and JSON body."""

    def __init__(self, status: int, body: JsonObject) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


def get_field(obj: Any, *keys: str) -> Any:
    """First present key of ``obj``: the API accepts both camelCase and snake_case."""
    if not isinstance(obj, dict):
        return None
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def error_body(code: int, status: str, message: str, details: list[JsonObject] | None = None) -> JsonObject:
    """The google.rpc.Status JSON envelope every Google API error uses."""
    err: JsonObject = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return {"error": err}


def invalid_argument(message: str) -> BadRequest:
    """400 INVALID_ARGUMENT, the API's answer to a malformed request."""
    return BadRequest(400, error_body(400, "INVALID_ARGUMENT", message))


def quota_body(retry_delay: str, model: str = "") -> JsonObject:
    """429 RESOURCE_EXHAUSTED as the real API sends it: a QuotaFailure, then RetryInfo.

    The SDK puts this whole body in ``ClientError.details``; the delay is found by
    scanning ``details["error"]["details"]`` for the ``google.rpc.RetryInfo`` entry.
    """
    return error_body(
        429,
        "RESOURCE_EXHAUSTED",
        QUOTA_MESSAGE,
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                        "quotaDimensions": {"location": "global", "model": model},
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
        ],
    )


def missing_api_key() -> BadRequest:
    """403: the real API's answer to a call without any key."""
    return BadRequest(
        403,
        error_body(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        ),
    )


def invalid_api_key() -> BadRequest:
    """400 API_KEY_INVALID: the real API's answer to a wrong key (which it never echoes)."""
    return BadRequest(
        400,
        error_body(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        ),
    )


def not_found(message: str) -> JsonObject:
    """404 NOT_FOUND body."""
    return error_body(404, "NOT_FOUND", message)
