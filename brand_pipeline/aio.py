"""The one door from synchronous code (sensors, schedules, the CLI) into async code.

Every client that holds connections is opened inside the coroutine passed here and closed
before it returns, so nothing bound to this event loop outlives it (docs/architecture.md, "The async rule").
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a fresh event loop and close the loop afterwards."""
    return asyncio.run(coroutine)
