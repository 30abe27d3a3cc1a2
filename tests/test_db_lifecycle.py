"""The embedded PostgreSQL's lifecycle, as a user meets it through `frontscan` processes.

A first command starts it and says where it lives and how to stop it; it keeps running
between commands; `frontscan db stop` stops it and the next command starts it again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scanning import clean_env

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")


@pytest.fixture
def user_env() -> Iterator[dict[str, str]]:
    """A user with no DATABASE_URL and a data dir of their own (outside pytest's basetemp)."""
    home = Path(tempfile.mkdtemp(prefix="frontscan-test-user-"))
    env = clean_env(home) | {"FRONTSCAN_DATA_DIR": str(home / "share")}
    try:
        yield env
    finally:
        subprocess.run([FRONTSCAN, "db", "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def run(env: dict[str, str], *args: str) -> tuple[str, str]:
    done = subprocess.run([FRONTSCAN, *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout, done.stderr


def state(env: dict[str, str]) -> dict[str, Any]:
    out, _ = run(env, "db", "status", "--json")
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_first_start_is_announced_stop_works_and_status_starts_it_again(
    user_env: dict[str, str],
) -> None:
    data_dir = str(Path(user_env["FRONTSCAN_DATA_DIR"]) / "pgdata")
    before = state(user_env)
    assert before["database_url_set"] is False
    assert before["embedded"] == {
        "data_dir": data_dir,
        "created": False,
        "running": False,
        "pid": None,
        "socket_dir": None,
    }
    out, _ = run(user_env, "db", "status")
    assert "not created yet" in out
    assert data_dir in out
    assert state(user_env)["embedded"]["running"] is False

    out, err = run(user_env, "status")
    assert f"started the embedded PostgreSQL in {data_dir}" in err
    assert "frontscan db stop" in err
    assert f"Database: the embedded PostgreSQL in {data_dir}" in out
    running = state(user_env)["embedded"]
    assert running["running"] is True
    assert running["created"] is True
    assert isinstance(running["pid"], int)

    out, err = run(user_env, "status", "--json")
    assert "started" not in err  # still running from the last command: nothing to announce
    assert json.loads(out)["database"] == f"the embedded PostgreSQL in {data_dir}"
    assert state(user_env)["embedded"]["pid"] == running["pid"]

    out, _ = run(user_env, "db", "stop")
    assert f"stopped the embedded PostgreSQL in {data_dir}" in out
    assert state(user_env)["embedded"]["running"] is False
    out, _ = run(user_env, "db", "status")
    assert "stopped" in out
    out, _ = run(user_env, "db", "stop")
    assert "is not running" in out

    out, err = run(user_env, "status")
    assert f"started the embedded PostgreSQL in {data_dir}" in err
    assert "No scans recorded yet." in out
    again = state(user_env)["embedded"]
    assert again["running"] is True
    assert again["pid"] != running["pid"]

    out, _ = run(user_env, "db", "start")
    assert "already running" in out


def test_db_status_names_a_database_url_without_its_password(user_env: dict[str, str]) -> None:
    env = user_env | {"DATABASE_URL": "postgresql://scanner:pw-31337@db.example:5432/ledger"}
    out, err = run(env, "db", "status")
    assert "commands use: postgresql://scanner:***@db.example:5432/ledger (DATABASE_URL)" in out
    assert "pw-31337" not in out + err
    assert state(env)["database"] == "postgresql://scanner:***@db.example:5432/ledger"
