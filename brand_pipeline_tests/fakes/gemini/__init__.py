"""A local fake of the Gemini Developer API, for tests and benchmarks.

It speaks the wire protocol that the real ``google-genai`` SDK (checked with 3.6.1)
uses against ``generativelanguage.googleapis.com``, so production code runs unchanged
with ``genai.Client(api_key=..., http_options=types.HttpOptions(base_url=fake.base_url))``.

What it imitates:

* ``POST /{v1,v1beta}/models/<model>:generateContent`` with structured output: the reply
  text is a deterministic, valid instance of ``generationConfig.responseSchema``
  (OpenAPI subset, UPPER-case types) or ``responseJsonSchema`` (JSON Schema).
* Google-style JSON errors (``{"error": {"code", "message", "status", "details"}}``) for a
  bad API key, quota (429 + ``RetryInfo``), overload (503), internal errors (500), files
  used before they are ACTIVE (400 FAILED_PRECONDITION) and unknown files.
* Blocked replies (finish reason SAFETY / PROHIBITED_CONTENT / RECITATION, or a blocked
  prompt), MAX_TOKENS cut-offs, schema-violating JSON and hanging calls, injected per
  test through :class:`Fault`.
* A requests-per-minute quota (sliding 60 s window) and per-call latency for benchmarks.
* The Files API: resumable upload (start + chunk posts), ``GET`` walking
  PROCESSING -> ACTIVE (or FAILED), ``DELETE``.

The server is the standard library's ``http.server``, on purpose: installing aiohttp
would switch google-genai's async transport.

Modules: ``fake`` (:class:`FakeGemini`: lifecycle, routing, test controls), ``http_server``
(HTTP plumbing), ``generate`` (the generateContent endpoint), ``generate_request`` (what a
request said), ``replies`` (200 reply bodies), ``schema_filler`` (schema-driven reply text),
``faults`` (:class:`Fault` and the fault plan), ``files`` (the Files API), ``rate_limit``,
``stats`` and ``wire`` (shared JSON and error conventions). ``python -m`` this package serves
in its own process (see ``__main__``).

Example::

    with FakeGemini(rpm=60) as fake:
        client = genai.Client(api_key=fake.api_key,
                              http_options=types.HttpOptions(base_url=fake.base_url))
        fake.queue(Fault.quota(retry_delay="2s"))
        ...
        assert fake.stats.quota_rejections == 1
"""

from __future__ import annotations

from .fake import DEFAULT_CITATION_PATTERN, FakeGemini
from .faults import Fault
from .files import FakeFile
from .generate import ReplyFn
from .generate_request import FilePart, GenerateRequest, InlinePart
from .stats import FakeStats

__all__ = [
    "FakeGemini",
    "Fault",
    "FakeStats",
    "FakeFile",
    "GenerateRequest",
    "InlinePart",
    "FilePart",
    "ReplyFn",
    "DEFAULT_CITATION_PATTERN",
]
