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
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pgserver

from frontscan.config import ScanSettings, Settings
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--front-rpm", type=int, default=200)
    parser.add_argument("--openai-rpm", type=int, default=500)
    parser.add_argument("--openai-tpm", type=int, default=200_000)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
