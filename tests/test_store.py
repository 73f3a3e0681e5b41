"""The store on both backends: change detection, ordering guard, deletion sweep, resume state,
change-feed paging, sealed credentials and key rotation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from runtime.keyring import KeyRing, KeyRingError
from store.records import RecordIn, upsert
from store.store import Store
from tests.conftest import Stack


async def _integration(store: Store) -> tuple[str, str]:
    tenant, _ = await store.tenants.create(f"s{uuid.uuid4().hex[:12]}")
    integ = await store.integrations.create(
        tenant_id=tenant.id,
        integration_type="moodle",
        name="x",
        description="",
        config={},
        api_base_url="http://127.0.0.1:1",
        credentials={"api_key": "k"},
    )
    return tenant.id, integ.id


def _rec(vid: str, value: str, when: datetime | None = None, deleted: bool = False) -> RecordIn:
    return RecordIn(
        model="students",
        vendor_id=vid,
        data={"email": value},
        raw={"id": vid, "email": value},
        vendor_modified_at=when,
        deleted=deleted,
    )


async def _apply(store: Store, tenant_id: str, integ_id: str, run: str, items: list[RecordIn]):
    async with store.db.engine.begin() as conn:
        return await upsert(
            conn, tenant_id=tenant_id, integration_id=integ_id, run_id=run, items=items
        )


async def test_upsert_counts_changes_and_keeps_the_newest(stack: Stack) -> None:
    store = stack.store
    tenant_id, integ_id = await _integration(store)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    counts = await _apply(store, tenant_id, integ_id, "r1", [_rec("1", "a", t0), _rec("2", "b")])
    assert counts.as_dict() == {"added": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    counts = await _apply(store, tenant_id, integ_id, "r1", [_rec("1", "a", t0), _rec("2", "b")])
    assert counts.unchanged == 2 and counts.added == counts.updated == 0
    # an older version (out-of-order delivery) never overwrites a newer one
    counts = await _apply(store, tenant_id, integ_id, "r1", [_rec("1", "old", t0 - timedelta(1))])
    assert counts.unchanged == 1
    counts = await _apply(store, tenant_id, integ_id, "r1", [_rec("1", "new", t0 + timedelta(1))])
    assert counts.updated == 1
    # within one batch the newest of duplicates wins
    counts = await _apply(
        store,
        tenant_id,
        integ_id,
        "r1",
        [_rec("2", "newest", t0 + timedelta(3)), _rec("2", "older", t0 + timedelta(2))],
    )
    assert counts.updated == 1
    page = await store.records.page(integration_id=integ_id, model="students")
    by_id = {r.vendor_id: r for r in page.records}
    assert by_id["1"].data == {"email": "new"} and by_id["2"].data == {"email": "newest"}
    # a vendor deletion soft-deletes; the record coming back revives it
    counts = await _apply(store, tenant_id, integ_id, "r1", [_rec("1", "new", deleted=True)])
    assert counts.deleted == 1
    counts = await _apply(store, tenant_id, integ_id, "r1", [_rec("1", "back")])
    assert counts.updated == 1
    page = await store.records.page(integration_id=integ_id, model="students")
    assert not any(r.deleted for r in page.records)


async def test_full_pass_sweeps_what_it_did_not_see(stack: Stack) -> None:
    store = stack.store
    tenant_id, integ_id = await _integration(store)
    for run, ids in (("run1", ["1", "2", "3"]), ("run2", ["1", "3"])):
        state = await store.syncs.begin_resource(integ_id, "students", run)
        assert state.cursor is None
        await store.syncs.commit_page(
            tenant_id=tenant_id,
            integration_id=integ_id,
            resource="students",
            run_id=run,
            items=[_rec(i, f"v{i}") for i in ids],
            cursor=None,
            pending_checkpoint={"at": run},
            api_calls=1,
        )
        stats = await store.syncs.finish_resource(
            integration_id=integ_id, resource="students", run_id=run, model="students", sweep=True
        )
    assert stats["deleted"] == 1 and stats["unchanged"] == 2
    # finishing again (a retried activity) sweeps nothing more
    again = await store.syncs.finish_resource(
        integration_id=integ_id, resource="students", run_id="run2", model="students", sweep=True
    )
    assert again["deleted"] == 1
    page = await store.records.page(integration_id=integ_id, model="students")
    assert {r.vendor_id for r in page.records if r.deleted} == {"2"}
    assert (await store.syncs.checkpoints(integ_id))["students"] == {"at": "run2"}


async def test_resume_state_belongs_to_its_run(stack: Stack) -> None:
    store = stack.store
    tenant_id, integ_id = await _integration(store)
    await store.syncs.begin_resource(integ_id, "students", "runA")
    await store.syncs.commit_page(
        tenant_id=tenant_id,
        integration_id=integ_id,
        resource="students",
        run_id="runA",
        items=[_rec("1", "x")],
        cursor={"offset": 1},
        pending_checkpoint=None,
        api_calls=2,
    )
    resumed = await store.syncs.begin_resource(integ_id, "students", "runA")
    assert resumed.cursor == {"offset": 1} and resumed.stats["added"] == 1
    assert resumed.stats["api_calls"] == 2
    fresh = await store.syncs.begin_resource(integ_id, "students", "runB")
    assert fresh.cursor is None and fresh.stats["added"] == 0


async def test_change_feed_pages_in_order_without_gaps(stack: Stack) -> None:
    store = stack.store
    tenant_id, integ_id = await _integration(store)
    await _apply(store, tenant_id, integ_id, "r", [_rec(str(i), "v") for i in range(25)])
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.records.page(
            integration_id=integ_id, model="students", cursor=cursor, limit=7
        )
        seen += [r.vendor_id for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen, key=int) == [str(i) for i in range(25)] and len(seen) == 25
    mark = datetime.now(UTC)
    await _apply(store, tenant_id, integ_id, "r", [_rec("3", "changed")])
    later = await store.records.page(integration_id=integ_id, model="students", modified_after=mark)
    assert [r.vendor_id for r in later.records] == ["3"]


async def test_key_rotation_reseals_credentials(stack: Stack) -> None:
    old = stack.keyring
    tenant_id, integ_id = await _integration(stack.store)
    new_spec = KeyRing.generate_spec("test2")
    old_spec = f"test1:{__import__('base64').b64encode(old.keys['test1']).decode()}"
    rotated = KeyRing.parse(f"{new_spec},{old_spec}")
    store = Store(stack.store.db, rotated)
    assert (await store.integrations.credentials(integ_id)) == {"api_key": "k"}
    assert await store.integrations.reseal_all() >= 1
    only_new = Store(stack.store.db, KeyRing.parse(new_spec))
    assert (await only_new.integrations.credentials(integ_id)) == {"api_key": "k"}
    with pytest.raises(KeyRingError):
        await Store(stack.store.db, old).integrations.credentials(integ_id)
    # put the session key back for the other tests
    back = Store(stack.store.db, KeyRing.parse(f"{old_spec},{new_spec}"))
    await back.integrations.reseal_all()
    del tenant_id


async def test_tenant_slugs_are_checked(stack: Stack) -> None:
    for bad in ("", "A", "has space", "a:b", "a/b", "-lead", "x" * 64):
        with pytest.raises(ValueError):
            await stack.store.tenants.create(bad)


def test_keyring_rejects_tampering_and_bad_specs() -> None:
    ring = KeyRing.parse(KeyRing.generate_spec("k1"))
    blob = ring.encrypt(b"secret", aad=b"row1")
    with pytest.raises(KeyRingError):
        ring.decrypt(blob, aad=b"row2")
    with pytest.raises(KeyRingError):
        ring.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), aad=b"row1")
    for bad in ("", "nokey", "k:notbase64!", "k:AAAA"):
        with pytest.raises(KeyRingError):
            KeyRing.parse(bad)


async def test_bulk_load_keeps_postgres_on_the_unique_index(stack: Stack) -> None:
    """A freshly filled table must not be probed through the change-feed index (a scan of the
    whole load per page): the store refreshes statistics as a load grows."""
    if stack.backend != "postgres":
        pytest.skip("planner statistics are a PostgreSQL matter")
    store = stack.store
    tenant_id, integ_id = await _integration(store)
    await store.syncs.begin_resource(integ_id, "students", "bulk")
    for page in range(10):
        await store.syncs.commit_page(
            tenant_id=tenant_id,
            integration_id=integ_id,
            resource="students",
            run_id="bulk",
            items=[_rec(f"v{page}-{i}", "x") for i in range(2000)],
            cursor={"page": page},
            pending_checkpoint=None,
            api_calls=1,
        )
    ids = ", ".join(f"'v9-{i}'" for i in range(100))
    async with store.db.engine.connect() as conn:
        plan = "\n".join(
            row[0]
            for row in await conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM records WHERE integration_id = "
                f"'{integ_id}' AND model = 'students' AND vendor_id IN ({ids})"
            )
        )
    assert "uq_records_vendor" in plan, plan
