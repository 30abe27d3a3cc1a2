"""The fake Front's `GET /events` over real loopback HTTP: envelope, paging, filters, scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from frontscan.simulator import RunningSimulator, running_simulator
from tests.test_sim_front import follow, get_json, options

MESSAGE_TYPES = "q[types][]=inbound&q[types][]=outbound&q[types][]=out_reply&q[types][]=forward"


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator(options(short_page_rate=0.3)) as running:
        yield running


@pytest.fixture
async def http(sim: RunningSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {sim.front_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield session


def all_messages(sim: RunningSimulator) -> dict[str, Any]:
    return {m.id: m for c in sim.mailbox.conversations.values() for m in c.messages}


async def test_a_page_has_the_envelope_and_at_most_15_events_newest_first(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body = await get_json(http, f"{sim.front_url}/events")
    assert status == 200
    assert set(body) == {"_pagination", "_links", "_results"}  # no _total on events
    assert 1 <= len(body["_results"]) <= 15
    assert body["_links"]["self"] == f"{sim.front_url}/events"
    assert body["_pagination"]["next"].startswith(f"{sim.front_url}/events?")
    stamps = [e["emitted_at"] for e in body["_results"]]
    assert stamps == sorted(stamps, reverse=True)
    newest = max(m.created_at for m in all_messages(sim).values())
    assert stamps[0] >= newest
    status, error = await get_json(http, f"{sim.front_url}/events?limit=16")
    assert status == 400
    assert "between 1 and 15" in error["_error"]["message"]


async def test_following_next_in_ascending_order_sees_every_message_event_once(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    url = f"{sim.front_url}/events?{MESSAGE_TYPES}&sort_by=created_at&sort_order=asc&limit=15"
    events = await follow(http, url)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    keys = [(e["emitted_at"], e["id"]) for e in events]
    assert keys == sorted(keys)
    messages = all_messages(sim)
    assert sorted(e["target"]["data"]["id"] for e in events) == sorted(messages)
    for event in events:
        assert event["type"] in ("inbound", "outbound", "out_reply", "forward")
        assert event["target"]["_meta"]["type"] == "message"
        data = event["target"]["data"]
        message = messages[data["id"]]
        assert data["body"] == message.body
        assert data["created_at"] == event["emitted_at"] == message.created_at
        assert event["conversation"]["id"] == message.conversation_id
        assert event["type"] == "inbound" if message.is_inbound else event["type"] != "inbound"
        source = event["source"]["_meta"]["type"]
        assert source == ("inboxes" if message.is_inbound else "teammate")


async def test_other_events_are_mixed_in_and_types_filter_them(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    everything = await follow(http, f"{sim.front_url}/events?sort_order=asc")
    kinds = {e["type"] for e in everything}
    assert {"comment", "tag", "assign", "conversations_merged", "inbound", "out_reply"} <= kinds
    by_type = {e["type"]: e for e in everything}
    assert by_type["comment"]["target"]["_meta"]["type"] == "comment"
    assert by_type["comment"]["target"]["data"]["id"].startswith("com_")
    assert by_type["tag"]["target"]["data"]["id"].startswith("tag_")
    assert by_type["assign"]["target"]["data"]["id"].startswith("tea_")
    merged = [e for e in everything if e["type"] == "conversations_merged"]
    gone = {i for e in merged for i in e["target"]["data"]}
    assert gone == set(sim.mailbox.merged_into)
    only = await follow(http, f"{sim.front_url}/events?q[types][]=comment&q[types][]=tag")
    assert {e["type"] for e in only} == {"comment", "tag"}
    assert len(only) == sum(e["type"] in ("comment", "tag") for e in everything)
    status, error = await get_json(http, f"{sim.front_url}/events?q[types][]=parcel")
    assert status == 400
    assert "parcel" in error["_error"]["message"]


async def test_after_before_and_inboxes_filter_on_emitted_at_and_the_inbox(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    messages = sorted(all_messages(sim).values(), key=lambda m: m.created_at)
    after, before = messages[10].created_at, messages[40].created_at
    url = URL(f"{sim.front_url}/events").with_query(
        [("q[types][]", "inbound"), ("q[types][]", "out_reply"), ("q[types][]", "outbound"),
         ("q[types][]", "forward"), ("q[after]", f"{after:.3f}"), ("q[before]", f"{before:.3f}"),
         ("limit", "7")]
    )  # fmt: skip
    events = await follow(http, str(url))
    assert {e["target"]["data"]["id"] for e in events} == {
        m.id for m in messages if after < m.created_at < before
    }
    box = "inb_3kd9"
    in_box = await follow(http, f"{sim.front_url}/events?q[inboxes][]={box}&{MESSAGE_TYPES}")
    expected = {
        m.id for c in sim.mailbox.conversations.values() if c.inbox_id == box for m in c.messages
    }
    assert expected
    assert {e["target"]["data"]["id"] for e in in_box} == expected
    status, _ = await get_json(http, f"{sim.front_url}/events?q[after]=yesterday")
    assert status == 400


async def test_new_mail_appears_in_the_stream() -> None:
    async with running_simulator(options()) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            before = await follow(http, f"{sim.front_url}/events?{MESSAGE_TYPES}")
            target = next(iter(sim.mailbox.conversations))
            sim.mailbox.append_messages([target], rng_seed=1, at=1_900_000_000.0)
            after = await follow(http, f"{sim.front_url}/events?{MESSAGE_TYPES}")
    assert len(after) == len(before) + 1
    assert after[0]["conversation"]["id"] == target
    assert after[0]["emitted_at"] == 1_900_000_000.0


async def test_a_token_without_the_events_scope_gets_403_but_search_still_works() -> None:
    scopes = ("conversations:read", "messages:read")
    async with running_simulator(options(front_scopes=scopes)) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            status, body = await get_json(http, f"{sim.front_url}/events")
            search, _ = await get_json(http, f"{sim.front_url}/conversations/search/is%3Aopen")
            inboxes, _ = await get_json(http, f"{sim.front_url}/inboxes")
    assert status == 403
    assert body["_error"]["status"] == 403
    assert "events:*:read" in body["_error"]["message"]
    assert search == 200
    assert inboxes == 403


async def test_a_namespaced_events_scope_is_enough() -> None:
    scopes = ("conversations:read", "messages:read", "events:shared:read")
    async with running_simulator(options(front_scopes=scopes)) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            status, _ = await get_json(http, f"{sim.front_url}/events?limit=1")
    assert status == 200


async def test_the_body_drop_option_leaves_body_out_of_a_share_of_event_messages() -> None:
    async with running_simulator(options(event_body_drop_rate=0.3)) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            events = await follow(http, f"{sim.front_url}/events?{MESSAGE_TYPES}")
            listed_id = next(e for e in events if "body" not in e["target"]["data"])
            conversation = listed_id["conversation"]["id"]
            messages = await follow(http, f"{sim.front_url}/conversations/{conversation}/messages")
    bodiless = [e for e in events if "body" not in e["target"]["data"]]
    assert 0.15 < len(bodiless) / len(events) < 0.45
    assert all("text" not in e["target"]["data"] for e in bodiless)
    assert all(e["target"]["data"]["blurb"] for e in bodiless)
    # The message list still has every body: that is what a client falls back to.
    assert all(m["body"] for m in messages)
