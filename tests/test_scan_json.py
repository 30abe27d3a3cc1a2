"""`scan --json` prints exactly one JSON object on stdout, whatever happens.

Success, a dry run (the plan is a list inside the object), a clean end with a non-zero
code, and failures before any summary exists (`{"status": "error", "error", "exit_code"}`):
a cron job that appends stdout to a log file gets one record per run, failed runs included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from frontscan.ledger.dsn import redact_dsn
from frontscan.ledger.store import Store
from frontscan.simulator.runtime import running_simulator
from tests.scanning import clean_env, cli_env, fast_options
from tests.test_cli_scan import frontscan

SECRET_PASSWORD = "pw-4b3a2f1e"


def one_object(out: str) -> dict[str, Any]:
    lines = out.splitlines()
    assert len(lines) == 1, out  # one line, one object: nothing before or after it
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed


async def test_success_is_one_object_naming_its_database(tmp_path: Path, database_url: str) -> None:
    async with running_simulator(fast_options(20)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan(
            "scan", "--after", "2026-01-01", "--json", env=env, cwd=tmp_path
        )
    assert code == 0, err
    summary = one_object(out)
    assert summary["status"] == "succeeded"
    assert summary["exit_code"] == 0
    assert summary["conversations_scanned"] == 20
    assert summary["database"] == redact_dsn(database_url)
    assert "planned" not in summary  # only a dry run has a plan


async def test_a_dry_run_is_one_object_with_the_plan_inside(
    tmp_path: Path, database_url: str
) -> None:
    async with running_simulator(fast_options(25)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan(
            "scan", "--after", "2026-01-01", "--dry-run", "--json", env=env, cwd=tmp_path
        )
        ids = set(sim.mailbox.conversations)
    assert code == 0, err
    summary = one_object(out)
    assert summary["dry_run"] is True
    assert {p["conversation_id"] for p in summary["planned"]} == ids
    assert set(summary["planned"][0]) == {
        "conversation_id",
        "subject",
        "new_messages",
        "asks_model",
        "via_batch",
        "prompt_tokens",
        "completion_budget",
    }


async def test_a_database_failure_is_one_error_object(tmp_path: Path) -> None:
    dsn = f"postgresql://scanner:{SECRET_PASSWORD}@127.0.0.1:1/frontscan"
    async with running_simulator(fast_options(10)) as sim:
        env = cli_env(sim, dsn, tmp_path)
        code, out, err = await frontscan(
            "scan", "--after", "2026-01-01", "--json", env=env, cwd=tmp_path
        )
    assert code == 2
    failure = one_object(out)
    assert set(failure) == {"status", "error", "exit_code"}
    assert failure["status"] == "error"
    assert failure["exit_code"] == 2
    assert "cannot connect to PostgreSQL" in failure["error"]
    assert SECRET_PASSWORD not in out + err
    assert f"frontscan: {failure['error']}" in err  # the same line a person reads


async def test_errors_before_the_run_are_one_object_too(tmp_path: Path, database_url: str) -> None:
    env = clean_env(tmp_path) | {"DATABASE_URL": database_url}
    code, out, _ = await frontscan("scan", "--json", "--after", "2026-13-01", env=env, cwd=tmp_path)
    assert (code, one_object(out)["exit_code"]) == (2, 2)
    assert "--after" in one_object(out)["error"]
    code, out, _ = await frontscan("scan", "--json", "--openai-tpm", "0", env=env, cwd=tmp_path)
    assert code == 2
    assert "openai.tpm" in one_object(out)["error"]
    code, out, _ = await frontscan("scan", "--json", env=env, cwd=tmp_path)  # no FRONT_API_TOKEN
    assert code == 2
    assert one_object(out)["status"] == "error"


async def test_a_held_lock_and_a_clean_non_zero_end_print_one_object_each(
    tmp_path: Path, database_url: str
) -> None:
    store = await Store.open(database_url)
    try:
        await store.migrate()
        async with running_simulator(fast_options(30)) as sim:
            env = cli_env(sim, database_url, tmp_path)
            async with store.scan_lock():
                code, out, _ = await frontscan(
                    "scan", "--after", "2026-01-01", "--json", env=env, cwd=tmp_path
                )
            assert code == 75
            assert one_object(out)["exit_code"] == 75
            code, out, err = await frontscan(
                "scan", "--after", "2026-01-01", "--json", "--max-cost", "0.0001",
                "--concurrency", "2", env=env, cwd=tmp_path,
            )  # fmt: skip
    finally:
        await store.close()
    assert code == 1, err
    summary = one_object(out)  # the summary, not an error object as well
    assert summary["stop_reason"] == "max-cost"
    assert summary["exit_code"] == 1
    assert "--max-cost" in err


async def test_a_dry_run_states_how_many_slices_it_searches(
    tmp_path: Path, database_url: str
) -> None:
    """60 days in weeks are 9 searches, a century in decades 11; one search for the whole
    window (a wide slice, or the event stream, which no slice may split) says so."""
    async with running_simulator(fast_options(15)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        days = ["--after", "2026-01-01", "--before", "2026-03-02"]
        window = [*days, "--source", "search", "--dry-run"]
        code, out, err = await frontscan("scan", *window, "--json", env=env, cwd=tmp_path)
        assert code == 0, err
        summary = one_object(out)
        assert (summary["slices"], summary["slice_days"]) == (9, 7.0)
        assert len(summary["planned"]) == 15
        code, out, err = await frontscan("scan", *window, env=env, cwd=tmp_path)
        assert code == 0, err
        assert "search slices" in out
        assert "9 of 7 days" in out
        century = ["--after", "1926-03-02", "--before", "2026-03-02", "--slice-days", "3650"]
        args = ["scan", *century, "--source", "search", "--dry-run", "--json"]
        code, out, err = await frontscan(*args, env=env, cwd=tmp_path)
        assert code == 0, err
        assert one_object(out)["slices"] == 11  # 36,525 days: ten decades and a bit
        code, out, err = await frontscan(
            "scan", *window, "--slice-days", "60", env=env, cwd=tmp_path
        )
        assert code == 0, err
        assert "1 (the whole window)" in out
        args = ["scan", *days, "--source", "events", "--dry-run", "--json"]
        code, out, err = await frontscan(*args, env=env, cwd=tmp_path)
        assert code == 0, err
        assert one_object(out)["slices"] == 1
