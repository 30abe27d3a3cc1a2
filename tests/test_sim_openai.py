"""The fake OpenAI through the real SDK: parsing, 429 variants, headers, errors, mistakes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import openai
import pydantic
import pytest
from openai import AsyncOpenAI

from frontscan.detector import normalize
from frontscan.simulator import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.buckets import RefillBucket, go_duration
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.openai_model import MistakeRates
from frontscan.simulator.openai_server import OpenAIOptions, create_openai_app
from frontscan.simulator.runtime import serving

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)
GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+(\.\d+)?s)?$|^\d+ms$")


class FoundNumber(pydantic.BaseModel):
    message_id: str
    tracking_number: str
    carrier: str | None


class Extraction(pydantic.BaseModel):
    numbers: list[FoundNumber]


class Drifted(pydantic.BaseModel):
    tracking_numbers: list[str]


def sim_options(**overrides: Any) -> SimulatorOptions:
    base: dict[str, Any] = {
        "conversations": 30,
        "seed": 11,
        "start": START,
        "end": END,
        "latency_scale": 0.0,
        "openai_rpm": 100_000,
        "openai_tpm": 10_000_000,
    }
    base.update(overrides)
    return SimulatorOptions(**base)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator(sim_options()) as running:
        yield running


def prompt_for(mailbox: Mailbox, conversation_id: str) -> str:
    blocks = [
        f'<message id="{m.id}">{m.text if m.text is not None else m.body}</message>'
        for m in mailbox.conversations[conversation_id].messages
    ]
    return "Find tracking numbers.\n" + "\n".join(blocks)


def busiest(mailbox: Mailbox) -> str:
    counts: dict[str, int] = {}
    for row in mailbox.truth:
        counts[row.conversation_id] = counts.get(row.conversation_id, 0) + 1
    return max(counts, key=lambda c: counts[c])


async def parse(
    client: AsyncOpenAI, content: str, model: type[pydantic.BaseModel] = Extraction, **kw: Any
) -> Any:
    return await client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You extract."},
            {"role": "user", "content": content},
        ],
        response_format=model,
        max_completion_tokens=kw.pop("max_completion_tokens", 2000),
        **kw,
    )


def message_of(error: openai.APIStatusError) -> str:
    """The server's own `error.message` (the SDK prefixes its str with the status)."""
    assert isinstance(error.body, dict)
    return str(error.body["message"])


def client_for(sim: RunningSimulator, **kw: Any) -> AsyncOpenAI:
    kw.setdefault("max_retries", 0)
    return AsyncOpenAI(base_url=sim.openai_url, api_key=kw.pop("api_key", sim.openai_key), **kw)


async def test_sdk_parses_the_oracle_answer(sim: RunningSimulator) -> None:
    conversation_id = busiest(sim.mailbox)
    async with client_for(sim) as client:
        raw = await client.chat.completions.with_raw_response.parse(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": prompt_for(sim.mailbox, conversation_id)}],
            response_format=Extraction,
            max_completion_tokens=2000,
        )
    completion = raw.parse()
    parsed = completion.choices[0].message.parsed
    assert parsed is not None
    # the model copies numbers as the message prints them (groups, dashes)
    got = {(n.message_id, normalize(n.tracking_number), n.carrier) for n in parsed.numbers}
    truth = {
        (t.message_id, t.tracking_number, t.carrier)
        for t in sim.mailbox.truth
        if t.conversation_id == conversation_id
    }
    assert truth <= got  # quoted repeats are reported against the quoting message too
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion.system_fingerprint
    assert completion.service_tier == "default"
    headers = raw.headers
    for name in ("requests", "tokens"):
        assert int(headers[f"x-ratelimit-limit-{name}"]) > 0
        assert int(headers[f"x-ratelimit-remaining-{name}"]) >= 0
        assert GO_DURATION.match(headers[f"x-ratelimit-reset-{name}"])
    assert re.fullmatch(r"req_[0-9a-f]{32}", headers["x-request-id"])
    assert int(headers["openai-processing-ms"]) >= 0
    assert sim.openai_stats.tokens_charged > 0


async def test_drifted_schema_gets_its_empty_shape(sim: RunningSimulator) -> None:
    async with client_for(sim) as client:
        completion = await parse(client, prompt_for(sim.mailbox, busiest(sim.mailbox)), Drifted)
    assert completion.choices[0].message.parsed == Drifted(tracking_numbers=[])
    assert sim.openai_stats.mistakes["schema_mismatch"] == 1


