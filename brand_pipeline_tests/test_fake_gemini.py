"""Self-tests of the fake Gemini server, driven by the real google-genai client.

Every test talks HTTP to 127.0.0.1 only. Async tests use plain ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import io
import json
import socket
import time
import warnings

import httpx
import httpx2
import pydantic
import pytest
from google import genai
from google.genai import errors, types

from brand_pipeline_tests.fakes.gemini import FakeFile, FakeGemini, Fault, GenerateRequest, InlinePart

MODEL = "gemini-2.5-flash"


class Tone(enum.StrEnum):
    WARM = "warm"
    BOLD = "bold"


class Trait(pydantic.BaseModel):
    label: str
    weight: float


class Persona(pydantic.BaseModel):
    name: str
    age: int
    tone: Tone
    is_primary: bool
    nickname: str | None = None
    traits: list[Trait] = pydantic.Field(min_length=1, max_length=3)
    evidence_ad_ids: list[str]


class PersonaWithMap(Persona):
    scores: dict[str, int] = {}
    quotes: list[str] = pydantic.Field(default_factory=list, min_length=3)


JSON_CONFIG = types.GenerateContentConfig(response_mime_type="application/json", response_schema=Persona)
PROMPT = "Ads:\nad_id=A-100 buy now\nad_id=b.200 sale\nad_id=A-100 again\nad_id=c_300\nad_id=d400\nWrite a persona."


def sync_client(fake: FakeGemini, **http: object) -> genai.Client:
    return genai.Client(api_key=fake.api_key, http_options=types.HttpOptions(base_url=fake.base_url, **http))


def retry_delay(e: errors.APIError) -> str | None:
    for detail in e.details["error"].get("details", []):
        if "retryDelay" in detail:
            return detail["retryDelay"]
    return None


@pytest.fixture
def fake():
    with FakeGemini() as f:
        yield f


@pytest.fixture
def client(fake):
    c = sync_client(fake)
    yield c
    c.close()


# --------------------------------------------------------------------------- structured output


def test_sync_structured_reply_parses_into_pydantic(fake, client):
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=JSON_CONFIG)
    p = r.parsed
    assert isinstance(p, Persona)
    assert p == Persona.model_validate_json(r.text)
    assert (p.name, p.age, p.tone, p.is_primary) == ("name (fake)", 1, Tone.WARM, True)
    assert 1 <= len(p.traits) <= 3 and p.traits[0].weight == 0.5
    # citations are real ids from the prompt: first 3 distinct, in order
    assert p.evidence_ad_ids == ["A-100", "b.200", "c_300"]
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    u = r.usage_metadata
    assert u.prompt_token_count == -(-len(PROMPT) // 4)
    assert u.total_token_count == u.prompt_token_count + u.candidates_token_count
    assert r.model_version == MODEL
    # the fake saw the OpenAPI dialect and counted the call
    (req,) = fake.requests
    assert req.model == MODEL and req.text == PROMPT
    assert req.response_schema["type"] == "OBJECT" and req.response_json_schema is None
    assert fake.stats.generate_calls == {MODEL: 1}


def test_async_json_schema_dialect_and_top_level_array(fake):
    async def main():
        # api_version="v1beta" exercises the /v1beta/ paths (the SDK default is /v1/)
        c = sync_client(fake, api_version="v1beta").aio
        try:
            r1 = await c.models.generate_content(
                model=MODEL,
                contents=PROMPT,
                config=types.GenerateContentConfig(
                    response_mime_type="application/json",
                    response_json_schema=PersonaWithMap.model_json_schema(),
                ),
            )
            r2 = await c.models.generate_content(
                model="gemini-2.5-pro",
                contents="list traits",
                config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=list[Trait]),
            )
            return r1, r2
        finally:
            await c.aclose()

    r1, r2 = asyncio.run(main())
    p = PersonaWithMap.model_validate_json(r1.text)  # $defs/$ref, anyOf-null, additionalProperties
    assert p.tone == Tone.WARM and p.scores == {"key (fake)": 1}
    assert p.quotes == ["quotes (fake 1)", "quotes (fake 2)", "quotes (fake 3)"]  # minItems respected
    assert p.evidence_ad_ids == ["A-100", "b.200", "c_300"]
    assert fake.requests[0].response_json_schema["type"] == "object"
    assert fake.requests[0].api_version == "v1beta"
    assert r2.parsed == [Trait(label="label (fake)", weight=0.5)] * 2
    assert fake.stats.generate_calls == {MODEL: 1, "gemini-2.5-pro": 1}


class Short(pydantic.BaseModel):
    code: str = pydantic.Field(max_length=4)


class Scored(pydantic.BaseModel):
    score: int = pydantic.Field(ge=3, le=9)


class Hook(pydantic.BaseModel):
    source_ad_id: str
    seen_at: datetime.datetime
    either: Scored | Short
    maybe: Scored | None = None
    confidence: float = pydantic.Field(ge=0.7, le=1)
    counts: list[int | None] = pydantic.Field(max_length=1)


@pytest.mark.parametrize("dialect", ["response_schema", "response_json_schema"])
def test_schema_edge_cases_in_both_dialects(fake, client, dialect):
    # response_schema arrives as the SDK's snake_case dump (any_of, max_length, ...);
    # response_json_schema must be a dict in 3.6.1 (a pydantic class fails to serialise)
    schema = Hook if dialect == "response_schema" else Hook.model_json_schema()
    cfg = types.GenerateContentConfig(response_mime_type="application/json", **{dialect: schema})
    r = client.models.generate_content(model=MODEL, contents="see ad_id=zz9", config=cfg)
    h = Hook.model_validate_json(r.text)
    assert h.source_ad_id == "zz9" and h.either == Scored(score=3) and h.maybe == Scored(score=3)
    assert h.confidence == 0.7 and h.counts == [1]


def test_invented_citation_is_not_in_prompt():
    with FakeGemini(invent_citations=True, citation_pattern=r"\[ad:(\w+)\]") as fake:
        c = sync_client(fake)
        try:
            r = c.models.generate_content(model=MODEL, contents="[ad:x1] [ad:x2]", config=JSON_CONFIG)
        finally:
            c.close()
    assert r.parsed.evidence_ad_ids == ["x1", "x2", "invented-0"]


def test_reply_with_hook_dict_and_fault(fake, client):
    seen: list[GenerateRequest] = []

    def hook(req: GenerateRequest):
        seen.append(req)
        if "block me" in req.text:
            return Fault.blocked("RECITATION")
        if "custom" in req.text:
            return {"name": "Ada", "age": 36, "tone": "bold", "is_primary": False, "traits": [], "evidence_ad_ids": []}
        return None

    fake.reply_with(hook)
    r = client.models.generate_content(model=MODEL, contents="custom please", config=JSON_CONFIG)
    assert r.text.startswith('{"name": "Ada"') and r.parsed is None  # traits min_length=1 violated
    r = client.models.generate_content(model=MODEL, contents="block me", config=JSON_CONFIG)
    assert r.candidates[0].finish_reason == types.FinishReason.RECITATION
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=JSON_CONFIG)
    assert isinstance(r.parsed, Persona)
    assert [s.seq for s in seen] == [0, 1, 2]


def test_inline_media_parts_are_summarised(fake, client):
    data = bytes(range(256)) * 4  # base64 of this needs '-' and '_' in the URL-safe alphabet
    r = client.models.generate_content(
        model=MODEL,
        contents=[types.Part.from_bytes(data=data, mime_type="image/png"), "describe"],
    )
    assert r.text == "This is a fake Gemini reply."
    req = fake.requests[-1]
    assert req.inline_parts == (InlinePart("image/png", 1024),)
    assert req.parts_summary == {"inline": [("image/png", 1024)], "files": []}
    assert r.usage_metadata.prompt_token_count == 258 + 2  # media part + ceil(len("describe")/4)


def test_max_output_tokens_cuts_reply(fake, client):
    cfg = JSON_CONFIG.model_copy(update={"max_output_tokens": 5})
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=cfg)
    assert r.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert r.parsed is None and len(r.text) == 20


# --------------------------------------------------------------------------- errors and faults


def test_wrong_or_missing_key_is_rejected_without_echo(fake):
    key = "wrong-secret-123"
    c = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=fake.base_url))
    try:
        with pytest.raises(errors.ClientError) as ei:
            c.models.generate_content(model=MODEL, contents="hi")
    finally:
        c.close()
    assert (ei.value.code, ei.value.status) == (400, "INVALID_ARGUMENT")
    assert "API key not valid" in ei.value.message
    assert key not in json.dumps(ei.value.details) and fake.api_key not in json.dumps(ei.value.details)
    # missing key: a raw request (the SDK refuses to build a client without one)
    resp = httpx.post(f"{fake.base_url}/v1beta/models/{MODEL}:generateContent", json={"contents": []})
    assert resp.status_code == 403 and resp.json()["error"]["status"] == "PERMISSION_DENIED"
    assert resp.headers["content-type"].startswith("application/json")
    assert fake.stats.generate_calls == {} and fake.stats.auth_failures == 2


def test_quota_fault_then_success(fake, client):
    fake.queue(Fault.quota(retry_delay="2s"))
    with pytest.raises(errors.ClientError) as ei:
        client.models.generate_content(model=MODEL, contents="hi")
    e = ei.value
    assert (e.code, e.status) == (429, "RESOURCE_EXHAUSTED")
    assert retry_delay(e) == "2s"
    assert e.response.headers["content-type"].startswith("application/json")
    r = client.models.generate_content(model=MODEL, contents="hi")
    assert r.text
    assert fake.stats.quota_rejections == 1 and fake.stats.generate_calls[MODEL] == 2


def test_unavailable_and_internal_raise_server_error_in_fifo_order(fake, client):
    fake.queue(Fault.unavailable(), Fault.server_error())
    with pytest.raises(errors.ServerError) as e1:
        client.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(errors.ServerError) as e2:
        client.models.generate_content(model=MODEL, contents="hi")
    assert (e1.value.code, e1.value.status) == (503, "UNAVAILABLE")
    assert e1.value.message == "The model is overloaded. Please try again later."
    assert (e2.value.code, e2.value.status) == (500, "INTERNAL")
    assert client.models.generate_content(model=MODEL, contents="hi").text
    assert fake.pending_faults == 0


def test_always_until_clear(fake, client):
    fake.always(Fault.quota(retry_delay="7s"))
    for _ in range(3):
        with pytest.raises(errors.ClientError) as ei:
            client.models.generate_content(model=MODEL, contents="hi")
        assert retry_delay(ei.value) == "7s"
    fake.clear()
    assert client.models.generate_content(model=MODEL, contents="hi").text
    assert fake.stats.quota_rejections == 3


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "RECITATION"])
def test_blocked_candidate(fake, client, reason):
    fake.queue(Fault.blocked(reason))
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=JSON_CONFIG)
    assert r.text is None and r.parsed is None
    assert r.candidates[0].finish_reason == types.FinishReason[reason]
    assert r.candidates[0].content is None and r.candidates[0].safety_ratings


def test_prompt_blocked(fake, client):
    fake.queue(Fault.prompt_blocked("SAFETY"))
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=JSON_CONFIG)
    assert r.candidates is None and r.text is None and r.parsed is None
    assert r.prompt_feedback.block_reason == types.BlockedReason.SAFETY


def test_truncated_and_invalid_json(fake, client):
    fake.queue(Fault.truncated(), Fault.invalid_json())
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=JSON_CONFIG)
    assert r.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert r.parsed is None and r.text
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    r = client.models.generate_content(model=MODEL, contents=PROMPT, config=JSON_CONFIG)
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert json.loads(r.text) == {"unexpected": True} and r.parsed is None


def test_hang_hits_client_timeout_and_stop_is_prompt():
    fake = FakeGemini()
    c = sync_client(fake, timeout=500)  # HttpOptions.timeout is in milliseconds
    try:
        fake.queue(Fault.hang(30), Fault.hang(30))
        t0 = time.monotonic()
        # Not an APIError: the transport's own timeout (httpx2, the SDK's default backend).
        with pytest.raises(httpx2.TimeoutException):
            c.models.generate_content(model=MODEL, contents="hi")
        assert 0.4 <= time.monotonic() - t0 < 2.0

        async def main():
            t0 = time.monotonic()
            with pytest.raises(httpx2.TimeoutException):
                await c.aio.models.generate_content(model=MODEL, contents="hi")
            assert 0.4 <= time.monotonic() - t0 < 2.0
            await c.aio.aclose()

        asyncio.run(main())
        assert c.models.generate_content(model=MODEL, contents="hi").text  # next call fine
    finally:
        c.close()
        t0 = time.monotonic()
        fake.stop()
        assert time.monotonic() - t0 < 1.0  # the hung handlers were woken, not waited for


# --------------------------------------------------------------------------- quota and latency


def test_rpm_quota_produces_429_with_retry_delay():
    with FakeGemini(rpm=3) as fake:
        c = sync_client(fake)
        outcomes = []
        try:
            for _ in range(5):
                try:
                    c.models.generate_content(model=MODEL, contents="hi")
                    outcomes.append("ok")
                except errors.ClientError as e:
                    assert e.code == 429
                    delay = retry_delay(e)
                    assert delay.endswith("s") and 1 <= int(delay[:-1]) <= 60
                    outcomes.append("429")
        finally:
            c.close()
        assert outcomes == ["ok", "ok", "ok", "429", "429"]
        assert fake.stats.quota_rejections == 2 and fake.stats.generate_calls[MODEL] == 5


def test_latency_and_peak_concurrency_async():
    with FakeGemini(latency=0.2) as fake:

        async def main():
            c = sync_client(fake).aio
            try:
                return await asyncio.gather(
                    *(c.models.generate_content(model=MODEL, contents=f"q{i}") for i in range(5))
                )
            finally:
                await c.aclose()

        t0 = time.monotonic()
        replies = asyncio.run(main())
        elapsed = time.monotonic() - t0
    assert len(replies) == 5 and all(r.text for r in replies)
    assert 0.2 <= elapsed < 0.9
    assert fake.stats.max_concurrent_generate == 5
    assert sorted(r.text for r in fake.requests) == [f"q{i}" for i in range(5)]


# --------------------------------------------------------------------------- Files API


def test_files_upload_processing_active_generate_delete():
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(5000)
    with FakeGemini(file_processing_polls=2) as fake:

        async def main():
            c = sync_client(fake).aio
            try:
                f = await c.files.upload(
                    file=io.BytesIO(video), config=dict(mime_type="video/mp4", display_name="ad.mp4")
                )
                assert f.state == types.FileState.PROCESSING and f.size_bytes == len(video)
                assert f.name.startswith("files/") and f.uri == f"{fake.base_url}/v1/files/{f.name[6:]}"
                assert f.expiration_time - f.create_time == datetime.timedelta(hours=48)
                # used too early: 400 FAILED_PRECONDITION, as the real API
                with pytest.raises(errors.ClientError) as ei:
                    await c.models.generate_content(model=MODEL, contents=[f, "describe"])
                assert (ei.value.code, ei.value.status) == (400, "FAILED_PRECONDITION")
                assert "not in an ACTIVE state" in ei.value.message
                states = [(await c.files.get(name=f.name)).state for _ in range(3)]
                assert states == [types.FileState.PROCESSING, types.FileState.PROCESSING, types.FileState.ACTIVE]
                active = await c.files.get(name=f.name)
                r = await c.models.generate_content(model=MODEL, contents=[active, "describe"])
                assert r.text
                assert fake.requests[-1].file_parts[0].uri == f.uri
                assert r.usage_metadata.prompt_token_count == 258 + 2
                assert fake.file_bytes(f.name) == video
                await c.files.delete(name=f.name)
                with pytest.raises(errors.ClientError) as ei:
                    await c.files.get(name=f.name)
                assert (ei.value.code, ei.value.status) == (404, "NOT_FOUND")
            finally:
                await c.aclose()

        asyncio.run(main())
        s = fake.stats
        assert (s.uploads, s.gets, s.deletes) == (1, 5, 1)


def test_files_failed_and_stuck_and_sync_upload():
    with FakeGemini(file_processing_polls=0) as fake:
        c = sync_client(fake)
        try:
            ok = c.files.upload(file=io.BytesIO(b"png"), config=dict(mime_type="image/png"))
            assert ok.state == types.FileState.ACTIVE  # polls=0: usable at once
            fake.next_upload_fails()
            bad = c.files.upload(file=io.BytesIO(b"bad"), config=dict(mime_type="video/mp4"))
            got = c.files.get(name=bad.name)
            assert got.state == types.FileState.FAILED and got.error.code == 400 and got.error.message
            with pytest.raises(errors.ClientError) as ei:
                c.models.generate_content(model=MODEL, contents=[got, "x"])
            assert ei.value.status == "FAILED_PRECONDITION"
            fake.next_upload_stuck()
            stuck = c.files.upload(file=io.BytesIO(b"slow"), config=dict(mime_type="video/mp4"))
            assert all(c.files.get(name=stuck.name).state == types.FileState.PROCESSING for _ in range(4))
            with pytest.raises(errors.ClientError) as ei:
                c.files.delete(name="files/nope")
            assert ei.value.code == 404
        finally:
            c.close()
        assert isinstance(fake.files[ok.name], FakeFile) and fake.stats.uploads == 3


# --------------------------------------------------------------------------- lifecycle


def test_stop_closes_sockets_cleanly():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        fake = FakeGemini()
        c = sync_client(fake)
        c.models.generate_content(model=MODEL, contents="hi")  # leaves a keep-alive connection open
        fake.stop()
        fake.stop()  # idempotent
        c.close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", fake.port), timeout=0.5).close()
