"""Ledger rows and scan time per mailbox: what storing every mention costs.

Scans the default simulator mailbox (500 conversations, seed 1) with limits that do not
bind and a small latency, so the scan time is frontscan's own work plus the database,
into a fresh embedded PostgreSQL; `--repeat` scans a fresh database that many times.
Prints the wall time of each scan, the writer's share of it (the `ledger.commit` log
lines) and the rows and size (tables with their indexes) of each ledger table that exists.

    python -m bench.ledger_rows --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import statistics
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pgserver
import psycopg
from psycopg.conninfo import make_conninfo

from frontscan.config import ScanSettings, Settings
from frontscan.report import make_reporter
from frontscan.runner import ScanRequest, scan
from frontscan.simulator.runtime import SimulatorOptions, running_simulator
from frontscan.simulator.settings import simulator_settings

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)
TABLES = ("messages", "tracking_numbers", "mentions", "shipments")


class _Commits(logging.Handler):
    """Sums the seconds the writer reports for its commits (`ledger.commit`)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "ledger.commit":
            self.seconds += float(getattr(record, "seconds", 0.0))


async def _fresh_database(server_uri: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(server_uri, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}".encode())
    return make_conninfo(server_uri, dbname=name)


async def _counts(dsn: str) -> dict[str, int]:
    counts = {}
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        for table in TABLES:
            cursor = await conn.execute("SELECT to_regclass(%s)", (f"frontscan.{table}",))
            row = await cursor.fetchone()
            if row is None or row[0] is None:
                continue
            cursor = await conn.execute(f"SELECT count(*) FROM frontscan.{table}".encode())
            found = await cursor.fetchone()
            counts[table] = int(found[0]) if found else 0
            cursor = await conn.execute(
                "SELECT pg_total_relation_size(%s)", (f"frontscan.{table}",)
            )
            size = await cursor.fetchone()
            counts[f"{table}_kib"] = int(size[0]) // 1024 if size else 0
            if table == "mentions":
                cursor = await conn.execute("SELECT count(*) FROM frontscan.mentions WHERE quoted")
                quoted = await cursor.fetchone()
                counts["mentions_quoted"] = int(quoted[0]) if quoted else 0
    return counts


async def _one(server_uri: str, args: argparse.Namespace) -> dict[str, object]:
    options = SimulatorOptions(
        conversations=args.conversations,
        seed=args.seed,
        start=START,
        end=END,
        front_rpm=100_000,
        openai_rpm=100_000,
        openai_tpm=100_000_000,
        latency_scale=args.latency,
    )
    dsn = await _fresh_database(server_uri)
    commits = _Commits()
    logging.getLogger("frontscan.ledger.store").addHandler(commits)
    logging.getLogger("frontscan.ledger.store").setLevel(logging.INFO)
    try:
        async with running_simulator(options) as sim:
            settings = simulator_settings(
                Settings(scan=ScanSettings(concurrency=20, batch_size=50)),
                sim,
                openai_rpm=100_000,
                openai_tpm=100_000_000,
                database_url=dsn,
            )
            with make_reporter(tty=False, stream=io.StringIO()) as reporter:
                result = await scan(
                    settings,
                    ScanRequest(after=START.timestamp(), before=END.timestamp() + 86_400),
                    reporter,
                )
    finally:
        logging.getLogger("frontscan.ledger.store").removeHandler(commits)
    return {
        "wall_seconds": round(result.summary.wall_seconds, 2),
        "commit_seconds": round(commits.seconds, 3),
        **await _counts(dsn),
    }


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            runs = [await _one(server.get_uri(), args) for _ in range(args.repeat)]
        finally:
            server.cleanup()
    for run in runs:
        print(json.dumps(run))
    walls = [float(str(r["wall_seconds"])) for r in runs]
    commits = [float(str(r["commit_seconds"])) for r in runs]
    print(
        f"median wall {statistics.median(walls):.2f} s, "
        f"median commit time {statistics.median(commits):.3f} s over {len(runs)} scan(s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
