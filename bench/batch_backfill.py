"""Batch backfill: the same backfill online and through the Batch API, side by side.

Each mode gets a fresh simulator (same seed: the same mailbox) and a fresh database, and is
scored against the ground truth. Reported: wall time of the scan (and, for batches, of
the collection on the simulator's accelerated clock, where an hour passes each second),
chat-completion calls (what the per-minute limits see), Front calls, tokens and cost as
the server billed them, and recall.

    python -m bench.batch_backfill --conversations 500 --openai-tpm 200000
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pgserver
import psycopg

from frontscan.batch import command as batches
from frontscan.config import ScanSettings, Settings
from frontscan.report import make_reporter
from frontscan.runner import ScanRequest, scan
from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.settings import simulator_settings

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)


async def stored(dsn: str) -> set[tuple[str, str, str]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT conversation_id, message_id, tracking_number FROM frontscan.tracking_numbers"
        )
        return {(r[0], r[1], r[2]) for r in await cursor.fetchall()}


async def one_mode(sim: RunningSimulator, dsn: str, args: argparse.Namespace, batch: bool) -> str:
    settings = simulator_settings(
        Settings(scan=ScanSettings(concurrency=args.concurrency)),
        sim,
        openai_rpm=args.openai_rpm,
        openai_tpm=args.openai_tpm,
        database_url=dsn,
    )
    settings = replace(settings, openai=replace(settings.openai, batch=batch))
    started = time.monotonic()
    with make_reporter(tty=False, stream=io.StringIO()) as reporter:
        result = await scan(settings, ScanRequest(after=START.timestamp()), reporter)
    scanned = time.monotonic() - started
    collect = 0.0
    cost = result.summary.cost_usd
    if batch:
        started = time.monotonic()
        report = await batches.collect(settings, wait=True, poll_seconds=0.2)
        collect = time.monotonic() - started
        cost += report.collected.cost_usd
    truth = {(t.conversation_id, t.message_id, t.tracking_number) for t in sim.mailbox.truth}
    found = await stored(dsn)
    chat = sum(n for r, n in sim.openai_stats.requests.items() if "chat/completions" in r)
    front = sim.front_stats.total_requests
    stats = sim.openai_stats
    return (
        f"{'batch' if batch else 'online':<8}{scanned:8.1f} s{collect:9.1f} s{chat:8d}"
        f"{front:8d}{stats.prompt_tokens:11,d}{stats.completion_tokens:9,d}"
        f"{cost:11.4f}{len(found & truth) / len(truth):9.1%}{len(found - truth):7d}"
    )


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
        f"{args.openai_rpm} rpm / {args.openai_tpm} tpm; latency x{args.latency}\n"
    )
    print(
        f"{'mode':<8}{'scan':>10}{'collect':>11}{'chat':>8}{'Front':>8}{'prompt tok':>11}"
        f"{'compl':>9}{'cost $':>11}{'recall':>9}{'false':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            for batch in (False, True):
                dbname = "bench_batch" if batch else "bench_online"
                with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {dbname}")
                dsn = server.get_uri().replace("/postgres?", f"/{dbname}?")
                async with running_simulator(options) as sim:
                    print(await one_mode(sim, dsn, args, batch))
        finally:
            server.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--front-rpm", type=int, default=6000)
    parser.add_argument("--openai-rpm", type=int, default=500)
    parser.add_argument("--openai-tpm", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2)
    asyncio.run(main(parser.parse_args()))
