"""A private PostgreSQL server for tests, benchmarks and trying the app on PostgreSQL on one machine.

    .venv/bin/python scripts/postgres.py start DIR     # prints PULSE_DATABASE_URL=postgresql://…
    .venv/bin/python scripts/postgres.py stop DIR

It runs Debian's ``postgresql`` package binaries (``apt-get install postgresql``) on a cluster of its own in
DIR, listening on loopback on a free port and on a socket in DIR, with ``trust`` authentication for local
connections only: a throwaway server, never a production one (deploy/ describes that). PostgreSQL refuses
to run as root, so as root the cluster belongs to the ``postgres`` account and every command runs as it.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

SUPERUSER = "pulse"


def binaries() -> Path | None:
    """Folder of the newest installed PostgreSQL's server binaries (initdb, pg_ctl), None if none is."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One cluster in ``root``: :meth:`start` creates it on first use and starts it; :attr:`url` is its
    superuser's URL on the ``postgres`` database; :meth:`create_database` makes more."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.data = self.root / "data"
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (Debian's package).")
        self.as_root = os.geteuid() == 0
        port_file = self.root / "port"
        self.port = int(port_file.read_text()) if port_file.exists() else _free_port()

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        args = list(command)
        if self.as_root:  # PostgreSQL refuses to run as root
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, cwd="/")

    def start(self) -> "PostgresServer":
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8")
            (self.root / "port").write_text(str(self.port))
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                   "-c shared_buffers=128MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        deadline = time.monotonic() + 30
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not accept connections; see {self.root / 'server.log'}")
            time.sleep(0.2)
        return self

    def ready(self) -> bool:
        probe = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                               capture_output=True)
        return probe.returncode == 0

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE cannot run in a transaction)."""
        import psycopg
        with psycopg.connect(self.url_for(database), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its URL."""
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir", type=Path, help="folder of the cluster (created on first start)")
    parser.add_argument("--database", default="pulse", help="database to create on first start (default pulse)")
    args = parser.parse_args(argv)
    server = PostgresServer(args.dir)
    if args.action == "stop":
        server.stop()
        return 0
    fresh = not (server.data / "PG_VERSION").exists()
    server.start()
    if fresh:
        server.create_database(args.database)
    print(f"PULSE_DATABASE_URL={server.url_for(args.database)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
