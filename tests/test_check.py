"""`frontscan check` as a process against the simulator and a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from frontscan.simulator.runtime import running_simulator
from tests.scanning import cli_env, fast_options
from tests.test_cli_scan import frontscan


def by_name(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in report["checks"]}


async def test_a_good_setup_passes_every_check(database_url: str, tmp_path: Path) -> None:
    async with running_simulator(fast_options(30, front_rpm=200)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan("check", env=env, cwd=tmp_path)
        json_code, json_out, _ = await frontscan("check", "--json", env=env, cwd=tmp_path)
        front_calls = sim.stats()["front"]["total_requests"]
    assert code == 0, out + err
    lines = out.splitlines()
    names = [line.split()[1] for line in lines]
    assert names == ["database", "front", "front", "search", "messages", "events", "event",
                     "openai", "scan"]  # fmt: skip
    assert all(line.startswith("ok") for line in lines), out
    assert "Acme Goods Inc." in out
    assert "company limit 200/min" in out
    assert "source events" in out
    assert sim.front_token not in out + err
    assert sim.openai_key not in out + err
    report = json.loads(json_out)
    assert json_code == 0
    assert report["ok"] is True
    assert report["scan"]["source"] == "events"
    assert report["scan"]["front_rpm"] == 180  # 200 less the default headroom
    checks = by_name(report)
    # What OpenAI states, and what a scan would use: the configured limits, lower here.
    assert "100000 rpm / 100000000 tpm" in checks["openai"]["detail"]
    assert (report["scan"]["openai_rpm"], report["scan"]["openai_tpm"]) == (500, 200_000)
    assert "30 conversations" in checks["search scope"]["detail"]
    assert "carry a body" in checks["event bodies"]["detail"]
    assert front_calls <= 2 * 6  # two runs, about six calls each


async def test_a_wrong_token_fails_with_what_to_do(database_url: str, tmp_path: Path) -> None:
    async with running_simulator(fast_options(10)) as sim:
        env = {**cli_env(sim, database_url, tmp_path), "FRONT_API_TOKEN": "not-the-token"}
        code, out, err = await frontscan("check", "--json", env=env, cwd=tmp_path)
    assert code == 2, err
    report = json.loads(out)
    checks = by_name(report)
    assert report["ok"] is False
    assert checks["front token"]["status"] == "fail"
    assert "401" in checks["front token"]["detail"]
    assert "API token" in checks["front token"]["detail"]
    assert checks["database"]["status"] == "ok"
    assert checks["openai"]["status"] == "ok"
    assert "not-the-token" not in out + err


async def test_without_the_events_scope_it_warns_and_scans_would_use_search(
    database_url: str, tmp_path: Path
) -> None:
    scopes = ("conversations:read", "messages:read")
    async with running_simulator(fast_options(10, front_scopes=scopes)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, err = await frontscan("check", env=env, cwd=tmp_path)
    assert code == 0, out + err
    events_line = next(line for line in out.splitlines() if "events scope" in line)
    assert events_line.startswith("warn")
    assert "missing events:*:read" in events_line
    assert "source search" in out


async def test_without_the_messages_scope_it_fails(database_url: str, tmp_path: Path) -> None:
    scopes = ("conversations:read", "events:*:read")
    async with running_simulator(fast_options(10, front_scopes=scopes)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, _ = await frontscan("check", "--json", env=env, cwd=tmp_path)
    assert code == 2
    checks = by_name(json.loads(out))
    assert checks["messages scope"]["status"] == "fail"
    assert "403" in checks["messages scope"]["detail"]


async def test_bodiless_events_are_reported(database_url: str, tmp_path: Path) -> None:
    async with running_simulator(fast_options(10, event_body_drop_rate=1.0)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        code, out, _ = await frontscan("check", "--json", env=env, cwd=tmp_path)
    report = json.loads(out)
    assert code == 0
    assert by_name(report)["event bodies"]["status"] == "warn"
    assert report["scan"]["source"] == "search"


async def test_a_database_that_is_down_fails_and_hides_the_password(tmp_path: Path) -> None:
    async with running_simulator(fast_options(10)) as sim:
        dsn = "postgresql://frontscan:pw-5e4d3c2b@127.0.0.1:9/frontscan"
        env = cli_env(sim, dsn, tmp_path)
        code, out, err = await frontscan("check", env=env, cwd=tmp_path)
    assert code == 2
    database = next(line for line in out.splitlines() if "database" in line)
    assert database.startswith("fail")
    assert "cannot connect to PostgreSQL" in database
    assert "pw-5e4d3c2b" not in out + err
    assert "front token" in out  # the other checks still ran


async def test_when_events_are_required_a_missing_scope_fails(
    database_url: str, tmp_path: Path
) -> None:
    scopes = ("conversations:read", "messages:read")
    async with running_simulator(fast_options(10, front_scopes=scopes)) as sim:
        env = {**cli_env(sim, database_url, tmp_path), "FRONTSCAN_FRONT_SOURCE": "events"}
        code, out, _ = await frontscan("check", "--json", env=env, cwd=tmp_path)
        searching = {**env, "FRONTSCAN_FRONT_SOURCE": "search"}
        search_code, search_out, _ = await frontscan("check", "--json", env=searching, cwd=tmp_path)
    assert code == 2
    assert by_name(json.loads(out))["events scope"]["status"] == "fail"
    assert search_code == 0
    report = json.loads(search_out)
    assert report["scan"]["source"] == "search"
    assert by_name(report)["events scope"]["detail"] == "not needed: front.source is search"
