"""The fake Front over real loopback HTTP: envelopes, pagination, search, errors, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from frontscan.simulator import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.buckets import FixedWindowBucket
from frontscan.simulator.front_server import FrontOptions, create_front_app
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.runtime import serving

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def options(**overrides: Any) -> SimulatorOptions:
    base: dict[str, Any] = {
        "conversations": 60,
        "seed": 7,
        "start": START,
        "end": END,
        "front_rpm": 100_000,
        "latency_scale": 0.0,
    }
    base.update(overrides)
    return SimulatorOptions(**base)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator(options(short_page_rate=0.4)) as running:
        yield running


@pytest.fixture
async def http(sim: RunningSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {sim.front_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield session


async def get_json(session: aiohttp.ClientSession, url: str | URL) -> tuple[int, Any]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def follow(session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    """Read every page by following `_pagination.next` verbatim, waiting out tier-2 429s."""
    results: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        async with session.get(URL(next_url, encoded=True)) as response:
            status, body = response.status, await response.json()
            if status == 429 and response.headers.get("x-front-tier") == "2":
                await asyncio.sleep(float(body["_error"]["message"].split()[-2]) / 1000)
                continue
        assert status == 200, body
        results.extend(body["_results"])
        next_url = body["_pagination"]["next"]
    return results


async def test_listing_follows_next_and_sees_everything_once(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    results = await follow(http, f"{sim.front_url}/conversations?limit=7")
    ids = [r["id"] for r in results]
    assert sorted(ids) == sorted(sim.mailbox.conversations)
    assert len(ids) == len(set(ids))
    stamps = [r["updated_at"] for r in results]
    assert stamps == sorted(stamps, reverse=True)
    assert sim.front_stats.requests["GET /conversations"] > 60 // 7 + 1  # short pages happened


async def test_next_is_absolute_on_own_host_with_limit_and_hex_token(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body = await get_json(http, f"{sim.front_url}/conversations?limit=5&sort_by=date")
    assert status == 200
    nxt = URL(body["_pagination"]["next"])
    assert str(nxt.origin()) == sim.front_url
    assert nxt.query["limit"] == "5"
    int(nxt.query["page_token"], 16)
    assert body["_links"]["self"].startswith(sim.front_url)
    assert "_total" not in body


async def test_ascending_order_and_bad_parameters(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    results = await follow(http, f"{sim.front_url}/conversations?sort_order=asc&limit=100")
    stamps = [r["updated_at"] for r in results]
    assert stamps == sorted(stamps)
    for query in ("limit=101", "limit=0", "sort_by=subject", "sort_order=up", "page_token=zz"):
        status, body = await get_json(http, f"{sim.front_url}/conversations?{query}")
        assert status == 400
        assert body["_error"]["status"] == 400


async def test_messages_pagination_and_order(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    conv = max(sim.mailbox.conversations.values(), key=lambda c: len(c.messages))
    url = f"{sim.front_url}/conversations/{conv.id}/messages"
    newest_first = await follow(http, f"{url}?limit=2")
    assert [m["id"] for m in newest_first] == [m.id for m in reversed(conv.messages)]
    asc = await follow(http, f"{url}?limit=2&sort_by=created_at&sort_order=asc")
    assert [m["id"] for m in asc] == [m.id for m in conv.messages]
    status, body = await get_json(http, f"{sim.front_url}/conversations/{conv.id}")
    assert status == 200
    assert body["updated_at"] == conv.last_activity
    assert body["_links"]["related"]["last_message"].endswith(conv.last_message.id)


async def test_search_filters_on_last_activity(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    ordered = sim.mailbox.by_activity()
    after, before = int(ordered[40].last_activity), int(ordered[10].last_activity)
    query = quote(f"after:{after} before:{before}", safe="")
    results = await follow(http, f"{sim.front_url}/conversations/search/{query}?limit=4")
    expected = [c.id for c in ordered if after < c.last_activity < before]
    assert [r["id"] for r in results] == expected
    status, body = await get_json(
        http, URL(f"{sim.front_url}/conversations/search/{query}", encoded=True)
    )
    assert status == 200
    assert body["_total"] == len(expected)


async def test_search_text_inbox_status_and_errors(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    truth = sim.mailbox.truth[0]
    text = quote(f'"{truth.tracking_number.lower()}"', safe="")
    found = await follow(http, f"{sim.front_url}/conversations/search/{text}")
    assert truth.conversation_id in {r["id"] for r in found}
    inbox = sim.mailbox.conversations[truth.conversation_id].inbox_id
    query = quote(f"inbox:{inbox} is:archived", safe="")
    found = await follow(http, f"{sim.front_url}/conversations/search/{query}")
    expected = {
        c.id
        for c in sim.mailbox.conversations.values()
        if c.inbox_id == inbox and c.status == "archived"
    }
    assert {r["id"] for r in found} == expected
    for bad in ("before:2026-01-01", "is:unread", "color:red"):
        url = URL(f"{sim.front_url}/conversations/search/{quote(bad, safe='')}", encoded=True)
        status, body = await get_json(http, url)
        assert status == 400, bad
        assert body["_error"]["title"] == "Bad request"


async def test_auth_not_found_and_merged(sim: RunningSimulator) -> None:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{sim.front_url}/me") as response,
    ):
        assert response.status == 401
        assert (await response.json())["_error"]["title"] == "Unauthenticated"
        assert all(h in response.headers for h in RATE_HEADERS)
    headers = {"Authorization": f"Bearer {sim.front_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        status, body = await get_json(http, f"{sim.front_url}/conversations/cnv_nope")
        assert status == 404
        assert body["_error"]["message"] == "Unknown conversation ID cnv_nope"
        merged, survivor = next(iter(sim.mailbox.merged_into.items()))
        url = f"{sim.front_url}/conversations/{merged}/messages?limit=3"
        async with http.get(url, allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"] == (
                f"{sim.front_url}/conversations/{survivor}/messages?limit=3"
            )
        status, body = await get_json(http, f"{sim.front_url}/conversations/{merged}")
        assert status == 200
        assert body["id"] == survivor  # redirect followed, Authorization kept


async def test_company_limit_burst() -> None:
    async with running_simulator(options(front_rpm=10)) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            responses = []
            for _ in range(12):
                async with http.get(f"{sim.front_url}/me") as response:
                    responses.append(
                        (response.status, response.headers.copy(), await response.json())
                    )
    statuses = [status for status, _, _ in responses]
    assert statuses == [200] * 10 + [429] * 2
    assert [int(h["x-ratelimit-remaining"]) for _, h, _ in responses[:10]] == list(range(9, -1, -1))
    _, headers_429, body = responses[-1]
    assert int(headers_429["Retry-After"]) >= 1
    assert headers_429["x-ratelimit-remaining"] == "0"
    assert float(headers_429["x-ratelimit-reset"]) > datetime.now(UTC).timestamp()
    assert body["_error"]["status"] == 429
    assert body["_error"]["title"] == "Too many requests"
    assert body["_error"]["message"].endswith("milliseconds.")


async def test_search_sub_bucket_and_tier2() -> None:
    async with running_simulator(options(front_rpm=10)) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            statuses = []
            for _ in range(5):
                async with http.get(f"{sim.front_url}/conversations/search/is%3Aopen") as r:
                    statuses.append(r.status)
            assert statuses == [200] * 4 + [429]  # 40% of 10
            async with http.get(f"{sim.front_url}/me") as r:
                assert r.status == 200
                assert r.headers["x-ratelimit-remaining"] == "5"  # searches counted, 429 not
    async with running_simulator(options()) as sim:
        conv = sim.mailbox.by_activity()[0].id
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            url = f"{sim.front_url}/conversations/{conv}/messages"
            results = await asyncio.gather(*(http.get(url) for _ in range(8)))
            statuses = [r.status for r in results]
            tiers = [r.headers.get("x-front-tier") for r in results if r.status == 429]
            for r in results:
                r.release()
    assert statuses.count(200) == 5
    assert tiers == ["2"] * 3


async def test_under_the_limit_no_429() -> None:
    async with running_simulator(options(front_rpm=30)) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            ids = [c.id for c in sim.mailbox.by_activity()[:29]]
            results = await asyncio.gather(
                *(get_json(http, f"{sim.front_url}/conversations/{i}") for i in ids)
            )
    assert {status for status, _ in results} == {200}
    assert sim.front_stats.rate_limited.total() == 0


async def test_faults_and_injected_429s() -> None:
    mailbox = Mailbox.generate(5, 1, START, END)
    front = FrontOptions(latency_ms=0, fault_rate=1.0, slow_seconds=0.01, rpm=100_000, seed=3)
    async with serving(create_front_app(mailbox, front)) as url:
        headers = {"Authorization": f"Bearer {front.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            seen: set[str] = set()
            for _ in range(30):
                try:
                    async with http.get(f"{url}/me") as response:
                        body = await response.json()
                        seen.add(str(response.status))
                        if response.status >= 500:
                            assert body["_error"]["status"] == response.status
                except aiohttp.ClientError:
                    seen.add("reset")
            assert {"500", "502", "503", "reset", "200"} <= seen
            async with http.get(f"{url}/_sim/stats") as response:
                stats = await response.json()
            assert sum(stats["faults"].values()) == stats["total_requests"] >= 30
    storm = FrontOptions(latency_ms=0, extra_429_rate=1.0, rpm=100_000)
    async with serving(create_front_app(mailbox, storm)) as url:
        headers = {"Authorization": f"Bearer {storm.token}"}
        async with aiohttp.ClientSession(headers=headers) as http, http.get(f"{url}/me") as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1


def test_fixed_window_refills_after_the_window() -> None:
    bucket = FixedWindowBucket(2, window=60.0)
    assert [bucket.take(100.0).allowed for _ in range(3)] == [True, True, False]
    refused = bucket.take(130.0)
    assert not refused.allowed
    assert refused.reset_after == pytest.approx(30.0)
    assert refused.retry_after_seconds == 30
    assert bucket.take(160.0).allowed
