"""Helpers shared by the end-to-end scan tests: settings for a simulator, ledger queries."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from frontscan.config import ScanSettings, Settings
from frontscan.models import LlmMode, SourceMode
from frontscan.report import make_reporter
from frontscan.runner import ScanRequest, ScanResult, scan
from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions
from frontscan.simulator.settings import simulator_settings

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)


def clean_env(home: Path) -> dict[str, str]:
    """A process environment with no developer config, tokens or database of its own."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
    }


def cli_env(sim: RunningSimulator, dsn: str, home: Path) -> dict[str, str]:
    """What a `frontscan` process needs to scan the simulator into `dsn`."""
    return {**clean_env(home), **sim.env(), "DATABASE_URL": dsn}


def fast_options(conversations: int = 60, **overrides: object) -> SimulatorOptions:
    """A simulator whose limits do not bind and whose latency is small: tests stay quick."""
    values: dict[str, object] = {
        "conversations": conversations,
        "seed": 7,
        "start": START,
        "end": END,
        "front_rpm": 100_000,
        "openai_rpm": 100_000,
        "openai_tpm": 100_000_000,
        "latency_scale": 0.05,
    }
    values.update(overrides)
    return SimulatorOptions(**values)  # type: ignore[arg-type]  # field overrides, checked on init


def settings_for(
    sim: RunningSimulator,
    dsn: str,
    *,
    llm: LlmMode = "auto",
    concurrency: int = 20,
    batch_size: int = 25,
    front_rpm: int = 0,
    openai_rpm: int = 100_000,
    openai_tpm: int = 100_000_000,
    source: SourceMode = "search",
) -> Settings:
    """Settings for a simulator; `source` defaults to search, which most tests were written
    for (the event stream has its own tests, and `auto` is what the CLI tests run)."""
    base = Settings(scan=ScanSettings(concurrency=concurrency, batch_size=batch_size, llm=llm))
    settings = simulator_settings(
        base, sim, openai_rpm=openai_rpm, openai_tpm=openai_tpm, database_url=dsn
    )
    return replace(settings, front=replace(settings.front, rpm=front_rpm, source=source))


async def run_scan(settings: Settings, **request: object) -> ScanResult:
    log = io.StringIO()
    with make_reporter(tty=False, stream=log) as reporter:
        request_value = ScanRequest(**request)  # type: ignore[arg-type]  # fields, checked on init
        return await scan(settings, request_value, reporter)


async def stored(dsn: str) -> list[tuple[str, str, str, str]]:
    """(conversation, message, number, carrier) of every stored tracking number."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT conversation_id, message_id, tracking_number, carrier"
            " FROM frontscan.tracking_numbers ORDER BY 1, 2, 3"
        )
        return [tuple(row) for row in await cursor.fetchall()]


def truth_in_window(
    sim: RunningSimulator, after: float, before: float | None = None
) -> set[tuple[str, str, str, str]]:
    inside = {
        c.id
        for c in sim.mailbox.conversations.values()
        if c.last_activity > after and (before is None or c.last_activity < before)
    }
    return {
        (t.conversation_id, t.message_id, t.tracking_number, t.carrier)
        for t in sim.mailbox.truth
        if t.conversation_id in inside
    }


def requests_to(sim: RunningSimulator, api: str, route_part: str) -> int:
    counts = sim.stats()[api]["requests"]
    return sum(n for route, n in counts.items() if route_part in route)
