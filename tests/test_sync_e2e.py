"""End to end, on both store backends: API -> Temporal -> worker -> connector -> sandbox ->
store -> records API. What is read back must be exactly the sandbox's data."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Replayer

from runtime.temporal import data_converter
from tests.conftest import Stack
from tests.helpers import all_records, history_texts, logs, stripe_objects, sync
from workflows.connection_test import ConnectionTestWorkflow
from workflows.sync import SyncWorkflow

MOODLE_MODELS = ("courses", "students", "enrolments", "grades")
STRIPE_MODELS = ("customers", "invoices", "payments", "subscriptions")


def moodle_expected(ds: Any) -> dict[str, dict[str, dict[str, Any]]]:
    courses = {str(c["id"]): c for c in ds.courses() if c.get("format") != "site"}
    enrolments: dict[str, dict[str, Any]] = {}
    grades: dict[str, dict[str, Any]] = {}
    for cid in ds.course_ids():
        for user in ds.enrolled_users(cid):
            enrolments[f"{cid}:{user['id']}"] = user
        for usergrade in ds.grade_items(cid):
            for item in usergrade["gradeitems"]:
                grades[f"{cid}:{usergrade['userid']}:{item['id']}"] = item
    return {
        "courses": courses,
        "students": {str(u["id"]): u for u in ds.users()},
        "enrolments": enrolments,
        "grades": grades,
    }


async def test_moodle_sync_reads_back_exactly_the_sandbox(stack: Stack) -> None:
    moodle = stack.sandbox.state.moodle
    moodle.configure(seed=11, size=450)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body(config={"page_size": 100}))
    base = f"/api/tenants/{slug}/integrations/{integ['id']}"

    tested = (await stack.api.post(f"{base}/test_connection/", headers=headers)).json()
    assert tested["success"] is True, tested
    assert tested["details"]["integration_type"] == "moodle"
    assert tested["details"]["integration_name"] == "Moodle"
    assert tested["details"]["tested_at"].endswith("Z")

    first = await sync(stack, slug, headers, integ["id"], mode="full")
    assert first["result"]["status"] == "success", first
    assert first["last_sync_status"] == "success" and first["status"] == "active"
    expected = moodle_expected(moodle.dataset)
    total = 0
    for model in MOODLE_MODELS:
        got = await all_records(stack, slug, headers, integ["id"], model, include_raw="true")
        ids = [r["vendor_id"] for r in got]
        assert len(ids) == len(set(ids)), f"duplicated {model}"
        assert set(ids) == set(expected[model]), model
        for record in got:
            assert record["raw"] == expected[model][record["vendor_id"]], model
            assert record["deleted"] is False
        total += len(ids)
    assert first["result"]["stats"]["added"] == total
    students = await all_records(stack, slug, headers, integ["id"], "students")
    sample = students[0]
    source = expected["students"][sample["vendor_id"]]
    assert sample["data"]["email"] == source["email"]
    assert sample["data"]["last_name"] == source["lastname"]

    second = await sync(stack, slug, headers, integ["id"], mode="full")
    stats = second["result"]["stats"]
    assert (stats["added"], stats["updated"], stats["deleted"]) == (0, 0, 0), stats
    assert stats["unchanged"] == total

    runs = (await stack.api.get(f"{base}/syncs/", headers=headers)).json()
    assert [r["status"] for r in runs[:2]] == ["success", "success"]
    assert runs[0]["stats"]["totals"]["unchanged"] == total
    sync_logs = await logs(stack, slug, headers, integ["id"], action="sync")
    assert sync_logs[0]["message"].startswith(f"Synced {total} records (0 added")


async def test_moodle_deletions_and_changes_are_detected(stack: Stack) -> None:
    moodle = stack.sandbox.state.moodle
    moodle.configure(seed=12, size=300)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    await sync(stack, slug, headers, integ["id"], mode="full", resources=["students"])
    changed = moodle.dataset.mutate_users(4)
    gone = [u["id"] for u in moodle.dataset.users()[:3] if u["id"] not in changed][:2]
    moodle.dataset.delete_users(gone)
    result = (await sync(stack, slug, headers, integ["id"], mode="full", resources=["students"]))[
        "result"
    ]
    assert result["stats"]["updated"] == 4 and result["stats"]["deleted"] == 2, result
    records = {
        r["vendor_id"]: r for r in await all_records(stack, slug, headers, integ["id"], "students")
    }
    assert all(records[str(uid)]["deleted"] for uid in gone)
    assert sum(r["deleted"] for r in records.values()) == 2


async def test_stripe_full_then_incremental(stack: Stack) -> None:
    slug, headers, integ = await stack.stripe_integration(seed=21, size=230)
    stripe = stack.sandbox.state.stripe
    base = f"/api/tenants/{slug}/integrations/{integ['id']}"
    tested = (await stack.api.post(f"{base}/test_connection/", headers=headers)).json()
    assert tested["success"] is True and "test mode" in tested["message"], tested

    first = await sync(stack, slug, headers, integ["id"], mode="full")
    assert first["result"]["status"] == "success", first
    ds = stripe.dataset
    for model, kind in zip(
        STRIPE_MODELS, ("customer", "invoice", "payment_intent", "subscription"), strict=True
    ):
        got = await all_records(stack, slug, headers, integ["id"], model, include_raw="true")
        ids = [r["vendor_id"] for r in got]
        assert len(ids) == len(set(ids)), model
        expected = {obj["id"]: obj for obj in stripe_objects(ds, kind)}
        assert set(ids) == set(expected), model
        for record in got[:20]:
            assert record["raw"] == expected[record["vendor_id"]]

    updated = ds.update_customers(5)
    created = ds.create_customers(3)
    deleted = ds.delete_customers(ds.pick_customers(2))
    inc = await sync(stack, slug, headers, integ["id"], mode="incremental", resources=["customers"])
    stats = inc["result"]["stats"]
    assert (stats["added"], stats["updated"], stats["deleted"]) == (3, 5, 2), stats
    customers = {
        r["vendor_id"]: r for r in await all_records(stack, slug, headers, integ["id"], "customers")
    }
    assert all(customers[c]["deleted"] for c in deleted)
    assert all(c in customers and not customers[c]["deleted"] for c in created)
    assert {c for c in updated} <= set(customers)
    again = await sync(
        stack, slug, headers, integ["id"], mode="incremental", resources=["customers"]
    )
    assert again["result"]["stats"]["added"] == again["result"]["stats"]["updated"] == 0


async def test_wrong_credentials_give_the_vendors_reason(stack: Stack) -> None:
    stack.sandbox.state.stripe.rate_limit_per_second = 0
    slug, headers = await stack.tenant()
    moodle = await stack.create(slug, headers, stack.moodle_body(api_key="wrong-token"))
    stripe = await stack.create(
        slug, headers, stack.stripe_body(access_token="sk_test_wrongkey9876")
    )
    base = f"/api/tenants/{slug}/integrations"
    answer = (
        await stack.api.post(f"{base}/{moodle['id']}/test_connection/", headers=headers)
    ).json()
    assert answer["success"] is False and "invalidtoken" in answer["message"], answer
    answer = (
        await stack.api.post(f"{base}/{stripe['id']}/test_connection/", headers=headers)
    ).json()
    assert answer["success"] is False and "Invalid API Key" in answer["message"], answer
    assert "sk_test_wrongkey9876" not in answer["message"]
    # a sync with the bad token fails as an auth failure, once, and asks for re-authorisation
    result = await sync(stack, slug, headers, moodle["id"], mode="full")
    assert result["result"]["status"] == "auth_failed", result
    assert result["status"] == "needs_reauth"
    statuses = {r["status"] for r in result["result"]["resources"]}
    assert statuses == {"failed", "skipped"}
    entries = await logs(stack, slug, headers, moodle["id"], limit=500)
    assert not any("wrong-token" in (e.get("url") or "") + e["message"] for e in entries)
    calls = [e for e in entries if e["action"] == "vendor_call"]
    assert len(calls) == 2  # test_connection once + the failed resource once: no retry storm


async def test_records_never_enter_workflow_history(stack: Stack) -> None:
    moodle = stack.sandbox.state.moodle
    moodle.configure(seed=13, size=250)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body(config={"page_size": 50}))
    result = await sync(stack, slug, headers, integ["id"], mode="full")
    assert result["result"]["status"] == "success"
    raw, plain = await history_texts(stack.client, stack.keyring, result["workflow_id"])
    assert "sync_resource" in raw  # activity names are metadata, left readable
    users = moodle.dataset.users()
    for user in users:
        assert user["email"] not in plain and user["email"] not in raw
        assert user["fullname"] not in plain and user["fullname"] not in raw
    assert "sandbox-moodle-token" not in plain and "sandbox-moodle-token" not in raw
    assert '"run_id"' in plain  # the decrypted payloads are what we think they are
    assert '"run_id"' not in raw  # and at rest they are ciphertext


async def test_sync_continues_as_new_and_replays(stack: Stack) -> None:
    stack.sandbox.state.moodle.configure(seed=14, size=200)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    result = await sync(stack, slug, headers, integ["id"], mode="full")
    assert result["result"]["status"] == "success"
    assert [r["resource"] for r in result["result"]["resources"]] == list(
        ("courses", "students", "enrolments", "grades")
    )
    statuses: list[WorkflowExecutionStatus | None] = []
    for _ in range(50):  # visibility is eventually consistent
        statuses = [
            e.status
            async for e in stack.client.list_workflows(f"WorkflowId = '{result['workflow_id']}'")
        ]
        if WorkflowExecutionStatus.CONTINUED_AS_NEW in statuses and len(statuses) >= 2:
            break
        await asyncio.sleep(0.1)
    assert WorkflowExecutionStatus.CONTINUED_AS_NEW in statuses
    replayer = Replayer(
        workflows=[SyncWorkflow, ConnectionTestWorkflow],
        data_converter=data_converter(stack.keyring),
    )
    async for execution in stack.client.list_workflows(f"WorkflowId = '{result['workflow_id']}'"):
        history = await stack.client.get_workflow_handle(
            result["workflow_id"], run_id=execution.run_id
        ).fetch_history()
        await replayer.replay_workflow(history)


async def test_second_trigger_joins_the_running_sync(stack: Stack) -> None:
    moodle = stack.sandbox.state.moodle
    moodle.configure(seed=15, size=200)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    url = f"/api/tenants/{slug}/integrations/{integ['id']}/sync/"
    moodle.faults.update(latency_ms=150)
    try:
        first = await stack.api.post(url, json={"mode": "full"}, headers=headers)
        second = await stack.api.post(url, json={"mode": "full"}, headers=headers)
    finally:
        moodle.faults.update(latency_ms=0)
    assert first.status_code == second.status_code == 202
    assert first.json()["joined_running"] is False and second.json()["joined_running"] is True
    assert first.json()["workflow_id"] == second.json()["workflow_id"]
    handle = stack.client.get_workflow_handle(first.json()["workflow_id"])
    await handle.result()
    runs = (
        await stack.api.get(
            f"/api/tenants/{slug}/integrations/{integ['id']}/syncs/", headers=headers
        )
    ).json()
    assert len(runs) == 1


async def test_unknown_resource_is_a_clear_error(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    url = f"/api/tenants/{slug}/integrations/{integ['id']}/sync/"
    resp = await stack.api.post(
        url, params={"wait": "true"}, json={"resources": ["nope"]}, headers=headers
    )
    assert resp.status_code == 422 and "nope" in resp.text and "students" in resp.text
    resp = await stack.api.post(url, json={"mode": "sometimes"}, headers=headers)
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "mode"
