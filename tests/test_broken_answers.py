"""2xx answers that are not what the API sends: an empty body, `null`, a list.

A proxy or a dying server can answer 200 with nothing usable. Each client must turn that
into a `TransientError` (retried, the conversation kept), never a crash nor an empty page
that silently ends a listing. Real HTTP on loopback, the real `openai` SDK.
"""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from openai import AsyncOpenAI

from frontscan.errors import TransientError
from frontscan.extract import OpenAIExtractor
from frontscan.front import FrontClient
from frontscan.limits.budgets import FrontBudgets
from frontscan.limits.openai_budgets import OpenAIBudgets
from frontscan.models import ChatMessage, ModelCall
from frontscan.simulator.runtime import serving


def answering(body: bytes) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=200, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.mark.parametrize("body", [b"", b"<html>ok</html>", b'{"id": "chatcmpl-1", "choi'])
async def test_an_openai_200_that_is_not_json_is_retried_not_a_crash(body: bytes) -> None:
    call = ModelCall(
        model="gpt-4o-mini",
        messages=(ChatMessage(role="user", content="ping"),),
        prompt_tokens=16,
        completion_budget=16,
    )
    async with (
        serving(answering(body)) as url,
        AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0) as client,
    ):
        extractor = OpenAIExtractor(client, OpenAIBudgets(100_000, 10_000_000), attempts=1)
        with pytest.raises(TransientError, match="OpenAI: the answer was not JSON"):
            await extractor.extract(call)


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"<html>502</html>"])
async def test_a_front_200_without_an_envelope_is_retried_not_an_empty_page(body: bytes) -> None:
    async with serving(answering(body)) as url, aiohttp.ClientSession() as session:
        front = FrontClient(session, url, "token", FrontBudgets(100_000), attempts=1)
        with pytest.raises(TransientError, match="Front GET /conversations/search/x: the answer"):
            async for _ in front.search("x"):
                pass


def message_pages(loop: bool) -> web.Application:
    """A conversation's messages in two pages, the second repeating the first's last one;
    with `loop`, the second page's next link is its own."""

    def message(n: int) -> dict[str, object]:
        return {"id": f"msg_{n}", "created_at": 100.0 - n, "body": f"<p>{n}</p>", "text": str(n)}

    async def handle(request: web.Request) -> web.Response:
        base = f"http://{request.host}/conversations/cnv_1/messages"
        if "page_token" not in request.query:
            page = {
                "_results": [message(1), message(2)],
                "_pagination": {"next": f"{base}?page_token=2"},
            }
        else:
            following = f"{base}?page_token=2" if loop else None
            page = {"_results": [message(2), message(3)], "_pagination": {"next": following}}
        return web.json_response(page)

    app = web.Application()
    app.router.add_get("/conversations/cnv_1/messages", handle)
    return app


async def test_a_message_list_repeating_a_message_lists_it_once() -> None:
    async with serving(message_pages(loop=False)) as url, aiohttp.ClientSession() as session:
        front = FrontClient(session, url, "token", FrontBudgets(100_000), attempts=1)
        listed = await front.messages_since("cnv_1", None)
    assert [m.id for m in listed.messages] == ["msg_1", "msg_2", "msg_3"]


async def test_a_message_list_whose_next_link_loops_fails_the_conversation_not_the_run() -> None:
    async with serving(message_pages(loop=True)) as url, aiohttp.ClientSession() as session:
        front = FrontClient(session, url, "token", FrontBudgets(100_000), attempts=1)
        with pytest.raises(TransientError, match="the next link looped"):
            await front.messages_since("cnv_1", None)
