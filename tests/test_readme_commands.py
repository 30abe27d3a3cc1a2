"""The README cannot drift from the code: every fenced shell command of its "On a fresh
machine" and "Commands" sections runs here, against the simulator and a test database.

Commands run as a user would paste them (`bash -c`, one line at a time, in a directory
that has the clone's `examples/` and `tests/`), with the environment `frontscan simulate` prints. A
few cannot run inside a test; they are listed in NOT_RUN with the reason, and the list
itself is checked against the README so it cannot go stale either.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from frontscan.simulator.command import scan_env
from frontscan.simulator.runtime import running_simulator
from tests.scanning import clean_env, fast_options

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTIONS = ("On a fresh machine", "Commands")
COMMAND_SECONDS = 120.0
NOT_RUN = {
    "python3 -m venv .venv && . .venv/bin/activate": "the test runs inside the installed venv",
    "pip install -e '.[dev]'": "installing is how this test's environment was made",
    "python -m pytest -q": "this test is part of that run",
    "frontscan demo": "tests/test_demo.py runs it in a pseudo-terminal (DEMO_COMMAND)",
}


def fenced_commands(markdown: str, sections: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """(section, lines) of each shell block in the named `## ` sections and their subsections."""
    blocks: list[tuple[str, list[str]]] = []
    for part in re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]:
        section = next((name for name in sections if part.startswith(name)), None)
        if section is None:
            continue
        for body in re.findall(r"^```(?:bash|sh|shell)\n(.*?)^```", part, re.M | re.S):
            joined = re.sub(r"\\\n\s*", " ", body)
            lines = [line.strip() for line in joined.splitlines()]
            blocks.append((section, [ln for ln in lines if ln and not ln.startswith("#")]))
    return blocks


def without_comment(command: str) -> str:
    return re.sub(r"\s+#.*$", "", command).strip()


async def sh(command: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", command, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), COMMAND_SECONDS)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@asynccontextmanager
async def simulate(command: str, env: dict[str, str], cwd: Path) -> AsyncIterator[dict[str, str]]:
    """`frontscan simulate ...` in the background; yields the variables it printed."""
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", f"exec {command}", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "simulate exited before it was ready"
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                printed[name] = value
            if line.startswith("# Ctrl-C"):
                break
        yield printed
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


RECORDED_FAILURES = "conversations failed and were recorded; the next run retries them"


def check_output(command: str, code: int, out: str, err: str, faults: bool = False) -> None:
    """Exit 0, no traceback; against a simulator told to inject faults, a scan may also end
    with 1 for conversations that failed every retry and were recorded, as documented."""
    if faults and code == 1 and command.startswith("frontscan scan"):
        assert RECORDED_FAILURES in err, err
        code = 0
    assert code == 0, f"{command!r} exited {code}:\n{out}\n{err}"
    assert "Traceback" not in out + err, command
    if " --json" in without_comment(command) and ">" not in command:
        json.loads(out)  # one JSON object, nothing else, on stdout


async def run_block(
    block: list[str],
    env: dict[str, str],
    cwd: Path,
    ran: dict[str, float],
    port: str = "",
    faults: bool = False,
) -> None:
    """One fenced block in order; a `simulate` line serves the lines after it."""
    for index, line in enumerate(block):
        command = line.replace("PORT", port) if port else line
        if without_comment(command) in NOT_RUN:
            continue
        started = time.monotonic()
        if command.startswith("frontscan simulate"):
            async with simulate(command, env, cwd) as printed:
                served = printed["FRONT_API_URL"].rsplit(":", 1)[1]
                faulty = "--faults" in command
                await run_block(block[index + 1 :], env | printed, cwd, ran, served, faulty)
            ran[line] = time.monotonic() - started
            return
        code, out, err = await sh(command, env, cwd)
        check_output(command, code, out, err, faults)
        ran[line] = time.monotonic() - started


async def test_every_readme_command_runs(database_url: str, tmp_path: Path) -> None:
    blocks = fenced_commands(README.read_text(encoding="utf-8"), SECTIONS)
    every = [command for _, block in blocks for command in block]
    assert len(every) >= 15  # the sections were found
    bare = [without_comment(command) for command in every]
    for command in NOT_RUN:
        assert command in bare, f"NOT_RUN lists {command!r}, which the README no longer has"
    cwd = tmp_path / "clone"
    cwd.mkdir()
    for part in ("examples", "tests"):  # what a clone has that the commands name
        (cwd / part).symlink_to(ROOT / part)
    base = clean_env(tmp_path) | {"FRONTSCAN_DATA_DIR": str(tmp_path / "data")}
    base["PATH"] = f"{Path(sys.executable).parent}:{base['PATH']}"
    ran: dict[str, float] = {}  # README line -> seconds it took
    options = fast_options(60, start=None, end=None)  # recent mail, like the real simulator
    async with running_simulator(options) as sim:
        fresh = base | scan_env(sim, options)  # a fresh machine: the embedded database
        ours = fresh | {"DATABASE_URL": database_url}
        for section, block in blocks:
            await run_block(block, fresh if section == SECTIONS[0] else ours, cwd, ran)
    assert sorted([*ran, *(c for c in every if without_comment(c) in NOT_RUN)]) == sorted(every)
    print("\n".join(f"{seconds:5.1f} s  {line}" for line, seconds in ran.items()))
    assert (cwd / "numbers.jsonl").stat().st_size > 0  # `frontscan export > numbers.jsonl`


def test_the_demo_test_runs_the_readme_demo_command() -> None:
    from tests.test_demo import DEMO_COMMAND

    blocks = fenced_commands(README.read_text(encoding="utf-8"), SECTIONS)
    every = [command for _, block in blocks for command in block]
    assert " ".join(DEMO_COMMAND) in every
