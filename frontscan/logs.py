"""Logging for operators: terminal lines at `--log-level`, JSON lines in `--log-file`.

Every module logs through `logging.getLogger(__name__)` and names what happened with a
stable `event` (`front.retry`, `budget.pause`, `ledger.commit`, ...) plus the facts as
extra fields (`delay`, `cause`, `budget`, ...), so a 3 a.m. cron failure can be read from
the log file with `jq` instead of from the code. Only the `frontscan` logger tree is
configured: aiohttp, openai and psycopg keep their own (silent) defaults.

The terminal handler writes to whatever `sys.stderr` is *at the time of the record*: the
rich progress bar replaces `sys.stderr` with a proxy that prints above the bar, so log
lines never tear it. Nothing here imports rich, psycopg or the simulator.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from frontscan.errors import UsageError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ROOT = "frontscan"

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_installed: list[logging.Handler] = []


def iso_time(seconds: float) -> str:
    """`2026-12-01T21:42:02.123Z`: UTC, milliseconds, the form frontscan shows everywhere."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the call site passed in `extra=`, minus `event` (it has a key of its own)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and key != "event" and not key.startswith("_")
    }


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, message, then the extras.

    Values that JSON cannot hold (paths, exceptions) are written as their `str`. A record
    logged with a traceback (`logger.exception`) carries it as `traceback`, chained causes
    included, so the one line holds everything.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", None),
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TerminalFormatter(logging.Formatter):
    """`2026-12-01T21:42:02Z INFO budget.pause: front paused 2.0 s (429)`, like the batch lines."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        event = getattr(record, "event", None) or record.name
        text = f"{stamp} {record.levelname} {event}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class StderrHandler(logging.Handler):
    """Writes to the current `sys.stderr`, so the progress bar's proxy can place the line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream: TextIO = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # logging must never break the scan it describes
            self.handleError(record)


def level_number(name: str) -> int:
    upper = name.strip().upper()
    if upper not in LEVELS:
        raise UsageError(f"--log-level must be one of {', '.join(LEVELS)} (not {name!r})")
    return int(logging.getLevelName(upper))


def configure(level: str = "WARNING", log_file: Path | None = None) -> None:
    """Install frontscan's handlers (replacing any installed before, so tests can repeat).

    The terminal shows `level` and above; the file records INFO and above (DEBUG too
    when `level` is DEBUG), so a cron job keeps a quiet mail and a complete file.
    """
    terminal_level = level_number(level)
    logger = logging.getLogger(ROOT)
    for old in _installed:
        logger.removeHandler(old)
        old.close()
    _installed.clear()
    terminal = StderrHandler(terminal_level)
    terminal.setFormatter(TerminalFormatter())
    _installed.append(terminal)
    file_level = min(terminal_level, logging.INFO)
    if log_file is not None:
        try:
            to_file = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write --log-file {log_file}: {error.strerror}") from error
        to_file.setLevel(file_level)
        to_file.setFormatter(JsonLineFormatter())
        _installed.append(to_file)
    for handler in _installed:
        logger.addHandler(handler)
    logger.setLevel(file_level if log_file is not None else terminal_level)
