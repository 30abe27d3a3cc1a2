"""`frontscan demo` on a fresh machine: a terminal sees the bar, the timings, the tables."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """No config, no DATABASE_URL, an empty data dir; its embedded server stopped at the end."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "COLUMNS": "120",
        "TERM": "xterm",
    }
    yield env
    data_dir = tmp_path / "data" / "frontscan" / "pgdata"
    if data_dir.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            import pgserver

            pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()


def run_in_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal, as a person would see it."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    screen = b"".join(chunks).decode(errors="replace")
    return proc.wait(timeout=300), re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)  # no colours


def test_demo_shows_its_work_and_leaves_a_ledger_to_inspect(
    fresh_home: dict[str, str], tmp_path: Path
) -> None:
    code, screen = run_in_terminal(
        [FRONTSCAN, "demo", "--conversations", "30"], fresh_home, tmp_path
    )
    assert code == 0, screen
    assert "Traceback" not in screen
    assert re.search(r"scanning ━+ *\d+/\d+", screen)  # the live progress bar
    assert re.search(r"batch 1: \d+ conversations in [\d.]+ s, p95", screen)  # timings
    assert "tracking numbers in the ledger for this run" in screen  # the results table
    assert re.search(r"run \d+: succeeded", screen)  # the summary
    assert "of the rate-limit bound" in screen
    assert "frontscan vs the old design" in screen  # the comparison

    status = subprocess.run(
        [FRONTSCAN, "status", "--json"],
        env=fresh_home,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(status.stdout)
    assert report["runs"][0]["status"] == "succeeded"
    assert report["totals"]["tracking_numbers"] > 0
    export = subprocess.run(
        [FRONTSCAN, "export"],
        env=fresh_home,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in export.stdout.splitlines()]
    assert len(records) == report["totals"]["tracking_numbers"]
