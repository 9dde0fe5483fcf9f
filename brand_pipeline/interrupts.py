"""Stopping on SIGINT and SIGTERM: the work in flight is cancelled and unwinds, nothing new starts.

Dagster's in-process execution swaps the signal handlers while a run executes (its
``capture_interrupts`` / ``raise_execution_interrupts``): SIGTERM is handled as SIGINT, and a
``DagsterExecutionInterruptedError`` is raised wherever the main thread happens to be, usually in
the event loop's ``select``. Raised there, the exception leaves the step's coroutines suspended:
their model calls are abandoned half-way, results not yet saved are lost, and the loop's next
iteration (Dagster's shutdown of async generators) lets them send more requests. Hence:

- ``until_stop_signal(work)``: an asset's async body runs as a task; a stop signal cancels it, so it
  unwinds through its ``finally`` and ``async with`` blocks (saving what arrived, closing clients),
  and only then is the interruption raised to Dagster, which ends the run as interrupted.
- ``StopSignals``: a command's record of which stop signal arrived, whoever handled it. The
  interpreter writes every handled signal's number to the ``signal.set_wakeup_fd`` socket, so a
  signal that Dagster's handlers took during a run is still seen afterwards.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Coroutine
from types import FrameType, TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A stop signal ended the command. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` swallows it; not a KeyboardInterrupt, which click turns into "Aborted!"."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """The shell's convention for a command ended by a signal: 128 + its number."""
        return 128 + self.signum


async def until_stop_signal(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; on SIGINT or SIGTERM cancel it, let it unwind, then raise Dagster's interruption."""
    if threading.current_thread() is not threading.main_thread():
        return await work  # signals reach the main thread only; elsewhere Dagster's handling stands
    loop = asyncio.get_running_loop()
    task = loop.create_task(work)
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        # A signal handler runs between bytecodes: the loop may be inside select(), so wake it.
        loop.call_soon_threadsafe(task.cancel)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        result = await task
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if received:
        from dagster import DagsterExecutionInterruptedError  # here: the CLI imports this module first

        # Also when the work finished anyway: the run must not go on to its next step.
        raise DagsterExecutionInterruptedError(f"stopped by {signal.Signals(received[0]).name}")
    return result


class StopSignals:
    """Which stop signal arrived while this context was open, whoever handled it.

    Outside a Dagster run its own handler raises ``Interrupted`` at once; during a run Dagster's
    handlers take the signal, and ``raise_if_received()`` raises it once the run has returned.
    Only the main thread can install handlers; elsewhere it records nothing.
    """

    def __init__(self) -> None:
        self._first: int | None = None
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._previous_fd = -1
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._reader is None or self._writer is None:
            return
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
        self._reader = self._writer = None

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._first = self._first or signum
        raise Interrupted(signum)

    def received(self) -> int | None:
        """The first stop signal that arrived, if any."""
        while self._reader is not None and self._first is None:
            try:
                numbers = self._reader.recv(512)
            except BlockingIOError:
                break
            if not numbers:
                break
            stops = [n for n in numbers if n in STOP_SIGNALS]
            self._first = stops[0] if stops else None
        return self._first

    def raise_if_received(self) -> None:
        signum = self.received()
        if signum is not None:
            raise Interrupted(signum)
