"""`frontscan check`: verify every credential and the database before the first scan.

Each check is one line: ok, a warning (scans work, but something could be better), or a
failure that says what to do. Front does not list a token's scopes anywhere, so they are
found by trying the cheapest call that needs each one: a one-page search
(`conversations:read`), one conversation's messages (`messages:read`) and one page of
message events (`events:*:read`), which also shows whether event messages carry their
bodies on this account. The limits come from the response headers, never from
assumptions. About six Front calls and one tiny OpenAI call in all.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from frontscan.config import Settings
from frontscan.errors import FrontscanError, MissingScopeError
from frontscan.event_groups import usable_body
from frontscan.extract import open_extractor
from frontscan.front import FrontClient, search_query
from frontscan.ledger.connect import open_store, shown_dsn
from frontscan.limits.budgets import FRONT_SEARCH_SHARE, FrontBudgets
from frontscan.limits.openai_budgets import OpenAIBudgets

Verdict = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    name: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    checks: tuple[Check, ...]
    source: str  # what `scan --source auto` would use
    front_rpm: float | None  # what frontscan would allow itself
    openai_rpm: float | None
    openai_tpm: float | None

    @property
    def ok(self) -> bool:
        return all(c.verdict != "fail" for c in self.checks)

    def lines(self) -> list[str]:
        width = max(len(c.name) for c in self.checks)
        return [f"{c.verdict:<4}  {c.name:<{width}}  {c.detail}" for c in self.checks]

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [
                {"name": c.name, "status": c.verdict, "detail": c.detail} for c in self.checks
            ],
            "scan": {
                "source": self.source,
                "front_rpm": self.front_rpm,
                "openai_rpm": self.openai_rpm,
                "openai_tpm": self.openai_tpm,
            },
        }


class _Checks:
    def __init__(self) -> None:
        self.found: list[Check] = []

    def add(self, name: str, verdict: Verdict, detail: str) -> None:
        self.found.append(Check(name=name, verdict=verdict, detail=detail))


async def run_checks(settings: Settings) -> CheckReport:
    """Every check, in the order a scan needs them; a failure does not stop the others."""
    checks = _Checks()
    await _check_database(settings, checks)
    async with AsyncExitStack() as stack:
        source, front_rpm = await _check_front(stack, settings, checks)
        openai_rpm, openai_tpm = await _check_openai(stack, settings, checks)
    front = f"Front {front_rpm:.0f}/min" if front_rpm else "Front limit not known"
    if front_rpm and source == "search":
        front += f" (search {front_rpm * FRONT_SEARCH_SHARE:.0f}/min)"
    model = f", OpenAI {openai_rpm:.0f} rpm / {openai_tpm:.0f} tpm" if openai_rpm else ""
    checks.add("scan would use", "ok", f"source {source}, {front}{model}")
    return CheckReport(
        checks=tuple(checks.found),
        source=source,
        front_rpm=front_rpm,
        openai_rpm=openai_rpm,
        openai_tpm=openai_tpm,
    )


async def _check_database(settings: Settings, checks: _Checks) -> None:
    try:
        async with open_store(settings) as store:
            await store.known_messages(["msg_check"])
        checks.add("database", "ok", f"{shown_dsn(settings)}, schema up to date")
    except FrontscanError as error:
        checks.add("database", "fail", str(error))


async def _check_front(
    stack: AsyncExitStack, settings: Settings, checks: _Checks
) -> tuple[str, float | None]:
    """Token, limits, then each scope by its cheapest call; returns (source, rpm)."""
    if not settings.front.token:
        checks.add(
            "front token",
            "fail",
            "FRONT_API_TOKEN is not set: create an API token in Front "
            "(Settings > Developers > API tokens) and export FRONT_API_TOKEN",
        )
        return "search", None
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))
    stack.push_async_callback(session.close)
    budgets = FrontBudgets(
        settings.front.rpm, settings.front.headroom, reserve=settings.front.reserve
    )
    client = FrontClient(
        session, settings.front.api_url, settings.front.token.reveal(), budgets, attempts=2
    )
    try:
        name = await client.check_auth()
    except FrontscanError as error:
        checks.add("front token", "fail", str(error))
        return "search", None
    checks.add("front token", "ok", f"accepted for {name or 'this company'}")
    rate = client.rate
    if rate is not None and rate.limit is not None:
        left = f", {rate.remaining:.0f} left this minute" if rate.remaining is not None else ""
        checks.add("front limit", "ok", f"company limit {rate.limit:.0f}/min{left}")
    else:
        checks.add("front limit", "warn", "Front sent no x-ratelimit-limit: starting at 50/min")
    searched, conversation = await _check_search(client, checks)
    if conversation is not None:
        await _check_messages(client, conversation, checks)
    elif searched:
        checks.add("messages scope", "warn", "not checked: no conversation to read yet")
    configured = settings.front.source
    if configured == "search":
        checks.add("events scope", "ok", "not needed: front.source is search")
        return "search", budgets.company.per_minute
    source = await _check_events(client, checks, required=configured == "events")
    return source, budgets.company.per_minute


async def _check_search(client: FrontClient, checks: _Checks) -> tuple[bool, str | None]:
    """A one-page search: did it work, and a conversation whose messages to read."""
    query = search_query(0.0, None, None, None)  # everything: one page, and `_total`
    try:
        async for page in client.search(query):
            total = page.total if page.total is not None else len(page.refs)
            checks.add("search scope", "ok", f"conversations:read: {total} conversations")
            return True, page.refs[0].id if page.refs else None
    except FrontscanError as error:
        checks.add("search scope", "fail", str(error))
        return False, None
    return True, None


async def _check_messages(client: FrontClient, conversation: str, checks: _Checks) -> None:
    try:
        listed = await client.messages_since(conversation, time.time() - 86_400 * 3650)
    except FrontscanError as error:
        checks.add("messages scope", "fail", str(error))
        return
    checks.add(
        "messages scope", "ok", f"messages:read: {len(listed.messages)} messages in {conversation}"
    )


async def _check_events(client: FrontClient, checks: _Checks, *, required: bool) -> str:
    """One page of the newest message events: the scope, and whether bodies come along.

    `required`: front.source is events, so a missing scope fails the check (the scan
    would stop) instead of warning (auto would use search).
    """
    try:
        results, _ = await client.events_page(client.events_url(None, None, None, ascending=False))
    except MissingScopeError as error:
        if required:
            checks.add("events scope", "fail", f"{error} (or set front.source = auto)")
            return "events"
        checks.add(
            "events scope",
            "warn",
            f"missing {error.scope}: scans use search (about 1 Front call per conversation); "
            f"add the scope to the token for about 1 call per 15 messages",
        )
        return "search"
    except FrontscanError as error:
        checks.add("events scope", "warn", f"{error}: scans use search")
        return "search"
    checks.add("events scope", "ok", "events:*:read: the event stream can be read")
    messages = [
        r["target"]["data"]
        for r in results
        if isinstance(r.get("target"), dict) and isinstance(r["target"].get("data"), dict)
    ]
    with_body = sum(usable_body(m) for m in messages)
    if not messages:
        checks.add("event bodies", "ok", "no message events yet to look at")
        return "events"
    if with_body == 0:
        then = (
            "every conversation is read from its message list" if required else "scans use search"
        )
        checks.add("event bodies", "warn", f"this account's event messages carry no body: {then}")
        return "events" if required else "search"
    checks.add("event bodies", "ok", f"{with_body} of {len(messages)} event messages carry a body")
    return "events"


async def _check_openai(
    stack: AsyncExitStack, settings: Settings, checks: _Checks
) -> tuple[float | None, float | None]:
    if settings.scan.llm == "never":
        checks.add("openai", "ok", "not needed: scan.llm is never")
        return None, None
    if not settings.openai.api_key:
        checks.add(
            "openai", "fail", "OPENAI_API_KEY is not set: export it, or set scan.llm = never"
        )
        return None, None
    budgets = OpenAIBudgets(settings.openai.rpm, settings.openai.tpm)
    model = settings.openai.model
    extractor = open_extractor(
        stack, settings.openai.api_key.reveal(), settings.openai.base_url, budgets
    )
    try:
        limits = await extractor.probe_limits(model)
    except FrontscanError as error:
        checks.add("openai", "fail", str(error))
        return None, None
    stated = (
        f"{limits.rpm:.0f} rpm / {limits.tpm:.0f} tpm"
        if limits.rpm is not None and limits.tpm is not None
        else "no x-ratelimit headers"
    )
    checks.add("openai", "ok", f"model {model}: {stated}")
    return budgets.requests.per_minute, budgets.tokens.per_minute
