"""A simulator you can compare runs on: one seed, one mailbox, whatever second it starts.

Two simulators started a second apart serve the same ids and bodies, and the same times
relative to their day-rounded anchor; `frontscan simulate` prints every variable a scan
needs to run at the simulator's limits, and those variables do set them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from frontscan.config import load_settings
from frontscan.simulator import SimulatorOptions, running_simulator
from frontscan.simulator.command import scan_env
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.runtime import day_anchor


def test_the_anchor_is_the_start_of_the_utc_day() -> None:
    morning = datetime(2026, 3, 4, 0, 0, 1, tzinfo=UTC)
    night = datetime(2026, 3, 4, 23, 59, 59, 999_000, tzinfo=UTC)
    assert day_anchor(morning) == day_anchor(night) == datetime(2026, 3, 4, tzinfo=UTC)
    moscow = timezone(timedelta(hours=3))
    assert day_anchor(datetime(2026, 3, 5, 2, 30, tzinfo=moscow)) == datetime(
        2026, 3, 4, tzinfo=UTC
    )


Fingerprint = list[tuple[str, str, list[tuple[str, float, str, str | None]]]]


def fingerprint(box: Mailbox, anchor: datetime) -> Fingerprint:
    zero = anchor.timestamp()
    return [
        (c.id, c.subject, [(m.id, m.created_at - zero, m.body, m.text) for m in c.messages])
        for c in box.by_activity()
    ]


@pytest.mark.parametrize("later", [timedelta(seconds=2), timedelta(hours=14, seconds=37.4)])
def test_the_same_seed_gives_the_same_mailbox_at_any_second_of_the_day(later: timedelta) -> None:
    options = SimulatorOptions(conversations=80, seed=9)
    first_at = datetime(2026, 3, 4, 9, 15, 2, tzinfo=UTC)
    first = Mailbox.generate(80, 9, *options.window(first_at))
    then = Mailbox.generate(80, 9, *options.window(first_at + later))
    assert fingerprint(first, day_anchor(first_at)) == fingerprint(then, day_anchor(first_at))
    assert first.truth == then.truth


def test_on_another_day_only_the_dates_move() -> None:
    """Ids, numbers and times relative to the anchor stay; quote headers print the new dates."""
    options = SimulatorOptions(conversations=80, seed=9)
    first_at = datetime(2026, 3, 4, 9, 15, 2, tzinfo=UTC)
    then_at = first_at + timedelta(days=3, minutes=5)
    first = Mailbox.generate(80, 9, *options.window(first_at))
    then = Mailbox.generate(80, 9, *options.window(then_at))

    def shape(box: Mailbox, anchor: datetime) -> list[object]:
        return [(c, [(m, t) for m, t, _, _ in msgs]) for c, _, msgs in fingerprint(box, anchor)]

    assert shape(first, day_anchor(first_at)) == shape(then, day_anchor(then_at))
    assert [(t.conversation_id, t.tracking_number) for t in first.truth] == [
        (t.conversation_id, t.tracking_number) for t in then.truth
    ]


async def served(options: SimulatorOptions) -> tuple[datetime, list[dict[str, Any]]]:
    """Every conversation with its messages, as the fake Front serves them."""
    anchor = day_anchor()
    async with running_simulator(options) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(f"{sim.front_url}/conversations?limit=100") as response:
                conversations = (await response.json())["_results"]
            for conversation in conversations:
                url = f"{sim.front_url}/conversations/{conversation['id']}/messages"
                async with http.get(url) as response:
                    conversation["messages"] = (await response.json())["_results"]
    return anchor, conversations


def relative(anchor: datetime, conversations: list[dict[str, Any]]) -> list[object]:
    zero = anchor.timestamp()
    return [
        (
            c["id"],
            c["subject"],
            [(m["id"], m["created_at"] - zero, m["body"], m.get("text")) for m in c["messages"]],
        )
        for c in conversations
    ]


async def test_two_simulators_started_apart_serve_the_same_mailbox() -> None:
    options = SimulatorOptions(conversations=30, seed=4, front_rpm=100_000, latency_scale=0.0)
    first = await served(options)
    await asyncio.sleep(1.2)  # a different second of the clock
    second = await served(options)
    assert relative(*first) == relative(*second)
    assert len(first[1]) == 30


async def test_simulate_prints_every_variable_a_scan_needs_to_match_its_limits() -> None:
    options = SimulatorOptions(
        conversations=5, front_rpm=321, openai_rpm=4_321, openai_tpm=5_000_000
    )
    async with running_simulator(options) as sim:
        env = scan_env(sim, options)
        settings = load_settings(env=env, config_path=None)
    assert settings.front.api_url == sim.front_url
    assert settings.openai.base_url == sim.openai_url
    assert settings.front.token is not None
    assert settings.front.token.reveal() == sim.front_token
    assert settings.openai.api_key is not None
    assert settings.openai.api_key.reveal() == sim.openai_key
    assert (settings.front.rpm, settings.openai.rpm, settings.openai.tpm) == (
        321,
        4_321,
        5_000_000,
    )
