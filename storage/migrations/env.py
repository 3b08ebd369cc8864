"""Alembic environment: sync psycopg engine from the URL set by storage.database."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # procrastinate's tables are created from its own SQL in 0001; autogenerate leaves them be.
    return not (name or "").startswith("procrastinate_")


def run_migrations_online() -> None:
    # storage.database.upgrade_schema hands over its connection, in a transaction that holds
    # the migration lock: migrate on it, so the lock covers every step and one commit ends it.
    shared = config.attributes.get("connection")
    if shared is not None:
        context.configure(
            connection=shared, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
