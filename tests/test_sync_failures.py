"""Vendor failures during a sync: retried when transient, reported once when not, and the
integration's health follows."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Stack
from tests.helpers import all_records, logs, stripe_objects, sync


async def test_a_429_storm_is_waited_out_and_the_data_is_exact(stack: Stack) -> None:
    slug, headers, integ = await stack.stripe_integration(seed=61, size=600)
    stripe = stack.sandbox.state.stripe
    stripe.set_faults(rate_429=0.25, fault_seed=7)
    try:
        result = await sync(stack, slug, headers, integ["id"], mode="full", resources=["customers"])
    finally:
        stripe.set_faults(rate_429=0)
    assert result["result"]["status"] == "success", result
    ids = [
        r["vendor_id"] for r in await all_records(stack, slug, headers, integ["id"], "customers")
    ]
    assert len(ids) == len(set(ids)) == 600
    assert set(ids) == {c["id"] for c in stripe_objects(stripe.dataset, "customer")}
    entries = await logs(stack, slug, headers, integ["id"], action="vendor_call", limit=500)
    assert any(e["http_status"] == 429 for e in entries)  # the 429s happened and were audited
    assert result["result"]["stats"]["pages"] == 6  # and no page was committed twice


async def test_a_permission_error_fails_its_resource_once_and_the_rest_syncs(
    stack: Stack,
) -> None:
    moodle = stack.sandbox.state.moodle
    moodle.configure(seed=62, size=80)
    moodle.tokens["no-grades-token"] = {
        "core_webservice_get_site_info",
        "core_course_get_courses",
        "core_user_get_users",
        "core_enrol_get_enrolled_users",
    }
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body(api_key="no-grades-token"))
    result = (await sync(stack, slug, headers, integ["id"], mode="full"))["result"]
    by_name = {r["resource"]: r for r in result["resources"]}
    assert result["status"] == "partial"
    assert by_name["grades"]["status"] == "failed"
    assert by_name["grades"]["error_type"] == "VendorPermissionError"
    assert "accessexception" in by_name["grades"]["error"]
    assert {by_name[n]["status"] for n in ("courses", "students", "enrolments")} == {"success"}
    calls = await logs(stack, slug, headers, integ["id"], action="vendor_call", limit=500)
    grade_calls = [c for c in calls if "gradereport_user_get_grade_items" in (c["url"] or "")]
    assert len(grade_calls) == 1  # non-retryable: asked once, not in a loop
    sync_log = (await logs(stack, slug, headers, integ["id"], action="sync"))[0]
    assert sync_log["status"] == "partial" and "grades:" in sync_log["message"]


async def test_health_follows_sync_outcomes(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    store = stack.store.integrations
    now = datetime.now(UTC)

    async def health() -> str:
        found = await store.get(integ["id"])
        assert found is not None
        return found.status

    assert await health() == "pending"
    await store.record_sync_outcome(integ["id"], "success", now)
    assert await health() == "active"
    await store.record_sync_outcome(integ["id"], "failed", now)
    assert await health() == "active"  # one failure is not a trend
    await store.record_sync_outcome(integ["id"], "partial", now)
    assert await health() == "degraded"
    await store.record_sync_outcome(integ["id"], "success", now)
    assert await health() == "active"
    await store.record_sync_outcome(integ["id"], "auth_failed", now)
    assert await health() == "needs_reauth"


async def test_logs_page_backwards(stack: Stack) -> None:
    stack.sandbox.state.moodle.configure(seed=63, size=40)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    await sync(stack, slug, headers, integ["id"], mode="full")
    url = f"/api/tenants/{slug}/integrations/{integ['id']}/logs/"
    everything = (await stack.api.get(url, params={"limit": 500}, headers=headers)).json()
    first = (await stack.api.get(url, params={"limit": 3}, headers=headers)).json()
    rest = (
        await stack.api.get(url, params={"limit": 500, "before": first[-1]["id"]}, headers=headers)
    ).json()
    assert [e["id"] for e in first + rest] == [e["id"] for e in everything]
    assert [int(e["id"]) for e in everything] == sorted(
        (int(e["id"]) for e in everything), reverse=True
    )
