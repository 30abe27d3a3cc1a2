"""The fake Batch API through the real SDK: files, the status machine, output and error files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import openai
import pydantic
import pytest
from openai import AsyncOpenAI
from openai.lib._parsing import type_to_response_format_param
from openai.types import Batch

from frontscan.simulator import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.batch_jobs import EXPIRED_MESSAGE, BatchOptions
from frontscan.simulator.openai_model import estimate_prompt_tokens

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)


class FoundNumber(pydantic.BaseModel):
    message_id: str
    tracking_number: str
    carrier: str | None


class Extraction(pydantic.BaseModel):
    numbers: list[FoundNumber]


def options(**batch: Any) -> SimulatorOptions:
    return SimulatorOptions(
        conversations=40, seed=5, start=START, end=END, latency_scale=0.0,
        batch=BatchOptions(**batch),
    )  # fmt: skip


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator(options()) as running:
        yield running


def client_for(sim: RunningSimulator, **kw: Any) -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=sim.openai_url, api_key=kw.pop("api_key", sim.openai_key), max_retries=0
    )


def line(sim: RunningSimulator, conversation_id: str, **body: Any) -> dict[str, Any]:
    blocks = [
        f'<message id="{m.id}">{m.text if m.text is not None else m.body}</message>'
        for m in sim.mailbox.conversations[conversation_id].messages
    ]
    request = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You extract."},
            {"role": "user", "content": "\n".join(blocks)},
        ],
        "response_format": type_to_response_format_param(Extraction),
        "max_completion_tokens": 2000,
    }
    request.update(body)
    return {
        "custom_id": f"{conversation_id}:h",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": request,
    }


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item) + "\n" for item in lines).encode()


async def submit(client: AsyncOpenAI, lines: list[dict[str, Any]]) -> Batch:
    upload = await client.files.create(
        file=("input.jsonl", jsonl(lines), "application/jsonl"), purpose="batch"
    )
    return await client.batches.create(
        input_file_id=upload.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"tool": "frontscan"},
    )


async def settle(client: AsyncOpenAI, batch_id: str) -> tuple[Batch, list[str]]:
    """Poll until the batch is terminal; return it and every status seen on the way."""
    seen: list[str] = []
    for _ in range(2000):
        batch = await client.batches.retrieve(batch_id)
        if not seen or seen[-1] != batch.status:
            seen.append(batch.status)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch, seen
        await asyncio.sleep(0.002)
    raise AssertionError(f"batch {batch_id} never settled: {seen}")


async def records(client: AsyncOpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    content = await client.files.content(file_id)
    return [json.loads(raw) for raw in content.text.splitlines()]


async def test_file_upload_retrieve_and_content(sim: RunningSimulator) -> None:
    data = jsonl([line(sim, cid) for cid in list(sim.mailbox.conversations)[:3]])
    async with client_for(sim) as client:
        upload = await client.files.create(
            file=("frontscan.jsonl", data, "application/jsonl"), purpose="batch"
        )
        again = await client.files.retrieve(upload.id)
        content = await client.files.content(upload.id)
        with pytest.raises(openai.BadRequestError) as wrong:
            await client.files.create(file=("lines.txt", data, "text/plain"), purpose="batch")
        with pytest.raises(openai.NotFoundError):
            await client.files.retrieve("file-missing")
    assert upload.id.startswith("file-")
    assert upload.object == "file"
    assert (upload.bytes, upload.filename, upload.purpose) == (
        len(data),
        "frontscan.jsonl",
        "batch",
    )
    assert upload.status == "processed"
    assert upload.expires_at == upload.created_at + 30 * 86_400
    assert again == upload
    assert content.content == data
    assert isinstance(wrong.value.body, dict)
    assert wrong.value.body["message"] == "Invalid file format for Batch API. Must be .jsonl"


async def test_batch_runs_the_status_machine_and_answers_out_of_order(
    sim: RunningSimulator,
) -> None:
    ids = sorted(sim.mailbox.conversations)
    async with client_for(sim) as client:
        created = await submit(client, [line(sim, cid) for cid in ids])
        batch, seen = await settle(client, created.id)
        output = await records(client, batch.output_file_id)
    assert created.status == "validating"
    assert created.completion_window == "24h"
    assert created.metadata == {"tool": "frontscan"}
    assert seen[-1] == "completed"
    assert set(seen) <= {
        "validating",
        "in_progress",
        "finalizing",
        "completed",
    }
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (len(ids), len(ids))
    assert batch.error_file_id is None
    assert batch.model == "gpt-4o-mini"
    assert batch.in_progress_at
    assert batch.finalizing_at
    assert batch.completed_at
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
    assert batch.expires_at == batch.created_at + 86_400
    order = [r["custom_id"] for r in output]
    assert sorted(order) == sorted(f"{cid}:h" for cid in ids)
    assert order != [f"{cid}:h" for cid in ids]
    found = set()
    for record in output:
        assert record["error"] is None
        assert record["id"].startswith("batch_req_")
        assert record["response"]["status_code"] == 200
        body = record["response"]["body"]
        answer = Extraction.model_validate_json(body["choices"][0]["message"]["content"])
        found |= {(record["custom_id"].split(":")[0], n.tracking_number) for n in answer.numbers}
    truth = {(t.conversation_id, t.tracking_number) for t in sim.mailbox.truth}
    assert truth <= found
    assert batch.usage is not None
    assert batch.usage.input_tokens == sum(
        r["response"]["body"]["usage"]["prompt_tokens"] for r in output
    )
    assert sim.openai_stats.tokens_charged == 0  # the per-minute budgets were not touched


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda lines: [*lines, lines[0]], "duplicate_custom_id"),
        (lambda lines: [lines[0], {**lines[1], "body": {**lines[1]["body"], "model": "gpt-4o"}}],
         "model_mismatch"),
        (lambda lines: [{**lines[0], "url": "/v1/embeddings"}], "url_mismatch"),
    ],
)  # fmt: skip
async def test_validation_problems_fail_the_batch(
    sim: RunningSimulator, mangle: Any, code: str
) -> None:
    lines = [line(sim, cid) for cid in sorted(sim.mailbox.conversations)[:3]]
    async with client_for(sim) as client:
        batch, _ = await settle(client, (await submit(client, mangle(lines))).id)
    assert batch.status == "failed"
    assert batch.failed_at
    assert batch.errors is not None
    assert batch.errors.data
    assert batch.errors.data[0].code == code
    assert batch.output_file_id is None
    assert batch.error_file_id is None


async def test_invalid_json_line_names_its_line(sim: RunningSimulator) -> None:
    good = jsonl([line(sim, sorted(sim.mailbox.conversations)[0])])
    async with client_for(sim) as client:
        upload = await client.files.create(
            file=("in.jsonl", good + b"{not json\n", "application/jsonl"), purpose="batch"
        )
        created = await client.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        batch, _ = await settle(client, created.id)
    assert batch.errors is not None
    assert batch.errors.data
    assert (batch.errors.data[0].code, batch.errors.data[0].line) == ("invalid_json_line", 2)


async def test_expired_batch_delivers_done_lines_and_expires_the_rest() -> None:
    # 60 s validating, then one line every 100 s, in a 300 s window: two lines make it.
    opts = options(requests_per_second=0.01, window_seconds=300.0, speed=2000.0)
    async with running_simulator(opts) as sim, client_for(sim) as client:
        ids = sorted(sim.mailbox.conversations)[:6]
        batch, seen = await settle(client, (await submit(client, [line(sim, c) for c in ids])).id)
        output = await records(client, batch.output_file_id)
        errors = await records(client, batch.error_file_id)
    assert seen[-1] == "expired"
    assert batch.expired_at == batch.expires_at
    assert batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 4)
    assert {r["custom_id"] for r in output} == {f"{c}:h" for c in ids[:2]}
    assert {r["custom_id"] for r in errors} == {f"{c}:h" for c in ids[2:]}
    for record in errors:
        assert record["response"] is None
        assert record["error"] == {"code": "batch_expired", "message": EXPIRED_MESSAGE}


async def test_line_faults_go_to_the_error_file_and_all_failed_has_no_output() -> None:
    async with running_simulator(options(line_fault_rate=1.0)) as sim, client_for(sim) as client:
        ids = sorted(sim.mailbox.conversations)[:4]
        batch, _ = await settle(client, (await submit(client, [line(sim, c) for c in ids])).id)
        errors = await records(client, batch.error_file_id)
    assert batch.status == "completed"
    assert batch.output_file_id is None
    assert len(errors) == 4
    for record in errors:
        assert record["error"] is None
        assert record["response"]["status_code"] == 500
        assert record["response"]["body"]["error"]["type"] == "server_error"


async def test_bad_line_body_gets_the_sync_400_in_the_error_file(sim: RunningSimulator) -> None:
    cid = sorted(sim.mailbox.conversations)[0]
    async with client_for(sim) as client:
        bad = line(sim, cid, max_completion_tokens=0)
        batch, _ = await settle(client, (await submit(client, [bad])).id)
        errors = await records(client, batch.error_file_id)
    assert errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["param"] == "max_completion_tokens"


async def test_cancel_and_list() -> None:
    opts = options(requests_per_second=0.001, speed=100.0)
    async with running_simulator(opts) as sim, client_for(sim) as client:
        ids = sorted(sim.mailbox.conversations)[:2]
        created = [await submit(client, [line(sim, c)]) for c in ids]
        cancelling = await client.batches.cancel(created[0].id)
        listed = [b.id async for b in client.batches.list(limit=1)]
        await asyncio.sleep(120.0 / 100.0 + 0.1)  # the simulated cancelling time
        cancelled = await client.batches.retrieve(created[0].id)
        with pytest.raises(openai.ConflictError):
            await client.batches.cancel(created[0].id)
        with pytest.raises(openai.NotFoundError):
            await client.batches.retrieve("batch_missing")
    assert cancelling.status == "cancelling"
    assert cancelling.cancelling_at
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at
    assert cancelled.output_file_id is None
    assert cancelled.error_file_id is None
    assert listed == [created[1].id, created[0].id]  # newest first, one page at a time


async def test_enqueued_token_cap_fails_the_second_batch() -> None:
    async with running_simulator(options()) as probe:
        ids = sorted(probe.mailbox.conversations)[:2]
        bodies = [line(probe, i)["body"] for i in ids]
        tokens = [estimate_prompt_tokens(b["messages"], b["response_format"]) for b in bodies]
    limit = sum(tokens) - 1  # room for either one, not for both
    opts = options(requests_per_second=0.001, enqueued_token_limit=limit, speed=600.0)
    async with running_simulator(opts) as sim, client_for(sim) as client:
        first = await submit(client, [line(sim, ids[0])])
        await asyncio.sleep(0.15)  # past the first one's validation
        second = await submit(client, [line(sim, ids[1])])
        await asyncio.sleep(0.15)
        one, two = await client.batches.retrieve(first.id), await client.batches.retrieve(second.id)
    assert one.status == "in_progress"
    assert two.status == "failed"
    assert two.errors is not None
    assert two.errors.data
    assert two.errors.data[0].code == "token_limit_exceeded"
    assert f"Limit: {limit:,} enqueued tokens" in str(two.errors.data[0].message)


async def test_create_refuses_bad_requests_and_keys(sim: RunningSimulator) -> None:
    async with client_for(sim) as client:
        with pytest.raises(openai.BadRequestError) as missing:
            await client.batches.create(
                input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h"
            )
        upload = await client.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
        with pytest.raises(openai.BadRequestError) as window:
            await client.batches.create(
                input_file_id=upload.id,
                endpoint="/v1/chat/completions",
                completion_window="48h",  # type: ignore[arg-type]
            )
    async with client_for(sim, api_key="sk-wrong") as client:
        with pytest.raises(openai.AuthenticationError):
            await client.batches.list()
    assert missing.value.param == "input_file_id"
    assert window.value.param == "completion_window"
