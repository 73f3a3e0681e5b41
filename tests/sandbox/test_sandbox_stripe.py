"""The Stripe emulator over HTTP: auth, lists and cursors, filters, retrieval, error shapes."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from sandbox.server import SandboxServer
from sandbox.state import STRIPE_DEFAULT_RESTRICTED_KEY
from tests.sandbox.support import STRIPE_KEY, stripe_get, stripe_walk

# Main fields per vendors.md section 1 (from fixtures3.json).
CUSTOMER_FIELDS = {
    "id", "object", "address", "balance", "created", "currency", "default_source", "delinquent",
    "description", "discount", "email", "invoice_prefix", "invoice_settings", "livemode",
    "metadata", "name", "next_invoice_sequence", "phone", "preferred_locales", "shipping",
    "tax_exempt", "test_clock",
}  # fmt: skip
INVOICE_FIELDS = {
    "id", "number", "customer", "customer_email", "status", "collection_method", "currency",
    "amount_due", "amount_paid", "amount_remaining", "subtotal", "total", "due_date", "lines",
    "period_start", "period_end", "hosted_invoice_url", "invoice_pdf", "created", "metadata",
    "status_transitions",
}  # fmt: skip
PI_FIELDS = {
    "id", "amount", "amount_received", "currency", "customer", "status", "latest_charge",
    "payment_method", "metadata",
}  # fmt: skip
SUB_FIELDS = {"id", "customer", "status", "items", "created", "currency", "canceled_at"}
PATHS = {
    "customer": "/v1/customers",
    "invoice": "/v1/invoices",
    "payment_intent": "/v1/payment_intents",
    "subscription": "/v1/subscriptions",
}


@pytest.fixture(autouse=True)
def _no_rate_limit(sandbox: SandboxServer) -> None:
    sandbox.state.stripe.rate_limit_per_second = 0


def _error(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["request-id"].startswith("req_")
    return dict(resp.json()["error"])


async def test_auth_failures(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    err = _error(await http.get("/stripe/v1/customers"), 401)
    assert err["type"] == "invalid_request_error"
    assert err["message"].startswith("You did not provide an API key.")
    err = _error(await stripe_get(http, "/v1/customers", key="sk_test_51Hxyzwrongabcd"), 401)
    assert err == {
        "message": "Invalid API Key provided: sk_test_" + "*" * 11 + "abcd",
        "type": "invalid_request_error",
    }
    basic = base64.b64encode(f"{STRIPE_KEY}:".encode()).decode()
    ok = await http.get("/stripe/v1/customers", headers={"Authorization": f"Basic {basic}"})
    assert ok.status_code == 200 and ok.headers["request-id"].startswith("req_")
    err = _error(await stripe_get(http, "/v1/customers", key="pk_test_abc"), 401)
    assert "publishable API key" in err["message"]


async def test_restricted_key(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    allowed = await stripe_get(http, "/v1/customers", key=STRIPE_DEFAULT_RESTRICTED_KEY)
    assert allowed.status_code == 200
    err = _error(await stripe_get(http, "/v1/invoices", key=STRIPE_DEFAULT_RESTRICTED_KEY), 403)
    assert "does not have the required permissions" in err["message"]
    assert "rak_invoice_read" in err["message"]
    assert err["type"] == "invalid_request_error"


async def test_request_id_everywhere(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    ids = set()
    for path in ("/v1/balance", "/v1/customers", "/v1/customers/cus_nope", "/v1/widgets"):
        resp = await stripe_get(http, path)
        ids.add(resp.headers["request-id"])
    assert len(ids) == 4
    unknown = _error(await http.post("/stripe/v1/charges/x/y"), 404)
    assert unknown["message"].startswith("Unrecognized request URL (POST: /v1/charges/x/y).")


@pytest.mark.parametrize("kind", list(PATHS))
async def test_paging_a_whole_list(
    sandbox: SandboxServer, http: httpx.AsyncClient, kind: str
) -> None:
    ds = sandbox.state.stripe.dataset
    coll = ds.collection(kind)
    expected = [coll.build(i) for i in reversed(range(coll.size()))]
    params = {"status": "all"} if kind == "subscription" else {}
    got = await stripe_walk(http, PATHS[kind], 7, **params)
    assert [o["id"] for o in got] == [o["id"] for o in expected]
    assert got == expected
    created = [o["created"] for o in got]
    assert created == sorted(created, reverse=True)
    assert all(o["object"] == kind and o["livemode"] is False for o in got)


async def test_ending_before_walks_back_to_the_newest(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    everything = await stripe_walk(http, "/v1/customers", 100)
    newest_first: list[dict[str, Any]] = []
    cursor = everything[-1]["id"]
    newest_first.insert(0, everything[-1])
    while True:
        resp = await stripe_get(http, "/v1/customers", {"limit": 9, "ending_before": cursor})
        body = resp.json()
        newest_first[:0] = body["data"]
        if not body["has_more"]:
            break
        cursor = body["data"][0]["id"]
    assert [c["id"] for c in newest_first] == [c["id"] for c in everything]


async def test_list_parameter_errors(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    first = (await stripe_get(http, "/v1/customers", {"limit": 2})).json()["data"]
    both = _error(
        await stripe_get(
            http,
            "/v1/customers",
            {"starting_after": first[0]["id"], "ending_before": first[1]["id"]},
        ),
        400,
    )
    assert "only specify one of these parameters" in both["message"]
    for limit in ("0", "101", "ten"):
        err = _error(await stripe_get(http, "/v1/customers", {"limit": limit}), 400)
        assert err["param"] == "limit" and err["type"] == "invalid_request_error"
    missing = _error(await stripe_get(http, "/v1/customers", {"starting_after": "cus_gone"}), 400)
    assert missing["code"] == "resource_missing" and missing["param"] == "starting_after"
    assert missing["message"] == "No such customer: 'cus_gone'"
    unknown = _error(await stripe_get(http, "/v1/customers", {"colour": "red"}), 400)
    assert unknown["message"] == "Received unknown parameter: colour"
    bad = _error(await stripe_get(http, "/v1/customers", {"created[after]": "1"}), 400)
    assert bad["param"] == "created[after]"


async def test_created_filters(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    everything = await stripe_walk(http, "/v1/invoices", 100)
    times = sorted({o["created"] for o in everything})
    low, high = times[len(times) // 4], times[3 * len(times) // 4]
    got = await stripe_walk(http, "/v1/invoices", 13, **{"created[gte]": low, "created[lt]": high})
    assert [o["id"] for o in got] == [o["id"] for o in everything if low <= o["created"] < high]
    got = await stripe_walk(http, "/v1/invoices", 50, **{"created[gt]": low, "created[lte]": high})
    assert [o["id"] for o in got] == [o["id"] for o in everything if low < o["created"] <= high]
    exact = await stripe_walk(http, "/v1/invoices", 50, created=low)
    assert exact and all(o["created"] == low for o in exact)


async def test_subscription_status_filter(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    default = await stripe_walk(http, "/v1/subscriptions", 100)
    everything = await stripe_walk(http, "/v1/subscriptions", 100, status="all")
    canceled = await stripe_walk(http, "/v1/subscriptions", 100, status="canceled")
    assert len(everything) == 100 and canceled
    assert all(s["status"] != "canceled" for s in default)
    assert len(default) + len(canceled) == len(everything)
    assert all(s["status"] == "canceled" and s["canceled_at"] for s in canceled)
    ended = await stripe_walk(http, "/v1/subscriptions", 100, status="ended")
    assert {s["status"] for s in ended} <= {"canceled", "incomplete_expired"}
    err = _error(await stripe_get(http, "/v1/subscriptions", {"status": "sleepy"}), 400)
    assert err["param"] == "status"


async def test_resource_filters(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    invoices = await stripe_walk(http, "/v1/invoices", 100)
    customer = invoices[0]["customer"]
    mine = await stripe_walk(http, "/v1/invoices", 100, customer=customer)
    assert [i["id"] for i in mine] == [i["id"] for i in invoices if i["customer"] == customer]
    paid = await stripe_walk(http, "/v1/invoices", 100, status="paid")
    assert [i["id"] for i in paid] == [i["id"] for i in invoices if i["status"] == "paid"]
    email = (await stripe_walk(http, "/v1/customers", 100))[5]["email"]
    found = await stripe_walk(http, "/v1/customers", 10, email=email)
    assert [c["email"] for c in found] == [email]
    err = _error(await stripe_get(http, "/v1/invoices", {"customer": "cus_missing"}), 400)
    assert err["code"] == "resource_missing" and err["param"] == "customer"


async def test_object_shapes(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    for kind, fields in (
        ("customer", CUSTOMER_FIELDS),
        ("invoice", INVOICE_FIELDS),
        ("payment_intent", PI_FIELDS),
        ("subscription", SUB_FIELDS),
    ):
        objs = (await stripe_get(http, PATHS[kind], {"limit": 100})).json()["data"]
        for obj in objs:
            assert fields <= set(obj), (kind, fields - set(obj))
            assert obj["id"].startswith({"customer": "cus_", "invoice": "in_"}.get(kind, ""))
    invoices = (await stripe_get(http, "/v1/invoices", {"limit": 100})).json()["data"]
    for inv in invoices:
        assert inv["lines"]["object"] == "list" and inv["lines"]["data"][0]["amount"] > 0
        if inv["status"] == "paid":
            assert inv["amount_paid"] == inv["amount_due"] and inv["status_transitions"]["paid_at"]
        if inv["status"] == "draft":
            assert inv["number"] is None and inv["hosted_invoice_url"] is None
    pis = (await stripe_get(http, "/v1/payment_intents", {"limit": 100})).json()["data"]
    assert all((p["amount_received"] == p["amount"]) == (p["status"] == "succeeded") for p in pis)
    balance = (await stripe_get(http, "/v1/balance")).json()
    assert balance["object"] == "balance" and balance["livemode"] is False
    assert {"available", "pending", "connect_reserved"} <= set(balance)
    assert balance["available"][0]["amount"] >= 0


async def test_retrieve_and_expand(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    ds = sandbox.state.stripe.dataset
    invoice = ds.build("invoice", 17)
    got = await stripe_get(http, f"/v1/invoices/{invoice['id']}")
    assert got.status_code == 200 and got.json() == invoice
    expanded = (
        await stripe_get(http, f"/v1/invoices/{invoice['id']}", {"expand[]": "customer"})
    ).json()
    assert expanded["customer"]["id"] == invoice["customer"]
    assert expanded["customer"]["object"] == "customer"
    in_list = (
        await stripe_get(http, "/v1/payment_intents", {"limit": 2, "expand[0]": "data.customer"})
    ).json()
    assert all(isinstance(p["customer"], dict) for p in in_list["data"])
    err = _error(await stripe_get(http, "/v1/customers", {"expand[]": "data.invoices"}), 400)
    assert "cannot be expanded" in err["message"]
    missing = _error(await stripe_get(http, "/v1/payment_intents/pi_nope"), 404)
    assert missing == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such payment_intent: 'pi_nope'",
        "param": "id",
        "request_log_url": missing["request_log_url"],
        "type": "invalid_request_error",
    }
