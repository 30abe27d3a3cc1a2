"""The Front client against the simulator: pagination, watermarks, merges, errors, 429s."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from frontscan.errors import AuthError, ItemError
from frontscan.front import FrontClient, parse_conversation, search_query
from frontscan.front_types import ConversationPayload
from frontscan.limits.budgets import FrontBudgets
from frontscan.simulator.runtime import RunningSimulator, running_simulator
from tests.scanning import END, START, fast_options


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def client(sim: RunningSimulator, session: aiohttp.ClientSession, token: str = "") -> FrontClient:
    return FrontClient(session, sim.front_url, token or sim.front_token, FrontBudgets(100_000))


def test_search_query_uses_unix_seconds_and_ands_filters() -> None:
    assert search_query(1769904000.7, 1770000000.0, "inb_1", "tag:tag_2") == (
        "after:1769904000 before:1770000000 inbox:inb_1 tag:tag_2"
    )


def test_the_last_message_id_comes_from_the_link_path() -> None:
    raw: ConversationPayload = {
        "id": "cnv_1",
        "subject": "s",
        "_links": {
            "related": {
                "last_message": "https://acme.api.frontapp.com/messages/msg_3vq9ab2?referer=conversation"
            }
        },
    }
    assert parse_conversation(raw).last_message_id == "msg_3vq9ab2"
    assert parse_conversation({"id": "cnv_2"}).updated_at is None


async def test_search_follows_next_and_sees_each_conversation_once(
    session: aiohttp.ClientSession,
) -> None:
    async with running_simulator(fast_options(250, short_page_rate=0.5)) as sim:
        front = client(sim, session)
        seen = [
            ref.id
            async for page in front.search(
                search_query(START.timestamp() - 1, END.timestamp() + 1, None, None)
            )
            for ref in page.refs
        ]
        pages = sim.stats()["front"]["requests"]["GET /conversations/search/{query}"]
    assert len(seen) == len(set(seen)) == 250
    assert pages > 3  # 250 results at 100 a page, and short pages on the way


async def test_messages_stop_at_the_watermark(session: aiohttp.ClientSession) -> None:
    async with running_simulator(fast_options(30)) as sim:
        conversation = max(sim.mailbox.conversations.values(), key=lambda c: len(c.messages))
        front = client(sim, session)
        everything = await front.messages_since(conversation.id, None)
        watermark = conversation.messages[-2].created_at
        newer = await front.messages_since(conversation.id, watermark)
    assert [m.id for m in everything.messages] == [m.id for m in reversed(conversation.messages)]
    assert [m.id for m in newer.messages] == [conversation.messages[-1].id]


async def test_a_merged_conversation_says_where_it_went(session: aiohttp.ClientSession) -> None:
    async with running_simulator(fast_options(60)) as sim:
        merged, survivor = next(iter(sim.mailbox.merged_into.items()))
        result = await client(sim, session).messages_since(merged, None)
    assert result.merged_into == survivor
    assert {m.conversation_id for m in result.messages} == {survivor}


async def test_errors_name_method_path_and_status_but_never_the_token(
    session: aiohttp.ClientSession,
) -> None:
    async with running_simulator(fast_options(10)) as sim:
        with pytest.raises(ItemError, match=r"Front GET /conversations/cnv_nope/messages: 404"):
            await client(sim, session).messages_since("cnv_nope", None)
        with pytest.raises(AuthError) as caught:
            await client(sim, session, token="not-the-token-xyz").check_auth()
    assert "Front GET /me: 401" in str(caught.value)
    assert "not-the-token-xyz" not in str(caught.value)


async def test_429s_are_waited_out_and_retried(session: aiohttp.ClientSession) -> None:
    async with running_simulator(fast_options(40, extra_429_rate=0.3)) as sim:
        front = client(sim, session)
        for conversation in list(sim.mailbox.conversations.values())[:10]:
            await front.messages_since(conversation.id, None)
    assert front.usage().rate_limited > 0
    assert front.usage().calls == 10 + front.usage().rate_limited
