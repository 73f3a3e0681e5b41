"""A 100,000-record dataset is cheap to create and serves its first and last pages quickly."""

from __future__ import annotations

import time

import httpx

from sandbox.server import SandboxServer
from tests.sandbox.support import options, stripe_get, ws_json

SIZE = 100_000


async def test_large_stripe_dataset_first_and_last_page(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    sandbox.state.stripe.rate_limit_per_second = 0
    started = time.perf_counter()
    resp = await http.post("/_control/stripe/dataset", json={"seed": 3, "size": SIZE})
    assert resp.status_code == 200 and resp.json()["dataset"]["customers"] == SIZE
    assert time.perf_counter() - started < 2

    started = time.perf_counter()
    first = (await stripe_get(http, "/v1/customers", {"limit": 100})).json()
    assert time.perf_counter() - started < 1.5
    ds = sandbox.state.stripe.dataset
    assert first["has_more"] and first["data"][0]["id"] == ds.object_id("customer", SIZE - 1)

    started = time.perf_counter()
    cursor = ds.object_id("customer", 100)
    last = (
        await stripe_get(http, "/v1/customers", {"limit": 100, "starting_after": cursor})
    ).json()
    assert time.perf_counter() - started < 1.5
    assert not last["has_more"]
    assert [c["id"] for c in last["data"]] == [
        ds.object_id("customer", i) for i in range(99, -1, -1)
    ]

    started = time.perf_counter()
    oldest = ds.created("invoice", 0)
    body = (await stripe_get(http, "/v1/invoices", {"limit": 100, "created[lte]": oldest})).json()
    assert time.perf_counter() - started < 1.5
    assert body["data"][-1]["id"] == ds.object_id("invoice", 0) and not body["has_more"]


async def test_large_moodle_dataset_first_and_last_page(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    started = time.perf_counter()
    resp = await http.post("/_control/moodle/dataset", json={"seed": 3, "size": SIZE})
    assert resp.status_code == 200 and resp.json()["dataset"]["users"] == SIZE
    assert time.perf_counter() - started < 2
    ds = sandbox.state.moodle.dataset
    last_course = ds.course_ids()[-1]
    assert ds.course_count == SIZE // 200

    started = time.perf_counter()
    first = await ws_json(
        http,
        "core_enrol_get_enrolled_users",
        {"courseid": last_course, **options(limitfrom=0, limitnumber=100)},
    )
    assert time.perf_counter() - started < 1.5
    assert len(first) == 100

    total = len(ds.enrolled_user_ids(last_course))
    started = time.perf_counter()
    tail = await ws_json(
        http,
        "core_enrol_get_enrolled_users",
        {"courseid": last_course, **options(limitfrom=total - 30, limitnumber=100)},
    )
    assert time.perf_counter() - started < 1.5
    assert [u["id"] for u in tail] == ds.enrolled_user_ids(last_course)[-30:]

    started = time.perf_counter()
    last_user = 2 + SIZE
    found = await ws_json(
        http, "core_user_get_users", {"criteria[0][key]": "id", "criteria[0][value]": last_user}
    )
    assert time.perf_counter() - started < 1.5
    assert [u["id"] for u in found["users"]] == [last_user]
