"""Throughput: frontscan beside the design it replaces, on the same simulated mailbox and limits.

Each strategy gets a fresh simulator (same seed, so the same mailbox, and fresh rate-limit
buckets) and is scored against the mailbox's ground truth:

  frontscan   the streaming, rate-limited pipeline (this project)
  batches     the old design: batches of 10, 1 s sleep between batches, no rate limiting
  semaphore   the obvious fix: an unthrottled semaphore of 20

Reported per strategy: wall time, conversations scanned correctly per second, recall of
the ground-truth numbers, false numbers, 429s received, peak Python memory; for frontscan
also its ratio to the rate-limit bound of DESIGN.md §4. A second round adds new mail to
5% of the conversations and runs again: the cron case.

    python bench/throughput.py --conversations 200 --front-rpm 200

`--sources` compares frontscan's two ways of reading Front instead, each on a fresh
simulator and a fresh database: search (+ one message list per conversation) against
the event stream, a full scan and then a cron re-run with new mail in 5% of the
conversations. OpenAI's limits are raised so that Front's budget is what binds.

    python bench/throughput.py --sources --conversations 400 --front-rpm 200
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pgserver

from frontscan.config import ScanSettings, Settings
from frontscan.models import SourceMode
from frontscan.report import make_reporter
from frontscan.runner import ScanRequest, scan
from frontscan.simulator.baseline import run_baseline
from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.settings import simulator_settings

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Row:
    name: str
    seconds: float
    conversations_ok: int
    recall: float
    false_numbers: int
    rate_limited: int
    peak_mib: float
    ratio_to_bound: float | None = None

    def line(self) -> str:
        ratio = f"{self.ratio_to_bound:6.2f}" if self.ratio_to_bound is not None else "     -"
        rate = self.conversations_ok / self.seconds if self.seconds else 0.0
        return (
            f"{self.name:<22}{self.seconds:8.1f} s{rate:9.2f} conv/s{self.recall:8.1%}"
            f"{self.false_numbers:7d}{self.rate_limited:7d}{self.peak_mib:9.1f} MiB{ratio}"
        )


def truth_pairs(sim: RunningSimulator) -> set[tuple[str, str]]:
    return {(t.conversation_id, t.tracking_number) for t in sim.mailbox.truth}


async def stored_pairs(dsn: str) -> set[tuple[str, str]]:
    from frontscan.ledger.store import Store

    store = await Store.open(dsn)
    try:
        return {(r["conversation_id"], r["tracking_number"]) async for r in store.export_rows()}
    finally:
        await store.close()


async def frontscan_round(
    sim: RunningSimulator, dsn: str, args: argparse.Namespace, name: str
) -> Row:
    settings = simulator_settings(
        Settings(scan=ScanSettings(concurrency=args.concurrency, batch_size=50)),
        sim,
        openai_rpm=args.openai_rpm,
        openai_tpm=args.openai_tpm,
        database_url=dsn,
    )
    before_429 = sim.rate_limited()
    tracemalloc.start()
    with make_reporter(tty=False, stream=io.StringIO()) as reporter:
        result = await scan(
            settings,
            ScanRequest(after=START.timestamp(), before=END.timestamp() + 86_400, slice_days=90),
            reporter,
        )
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    truth, found = truth_pairs(sim), await stored_pairs(dsn)
    s = result.summary
    return Row(
        name,
        s.wall_seconds,
        s.stats.conversations_scanned + s.stats.conversations_skipped,
        len(found & truth) / len(truth),
        len(found - truth),
        sim.rate_limited() - before_429,
        peak,
        s.ratio_to_bound,
    )


async def baseline_round(sim: RunningSimulator, strategy: Any, name: str) -> Row:
    before_429 = sim.rate_limited()
    tracemalloc.start()
    result = await run_baseline(
        strategy,
        front_url=sim.front_url,
        front_token=sim.front_token,
        openai_url=sim.openai_url,
        openai_key=sim.openai_key,
        after=START.timestamp(),
        before=END.timestamp() + 86_400,
    )
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    truth = truth_pairs(sim)
    return Row(
        name,
        result.seconds,
        result.conversations - result.failed,
        len(result.numbers & truth) / len(truth),
        len(result.numbers - truth),
        sim.rate_limited() - before_429,
        peak,
    )


def new_mail(sim: RunningSimulator) -> None:
    changed = [c.id for c in sim.mailbox.by_activity()[::20]]
    sim.mailbox.append_messages(changed, rng_seed=5, at=END.timestamp() + 3600)


async def main(args: argparse.Namespace) -> None:
    options = SimulatorOptions(
        conversations=args.conversations,
        seed=args.seed,
        start=START,
        end=END,
        front_rpm=args.front_rpm,
        openai_rpm=args.openai_rpm,
        openai_tpm=args.openai_tpm,
        latency_scale=args.latency,
    )
    print(
        f"{args.conversations} conversations; Front {args.front_rpm} rpm, OpenAI "
        f"{args.openai_rpm} rpm / {args.openai_tpm} tpm; latency x{args.latency}; "
        f"frontscan concurrency {args.concurrency}\n"
    )
    print(
        f"{'strategy':<22}{'wall':>10}{'good conv/s':>16}{'recall':>8}{'false':>7}"
        f"{'429s':>7}{'peak mem':>13}{'vs bound':>9}"
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            async with running_simulator(options) as sim:
                rows.append(await frontscan_round(sim, server.get_uri(), args, "frontscan"))
                print(rows[-1].line())
                await asyncio.sleep(61)  # a fresh Front minute for the cron round
                new_mail(sim)
                rows.append(
                    await frontscan_round(sim, server.get_uri(), args, "frontscan (cron rerun)")
                )
                print(rows[-1].line())
            for strategy, name in (
                ("batches", "old: batches of 10"),
                ("semaphore", "old: semaphore of 20"),
            ):
                async with running_simulator(options) as sim:
                    rows.append(await baseline_round(sim, strategy, name))
                    print(rows[-1].line())
                    if strategy == "batches":
                        await asyncio.sleep(61)
                        new_mail(sim)
                        rows.append(await baseline_round(sim, strategy, "old (cron rerun)"))
                        print(rows[-1].line())
        finally:
            server.cleanup()
    full, cron, old, old_cron = rows[0], rows[1], rows[2], rows[3]

    def good_rate(row: Row) -> float:
        return row.conversations_ok * row.recall / row.seconds

    print(
        f"\nfull scan: frontscan {good_rate(full) / good_rate(old):.1f}x the old design's "
        "correct conversations per second (rate x recall)"
    )
    print(
        f"cron rerun: frontscan {old_cron.seconds / cron.seconds:.1f}x faster than the old "
        "design, which reads everything again"
    )
    print(f"frontscan ran at {full.ratio_to_bound:.0%} of the rate-limit bound")


async def fresh_database(server_uri: str) -> str:
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"bench_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(server_uri, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}".encode())
    return make_conninfo(server_uri, dbname=name)


async def source_round(
    sim: RunningSimulator, dsn: str, args: argparse.Namespace, source: SourceMode, cron: bool
) -> dict[str, Any]:
    """One scan through `source`; figures from the simulator's counters and the summary."""
    base = Settings(scan=ScanSettings(concurrency=args.concurrency, batch_size=50))
    settings = simulator_settings(
        base, sim, openai_rpm=100_000, openai_tpm=100_000_000, database_url=dsn
    )
    settings = replace(settings, front=replace(settings.front, source=source))
    calls_before = sim.front_stats.total_requests
    limited_before = sim.rate_limited()
    request = ScanRequest() if cron else ScanRequest(after=START.timestamp())
    with make_reporter(tty=False, stream=io.StringIO()) as reporter:
        result = await scan(settings, request, reporter)
    s = result.summary
    calls = sim.front_stats.total_requests - calls_before
    raw_bound = 60.0 * calls / args.front_rpm
    return {
        "source": source,
        "round": "cron" if cron else "full",
        "conversations": s.stats.conversations_scanned,
        "front_calls": calls,
        "calls_per_conversation": calls / max(1, s.stats.conversations_scanned),
        "wall_seconds": s.wall_seconds,
        "raw_bound_ratio": raw_bound / s.wall_seconds if s.wall_seconds else 0.0,
        "rate_limited": sim.rate_limited() - limited_before,
    }


