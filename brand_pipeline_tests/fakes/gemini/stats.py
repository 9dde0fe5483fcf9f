"""Counters of what the fake served, read by tests and (over HTTP) by benchmarks."""

from __future__ import annotations

import collections
import threading
from typing import Any, Literal

CountName = Literal["quota_rejections", "faults_served", "uploads", "deletes", "gets", "auth_failures"]


class FakeStats:
    """Thread-safe counters of what the fake served.

    ``generate_calls`` counts authenticated generateContent calls by model (every attempt,
    whatever the answer); ``quota_rejections`` counts 429s (injected and simulated);
    ``max_concurrent_generate`` is the peak number of generateContent calls in flight;
    ``input_tokens_served`` / ``output_tokens_served`` sum the usage of every reply sent.
    """

    generate_calls: collections.Counter[str]
    quota_rejections: int
    faults_served: int
    in_flight_generate: int
    max_concurrent_generate: int
    uploads: int
    deletes: int
    gets: int
    auth_failures: int
    input_tokens_served: int
    output_tokens_served: int

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.generate_calls = collections.Counter()
            self.quota_rejections = 0
            self.faults_served = 0
            self.in_flight_generate = 0
            self.max_concurrent_generate = 0
            self.uploads = 0
            self.deletes = 0
            self.gets = 0
            self.auth_failures = 0
            self.input_tokens_served = 0
            self.output_tokens_served = 0

    @property
    def total_generate_calls(self) -> int:
        with self._lock:
            return sum(self.generate_calls.values())

    def incr(self, name: CountName, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def count_generate(self, model: str) -> None:
        with self._lock:
            self.generate_calls[model] += 1

    def add_usage(self, input_tokens: int, output_tokens: int) -> None:
        with self._lock:
            self.input_tokens_served += input_tokens
            self.output_tokens_served += output_tokens

    def enter_generate(self) -> None:
        with self._lock:
            self.in_flight_generate += 1
            self.max_concurrent_generate = max(self.max_concurrent_generate, self.in_flight_generate)

    def exit_generate(self) -> None:
        with self._lock:
            self.in_flight_generate -= 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "generate_calls": dict(self.generate_calls),
                "quota_rejections": self.quota_rejections,
                "faults_served": self.faults_served,
                "max_concurrent_generate": self.max_concurrent_generate,
                "uploads": self.uploads,
                "deletes": self.deletes,
                "gets": self.gets,
                "auth_failures": self.auth_failures,
                "input_tokens_served": self.input_tokens_served,
                "output_tokens_served": self.output_tokens_served,
            }

    def __repr__(self) -> str:
        return f"FakeStats({self.snapshot()})"
