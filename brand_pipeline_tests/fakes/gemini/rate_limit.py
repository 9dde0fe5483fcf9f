"""The requests-per-minute quota the fake enforces when started with ``rpm=``."""

from __future__ import annotations

import collections
import threading
import time


class SlidingWindowLimiter:
    """A real requests-per-minute quota: at most ``rpm`` accepted calls in any 60 s window.

    Rejected calls do not use quota. When full, the caller learns how long until the oldest
    accepted call leaves the window (the ``retryDelay`` the 429 carries).
    """

    def __init__(self, rpm: int, window: float = 60.0) -> None:
        self.rpm = rpm
        self.window = window
        self._stamps: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> float | None:
        """None if accepted, else seconds until a slot frees."""
        now = time.monotonic()
        with self._lock:
            while self._stamps and now - self._stamps[0] >= self.window:
                self._stamps.popleft()
            if len(self._stamps) < self.rpm:
                self._stamps.append(now)
                return None
            return self.window - (now - self._stamps[0])