async def compare_sources(args: argparse.Namespace) -> None:
    options = SimulatorOptions(
        conversations=args.conversations,
        seed=args.seed,
        start=START,
        end=END,
        front_rpm=args.front_rpm,
        openai_rpm=100_000,
        openai_tpm=100_000_000,
        latency_scale=args.latency,
    )
    print(f"{args.conversations} conversations; Front {args.front_rpm} rpm; OpenAI not binding\n")
    print(
        f"{'source':<8}{'round':<6}{'conv':>6}{'calls':>7}{'calls/conv':>12}{'wall':>9}"
        f"{'vs raw bound':>14}{'429s':>6}"
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            sources: tuple[SourceMode, ...] = ("search", "events")
            for source in sources:
                async with running_simulator(options) as sim:
                    dsn = await fresh_database(server.get_uri())
                    for cron in (False, True):
                        if cron:
                            await asyncio.sleep(61)  # a fresh Front minute
                            changed = [c.id for c in sim.mailbox.by_activity()[::20]]
                            added = sim.mailbox.append_messages(changed, 5, at=time.time())
                        row = await source_round(sim, dsn, args, source, cron)
                        if cron:
                            row["new_messages"] = len(changed)
                            row["numbers_added"] = len(added)
                        found[(source, row["round"])] = row
                        print(
                            f"{source:<8}{row['round']:<6}{row['conversations']:>6}"
                            f"{row['front_calls']:>7}{row['calls_per_conversation']:>12.3f}"
                            f"{row['wall_seconds']:>8.1f}s{row['raw_bound_ratio']:>14.2f}"
                            f"{row['rate_limited']:>6}"
                        )
        finally:
            server.cleanup()
    full_search, full_events = found[("search", "full")], found[("events", "full")]
    cron_events = found[("events", "cron")]
    print(
        f"\nfull scan: events {full_search['wall_seconds'] / full_events['wall_seconds']:.1f}x "
        f"faster, {full_events['calls_per_conversation']:.3f} Front calls per conversation "
        f"(search {full_search['calls_per_conversation']:.3f})"
    )
    print(
        f"cron re-run: events spent {cron_events['front_calls']} Front calls for "
        f"{cron_events['new_messages']} new messages (target <= "
        f"{cron_events['new_messages'] / 15 + 2:.1f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--front-rpm", type=int, default=200)
    parser.add_argument("--openai-rpm", type=int, default=500)
    parser.add_argument("--openai-tpm", type=int, default=200_000)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--sources", action="store_true", help="compare the search and event-stream sources"
    )
    parsed = parser.parse_args()
    asyncio.run(compare_sources(parsed) if parsed.sources else main(parsed))
