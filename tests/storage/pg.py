"""A real PostgreSQL server for the tests, started once per test session.

Debian's PostgreSQL refuses to run as root (tests run as root here and in CI), so as root the
server runs as the ``postgres`` user through ``runuser``, from a folder it owns. It listens on
127.0.0.1 with trust authentication and fsync off (the tests want speed, not durability).
Each test gets its own database (:meth:`PostgresServer.create_database`).
A test that stops PostgreSQL (an outage: :meth:`PostgresServer.go_down`, then ``come_back``)
starts a server of its own (:func:`start_private`).

A missing PostgreSQL skips the tests that need it, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import missing_component

PG_BIN = Path(os.environ.get("TAGWISE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass
class PostgresServer:
    root: Path
    port: int
    options: str = ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its ``postgresql://`` URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def go_down(self) -> None:
        """An outage: stop the server as an operator would (``pg_ctl -m fast stop``: sessions are
        ended, new connections refused); :meth:`come_back` starts it again with its data."""
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"])

    def come_back(self) -> None:
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-o", self.options, "-l", str(self.root / "server.log"),
                   "-w", "-t", "60", "start"])


_server: PostgresServer | None = None


def server() -> PostgresServer:
    """The session's PostgreSQL (started on first use, stopped when the tests end)."""
    global _server
    if _server is None:
        _server = start_private()
        atexit.register(_server.stop)
    return _server


def start_private() -> PostgresServer:
    """A server of the caller's own, for a test that stops it (the caller calls ``stop()`` at the end)."""
    if not (PG_BIN / "pg_ctl").exists():
        missing_component(f"PostgreSQL is not installed ({PG_BIN / 'pg_ctl'} is missing; apt-get install postgresql)")
    return _start()


def _start() -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="tagwise-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    _as_owner([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
    port = _free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=300")
    server = PostgresServer(root, port, options)
    server.come_back()
    return server


def _as_owner(command: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, check=False, capture_output=True, text=True, cwd="/")
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
