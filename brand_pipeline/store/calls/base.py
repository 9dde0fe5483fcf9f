"""``FunctionCalls``: how the shared parts of a store call the migrations' SQL functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Json:
    """An argument sent as one JSON document (a ``jsonb`` parameter): a batch of rows, an object."""

    value: Any


@dataclass(frozen=True)
class JsonText:
    """A ``json`` or ``jsonb`` argument already encoded (the encoding was needed anyway, to hash it)."""

    text: str


Arguments = Mapping[str, Any]


class FunctionCalls:
    """The three primitives a store's transport implements. Arguments are named as the function's
    parameters; a ``Json`` argument is a ``jsonb`` one, a ``JsonText`` one ``json`` or ``jsonb``,
    lists of strings are ``text[]``."""

    async def _call_rows(self, function: str, args: Arguments, *, key: tuple[str, ...]) -> list[dict[str, Any]]:
        """Every row a set-returning function answers, in ``key`` order (``key`` is unique per row):
        however many there are, whatever a server caps one answer at."""
        raise NotImplementedError

    async def _call_row(self, function: str, args: Arguments) -> dict[str, Any]:
        """The one record a function with OUT parameters answers."""
        raise NotImplementedError

    async def _call_value(self, function: str, args: Arguments) -> Any:
        """The single value (a number, a JSON document, or None) a function answers."""
        raise NotImplementedError
