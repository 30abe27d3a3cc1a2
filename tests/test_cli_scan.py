"""`frontscan scan` as a process: exit codes, one-line errors, no secrets, the lock, --json."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from frontscan.ledger.store import Store
from frontscan.simulator.runtime import running_simulator
from tests.scanning import clean_env, cli_env, fast_options

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")
SECRET_PASSWORD = "pw-9f8e7d6c"


async def frontscan(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        FRONTSCAN,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no developer config, no tokens unless a test adds them."""
    return clean_env(tmp_path)


def assert_one_line_error(code: int, err: str, expected_code: int, *fragments: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("frontscan: ")
    for fragment in fragments:
        assert fragment in lines[0]


async def test_a_malformed_date_is_a_usage_error(base_env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = await frontscan("scan", "--after", "2026-13-01", env=base_env, cwd=tmp_path)
    assert_one_line_error(code, err, 2, "--after", "YYYY-MM-DD")


async def test_before_must_follow_after(base_env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = await frontscan(
        "scan", "--after", "2026-02-02", "--before", "2026-02-01", env=base_env, cwd=tmp_path
    )
    assert_one_line_error(code, err, 2, "--before", "later than --after")


async def test_a_missing_token_says_which(base_env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = await frontscan("scan", "--after", "2026-02-01", env=base_env, cwd=tmp_path)
    assert_one_line_error(code, err, 2, "FRONT_API_TOKEN is not set")


async def test_a_rejected_token_is_a_configuration_error_and_never_printed(
    base_env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    async with running_simulator(fast_options(10)) as sim:
        env = {**cli_env(sim, database_url, tmp_path), "FRONT_API_TOKEN": "wrong-token-123abc"}
        code, out, err = await frontscan("scan", "--after", "2026-01-01", env=env, cwd=tmp_path)
    assert_one_line_error(code, err, 2, "401", "FRONT_API_TOKEN")
    assert "wrong-token-123abc" not in out + err


async def test_an_unreachable_database_fails_first_without_the_password(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    async with running_simulator(fast_options(10)) as sim:
        env = {
            **base_env,
            **sim.env(),
            "DATABASE_URL": f"postgresql://scanner:{SECRET_PASSWORD}@127.0.0.1:1/frontscan",
        }
        code, out, err = await frontscan("scan", "--after", "2026-01-01", env=env, cwd=tmp_path)
        front_calls = sim.stats()["front"]["total_requests"]
    assert_one_line_error(code, err, 2, "cannot connect to PostgreSQL", "DATABASE_URL")
    assert SECRET_PASSWORD not in out + err
    assert front_calls == 0  # the database is checked before any API call


async def test_bad_configuration_values_name_the_key(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**base_env, "FRONTSCAN_SCAN_CONCURRENCY": "0"}
    code, _, err = await frontscan("scan", "--after", "2026-02-01", env=env, cwd=tmp_path)
    assert_one_line_error(code, err, 2, "scan.concurrency", "FRONTSCAN_SCAN_CONCURRENCY")


async def test_a_second_scan_is_refused_with_75(
    base_env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    store = await Store.open(database_url)
    try:
        await store.migrate()
        async with running_simulator(fast_options(10)) as sim, store.scan_lock():
            env = cli_env(sim, database_url, tmp_path)
            code, _, err = await frontscan("scan", "--after", "2026-01-01", env=env, cwd=tmp_path)
    finally:
        await store.close()
    assert_one_line_error(code, err, 75, "another frontscan scan is running")


async def test_json_summary_and_exit_zero(
    base_env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    async with running_simulator(fast_options(30)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan(
            "scan", "--after", "2026-01-01", "--json", "--batch-size", "10", env=env, cwd=tmp_path
        )
        truth = {t.tracking_number for t in sim.mailbox.truth}
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "succeeded"
    assert summary["numbers_found"] == len(truth)
    assert summary["conversations_scanned"] == 30
    assert summary["ratio_to_bound"] > 0
    assert "batch 1: 10 conversations" in err  # cron sees one line per batch on stderr
    assert sim.front_token not in out + err
    assert sim.openai_key not in out + err


async def test_dry_run_calls_no_model_and_writes_nothing(
    base_env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    async with running_simulator(fast_options(30)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan(
            "scan", "--after", "2026-01-01", "--dry-run", "--json", env=env, cwd=tmp_path
        )
        asks = sim.stats()["openai"]["total_requests"]
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1  # one object, the plan inside it
    summary = json.loads(out)
    planned = summary["planned"]
    assert asks == 0
    assert len(planned) == 30
    assert summary["dry_run"] is True
    assert summary["openai_calls"] == sum(p["asks_model"] for p in planned)
    assert summary["cost_usd"] > 0
    store = await Store.open(database_url)
    try:
        await store.migrate()
        assert (await store.totals()).conversations == 0
    finally:
        await store.close()


async def test_max_cost_stops_before_the_spend_passes_it(
    base_env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    async with running_simulator(fast_options(60)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan(
            "scan",
            "--after",
            "2026-01-01",
            "--max-cost",
            "0.0008",
            "--json",
            "--concurrency",
            "4",
            env=env,
            cwd=tmp_path,
        )
        prompt = sim.stats()["openai"]["prompt_tokens"]
        completion = sim.stats()["openai"]["completion_tokens"]
    assert code == 1, err
    assert "--max-cost" in err
    summary = json.loads(out)
    assert summary["stop_reason"] == "max-cost"
    assert summary["status"] == "interrupted"
    spent = (prompt * 0.15 + completion * 0.60) / 1_000_000
    assert 0 < spent <= 0.0008
