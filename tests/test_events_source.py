"""The event-stream source against the simulator: grouping, cost, known messages, fallbacks."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence

import aiohttp
import pytest

from frontscan.errors import MissingScopeError
from frontscan.front import FrontClient
from frontscan.front_events import EventsSource
from frontscan.limits.budgets import FrontBudgets
from frontscan.models import Window
from frontscan.simulator.runtime import RunningSimulator, running_simulator
from tests.scanning import END, START, fast_options, requests_to


class SetLedger:
    """An in-memory `KnownMessages`: the message ids a ledger would already hold."""

    def __init__(self, known: set[str] | None = None) -> None:
        self.known = known or set()
        self.queries = 0

    async def known_messages(self, ids: Sequence[str]) -> set[str]:
        self.queries += 1
        return {i for i in ids if i in self.known}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def source(
    sim: RunningSimulator,
    session: aiohttp.ClientSession,
    ledger: SetLedger,
    *,
    rescan: bool = False,
) -> tuple[EventsSource, FrontClient]:
    client = FrontClient(session, sim.front_url, sim.front_token, FrontBudgets(100_000))
    return EventsSource(client, ledger, rescan=rescan), client


async def read_all(events: EventsSource, after: float, before: float) -> dict[str, list[str]]:
    """conversation → its message ids, as a pipeline would take them."""
    found: dict[str, list[str]] = {}
    async for page in events.search(Window(after=after, before=before)):
        for ref in page.refs:
            fetched = await events.messages_since(ref.id, None)
            assert fetched.merged_into is None
            found.setdefault(ref.id, []).extend(m.id for m in fetched.messages)
    return found


def truth(sim: RunningSimulator) -> dict[str, list[str]]:
    return {c.id: [m.id for m in c.messages] for c in sim.mailbox.conversations.values()}


async def test_the_stream_groups_every_message_under_its_conversation_for_few_calls(
    session: aiohttp.ClientSession,
) -> None:
    async with running_simulator(fast_options(120, short_page_rate=0.2)) as sim:
        events, client = source(sim, session, SetLedger())
        found = await read_all(events, START.timestamp(), END.timestamp() + 86_400)
        messages = sum(len(c.messages) for c in sim.mailbox.conversations.values())
        event_calls = requests_to(sim, "front", "/events")
        list_calls = requests_to(sim, "front", "/messages")
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in truth(sim).items()}
    assert events.counters.groups == len(sim.mailbox.conversations)  # one group each
    assert list_calls == 0
    # 15 a page; short pages (20% of them) cost a few more.
    assert math.ceil(messages / 15) <= event_calls <= math.ceil(messages / 15 * 1.5) + 1
    assert client.counters.calls == event_calls
    assert event_calls / len(found) < 0.25


async def test_messages_the_ledger_holds_are_not_handed_on_again(
    session: aiohttp.ClientSession,
) -> None:
    async with running_simulator(fast_options(40)) as sim:
        every = {m for ids in truth(sim).values() for m in ids}
        old = set(sorted(every)[: len(every) // 2])
        ledger = SetLedger(old)
        events, _ = source(sim, session, ledger)
        found = await read_all(events, START.timestamp(), END.timestamp() + 86_400)
        rescan, _ = source(sim, session, SetLedger(old), rescan=True)
        again = await read_all(rescan, START.timestamp(), END.timestamp() + 86_400)
    handed = {m for ids in found.values() for m in ids}
    assert handed == every - old
    assert events.counters.known == len(old)
    assert {m for ids in again.values() for m in ids} == every


async def test_events_without_body_fall_back_to_that_conversations_message_list(
    session: aiohttp.ClientSession,
) -> None:
    async with running_simulator(fast_options(60, event_body_drop_rate=0.25)) as sim:
        events, _ = source(sim, session, SetLedger())
        fetched = {}
        async for page in events.search(
            Window(after=START.timestamp(), before=END.timestamp() + 86_400)
        ):
            for ref in page.refs:
                fetched[ref.id] = await events.messages_since(ref.id, None)
        list_calls = requests_to(sim, "front", "/messages")
    expected = {c.id: c for c in sim.mailbox.conversations.values()}
    for cid, got in fetched.items():
        assert sorted(m.id for m in got.messages) == sorted(m.id for m in expected[cid].messages)
        assert all(m.body for m in got.messages)  # every message has its body back
    assert 0 < events.counters.fallbacks < len(fetched)
    assert list_calls == events.counters.fallbacks


async def test_the_probe_reads_the_first_page_once_and_reports_missing_bodies(
    session: aiohttp.ClientSession,
) -> None:
    window = Window(after=START.timestamp(), before=END.timestamp() + 86_400)
    async with running_simulator(fast_options(30)) as sim:
        events, _ = source(sim, session, SetLedger())
        assert await events.probe(window) is None
        found = await read_all(events, window.after or 0.0, window.before or 0.0)
        calls = requests_to(sim, "front", "/events")
        pages = events.counters.pages
    assert sorted(found) == sorted(truth(sim))
    assert calls == pages  # the probed page was not read twice
    async with running_simulator(fast_options(30, event_body_drop_rate=1.0)) as sim:
        events, _ = source(sim, session, SetLedger())
        assert await events.probe(window) == "this account's event messages carry no body"


async def test_a_token_without_the_events_scope_raises_a_scope_error(
    session: aiohttp.ClientSession,
) -> None:
    scopes = ("conversations:read", "messages:read")
    async with running_simulator(fast_options(10, front_scopes=scopes)) as sim:
        events, _ = source(sim, session, SetLedger())
        with pytest.raises(MissingScopeError) as caught:
            await events.probe(Window(after=START.timestamp()))
    assert caught.value.scope == "events:*:read"
    assert "events:*:read" in str(caught.value)
    assert sim.front_token not in str(caught.value)
