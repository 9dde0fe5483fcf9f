"""``python -m brand_pipeline_tests.fakes.gemini --latency 0.5 --rpm 600``: serve in this process
(so a benchmark's client does not share a GIL with the server), print the base URL, and stop when
stdin closes."""

from __future__ import annotations

import argparse
import sys

from .fake import FakeGemini


def serve_from_command_line() -> None:
    parser = argparse.ArgumentParser(description="A local Gemini-compatible server.")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rpm", type=int, default=None)
    args = parser.parse_args()
    with FakeGemini(api_key=args.api_key, latency=args.latency, rpm=args.rpm) as fake:
        print(fake.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve_from_command_line()
