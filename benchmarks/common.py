"""What every benchmark here shares: its command line and the median of repeated timings."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable


def options_parser(doc: str, **defaults: float) -> argparse.ArgumentParser:
    """``--name`` options (underscores become dashes) typed and defaulted by ``defaults``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    return parser


def median_seconds(repeat: int, work: Callable[[], object]) -> float:
    """The median wall time of ``repeat`` calls of ``work``: one slow outlier does not move it."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
