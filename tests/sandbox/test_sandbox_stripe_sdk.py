"""The official ``stripe`` SDK (16.x, async, httpx) works against the emulator unchanged."""

from __future__ import annotations

import pytest
import stripe

from sandbox.server import SandboxServer
from tests.sandbox.support import STRIPE_KEY


def _client(sandbox: SandboxServer, key: str = STRIPE_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": f"{sandbox.url}/stripe"},
        max_network_retries=0,
        http_client=stripe.HTTPXClient(),
    )


async def test_sdk_lists_and_auto_pages(sandbox: SandboxServer) -> None:
    sandbox.state.stripe.rate_limit_per_second = 0
    client = _client(sandbox)
    first = await client.v1.customers.list_async(params={"limit": 100})
    assert len(first.data) == 100 and first.has_more
    ids = [c.id async for c in first.auto_paging_iter()]
    coll = sandbox.state.stripe.dataset.collection("customer")
    assert ids == [coll.build(i)["id"] for i in reversed(range(coll.size()))]
    subs = await client.v1.subscriptions.list_async(params={"limit": 5, "status": "all"})
    assert len(subs.data) == 5
    invoice = await client.v1.invoices.retrieve_async(
        (await client.v1.invoices.list_async(params={"limit": 1})).data[0].id
    )
    assert invoice.object == "invoice"
    balance = await client.v1.balance.retrieve_async()
    assert balance.object == "balance" and balance.available[0].amount >= 0


async def test_sdk_sees_deleted_customers(sandbox: SandboxServer) -> None:
    [gone] = sandbox.state.stripe.delete_random_customers(1)
    customer = await _client(sandbox).v1.customers.retrieve_async(gone)
    assert customer.to_dict() == {"id": gone, "object": "customer", "deleted": True}


async def test_sdk_errors(sandbox: SandboxServer) -> None:
    with pytest.raises(stripe.AuthenticationError) as auth:
        await _client(sandbox, "sk_test_definitelywrong9876").v1.customers.list_async()
    assert auth.value.http_status == 401
    assert auth.value.user_message == "Invalid API Key provided: sk_test_" + "*" * 15 + "9876"
    assert auth.value.request_id and auth.value.request_id.startswith("req_")

    with pytest.raises(stripe.InvalidRequestError) as missing:
        await _client(sandbox).v1.customers.list_async(params={"starting_after": "cus_gone"})
    assert missing.value.code == "resource_missing" and missing.value.param == "starting_after"

    sandbox.state.stripe.set_faults(rate_429=1)
    with pytest.raises(stripe.RateLimitError) as limited:
        await _client(sandbox).v1.balance.retrieve_async()
    assert limited.value.http_status == 429
    assert limited.value.headers is not None and limited.value.headers["retry-after"] == "1"

    sandbox.state.stripe.set_faults(rate_429=0, error_rate=1)
    with pytest.raises(stripe.APIError) as broken:
        await _client(sandbox).v1.balance.retrieve_async()
    assert broken.value.http_status == 500
