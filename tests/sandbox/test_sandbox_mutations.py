"""Mutations: Moodle users changed/deleted; Stripe customers updated/created/deleted + events."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.sandbox.support import options, stripe_get, stripe_walk, ws_json

ALL = {"criteria[0][key]": "email", "criteria[0][value]": "%"}
EVENT_FIELDS = {
    "id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request",
    "type",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_rate_limit(sandbox: SandboxServer) -> None:
    sandbox.state.stripe.rate_limit_per_second = 0


async def _users(http: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    body = await ws_json(http, "core_user_get_users", ALL)
    return {u["id"]: u for u in body["users"]}


async def test_moodle_mutate_and_delete(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    before = await _users(http)
    resp = await http.post("/_control/moodle/mutate", json={"users": 5})
    changed = resp.json()["mutated_user_ids"]
    assert len(changed) == 5
    after = await _users(http)
    for uid in changed:
        assert after[uid]["city"] != before[uid]["city"]
        assert after[uid]["lastaccess"] > before[uid]["lastaccess"]
    untouched = [uid for uid in before if uid not in changed]
    assert all(after[uid] == before[uid] for uid in untouched)
    course = await ws_json(http, "core_enrol_get_enrolled_users", {"courseid": 2})
    victim = course[0]["id"]
    gone = sandbox.state.moodle.delete_users([victim, 999_999])
    assert gone == [victim]
    assert victim not in await _users(http)
    course_after = await ws_json(http, "core_enrol_get_enrolled_users", {"courseid": 2})
    assert [u["id"] for u in course_after] == [u["id"] for u in course[1:]]
    grades = await ws_json(http, "gradereport_user_get_grade_items", {"courseid": 2})
    assert victim not in {g["userid"] for g in grades["usergrades"]}
    page = await ws_json(
        http, "core_enrol_get_enrolled_users", {"courseid": 2, **options(limitnumber=1)}
    )
    assert page[0]["id"] == course[1]["id"]
    deleted = await http.post("/_control/moodle/mutate", json={"delete_users": [changed[0]]})
    assert deleted.json()["deleted_user_ids"] == [changed[0]]


async def test_moodle_mutations_are_deterministic(sandbox: SandboxServer) -> None:
    first = sandbox.state.moodle.mutate_users(7)
    sandbox.state.reset()
    assert sandbox.state.moodle.mutate_users(7) == first


async def test_stripe_mutations_and_events(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    before = {c["id"]: c for c in await stripe_walk(http, "/v1/customers", 100)}
    resp = await http.post(
        "/_control/stripe/mutate",
        json={"update_customers": 3, "create_customers": 2, "delete_customers": 2},
    )
    assert resp.status_code == 200, resp.text
    change = resp.json()
    updated, created = change["updated_customer_ids"], change["created_customer_ids"]
    deleted = change["deleted_customer_ids"]
    assert (len(updated), len(created), len(deleted), len(change["event_ids"])) == (3, 2, 2, 7)

    listed = await stripe_walk(http, "/v1/customers", 100)
    ids = [c["id"] for c in listed]
    assert ids[:2] == list(reversed(created))
    assert not set(deleted) & set(ids) and len(ids) == 200 + 2 - 2
    assert listed[0]["created"] > max(c["created"] for c in before.values())
    for cid in deleted:
        stub = (await stripe_get(http, f"/v1/customers/{cid}")).json()
        assert stub == {"id": cid, "object": "customer", "deleted": True}

    events = await stripe_walk(http, "/v1/events", 100)
    assert [e["id"] for e in events] == list(reversed(change["event_ids"]))
    created_at = [e["created"] for e in reversed(events)]
    assert all(b > a for a, b in itertools.pairwise(created_at))
    assert created_at[0] > max(c["created"] for c in before.values())
    for event in events:
        assert set(event) == EVENT_FIELDS and event["id"].startswith("evt_")
        assert event["object"] == "event" and event["livemode"] is False
        assert event["request"]["id"].startswith("req_") and event["api_version"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert {k: len(v) for k, v in by_type.items()} == {
        "customer.updated": 3,
        "customer.created": 2,
        "customer.deleted": 2,
    }
    for event in by_type["customer.updated"]:
        obj, prev = event["data"]["object"], event["data"]["previous_attributes"]
        old = before[obj["id"]]
        assert prev == {"name": old["name"], "email": old["email"]}
        assert obj["name"] != old["name"] and obj["email"] != old["email"]
        current = (await stripe_get(http, f"/v1/customers/{obj['id']}")).json()
        if obj["id"] not in deleted:
            assert current == obj
    assert all("previous_attributes" not in e["data"] for e in by_type["customer.created"])
    assert {e["data"]["object"]["id"] for e in by_type["customer.deleted"]} == set(deleted)


async def test_events_filters_and_paging(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    stripe = sandbox.state.stripe
    stripe.update_customers(4)
    stripe.create_customers(3)
    stripe.delete_customers(stripe.dataset.pick_customers(1))
    everything = await stripe_walk(http, "/v1/events", 100)
    assert len(everything) == 8
    paged = await stripe_walk(http, "/v1/events", 3)
    assert paged == everything
    only = await stripe_walk(http, "/v1/events", 100, type="customer.created")
    assert [e["type"] for e in only] == ["customer.created"] * 3
    wild = await stripe_walk(http, "/v1/events", 100, type="customer.*")
    assert len(wild) == 8
    some = (
        await stripe_get(http, "/v1/events", {"types[]": ["customer.deleted", "customer.updated"]})
    ).json()["data"]
    assert {e["type"] for e in some} == {"customer.deleted", "customer.updated"}
    assert len(some) == 5
    pivot = everything[5]["created"]
    newer = await stripe_walk(http, "/v1/events", 100, **{"created[gt]": pivot})
    assert [e["id"] for e in newer] == [e["id"] for e in everything[:5]]
    both = await stripe_get(http, "/v1/events", {"type": "a", "types[]": "b"})
    assert both.status_code == 400
    too_many = await stripe_get(http, "/v1/events", {"types[]": [f"t{i}" for i in range(21)]})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "types"
