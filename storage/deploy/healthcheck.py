"""Docker health check of dpabot's service and workers: the database answers and its schema is
at this image's newest migration (so a container is healthy only once the migration ran).

Run through the entrypoint, which gives libpq the password from its secret file:
``dpabot-entrypoint python /app/storage/deploy/healthcheck.py``. Reads DPABOT_DATABASE_URL.
Exit 0 healthy, 1 not (one sentence on stderr saying why).
"""

from __future__ import annotations

import os
import sys

import psycopg
from alembic.script import ScriptDirectory

from storage.database import alembic_config, libpq_url


def problem(url: str) -> str | None:
    """Why the database is not ready for this image, or None when it is."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except psycopg.errors.UndefinedTable:
        return "The database has no schema yet (dpabot migrates it when it starts)."
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"The database does not answer: {first}"
    current = {str(row[0]) for row in rows}
    if current != heads:
        return (
            f"The database schema is at {', '.join(sorted(current)) or 'no revision'}; "
            f"this image needs {', '.join(sorted(heads))} (the migration has not run yet)."
        )
    return None


def main() -> int:
    url = os.environ.get("DPABOT_DATABASE_URL")
    if not url:
        print("DPABOT_DATABASE_URL is not set.", file=sys.stderr)
        return 1
    why = problem(url)
    if why:
        print(why, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
