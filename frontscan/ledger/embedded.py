"""The embedded PostgreSQL used when no DATABASE_URL is set.

`pgserver` ships the server binaries inside a wheel, so a first run needs no database
setup. The cluster lives under the user data dir and keeps running between invocations
(so cron runs, `status` and `export` all see the same ledger); `get_server` reuses it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, cast

import platformdirs

from frontscan.errors import DatabaseError


def embedded_data_dir() -> Path:
    """Where the embedded cluster lives: FRONTSCAN_DATA_DIR, else the user data dir."""
    configured = os.environ.get("FRONTSCAN_DATA_DIR")
    base = Path(configured) if configured else Path(platformdirs.user_data_dir("frontscan"))
    return base / "pgdata"


def embedded_dsn() -> str:
    """Start (or reuse) the embedded server and return its DSN (a Unix socket, no password)."""
    data_dir = embedded_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (cron, containers); harmless.
            warnings.simplefilter("ignore", UserWarning)
            import pgserver

            server = cast(Any, pgserver).get_server(data_dir, cleanup_mode=None)
            uri: str = server.get_uri()
    except Exception as error:  # pgserver raises plain exceptions of several kinds
        raise DatabaseError(
            f"cannot start the embedded PostgreSQL in {data_dir}: {error} "
            "(set DATABASE_URL to use your own server)"
        ) from error  # a local socket and data dir: nothing secret to hide
    return uri
