"""`--help` as a new user reads it: switches as switches, every limit, terminal wrapping."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.config import env_names

runner = CliRunner()
COMMANDS = [
    [],
    ["scan"],
    ["detect"],
    ["demo"],
    ["status"],
    ["export"],
    ["simulate"],
    ["db"],
    ["db", "status"],
    ["db", "start"],
    ["db", "stop"],
    ["db", "migrate"],
    ["db", "url"],
]


def help_of(args: list[str], columns: int) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "frontscan")
def test_switches_show_no_value_and_nothing_passes_the_terminal_width(args: list[str]) -> None:
    text = help_of(args, 80)
    assert "<bool>" not in text
    assert "--no-" not in text  # a switch is one flag, not a --x/--no-x pair
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_switches_of_scan_take_no_value() -> None:
    text = help_of(["scan"], 120)
    for switch in ("--json", "--rescan", "--retry-failed", "--dry-run"):
        line = next(line for line in text.splitlines() if f" {switch} " in line)
        assert not re.search(rf"{switch}\s+<", line), line
    refused = runner.invoke(app, ["scan", "--json", "true"])
    assert refused.exit_code == 2  # a switch has no value to give it


def test_every_rate_limit_is_a_flag_with_its_environment_variable() -> None:
    text = " ".join(help_of(["scan"], 250).split())  # the help, with the wrapping undone
    for key in ("front.rpm", "front.headroom", "front.reserve", "openai.rpm", "openai.tpm"):
        flag = "--" + key.replace(".", "-")
        assert f"{flag} " in text
        assert env_names(key)[0] in text


def test_help_text_is_wrapped_by_the_terminal_not_by_hand() -> None:
    wide = help_of(["scan"], 250)
    sentence = "Needs FRONT_API_TOKEN, OPENAI_API_KEY (unless --llm never) and optionally"
    line = next(line for line in wide.splitlines() if sentence in line)
    assert "DATABASE_URL (else an embedded PostgreSQL). FRONT_API_URL" in line


@pytest.mark.parametrize(
    ("flag", "value", "key"),
    [
        ("--front-rpm", "-5", "front.rpm"),
        ("--front-headroom", "1.5", "front.headroom"),
        ("--front-reserve", "0.5", "front.reserve"),
        ("--openai-rpm", "0", "openai.rpm"),
        ("--openai-tpm", "0", "openai.tpm"),
    ],
)
def test_a_limit_flag_reaches_the_settings(flag: str, value: str, key: str) -> None:
    """A bad value is refused by the settings check, which names the flag it came from."""
    result = runner.invoke(app, ["scan", "--after", "2026-01-01", flag, value])
    assert result.exit_code == 2
    assert f"{key} must be" in result.output
    assert f"(from {flag})" in result.output


def test_each_group_lists_its_own_commands() -> None:
    top = help_of([], 120)
    assert "simulate" in top
    assert "db" in top
    db = help_of(["db"], 120)
    for command in ("status", "start", "stop", "migrate", "url"):
        assert re.search(rf"│ {command}\s", db), command
    assert "simulate" not in db
