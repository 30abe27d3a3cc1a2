"""How every command runs: one guarded call, errors to one line and an exit code.

Shared by `cli.py` and the command modules beside it, so each of them stays a list of
commands: the `--debug` switch, the stderr console, the `--config` option and reading
Settings live here once.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from frontscan.config import Settings
from frontscan.errors import EXIT_FAILURES, EXIT_INTERRUPTED, FrontscanError

if TYPE_CHECKING:
    from frontscan.ledger.connect import DatabaseInfo

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")
_debug = False


def set_debug(on: bool) -> None:
    """`--debug`: errors also print their traceback (the exit code stays the same)."""
    global _debug
    _debug = on


def note(text: str) -> None:
    """A progress line on stderr; data in it (ids, errors) is not rich markup."""
    err_console.print(text, markup=False)


def run_guarded(action: Callable[[], T], *, json_errors: bool = False) -> T:
    """Run a command body; turn FrontscanError and Ctrl-C into a one-line message + exit code.

    With `--debug` the traceback comes first, with every chained cause (the library error
    a FrontscanError was translated from), but the exit code stays the error's own: cron
    and scripts must see the same code whether or not someone is debugging. With
    `json_errors` (a command's `--json`) stdout also gets the failure as its one object,
    so a cron log that collects stdout records every run, failed ones included.
    """
    try:
        return action()
    except FrontscanError as error:
        if _debug:
            err_console.file.write("".join(traceback.format_exception(error)))
        err_console.print(f"frontscan: {error}", markup=False)
        _json_error(json_errors, str(error), error.exit_code)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("frontscan: interrupted", markup=False)
        _json_error(json_errors, "interrupted", EXIT_INTERRUPTED)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        # The reader went away (`frontscan export | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_FAILURES) from None


def _json_error(wanted: bool, message: str, exit_code: int) -> None:
    if wanted:
        print(json.dumps({"status": "error", "error": message, "exit_code": exit_code}))
        sys.stdout.flush()


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML settings file (else FRONTSCAN_CONFIG, ./frontscan.toml, the user config dir).",
        show_default=False,
    ),
]


def settings_for(config: Path | None, **flags: object) -> Settings:
    """The settings file (`--config`, else where config.py looks) under the command's flags."""
    from frontscan.config import load_settings

    return load_settings(flags, config_path=config)


def announce_database(info: DatabaseInfo) -> str:
    """Say on stderr when this command started the embedded server; return its name."""
    if info.started:
        err_console.print(f"frontscan: {info.note()}", markup=False)
    return info.described()
