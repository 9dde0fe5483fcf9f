"""The Gemini-backed ``Analyser``: structured, quota-aware, honest about every failure.

- One token-bucket rate limit (``aiolimiter``) and one concurrency bound per event loop, so every
  call of a run shares them (an in-process run's steps share its loop).
- Retries (``tenacity``) on 429, 5xx, timeouts and dropped connections, with exponential backoff
  that waits at least the ``retryDelay`` the server asks for (the SDK ignores it); bounded attempts.
- An endpoint that cannot be reached at all (refused, no DNS) opens the run's circuit breaker
  (``gemini_breaker``) after a few tries: every call then fails at once and ``outage`` says why,
  so the step fails in seconds, not after every item's backoff.
- A deadline on every call. Replies are validated against our pydantic schema ourselves (the SDK
  leaves ``parsed`` empty without a word); a cut or invalid reply is retried once with more output
  room, and its raw text is kept either way.
- Blocked replies (safety, recitation, prohibited content, blocked prompt) are a final outcome.
- It only answers prompts: which evidence personas are shown and which citations count is the
  use case's business (``analysis/personas.py``), the same for every adapter.
- Videos larger than the inline limit go through the Files API: upload, wait for ACTIVE with a
  deadline, analyse, delete.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from google.genai import client as genai_client
from google.genai import errors, types
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from brand_pipeline.analysis.gemini_breaker import EndpointBreaker, connect_failure, run_breaker
from brand_pipeline.analysis.gemini_settings import GeminiSettings
from brand_pipeline.analysis.prompts import PROMPTS, Prompt
from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.domain.kinds import PromptKind, SemanticStatus
from brand_pipeline.store.models import CopyToAnalyse, CreativeToAnalyse

try:  # google-genai's own HTTP transport (a fork of httpx under another import name)
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - depends on the SDK's transport
    _TRANSPORT_ERRORS = (httpx.TransportError,)

_BLOCKED = {
    types.FinishReason.SAFETY,
    types.FinishReason.RECITATION,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.SPII,
    types.FinishReason.IMAGE_SAFETY,
    types.FinishReason.IMAGE_PROHIBITED_CONTENT,
    types.FinishReason.LANGUAGE,
}
_DURATION = re.compile(r"^\s*([\d.]+)s\s*$")


@dataclass
class _Limits:
    rate: AsyncLimiter
    slots: asyncio.Semaphore


# One set of limits per event loop: shared by every call of a run, gone with the loop.
_limits_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Limits] = weakref.WeakKeyDictionary()


def _run_limits(settings: GeminiSettings) -> _Limits:
    loop = asyncio.get_running_loop()
    limits = _limits_by_loop.get(loop)
    if limits is None:
        # A smooth bucket (one second of burst), not a minute's: a burst of a full minute's quota
        # at once is what trips per-minute quotas shared with other steps and processes.
        burst = max(1.0, settings.requests_per_minute / 60)
        limits = _Limits(
            rate=AsyncLimiter(burst, 60 * burst / settings.requests_per_minute),
            slots=asyncio.Semaphore(settings.max_concurrency),
        )
        _limits_by_loop[loop] = limits
    return limits


class _Retry(Exception):
    """A failure worth another attempt; ``status`` is the outcome if attempts run out."""

    def __init__(self, status: SemanticStatus, reason: str, retry_after_s: float = 0.0) -> None:
        super().__init__(reason)
        self.status, self.reason, self.retry_after_s = status, reason, retry_after_s


class _Final(Exception):
    """A failure that another attempt would not fix."""

    def __init__(self, status: SemanticStatus, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class _Usage:
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class GeminiAnalyser:
    def __init__(
        self, client: genai_client.AsyncClient, settings: GeminiSettings, *, secret: str, endpoint: str
    ) -> None:
        self._client = client
        self._settings = settings
        self._secret = secret
        self._endpoint = endpoint  # host:port, for the breaker and its message

    @property
    def enabled(self) -> bool:
        return True

    @property
    def outage(self) -> str | None:
        return self._breaker().outage

    def _breaker(self) -> EndpointBreaker:
        return run_breaker(self._endpoint, self._settings.max_connect_failures)

    def _raise_if_unreachable(self) -> None:
        outage = self._breaker().outage
        if outage is not None:
            raise _Final("transient_error", outage)

    def model_for(self, kind: PromptKind) -> str | None:
        return self._settings.models[kind]

    # -- the three analyses and the synthesis -----------------------------------------------------

    async def analyse_creative(self, creative: CreativeToAnalyse, media: Path, facts: dict[str, Any]) -> SemanticResult:
        prompt = PROMPTS[creative.kind]
        text = prompt.render(facts=json.dumps(facts, ensure_ascii=False), copy=creative.copy_text or "(none)")
        if creative.size_bytes <= self._settings.max_inline_bytes:
            part = types.Part.from_bytes(data=await asyncio.to_thread(media.read_bytes), mime_type=creative.mime_type)
            return await self._structured(prompt, [part, text])
        return await self._with_uploaded_file(prompt, media, creative.mime_type, text)

    async def analyse_copy(self, copy: CopyToAnalyse, facts: dict[str, Any]) -> SemanticResult:
        prompt = PROMPTS["copy"]
        return await self._structured(prompt, [prompt.render(facts=json.dumps(facts), copy=copy.copy_text)])

    async def synthesise_personas(self, brand_slug: str, summary: dict[str, Any], evidence: str) -> SemanticResult:
        prompt = PROMPTS["personas"]
        summary_json = json.dumps(summary, ensure_ascii=False, default=str)
        return await self._structured(prompt, [prompt.render(brand=brand_slug, summary=summary_json, ads=evidence)])

    # -- one structured call: limits, retries, validation ----------------------------------------

    async def _structured(self, prompt: Prompt, contents: Sequence[Any]) -> SemanticResult:
        model = self._settings.models[prompt.kind]
        usage = _Usage()
        max_tokens = self._settings.max_output_tokens
        raw = None
        try:
            for _ in range(2):  # a second pass only for a cut or invalid reply
                response = await self._generate_with_retries(model, prompt.schema, contents, max_tokens, usage)
                raw = _raw_text(response)
                try:
                    parsed = prompt.schema.model_validate_json(raw or "")
                except ValidationError as error:
                    problem = _first_problem(error)
                    max_tokens *= 2
                    continue
                return self._result("done", None, usage, model, raw=raw, result=parsed.model_dump(mode="json"))
            cut = _finish_reason(response) == types.FinishReason.MAX_TOKENS
            reason = (
                "the reply was cut off (MAX_TOKENS) twice" if cut else f"the reply did not match the schema: {problem}"
            )
            return self._result("invalid_reply", reason, usage, model, raw=raw)
        except _Final as final:
            return self._result(final.status, final.reason, usage, model, raw=raw)
        except _Retry as exhausted:
            reason = f"{exhausted.reason} (gave up after {usage.attempts} attempts)"
            return self._result(exhausted.status, reason, usage, model, raw=raw)

    async def _generate_with_retries(
        self, model: str, schema: type[BaseModel], contents: Sequence[Any], max_tokens: int, usage: _Usage
    ) -> types.GenerateContentResponse:
        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=schema,
            max_output_tokens=max_tokens,
            temperature=0.2,
        )
        limits = _run_limits(self._settings)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retry),
            reraise=True,
            sleep=self._breaker().sleep,
        )
        async for attempt in retrying:
            with attempt:
                self._raise_if_unreachable()
                async with limits.slots:
                    await self._take_turn(limits.rate)
                    usage.attempts += 1
                    response = await self._call(model, contents, config)
                tokens = response.usage_metadata
                if tokens:
                    usage.input_tokens += tokens.prompt_token_count or 0
                    usage.output_tokens += (tokens.candidates_token_count or 0) + (tokens.thoughts_token_count or 0)
                _raise_if_blocked(response)
        return response

    async def _take_turn(self, rate: AsyncLimiter) -> None:
        """A turn at the run's rate limit, given up as soon as the breaker opens: the calls queued
        behind a dead endpoint then fail at once instead of one per token interval."""
        breaker = self._breaker()
        self._raise_if_unreachable()
        while not rate.has_capacity():
            await breaker.sleep(rate.time_period / rate.max_rate)
            self._raise_if_unreachable()
        await rate.acquire()  # immediate: there is capacity

    async def _call(
        self, model: str, contents: Sequence[Any], config: types.GenerateContentConfig
    ) -> types.GenerateContentResponse:
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._client.models.generate_content(
                    model=model, contents=list(contents), config=config
                )
        except errors.APIError as error:
            self._breaker().record_answer()
            raise self._classify(error) from None
        except TimeoutError:
            raise _Retry("transient_error", f"no reply within {self._settings.timeout_s:g} s") from None
        except _TRANSPORT_ERRORS as error:
            raise self._transport_failure(error) from None
        self._breaker().record_answer()
        return response

    def _transport_failure(self, error: BaseException) -> _Retry | _Final:
        """A dropped connection is worth a retry; one that could not be made counts towards the breaker."""
        detail = connect_failure(error)
        if detail is None:
            return _Retry("transient_error", f"connection failed: {type(error).__name__}")
        breaker = self._breaker()
        breaker.record_connect_failure(detail)
        if breaker.outage is not None:
            return _Final("transient_error", breaker.outage)
        return _Retry("transient_error", f"could not connect to {self._endpoint}: {detail}")

    def _classify(self, error: errors.APIError) -> _Retry | _Final:
        message = self._redact(f"HTTP {error.code} {error.status or ''}: {error.message or ''}".strip())
        if error.code == 429:
            return _Retry("quota_exhausted", f"quota exhausted ({message})", _retry_delay_s(error))
        if error.code in (408, 500, 502, 503, 504) or error.code >= 500:
            return _Retry("transient_error", message)
        return _Final("permanent_error", message)

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=self._settings.backoff_initial_s, max=self._settings.backoff_max_s)(
            state
        )
        error = state.outcome.exception() if state.outcome else None
        return max(backoff, getattr(error, "retry_after_s", 0.0))

    def _result(
        self,
        status: SemanticStatus,
        reason: str | None,
        usage: _Usage,
        model: str,
        *,
        raw: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> SemanticResult:
        return SemanticResult(
            status=status,
            reason=reason,
            result=result,
            raw_reply=raw,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=self._settings.cost(model, usage.input_tokens, usage.output_tokens),
            attempts=usage.attempts,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text

    # -- Files API ------------------------------------------------------------------------------

    async def _with_uploaded_file(self, prompt: Prompt, media: Path, mime_type: str, text: str) -> SemanticResult:
        model = self._settings.models[prompt.kind]
        uploaded: types.File | None = None
        try:
            self._raise_if_unreachable()
            uploaded = await self._client.files.upload(
                file=str(media), config=types.UploadFileConfig(mime_type=mime_type)
            )
            uploaded = await self._wait_until_active(uploaded)
            part = types.Part.from_uri(file_uri=uploaded.uri, mime_type=mime_type)
            return await self._structured(prompt, [part, text])
        except _Final as final:
            return self._result(final.status, final.reason, _Usage(), model)
        except errors.APIError as error:
            classified = self._classify(error)
            return self._result(classified.status, f"file upload failed: {classified.reason}", _Usage(), model)
        except TimeoutError:
            return self._result("transient_error", "file upload failed: TimeoutError", _Usage(), model)
        except _TRANSPORT_ERRORS as error:
            failure = self._transport_failure(error)
            return self._result("transient_error", f"file upload failed: {failure.reason}", _Usage(), model)
        finally:
            if uploaded is not None and uploaded.name:
                try:
                    await self._client.files.delete(name=uploaded.name)
                except (errors.APIError, *_TRANSPORT_ERRORS):
                    pass  # the Files API deletes it after 48 h anyway

    async def _wait_until_active(self, uploaded: types.File) -> types.File:
        deadline = time.monotonic() + self._settings.file_active_timeout_s
        while uploaded.state != types.FileState.ACTIVE:
            if uploaded.state == types.FileState.FAILED:
                detail = uploaded.error.message if uploaded.error else "no detail"
                raise _Final("permanent_error", f"Gemini could not process the file: {self._redact(detail or '')}")
            if time.monotonic() > deadline:
                state = getattr(uploaded.state, "value", uploaded.state)
                waited = self._settings.file_active_timeout_s
                raise _Final("transient_error", f"the uploaded file was still {state} after {waited:g} s")
            await asyncio.sleep(self._settings.file_poll_interval_s)
            uploaded = await self._client.files.get(name=uploaded.name)
        return uploaded


def _raise_if_blocked(response: types.GenerateContentResponse) -> None:
    feedback = response.prompt_feedback
    if feedback and feedback.block_reason:
        raise _Final("blocked", f"the prompt was blocked ({feedback.block_reason.value})")
    reason = _finish_reason(response)
    if reason in _BLOCKED:
        raise _Final("blocked", f"the reply was blocked ({reason.value})")


def _finish_reason(response: types.GenerateContentResponse) -> types.FinishReason | None:
    return response.candidates[0].finish_reason if response.candidates else None


def _raw_text(response: types.GenerateContentResponse) -> str | None:
    if not response.candidates or not response.candidates[0].content:
        return None
    parts = response.candidates[0].content.parts or []
    return "".join(part.text for part in parts if part.text and not part.thought) or None


def _retry_delay_s(error: errors.APIError) -> float:
    # The SDK keeps the whole error body in .details; RetryInfo sits among the error's details.
    body = error.details if isinstance(error.details, dict) else {}
    for detail in (body.get("error") or {}).get("details") or []:
        match = _DURATION.match(str(detail.get("retryDelay", "")))
        if match:
            return float(match.group(1))
    return 0.0


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(p) for p in first["loc"]) or "reply"
    return f"{location}: {first['msg']}"
