"""The audit log's check finds a changed, deleted, reordered or truncated event, naming the
first bad one (tampering done as a superuser would: with the append-only trigger off)."""

from __future__ import annotations

import psycopg
import pytest

from bot.core.runtime import Runtime
from storage import audit
from tests.fixtures.runtime import make_tenant, scoped


async def _five_events(runtime_factory) -> tuple[Runtime, int, list[int]]:
    t = make_tenant()
    rt = await runtime_factory([t])
    tid = rt.tenant_ids[t.slug]
    ids = []
    async with scoped(rt) as s:
        for n in range(5):
            # The subject names the tenant: two tenants' first events in the same second would
            # otherwise hash alike (the hash does not cover tenant_id) and hit the unique index.
            event = await audit.record(s, tid, "cli:test", "archive.get", f"{t.slug}-{n}")
            ids.append(event.id)
    async with scoped(rt) as s:
        assert (await audit.check_chain(s, tid)).ok
    return rt, tid, ids


def _tamper(database_url: str, *statements: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        try:
            for sql in statements:
                conn.execute(sql)
        finally:
            conn.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


@pytest.mark.parametrize(
    ("case", "bad_index", "words"),
    [
        ("changed", 2, "changed"),
        ("deleted_middle", 3, "does not follow"),
        ("reordered", 1, "does not follow"),
        ("deleted_last", 4, "newest recorded event"),
        ("deleted_last_two", 4, "newest recorded event"),
    ],
)
async def test_each_tampering_names_the_first_bad_event(
    runtime_factory, database_url, case, bad_index, words
):
    rt, tid, ids = await _five_events(runtime_factory)
    e = ids
    statements = {
        "changed": [f"UPDATE audit_events SET actor = 'someone else' WHERE id = {e[2]}"],
        "deleted_middle": [f"DELETE FROM audit_events WHERE id = {e[2]}"],
        # Swap two whole events (hashes included) so each still hashes correctly on its own.
        "reordered": [
            f"UPDATE audit_events SET id = -1 WHERE id = {e[1]}",
            f"UPDATE audit_events SET id = {e[1]} WHERE id = {e[2]}",
            f"UPDATE audit_events SET id = {e[2]} WHERE id = -1",
        ],
        "deleted_last": [f"DELETE FROM audit_events WHERE id = {e[4]}"],
        "deleted_last_two": [f"DELETE FROM audit_events WHERE id IN ({e[3]}, {e[4]})"],
    }[case]
    _tamper(database_url, *statements)
    async with scoped(rt) as s:
        check = await audit.check_chain(s, tid)
    assert not check.ok
    assert check.bad_event_id == e[bad_index], check
    assert words in check.reason


async def test_the_anchor_follows_every_event(runtime_factory):
    from storage.models import Tenant

    rt, tid, ids = await _five_events(runtime_factory)
    async with scoped(rt) as s:
        tenant = await s.get(Tenant, tid)
        assert tenant is not None and tenant.audit_head_id == ids[-1]
        assert (await audit.verify_chain(s, tid)) == (True, 5)
