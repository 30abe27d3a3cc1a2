"""The secrets sweep: every command and failure path, run with recognisable secrets.

The Front token, the OpenAI key and the database password are distinctive strings; the
sweep runs each command (successes, rejected tokens, unreachable and malformed
databases, `--debug`, log files at DEBUG) and then looks for them, whole and in part,
in stdout, stderr, every log file and every row of every ledger table.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from frontscan.simulator.runtime import running_simulator
from tests.reliability.cli import Ran, frontscan
from tests.scanning import cli_env, fast_options

FRONT_TOKEN = "fronttok-S3CR3T-a1b2c3d4"
OPENAI_KEY = "sk-S3CR3T-e5f6a7b8c9"
PASSWORD = "pw-S3CR3T-0d9c8b7a"
PIECES = ("S3CR3T", "a1b2c3d4", "e5f6a7b8c9", "0d9c8b7a")


def _clean(where: str, text: str) -> None:
    for piece in PIECES:
        at = text.find(piece)
        assert at < 0, f"{piece!r} leaked into {where}: ...{text[max(0, at - 80) : at + 40]}..."


async def _ledger_text(dsn: str) -> str:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'frontscan'"
        )
        tables = [row[0] for row in await cursor.fetchall()]
        parts: list[str] = []
        for table in tables:
            query = sql.SQL("SELECT t::text FROM frontscan.{} t").format(sql.Identifier(table))
            rows = await (await conn.execute(query)).fetchall()
            parts.extend(row[0] for row in rows)
    assert "runs" in tables
    return "\n".join(parts)


@pytest.mark.reliability(sample=True)
async def test_no_secret_anywhere_after_every_command(database_url: str, tmp_path: Path) -> None:
    dsn = make_conninfo(database_url, password=PASSWORD)  # trust auth: accepted, carried
    options = fast_options(40, front_token=FRONT_TOKEN, openai_key=OPENAI_KEY)
    ran: list[tuple[str, Ran]] = []
    logs = [tmp_path / f"log{i}.jsonl" for i in range(3)]
    async with running_simulator(options) as sim:
        env = cli_env(sim, dsn, tmp_path)
        scan = ["scan", "--after", "2026-01-01", "--before", "2026-03-02"]
        log = ["--log-level", "DEBUG", "--log-file"]
        commands: list[tuple[str, list[str], dict[str, str]]] = [
            ("scan", [*log, str(logs[0]), *scan, "--json"], env),
            ("dry run", [*log, str(logs[1]), *scan, "--dry-run"], env),
            ("status", ["status"], env),
            ("status --json", ["status", "--json"], env),
            ("export", ["export"], env),
            ("db url", ["db", "url"], env),
            ("db migrate", ["db", "migrate"], env),
            ("rescan --debug", ["--debug", *log, str(logs[2]), *scan, "--rescan"], env),
            ("bad Front token", ["--debug", *scan], {**env, "FRONT_API_TOKEN": FRONT_TOKEN + "x"}),
            ("bad OpenAI key", [*scan, "--rescan", "--llm", "always"],
             {**env, "OPENAI_API_KEY": OPENAI_KEY + "x"}),
            ("database down", ["--debug", "status"],
             {**env, "DATABASE_URL": f"postgresql://u:{PASSWORD}@127.0.0.1:1/db"}),
            ("malformed DSN", ["--debug", *scan],
             {**env, "DATABASE_URL": f"postgresql://u:{PASSWORD}@[::1/db"}),
            ("DSN with @", ["db", "url"],
             {**env, "DATABASE_URL": "postgresql://u:pw-S3CR3T@0d9c8b7a@localhost/db"}),
            ("DSN with /", ["db", "url"],
             {**env, "DATABASE_URL": "postgresql://u:pw-S3CR3T/0d9c8b7a@localhost/db"}),
            ("token in a URL", ["status"],
             {**env, "FRONT_API_URL": f"http://x:{PASSWORD}@127.0.0.1:notaport"}),
        ]  # fmt: skip
        for name, args, command_env in commands:
            ran.append((name, await frontscan(*args, env=command_env, cwd=tmp_path, limit=180)))
    assert ran[0][1].code == 0, ran[0][1].err
    assert {r.code for name, r in ran if name.startswith(("bad", "database", "malformed"))} <= {
        1,
        2,
    }
    for name, result in ran:
        _clean(f"{name} stdout", result.out)
        _clean(f"{name} stderr", result.err)
    for path in logs:
        assert path.stat().st_size > 0
        _clean(str(path.name), path.read_text())
    _clean("the ledger", await _ledger_text(database_url))
