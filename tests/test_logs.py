"""Operability: JSON log lines, `--log-file` under a 429 storm, `--debug` without secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from frontscan import logs
from frontscan.errors import DatabaseError, TransientError, UsageError
from frontscan.ledger.dsn import scrub
from frontscan.ledger.store import database_errors, scrubbed_cause
from frontscan.simulator.runtime import running_simulator
from tests.scanning import clean_env, cli_env, fast_options

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")
PASSWORD = "SECRET123"


def record(message: str = "front paused %.2f s", *args: object, **extra: Any) -> logging.LogRecord:
    made = logging.getLogger("frontscan.limits.bucket").makeRecord(
        "frontscan.limits.bucket", logging.INFO, __file__, 1, message, args, None, extra=extra
    )
    made.created = 1_764_625_322.5  # 2025-12-01T21:42:02.500Z
    return made


def test_a_json_line_has_the_fixed_keys_then_the_extra_fields() -> None:
    line = json.loads(
        logs.JsonLineFormatter().format(
            record("front paused %.2f s", 2.0, event="budget.pause", delay=2.0, cause="Front 429")
        )
    )
    assert line == {
        "time": "2025-12-01T21:42:02.500Z",
        "level": "INFO",
        "logger": "frontscan.limits.bucket",
        "event": "budget.pause",
        "message": "front paused 2.00 s",
        "delay": 2.0,
        "cause": "Front 429",
    }
    assert list(line)[:5] == ["time", "level", "logger", "event", "message"]


def test_a_json_line_without_an_event_and_with_odd_values_still_parses() -> None:
    line = json.loads(
        logs.JsonLineFormatter().format(record("plain", path=Path("/tmp/x"), ids=("a", "b")))
    )
    assert line["event"] is None
    assert line["path"] == "/tmp/x"  # not JSON: written as its str
    assert line["ids"] == ["a", "b"]
    assert "args" not in line
    assert "msg" not in line


def test_a_json_line_carries_the_traceback_with_its_chained_cause() -> None:
    try:
        try:
            raise ConnectionResetError("peer went away")
        except ConnectionResetError as error:
            raise TransientError("Front GET /me: reset") from error
    except TransientError:
        made = record("bug", event="conversation.bug")
        made.exc_info = sys.exc_info()
    text = logs.JsonLineFormatter().format(made)
    assert "\n" not in text  # one record, one line
    line = json.loads(text)
    assert "ConnectionResetError: peer went away" in line["traceback"]
    assert "direct cause" in line["traceback"]
    assert "TransientError: Front GET /me: reset" in line["traceback"]


def test_terminal_lines_name_the_event() -> None:
    text = logs.TerminalFormatter().format(record("waiting %d s", 3, event="front.retry"))
    assert text == "2025-12-01T21:42:02Z INFO front.retry: waiting 3 s"


def test_configure_refuses_unknown_levels_and_unwritable_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--log-level must be one of"):
        logs.configure("LOUD")
    with pytest.raises(UsageError, match="cannot write --log-file"):
        logs.configure("INFO", tmp_path / "no-such-dir" / "log.jsonl")


def test_the_file_gets_info_while_the_terminal_stays_at_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "log.jsonl"
    logs.configure("WARNING", path)
    try:
        logger = logging.getLogger("frontscan.test")
        logger.info("quiet", extra={"event": "test.info"})
        logger.warning("loud", extra={"event": "test.warning"})
        logger.debug("hidden", extra={"event": "test.debug"})
    finally:
        logs.configure("WARNING")  # detach the file again
    events = [json.loads(line)["event"] for line in path.read_text().splitlines()]
    assert events == ["test.info", "test.warning"]
    err = capsys.readouterr().err
    assert "test.warning: loud" in err
    assert "quiet" not in err


def test_scrub_hides_the_password_however_the_driver_echoes_it() -> None:
    said = (
        'invalid URI: "postgresql://u:SECRET123@[::1/db"\n  password=SECRET123 host=h '
        "or postgres://x:other-pass@h/db"
    )
    cleaned = scrub(said, [PASSWORD])
    assert PASSWORD not in cleaned
    assert "other-pass" not in cleaned  # DSN-shaped text is redacted even when unknown
    assert "\n" not in cleaned


def test_a_psycopg_error_becomes_one_scrubbed_line_chained_to_a_scrubbed_copy() -> None:
    dsn = f"postgresql://u:{PASSWORD}@127.0.0.1:1/db"
    with pytest.raises(DatabaseError) as caught, database_errors(dsn, "cannot connect", "fix it"):
        raise psycopg.OperationalError(f"connection to {dsn} failed:\nrefused")
    error = caught.value
    expected = "cannot connect: connection to postgresql://u:***@127.0.0.1:1/db failed: refused"
    assert str(error) == expected + " (fix it)"
    assert isinstance(error.__cause__, psycopg.OperationalError)
    assert PASSWORD not in str(error.__cause__)
    assert error.__cause__.__traceback__ is not None  # where it came from is kept
    copy = scrubbed_cause(KeyError(PASSWORD), [PASSWORD])
    assert PASSWORD not in str(copy)


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://u:{PASSWORD}@127.0.0.1:1/db",  # a closed port
        # libpq refuses this only when it connects (a malformed URI is refused earlier,
        # by config: tests/reliability/test_bad_input.py)
        f"postgresql://u:{PASSWORD}@127.0.0.1:1/db?sslmode=bogus",
    ],
)
@pytest.mark.parametrize("command", [["status"], ["scan", "--after", "2026-01-01"]])
def test_debug_shows_the_psycopg_cause_scrubbed_and_keeps_exit_2(
    tmp_path: Path, dsn: str, command: list[str]
) -> None:
    env = {**clean_env(tmp_path), "DATABASE_URL": dsn, "FRONT_API_TOKEN": "tok"}
    env["OPENAI_API_KEY"] = "key"
    done = subprocess.run(
        [FRONTSCAN, "--debug", *command], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert "Traceback" in done.stderr
    assert "psycopg" in done.stderr
    assert "direct cause" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("frontscan: cannot connect")
    plain = subprocess.run([FRONTSCAN, *command], env=env, cwd=tmp_path, capture_output=True)
    assert plain.returncode == 2
    assert b"Traceback" not in plain.stderr


def test_status_imports_no_simulator_and_no_progress_bar(tmp_path: Path, database_url: str) -> None:
    script = (
        "import sys, json\n"
        "from frontscan.cli import app\n"
        "code = None\n"
        "try:\n"
        "    app(['status', '--json'])\n"
        "except SystemExit as end:\n"
        "    code = end.code\n"
        "mods = sorted(m for m in sys.modules if m.startswith(('frontscan.simulator', "
        "'rich.progress', 'aiohttp', 'openai')))\n"
        "print(json.dumps({'code': code, 'modules': mods}))\n"
    )
    env = {**clean_env(tmp_path), "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    *status_lines, last = done.stdout.strip().splitlines()
    result = json.loads(last)
    assert result["code"] in (0, None), done.stderr
    assert json.loads(status_lines[-1])["runs"] == []  # the command really ran
    assert result["modules"] == []


def events_in(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_the_log_file_shows_every_429_pause_and_retry_with_its_delay(
    tmp_path: Path, database_url: str
) -> None:
    log_file = tmp_path / "scan.jsonl"
    async with running_simulator(fast_options(40, extra_429_rate=0.15)) as sim:
        proc = await asyncio.create_subprocess_exec(
            FRONTSCAN, "--log-file", str(log_file), "scan", "--after", "2026-01-01",
            "--llm", "always", "--json",
            env=cli_env(sim, database_url, tmp_path), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        sent_429s = sim.rate_limited()
    assert proc.returncode in (0, 1), err.decode()
    assert "budget.pause" not in err.decode()  # INFO stays out of the terminal by default
    lines = events_in(log_file)
    by_event: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        assert {"time", "level", "logger", "event", "message"} <= set(line)
        by_event.setdefault(line["event"], []).append(line)
    limited = by_event.get("front.rate_limited", []) + by_event.get("openai.rate_limited", [])
    assert sent_429s > 0
    assert len(limited) == sent_429s  # every 429 the servers sent is in the file
    assert json.loads(out)["rate_limited"] == sent_429s
    retries = by_event.get("front.retry", []) + by_event.get("openai.retry", [])
    gave_up = [g for g in by_event.get("retry.gave_up", []) if "429" in g["cause"]]
    assert len([r for r in retries if "429" in r["cause"]]) + len(gave_up) == sent_429s
    pauses = by_event["budget.pause"]
    assert pauses
    assert all(p["budget"].startswith("openai") for p in pauses)
    for line in [*limited, *retries, *pauses]:
        assert line["level"] == "INFO"
        assert isinstance(line["delay"], float)
        assert line["delay"] > 0
        assert line["cause"]
    # A retry waits at least what the server asked for.
    asked = sorted(p["delay"] for p in limited)
    assert min(r["delay"] for r in retries) >= asked[0]
    assert by_event["run.start"][0]["run_id"] == by_event["run.finish"][0]["run_id"]
    assert sum(c["conversations"] for c in by_event["ledger.commit"]) == 40
    assert sim.front_token not in log_file.read_text()
    assert sim.openai_key not in log_file.read_text()


def test_log_lines_print_above_the_progress_bar_not_through_it() -> None:
    import io

    from rich.console import Console

    from frontscan.report import RichReporter

    screen = io.StringIO()
    logs.configure("INFO")
    try:
        with RichReporter(Console(file=screen, force_terminal=True, width=100)) as reporter:
            reporter.add_total(10)
            logging.getLogger("frontscan.test").info("paused", extra={"event": "budget.pause"})
            reporter.skipped(10)
    finally:
        logs.configure("WARNING")
    text = screen.getvalue()
    assert "INFO budget.pause: paused" in text  # the bar's console printed the line
    assert text.index("budget.pause") < text.rindex("10/10")  # and the bar went on below it