async def test_auth_and_bad_parameters(sim: RunningSimulator) -> None:
    async with client_for(sim, api_key="sk-wrong") as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await parse(client, "hi")
    assert caught.value.code == "invalid_api_key"
    async with client_for(sim) as client:
        with pytest.raises(openai.BadRequestError) as bad:
            await client.chat.completions.create(
                model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=50
            )
    assert bad.value.code == "unsupported_parameter"
    assert bad.value.param == "max_tokens"


async def test_rpm_429_counts_and_has_no_retry_after() -> None:
    async with running_simulator(sim_options(openai_rpm=3)) as sim, client_for(sim) as client:
        for _ in range(3):
            await parse(client, "hello")
        with pytest.raises(openai.RateLimitError) as caught:
            await parse(client, "hello")
        with pytest.raises(openai.RateLimitError):
            await parse(client, "hello")  # the refused one counted: still empty
    error = caught.value
    assert error.code == "rate_limit_exceeded"
    assert error.type == "requests"
    assert "on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in" in (
        message_of(error)
    )
    assert "retry-after" not in error.response.headers
    assert "retry-after-ms" not in error.response.headers
    assert error.response.headers["x-request-id"].startswith("req_")
    assert sim.openai_stats.rate_limited["requests"] == 2
    headers = error.response.headers  # 429s carry the rate-limit headers, as the API's do
    assert headers["x-ratelimit-limit-requests"] == "3"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert GO_DURATION.match(headers["x-ratelimit-reset-requests"])
    assert int(headers["x-ratelimit-remaining-tokens"]) <= int(headers["x-ratelimit-limit-tokens"])


async def test_the_server_charges_prompt_bytes_over_four_plus_the_whole_budget() -> None:
    async with running_simulator(sim_options()) as sim, client_for(sim) as client:
        raw = await client.chat.completions.with_raw_response.parse(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "é" * 400}],  # 800 UTF-8 bytes
            response_format=Extraction,
            max_completion_tokens=77,
        )
        raw.parse()
    stats = sim.openai_stats
    assert stats.prompt_tokens_charged == 201  # 802 bytes of JSON string, / 4, rounded up
    assert stats.completion_budget_charged == 77
    assert stats.tokens_charged == 201 + 77
    snapshot = sim.stats()["openai"]
    assert snapshot["prompt_tokens_charged"] == 201
    drop = int(raw.headers["x-ratelimit-limit-tokens"]) - int(
        raw.headers["x-ratelimit-remaining-tokens"]
    )
    assert 0 < drop <= 278  # what the headers show spent is the charge (minus refill)


async def test_tpm_429_and_request_too_large() -> None:
    async with running_simulator(sim_options(openai_tpm=1000)) as sim, client_for(sim) as client:
        await parse(client, "x" * 400, max_completion_tokens=400)
        with pytest.raises(openai.RateLimitError) as tokens:
            await parse(client, "x" * 400, max_completion_tokens=400)
        with pytest.raises(openai.RateLimitError) as too_large:
            await parse(client, "hello", max_completion_tokens=5000)
    assert tokens.value.code == "rate_limit_exceeded"
    assert tokens.value.type == "tokens"
    assert re.search(
        r"\(TPM\): Limit 1000, Used \d+, Requested \d+\. Please try again in "
        r"[0-9.hms]+\.",
        message_of(tokens.value),
    )
    assert too_large.value.type == "tokens"
    assert message_of(too_large.value).startswith("Request too large for gpt-4o-mini")
    headers = tokens.value.response.headers
    requested = re.search(r"Requested (\d+)", message_of(tokens.value))
    assert requested is not None
    assert int(headers["x-ratelimit-remaining-tokens"]) < int(requested.group(1))
    assert GO_DURATION.match(headers["x-ratelimit-reset-tokens"])


async def test_quota_azure_mode_and_sdk_retry_count() -> None:
    opts = sim_options(quota_exhausted=True)
    async with running_simulator(opts) as sim, client_for(sim, max_retries=1) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            await parse(client, "hello")
    assert caught.value.code == "insufficient_quota"
    assert caught.value.type == "insufficient_quota"
    assert sim.openai_stats.sdk_retries == 1  # the SDK retries quota errors by default
    azure = sim_options(openai_rpm=1, azure_mode=True)
    async with running_simulator(azure) as sim, client_for(sim) as client:
        await parse(client, "hello")
        with pytest.raises(openai.RateLimitError) as limited:
            await parse(client, "hello")
    headers = limited.value.response.headers
    assert int(headers["retry-after"]) >= 1
    assert int(headers["retry-after-ms"]) > 0


