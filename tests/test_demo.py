"""`frontscan demo` on a fresh machine, as a person at a terminal sees it.

Four phases, each with its own progress bar (its total known from the start) and its own
summary, the old design shown live like the rest, a closing side-by-side table, and no
stretch of more than 5 s without a change on the screen.
"""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")
DEMO_COMMAND = ["frontscan", "demo"]  # as the README has it (tests/test_readme_commands.py)
CONVERSATIONS = 100  # the demo's default
SILENCE_SECONDS = 5.0
PHASES = {
    "frontscan, first scan": "1/4 frontscan: the first scan",
    "frontscan, cron run": "2/4 frontscan: a cron run after new mail in 5 conversations",
    "old design, first scan": "3/4 the old design: the first scan",
    "old design, cron run": "4/4 the old design: the cron run after new mail in 5 conversations",
}


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """No config, no DATABASE_URL, an empty data dir; its embedded server stopped at the end."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "COLUMNS": "140",
        "TERM": "xterm",
    }
    yield env
    data_dir = tmp_path / "data" / "frontscan" / "pgdata"
    if data_dir.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            import pgserver

            pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()


def run_in_terminal(
    args: list[str], env: dict[str, str], cwd: Path
) -> tuple[int, str, list[float]]:
    """Run with stdout and stderr on a pseudo-terminal; the screen and when it changed."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    chunks, times = [], [time.monotonic()]
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
        times.append(time.monotonic())
    os.close(primary)
    code = proc.wait(timeout=300)
    times.append(time.monotonic())
    screen = b"".join(chunks).decode(errors="replace")
    return code, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen), times  # no colours


def bar_states(screen: str, label: str) -> list[tuple[int, int, str]]:
    """Every drawn state of one phase's bar: (done, total, ETA)."""
    pattern = rf"{re.escape(label)} ━* *(\d+)/(\d+) .*?ETA (\S+)"
    return [(int(a), int(b), eta) for a, b, eta in re.findall(pattern, screen)]


def test_demo_shows_each_phase_live_and_leaves_a_ledger_to_inspect(
    fresh_home: dict[str, str], tmp_path: Path
) -> None:
    code, screen, times = run_in_terminal(DEMO_COMMAND, fresh_home, tmp_path)
    assert code == 0, screen
    assert "Traceback" not in screen
    assert "started the embedded PostgreSQL in" in screen  # first start: where it lives
    assert "frontscan db stop" in screen  # and how to stop it

    positions = [screen.index(heading) for heading in PHASES.values()]
    assert positions == sorted(positions)  # the phases, in order
    for label in PHASES:
        states = bar_states(screen, label)
        assert states, f"no progress bar for {label}"
        assert {total for _, total, _ in states} == {CONVERSATIONS}  # known from the start
        assert states[-1][0] == CONVERSATIONS  # it ends full
        assert all(eta != "0:00:00" for done, total, eta in states if done < total)

    assert re.search(r"batch 1: \d+ conversations in [\d.]+ s, p95", screen)  # our timings
    assert re.search(r"old batch 1: 10 conversations in [\d.]+ s, \d+ lost", screen)  # theirs
    assert len(re.findall(r"run \d+: succeeded", screen)) == 2  # a summary for each scan
    assert screen.count("of the rate-limit bound") >= 2
    for label in ("old design, first scan", "old design, cron run"):  # and for each old run
        assert re.search(rf"{label}\s*\n.*\n?.*conversations listed", screen), label
    assert "tracking numbers in the ledger for these runs" in screen

    table = screen[screen.index("frontscan vs the old design") :]
    for row in ("first scan: wall time", "cron run: wall time", "true numbers found",
                "429s received", "conversations lost"):  # fmt: skip
        assert row in table, row

    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < SILENCE_SECONDS, f"the screen stood still for {max(gaps):.1f} s"

    def frontscan(*args: str) -> str:
        done = subprocess.run(
            [FRONTSCAN, *args], env=fresh_home, cwd=tmp_path, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return done.stdout

    report = json.loads(frontscan("status", "--json"))
    assert [run["status"] for run in report["runs"][:2]] == ["succeeded", "succeeded"]
    assert report["totals"]["tracking_numbers"] > 0
    records = [json.loads(line) for line in frontscan("export").splitlines()]
    assert len(records) == report["totals"]["tracking_numbers"]
