"""Dagster's interrupt (SIGINT, and SIGTERM which Dagster maps to it) as a cancellation of a step.

Dagster runs an async step with ``loop.run_until_complete`` and, on an interrupt, raises
``DagsterExecutionInterruptedError`` wherever the main thread happens to be: almost always inside
the event loop's ``select``, outside the step's coroutine. The coroutine is abandoned mid-await:
none of its ``finally`` blocks run (results received are not saved), Dagster's
``shutdown_asyncgens`` then closes its ``@asynccontextmanager`` generators underneath it, and
when the garbage collector finally closes the coroutine each ``async with`` fails with
"generator didn't stop after athrow()".

``interruptible`` runs the step's work as a task and, while it runs, turns those signals into
``task.cancel()`` (what ``asyncio.run`` does for Ctrl-C): the work unwinds in order (replies
saved, clients closed, no task left behind) and Dagster's own interrupt error is raised after.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import dagster as dg

T = TypeVar("T")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def interruptible(work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``; an interrupt meanwhile cancels it, waits for it to unwind, then raises
    ``dg.DagsterExecutionInterruptedError`` as Dagster would have."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    interrupted: list[int] = []

    def cancel(number: int) -> None:
        interrupted.append(number)
        task.cancel()

    previous = _install(loop, cancel)
    try:
        result = await task
    except asyncio.CancelledError:
        if interrupted:
            raise dg.DagsterExecutionInterruptedError() from None
        raise
    finally:
        _restore(loop, previous)
    if interrupted:  # arrived after the work had finished: still Dagster's to handle
        raise dg.DagsterExecutionInterruptedError()
    return result


def _install(loop: asyncio.AbstractEventLoop, cancel: Any) -> dict[int, Any]:
    """The handlers this replaced, by signal; none when signals cannot be handled here."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals reach the main thread only
    previous: dict[int, Any] = {}
    for number in _SIGNALS:
        handler = signal.getsignal(number)
        try:
            loop.add_signal_handler(number, cancel, number)
        except (NotImplementedError, RuntimeError, ValueError):
            break  # a loop without signal support: Dagster's handler stays
        previous[number] = handler
    return previous


def _restore(loop: asyncio.AbstractEventLoop, previous: dict[int, Any]) -> None:
    for number, handler in previous.items():
        loop.remove_signal_handler(number)
        signal.signal(number, handler if handler is not None else signal.SIG_DFL)
