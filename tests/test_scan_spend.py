"""OpenAI spend end to end on the realistic mailbox: the simulator counts what it was sent."""

from __future__ import annotations

from dataclasses import replace

import pytest
from openai import AsyncOpenAI

from frontscan.errors import ItemError
from frontscan.extract import OpenAIExtractor
from frontscan.limits.openai_budgets import OpenAIBudgets
from frontscan.models import Message
from frontscan.prompt import model_call, prepare
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.openai_model import MistakeRates
from frontscan.simulator.openai_server import OpenAIOptions, create_openai_app
from frontscan.simulator.runtime import running_simulator, serving
from frontscan.simulator.stats import SimStats
from tests.scanning import END, START, fast_options, run_scan, settings_for, stored

UPS = "1Z999AA10123456784"


async def test_evidence_windows_send_less_and_store_exactly_what_the_whole_text_does(
    database_url: str,
) -> None:
    options = fast_options(120, realistic=True, seed=5)
    runs = {}
    for prompting in ("whole", "evidence"):
        async with running_simulator(options) as sim:
            settings = settings_for(sim, database_url)
            settings = replace(settings, openai=replace(settings.openai, prompt=prompting))
            result = await run_scan(settings, after=START.timestamp(), rescan=True)
            truth = {
                (t.conversation_id, t.message_id, t.tracking_number, t.carrier)
                for t in sim.mailbox.truth
            }
            runs[prompting] = (result.summary, sim.openai_stats, set(await stored(database_url)))
        assert runs[prompting][2] == truth  # recall and precision unchanged: all, nothing else
    whole, whole_sim, _ = runs["whole"]
    evidence, evidence_sim, _ = runs["evidence"]
    assert whole.stats.model_calls_avoided == 0
    assert evidence.stats.model_calls_avoided > 0
    # every call avoided is one the server did not receive
    assert (
        evidence_sim.total_requests == whole_sim.total_requests - evidence.stats.model_calls_avoided
    )
    assert evidence.stats.openai_calls == evidence_sim.total_requests
    # the server's own count of prompt tokens charged: a large share avoided
    assert evidence_sim.prompt_tokens_charged < 0.6 * whole_sim.prompt_tokens_charged
    per_call = evidence_sim.completion_budget_charged / evidence_sim.total_requests
    assert per_call < 0.6 * whole_sim.completion_budget_charged / whole_sim.total_requests
    assert evidence.cost_per_1000 < whole.cost_per_1000
    # At 100M TPM the server's bucket never leaves full, so its scale cannot be learned:
    # the spend is valued at frontscan's own estimate, which never undercounts.
    assert evidence.stats.server_tokens is not None
    assert evidence.stats.server_tokens >= evidence_sim.tokens_charged


async def test_always_keeps_asking_even_when_the_detector_is_sure(database_url: str) -> None:
    async with running_simulator(fast_options(60, realistic=True, seed=5)) as sim:
        auto = await run_scan(settings_for(sim, database_url), after=START.timestamp())
        asked = sim.openai_stats.total_requests
        always = await run_scan(
            settings_for(sim, database_url, llm="always"), after=START.timestamp(), rescan=True
        )
    assert auto.summary.stats.model_calls_avoided > 0
    assert always.summary.stats.model_calls_avoided == 0
    assert always.summary.stats.openai_calls > asked


async def test_a_dry_run_counts_the_calls_avoided_and_the_sized_budgets(database_url: str) -> None:
    async with running_simulator(fast_options(60, realistic=True, seed=5)) as sim:
        settings = settings_for(sim, database_url)
        result = await run_scan(settings, after=START.timestamp(), dry_run=True)
        assert sim.openai_stats.total_requests == 0
    s = result.summary
    asked = [p for p in result.planned if p.asks_model]
    assert s.stats.model_calls_avoided > 0
    assert s.stats.openai_calls == len(asked) > 0
    ceiling = settings.openai.max_completion_tokens
    assert all(0 < p.completion_budget <= ceiling for p in asked)
    assert sum(p.completion_budget for p in asked) < 0.6 * ceiling * len(asked)
    assert s.cost_per_1000 > 0


def message(text: str) -> Message:
    return Message(
        id="msg_1",
        conversation_id="cnv_1",
        created_at=1.0,
        type="email",
        is_inbound=True,
        subject="Your parcel",
        body=text,
        text=text,
    )


async def test_a_cut_off_answer_is_asked_once_more_with_a_larger_budget_then_fails() -> None:
    mailbox = Mailbox.generate(3, 1, START, END)
    stats = SimStats()
    options = OpenAIOptions(mistakes=MistakeRates(truncated=1.0), base_latency_ms=0)
    prepared = [prepare(message(f"see {UPS} please"))]
    call = model_call("Your parcel", prepared, model="gpt-4o-mini", max_completion_tokens=400)
    async with (
        serving(create_openai_app(mailbox, options, stats)) as url,
        AsyncOpenAI(base_url=f"{url}/v1", api_key=options.api_key, max_retries=0) as client,
    ):
        extractor = OpenAIExtractor(client, OpenAIBudgets(500, 200_000))
        with pytest.raises(ItemError, match="cut off twice"):
            await extractor.extract(call)
    assert stats.total_requests == 2
    first = stats.completion_budget_charged - 400
    assert first == call.completion_budget < 400  # the sized budget, then the ceiling
    assert extractor.usage().completion_budget == first + 400
