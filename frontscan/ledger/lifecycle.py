"""`frontscan db status|start|stop`: the embedded server's lifecycle, in an operator's words.

The embedded PostgreSQL keeps running after a command so the next one (cron every few
minutes) does not pay for a start-up; these commands make that visible and reversible.
They act on the embedded server even when DATABASE_URL points elsewhere, and say so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from frontscan.config import DatabaseSettings, Settings
from frontscan.ledger.connect import STOP_HINT, prepare
from frontscan.ledger.dsn import redact_dsn
from frontscan.ledger.embedded import embedded_state, stop_embedded


def _elsewhere(settings: Settings) -> str | None:
    url = settings.database.url
    return redact_dsn(url.reveal()) if url else None


def status_object(settings: Settings) -> dict[str, Any]:
    """The `db status --json` object: what commands use, and the embedded server's state."""
    state = embedded_state()
    other = _elsewhere(settings)
    return {
        "database": other or f"embedded: {state.data_dir}",
        "database_url_set": other is not None,
        "embedded": {
            "data_dir": str(state.data_dir),
            "created": state.created,
            "running": state.running,
            "pid": state.pid,
            "socket_dir": str(state.socket_dir) if state.socket_dir else None,
        },
    }


def status_lines(settings: Settings) -> list[str]:
    state = embedded_state()
    other = _elsewhere(settings)
    used = f"{other} (DATABASE_URL)" if other else "the embedded PostgreSQL (DATABASE_URL unset)"
    lines = [f"commands use: {used}"]
    if state.running:
        lines.append(f"embedded PostgreSQL: running, pid {state.pid}, data in {state.data_dir}")
        lines.append("  `frontscan db stop` stops it; the data stays")
    elif state.created:
        lines.append(f"embedded PostgreSQL: stopped, data in {state.data_dir}")
        lines.append("  the next command that needs it starts it (or `frontscan db start`)")
    else:
        lines.append(f"embedded PostgreSQL: not created yet; first use creates {state.data_dir}")
    return lines


def start(settings: Settings) -> str:
    info = prepare(replace(settings, database=DatabaseSettings()))  # whatever DATABASE_URL says
    other = _elsewhere(settings)
    said = (
        f"started the embedded PostgreSQL in {info.label} ({STOP_HINT})"
        if info.started
        else f"the embedded PostgreSQL in {info.label} is already running"
    )
    return said + (f"; note: DATABASE_URL is set, so commands use {other}" if other else "")


def stop(settings: Settings) -> str:
    state = embedded_state()
    if not stop_embedded():
        return f"the embedded PostgreSQL in {state.data_dir} is not running"
    return (
        f"stopped the embedded PostgreSQL in {state.data_dir}; the data stays, and the next "
        "command that needs it starts it again"
    )