async def test_should_retry_false_on_quota() -> None:
    mailbox = Mailbox.generate(3, 1, START, END)
    options = OpenAIOptions(quota_exhausted=True, quota_should_retry_false=True, base_latency_ms=0)
    async with (
        serving(create_openai_app(mailbox, options)) as url,
        AsyncOpenAI(base_url=f"{url}/v1", api_key=options.api_key) as client,
    ):
        with pytest.raises(openai.RateLimitError) as caught:
            await parse(client, "hello")
    assert caught.value.response.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        (MistakeRates(refusal=1.0), "refusal"),
        (MistakeRates(truncated=1.0), "length"),
        (MistakeRates(malformed=1.0), "malformed"),
        (MistakeRates(invented=1.0), "invented"),
        (MistakeRates(wrong_carrier=1.0), "wrong_carrier"),
    ],
)
async def test_model_mistakes(rates: MistakeRates, expected: str) -> None:
    mailbox = Mailbox.generate(20, 5, START, END)
    options = OpenAIOptions(mistakes=rates, base_latency_ms=0, per_token_ms=0)
    conversation_id = busiest(mailbox)
    truth = {t.tracking_number: t.carrier for t in mailbox.truth}
    async with serving(create_openai_app(mailbox, options)) as url:
        client = AsyncOpenAI(base_url=f"{url}/v1", api_key=options.api_key, max_retries=0)
        async with client:
            content = prompt_for(mailbox, conversation_id)
            if expected == "length":
                # A rambling answer is cut off in a tight budget, and whole in a roomy one.
                with pytest.raises(openai.LengthFinishReasonError):
                    await parse(client, content, max_completion_tokens=400)
                whole = await parse(client, content, max_completion_tokens=2000)
                assert whole.choices[0].finish_reason == "stop"
                assert whole.choices[0].message.parsed is not None
                return
            if expected == "malformed":
                with pytest.raises(pydantic.ValidationError):
                    await parse(client, content)
                return
            message = (await parse(client, content)).choices[0].message
    if expected == "refusal":
        assert message.refusal
        assert message.parsed is None
        assert message.content is None
        return
    assert message.parsed is not None
    numbers = message.parsed.numbers
    if expected == "invented":
        assert any(n.tracking_number not in truth for n in numbers)
    else:
        assert any(truth.get(n.tracking_number) not in (None, n.carrier) for n in numbers)


async def test_faults_are_html_or_resets() -> None:
    mailbox = Mailbox.generate(3, 1, START, END)
    options = OpenAIOptions(fault_rate=1.0, base_latency_ms=0, seed=2)
    seen: set[str] = set()
    content_types: set[str] = set()
    async with (
        serving(create_openai_app(mailbox, options)) as url,
        AsyncOpenAI(base_url=f"{url}/v1", api_key=options.api_key, max_retries=0) as client,
    ):
        for _ in range(16):
            try:
                await parse(client, "hello")
            except openai.InternalServerError as error:
                content_types.add(error.response.headers["content-type"].split(";")[0])
                seen.add(str(error.status_code))
            except openai.APIConnectionError:
                seen.add("reset")
    assert seen == {"500", "502", "503", "reset"}
    assert content_types == {"text/html"}


def test_refill_bucket_and_go_durations() -> None:
    bucket = RefillBucket(500, period=60.0)
    now = bucket._stamp
    state = bucket.take(1, now)
    assert state.remaining == 499
    assert go_duration(state.reset_after) == "120ms"
    assert not bucket.take(1000, now).allowed
    assert bucket.take(499, now).allowed
    refused = bucket.take(1, now)
    assert not refused.allowed
    assert refused.wait == pytest.approx(0.12)
    assert bucket.take(1, now + 0.12).allowed
    assert [go_duration(s) for s in (0, 0.008, 1.574, 86.4, 252.172, 7200)] == [
        "0s",
        "8ms",
        "1.574s",
        "1m26.4s",
        "4m12.172s",
        "2h0m0s",
    ]
