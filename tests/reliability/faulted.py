"""A `frontscan scan` process against the simulator through two fault proxies.

Front and OpenAI each sit behind a `FaultProxy`; the scan runs as cron runs it, with
short request timeouts, a JSON log file and `--json`, into a real PostgreSQL. What it
left behind (exit code, summary, log events, ledger rows, what the proxies saw) comes
back as one `Faulted` for the assertions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions, running_simulator
from tests.reliability.cli import Ran, frontscan
from tests.reliability.faultproxy import FaultProxy, Rule, fault_proxy, proxied
from tests.scanning import START, cli_env, fast_options, stored, truth_in_window

TIMEOUT = "1.5"  # seconds, both APIs: a hang costs this, not a minute
# One slice (the mailbox is Jan-Feb 2026), so every search request is the listing's own.
SCAN = ["scan", "--after", "2026-01-01", "--slice-days", "400", "--source", "search",
        "--concurrency", "4", "--batch-size", "5", "--json"]  # fmt: skip


@dataclass
class Rig:
    sim: RunningSimulator
    front: FaultProxy
    openai: FaultProxy
    env: dict[str, str]
    home: Path
    runs: int = 0

    async def scan(self, *extra: str, limit: float = 120) -> Faulted:
        self.runs += 1
        log = self.home / f"scan-{self.runs}.jsonl"
        args = ["--log-file", str(log), *SCAN, *extra]
        ran = await frontscan(*args, env=self.env, cwd=self.home, limit=limit)
        lines = log.read_text().splitlines() if log.exists() else []
        events = [json.loads(line) for line in lines]
        summary = json.loads(ran.out) if ran.out.strip() else {}
        return Faulted(ran=ran, events=events, summary=summary)

    def truth(self) -> set[tuple[str, str, str, str]]:
        return truth_in_window(self.sim, START.timestamp())


@dataclass(frozen=True)
class Faulted:
    ran: Ran
    events: list[dict[str, Any]]
    summary: dict[str, Any]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]

    def clean(self) -> None:
        """Exit 0, no traceback anywhere, nothing on stderr but log lines."""
        assert self.ran.code == 0, (self.ran.code, self.ran.err[-2000:])
        assert "Traceback" not in self.ran.err
        assert not [e for e in self.events if "traceback" in e], "a traceback was logged"


@asynccontextmanager
async def rig(
    home: Path,
    dsn: str,
    *,
    front: Sequence[Rule] = (),
    openai: Sequence[Rule] = (),
    options: SimulatorOptions | None = None,
    page_limit: int | None = None,
) -> AsyncIterator[Rig]:
    async with (
        running_simulator(options or fast_options(16)) as sim,
        fault_proxy(sim.front_url, *front, page_limit=page_limit) as front_proxy,
        fault_proxy(sim.openai_url, *openai) as openai_proxy,
    ):
        env = cli_env(sim, dsn, home)
        env["FRONT_API_URL"] = front_proxy.url
        env["OPENAI_BASE_URL"] = proxied(openai_proxy, sim.openai_url)
        env["FRONTSCAN_FRONT_TIMEOUT_SECONDS"] = TIMEOUT
        env["FRONTSCAN_OPENAI_TIMEOUT_SECONDS"] = TIMEOUT
        yield Rig(sim=sim, front=front_proxy, openai=openai_proxy, env=env, home=home)


async def exactly_once(rig: Rig, dsn: str) -> None:
    """Every true number of the window stored, none twice, nothing else."""
    rows = await stored(dsn)
    assert len(rows) == len(set(rows))
    assert set(rows) == rig.truth()


async def ledger_counts(dsn: str) -> dict[str, int]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'failed'),"
            " (SELECT count(*) FROM frontscan.messages),"
            " (SELECT count(DISTINCT id) FROM frontscan.messages)"
            " FROM frontscan.conversations"
        )
        row = await cursor.fetchone()
    assert row is not None
    return {"conversations": row[0], "failed": row[1], "messages": row[2], "distinct": row[3]}
