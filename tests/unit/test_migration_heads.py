"""The schema check that lets a command skip Alembic reads the same head as Alembic itself."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from storage.database import alembic_config, head_revision


def test_head_read_from_the_files_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("postgresql://nobody@localhost/none"))
    assert head_revision() == script.get_current_head()
    assert head_revision() is not None
