"""A PostgreSQL cluster of a test module's own, which its tests stop, restart and cut off.

The session cluster in tests/conftest.py is shared by every test, so nothing here may
touch it: each module that hurts the database starts one of these in a temp dir
(pgserver ships the binaries) and takes it down again at the end.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pgserver
import psycopg
from pgserver._commands import POSTGRES_BIN_PATH
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def pg_ctl(args: list[str], pgdata: Path, user: str | None, timeout: float = 60) -> None:
    """pg_ctl as the cluster's owner (pgserver runs it as `pgserver` under root).

    Output goes to a file, not a pipe: the server pg_ctl starts inherits its descriptors,
    and a pipe would never close.
    """
    with tempfile.TemporaryFile("w+") as output:
        done = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), *args],
            stdout=output,
            stderr=output,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            user=user,
            check=False,
        )
        if done.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {output.read()}")


@dataclass
class Cluster:
    """One pgserver cluster: its data dir, its admin URI, and what a test may do to it."""

    data_dir: Path
    uri: str
    user: str | None

    @property
    def socket_dir(self) -> str:
        return str(conninfo_to_dict(self.uri)["host"])

    def stop(self) -> None:
        """Fast shutdown: every session gets AdminShutdown, new connections are refused."""
        pg_ctl(["-w", "-m", "fast", "stop"], self.data_dir, self.user)

    def start(self) -> None:
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.log), "start"],
            self.data_dir,
            self.user,
            timeout=30,
        )

    def restart(self) -> None:
        pg_ctl(["-w", "-m", "fast", "restart"], self.data_dir, self.user, timeout=30)

    @property
    def log(self) -> Path:
        return self.data_dir / "restart.log"

    def running(self) -> bool:
        try:
            with psycopg.connect(self.uri, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def terminate(self, dbname: str, application: str | None = None) -> int:
        """pg_terminate_backend on every other session of `dbname`: how many were cut."""
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(self.uri, autocommit=True) as conn:
            row = conn.execute(query, (dbname,)).fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database on this cluster, dropped afterwards."""
        name = f"frontscan_rel_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_conninfo(self.uri, dbname=name)
        finally:
            if not self.running():
                self.start()
            with psycopg.connect(self.uri, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextmanager
def own_cluster() -> Iterator[Cluster]:
    data_dir = Path(tempfile.mkdtemp(prefix="frontscan-rel-pg-"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    cluster = Cluster(data_dir, server.get_uri(), server.system_user)
    try:
        yield cluster
    finally:
        if not cluster.running():
            cluster.start()
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
