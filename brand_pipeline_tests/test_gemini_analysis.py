"""The Gemini analyser against a local server speaking Gemini's wire protocol, through the real
google-genai client: one test per failure mode, each failing if its handling were removed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from brand_pipeline.analysis.personas import personas_from_evidence
from brand_pipeline.analysis.prompts import PROMPTS
from brand_pipeline.analysis.schemas import PersonaSet
from brand_pipeline.analysis.semantic import Analyser
from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.domain.personas import EvidenceAd
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.sample import read_manifest
from brand_pipeline.store.models import CopyToAnalyse, CreativeToAnalyse
from brand_pipeline_tests.fakes.gemini import FakeGemini, Fault

T = TypeVar("T")


@pytest.fixture
def fake() -> FakeGemini:
    with FakeGemini(api_key="test-key") as server:
        yield server


def gemini(fake: FakeGemini, **overrides: Any) -> GeminiResource:
    fast = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "file_poll_interval_s": 0.05}
    return GeminiResource(api_key=fake.api_key, base_url=fake.base_url, **(fast | overrides))


def run(resource: GeminiResource, work: Callable[[Analyser], Awaitable[T]]) -> T:
    async def main() -> T:
        async with resource.open() as analyser:
            return await work(analyser)

    return asyncio.run(main())


def _copy(text: str = "Tired of cold coffee? Our mug keeps it hot for 6 hours. Shop now") -> CopyToAnalyse:
    return CopyToAnalyse(copy_hash="c" * 64, copy_text=text, ad_ids=["1"])


def analyse_copy(resource: GeminiResource, text: str | None = None) -> SemanticResult:
    return run(resource, lambda a: a.analyse_copy(_copy(text) if text else _copy(), {"words": 14}))


def _video(sample_dir: Path) -> tuple[CreativeToAnalyse, Path]:
    made = next(m for m in read_manifest(sample_dir).media if m.kind == "video")
    creative = CreativeToAnalyse(
        sha256=made.sha256,
        kind="video",
        mime_type="video/mp4",
        size_bytes=made.bytes,
        blob_path="unused",
        ad_ids=["1"],
        copy_text="Watch this",
    )
    return creative, sample_dir / made.path


def test_a_valid_reply_is_validated_against_our_schema_and_costed(fake: FakeGemini) -> None:
    result = analyse_copy(gemini(fake))
    assert result.status == "done" and result.attempts == 1
    assert set(result.result) == set(PROMPTS["copy"].schema.model_fields)
    assert result.input_tokens > 0 and result.output_tokens > 0
    assert result.cost_usd > 0 and result.model == "gemini-3.8-flash"
    [request] = fake.requests
    assert request.response_schema is not None, "the schema is sent as the structured response schema"


def test_quota_429_waits_at_least_the_servers_retry_delay(fake: FakeGemini) -> None:
    fake.queue(Fault.quota(retry_delay="2s"))
    started = time.monotonic()
    result = analyse_copy(gemini(fake))
    elapsed = time.monotonic() - started
    assert result.status == "done" and result.attempts == 2
    assert elapsed >= 2.0, "the SDK ignores retryDelay; we must not"
    assert fake.stats.quota_rejections == 1


def test_quota_exhausted_after_every_allowed_attempt_is_recorded_not_raised(fake: FakeGemini) -> None:
    fake.always(Fault.quota(retry_delay="0.05s"))
    result = analyse_copy(gemini(fake, max_attempts=3))
    assert result.status == "quota_exhausted" and result.attempts == 3
    assert "gave up after 3 attempts" in result.reason
    assert fake.stats.total_generate_calls == 3


def test_overloaded_503s_are_retried_with_backoff(fake: FakeGemini) -> None:
    fake.queue(Fault.unavailable(), Fault.unavailable())
    result = analyse_copy(gemini(fake))
    assert result.status == "done" and result.attempts == 3


def test_a_silent_server_is_cut_off_by_the_call_deadline(fake: FakeGemini) -> None:
    fake.always(Fault.hang(30))
    started = time.monotonic()
    result = analyse_copy(gemini(fake, timeout_s=0.5, max_attempts=2))
    elapsed = time.monotonic() - started
    assert result.status == "transient_error" and "no reply within 0.5 s" in result.reason
    assert elapsed < 5


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "RECITATION"])
def test_a_blocked_reply_is_final_and_not_retried(fake: FakeGemini, reason: str) -> None:
    fake.always(Fault.blocked(reason))
    result = analyse_copy(gemini(fake))
    assert result.status == "blocked" and reason in result.reason
    assert fake.stats.total_generate_calls == 1


def test_a_blocked_prompt_is_final(fake: FakeGemini) -> None:
    fake.always(Fault.prompt_blocked("SAFETY"))
    result = analyse_copy(gemini(fake))
    assert result.status == "blocked" and "prompt was blocked" in result.reason
    assert fake.stats.total_generate_calls == 1


def test_a_cut_reply_is_retried_once_with_twice_the_output_room(fake: FakeGemini) -> None:
    fake.queue(Fault.truncated())
    result = analyse_copy(gemini(fake, max_output_tokens=1000))
    assert result.status == "done" and result.attempts == 2
    first, second = fake.requests
    assert first.generation_config["maxOutputTokens"] == 1000
    assert second.generation_config["maxOutputTokens"] == 2000


def test_a_reply_cut_twice_is_invalid_and_its_raw_text_is_kept(fake: FakeGemini) -> None:
    fake.always(Fault.truncated())
    result = analyse_copy(gemini(fake))
    assert result.status == "invalid_reply" and "cut off" in result.reason
    assert result.raw_reply and result.result is None


def test_json_that_breaks_the_schema_is_invalid_not_silently_empty(fake: FakeGemini) -> None:
    fake.always(Fault.invalid_json())
    result = analyse_copy(gemini(fake))
    assert result.status == "invalid_reply" and "did not match the schema" in result.reason
    assert result.raw_reply is not None


def test_a_rejected_request_is_a_permanent_error_and_the_key_never_leaks(fake: FakeGemini) -> None:
    secret = "sk-not-the-right-key-123"
    resource = GeminiResource(api_key=secret, base_url=fake.base_url, backoff_initial_s=0.01)
    result = analyse_copy(resource)
    assert result.status == "permanent_error" and result.attempts == 1
    assert secret not in result.model_dump_json()


def test_large_videos_go_through_the_files_api_and_are_deleted(fake: FakeGemini, sample_dir: Path) -> None:
    fake.file_processing_polls = 2
    creative, media = _video(sample_dir)
    result = run(gemini(fake, max_inline_bytes=0), lambda a: a.analyse_creative(creative, media, {"duration_s": 3}))
    assert result.status == "done"
    assert fake.stats.uploads == 1 and fake.stats.deletes == 1 and fake.stats.gets >= 2
    [request] = fake.requests
    assert request.file_parts and not request.inline_parts


def test_small_media_go_inline(fake: FakeGemini, sample_dir: Path) -> None:
    creative, media = _video(sample_dir)
    result = run(gemini(fake), lambda a: a.analyse_creative(creative, media, {"duration_s": 3}))
    assert result.status == "done" and fake.stats.uploads == 0
    [request] = fake.requests
    assert [p.mime_type for p in request.inline_parts] == ["video/mp4"]
    assert request.inline_parts[0].size == media.stat().st_size


def test_a_file_gemini_fails_to_process_is_a_permanent_error_and_still_deleted(
    fake: FakeGemini, sample_dir: Path
) -> None:
    fake.next_upload_fails()
    creative, media = _video(sample_dir)
    result = run(gemini(fake, max_inline_bytes=0), lambda a: a.analyse_creative(creative, media, {}))
    assert result.status == "permanent_error" and "could not process the file" in result.reason
    assert fake.stats.deletes == 1 and fake.stats.total_generate_calls == 0


def test_a_file_stuck_processing_gives_up_at_the_deadline(fake: FakeGemini, sample_dir: Path) -> None:
    fake.next_upload_stuck()
    creative, media = _video(sample_dir)
    started = time.monotonic()
    result = run(
        gemini(fake, max_inline_bytes=0, file_active_timeout_s=0.5), lambda a: a.analyse_creative(creative, media, {})
    )
    assert result.status == "transient_error" and "still PROCESSING" in result.reason
    assert time.monotonic() - started < 5
    assert fake.stats.total_generate_calls == 0, "a file is never used before it is ACTIVE"


def test_all_calls_of_a_run_share_one_concurrency_bound(fake: FakeGemini) -> None:
    fake.latency = 0.2

    async def many(analyser: Analyser) -> list[SemanticResult]:
        return await asyncio.gather(*(analyser.analyse_copy(_copy(f"copy number {i}"), {}) for i in range(8)))

    results = run(gemini(fake, max_concurrency=2, requests_per_minute=6000), many)
    assert all(r.status == "done" for r in results)
    assert fake.stats.max_concurrent_generate == 2


def test_the_rate_limit_spreads_calls_over_time(fake: FakeGemini) -> None:
    async def many(analyser: Analyser) -> list[SemanticResult]:
        return await asyncio.gather(*(analyser.analyse_copy(_copy(f"copy number {i}"), {}) for i in range(5)))

    started = time.monotonic()
    results = run(gemini(fake, requests_per_minute=120), many)
    elapsed = time.monotonic() - started
    assert all(r.status == "done" for r in results)
    # 120/min = 2/s with a one-second burst of 2: the 5th call cannot start before ~1.5 s.
    assert elapsed >= 1.4


def _evidence(ad_ids: list[str]) -> list[EvidenceAd]:
    return [
        EvidenceAd(
            ad_archive_id=ad_id,
            display_format="VIDEO",
            is_active=True,
            start_date=None,
            end_date=None,
            days_running=100 - i,
            title="t",
            body="b",
            cta_text="Shop now",
            copy_hash=f"{i:064x}",
            creatives=[
                {"slot": "videos[0]", "sha256": f"{i + 100:064x}", "kind": "video", "facts": {}, "semantic": None}
            ],
        )
        for i, ad_id in enumerate(ad_ids)
    ]


def test_persona_citations_are_kept_only_for_ads_the_model_was_shown(fake: FakeGemini) -> None:
    fake.invent_citations = True
    ads = _evidence(["111", "222", "333", "444"])
    synthesis = run(gemini(fake), lambda a: personas_from_evidence("acme", ads, analyser=a))
    assert synthesis.status == "done" and 3 <= len(synthesis.personas) <= 6
    shown = {ad.ad_archive_id for ad in ads}
    for persona in synthesis.personas:
        assert persona.evidence_ad_ids and set(persona.evidence_ad_ids) <= shown
        assert "invented-0" not in persona.evidence_ad_ids
        assert persona.evidence_creative_shas and persona.evidence_copy_hashes
    assert synthesis.dropped_citations == len(synthesis.personas)
    assert "ad_id=111" in fake.requests[0].text, "each ad is shown with its id"


def test_persona_schema_asks_for_three_to_six_personas() -> None:
    schema = PersonaSet.model_json_schema()
    assert (schema["properties"]["personas"]["minItems"], schema["properties"]["personas"]["maxItems"]) == (3, 6)
