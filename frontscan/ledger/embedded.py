"""The embedded PostgreSQL used when no DATABASE_URL is set, and its lifecycle.

`pgserver` ships the server binaries inside a wheel, so a first run needs no database
setup. The cluster lives under the user data dir and keeps running between invocations
(so cron runs, `status` and `export` all see the same ledger, and none of them pays for a
start-up); `frontscan db stop` stops it, and the next command that needs it starts it
again. Whether it is running is read from its `postmaster.pid`, without starting it.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import platformdirs

from frontscan.errors import DatabaseError

STOP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, kw_only=True, slots=True)
class EmbeddedState:
    """What `frontscan db status` shows about the embedded server."""

    data_dir: Path
    created: bool  # the cluster exists (initdb has run)
    pid: int | None  # the postmaster's pid while it runs
    socket_dir: Path | None

    @property
    def running(self) -> bool:
        return self.pid is not None


def embedded_data_dir() -> Path:
    """Where the embedded cluster lives: FRONTSCAN_DATA_DIR, else the user data dir."""
    configured = os.environ.get("FRONTSCAN_DATA_DIR")
    base = Path(configured) if configured else Path(platformdirs.user_data_dir("frontscan"))
    return (base / "pgdata").expanduser().absolute()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by the pgserver user when we run as root
        return True
    return True


def embedded_state() -> EmbeddedState:
    """Read the cluster's state from its files; never starts anything."""
    data_dir = embedded_data_dir()
    pid: int | None = None
    socket_dir: Path | None = None
    try:
        lines = (data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    if lines and lines[0].strip().isdigit() and _alive(int(lines[0])):
        pid = int(lines[0])
        socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
    return EmbeddedState(
        data_dir=data_dir,
        created=(data_dir / "PG_VERSION").is_file(),
        pid=pid,
        socket_dir=socket_dir,
    )


def _pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (cron, containers); harmless.
        warnings.simplefilter("ignore", UserWarning)
        import pgserver

    return cast(Any, pgserver)


def embedded_dsn() -> str:
    """Start (or reuse) the embedded server and return its DSN (a Unix socket, no password)."""
    data_dir = embedded_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        pgserver = _pgserver()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            server = pgserver.get_server(data_dir, cleanup_mode=None)
            if not embedded_state().running:
                # Stopped behind the back of this process's handle (`frontscan db stop`).
                with server._lock:
                    server.ensure_postgres_running()
        uri: str = server.get_uri()
    except Exception as error:  # pgserver raises plain exceptions of several kinds
        raise DatabaseError(
            f"cannot start the embedded PostgreSQL in {data_dir}: {error} "
            "(set DATABASE_URL to use your own server)"
        ) from error  # a local socket and data dir: nothing secret to hide
    return uri


def stop_embedded() -> bool:
    """Stop the embedded server (a fast shutdown: sessions end, data stays). False: not running."""
    state = embedded_state()
    if not state.running:
        return False
    pg_ctl = Path(_pgserver().__file__).parent / "pginstall" / "bin" / "pg_ctl"
    # pgserver runs the cluster as the user `pgserver` when started by root; pg_ctl refuses root.
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    try:
        subprocess.run(
            [str(pg_ctl), "-D", str(state.data_dir), "-w", "-m", "fast", "stop"],
            check=True,
            capture_output=True,
            text=True,
            user=user,
            timeout=STOP_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", None) or str(error)
        raise DatabaseError(
            f"cannot stop the embedded PostgreSQL in {state.data_dir}: {detail.strip()}"
        ) from error
    return True
