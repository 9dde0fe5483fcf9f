"""Secrets in text: a token given must not be blank, and no log line may show it.

A leaf: the sources (API tokens) and the report (the alert webhook URL) both use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import SecretStr


def non_blank_secret(secret: SecretStr, problem: str) -> SecretStr:
    """``secret`` unchanged, or a ``ValueError`` saying ``problem`` when it is empty or spaces."""
    if not secret.get_secret_value().strip():
        raise ValueError(problem)
    return secret


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through ``redact`` (arguments merged in first)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@contextmanager
def redacted_logs(logger: logging.Logger, redact: Callable[[str], str]) -> Iterator[None]:
    """While the block runs, ``logger``'s records pass through ``redact``; the filter leaves after."""
    log_filter = RedactingFilter(redact)
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)
