"""Tests of the Stripe connector: mappings on Stripe's published fixtures, error classification,
the connector over a stub transport (the real SDK, no network), then loopback reads against the
sandbox's Stripe emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import stripe

from connectors.base import ConnectorContext, Page, ReadRequest, VendorCall
from connectors.errors import (
    VendorAuthError,
    VendorError,
    VendorMalformedResponse,
    VendorNotFoundError,
    VendorPermissionError,
    VendorRateLimited,
    VendorUnavailable,
    VendorValidationError,
)
from connectors.models import Customer, Invoice, Payment, Subscription
from connectors.stripe import (
    EVENT_RETENTION_S,
    SPEC,
    STREAMS,
    StripeConnector,
    classify_stripe_error,
    map_customer,
    map_invoice,
    map_payment_intent,
    map_subscription,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "stripe" / "fixtures3.json"
KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcabcd"


def ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    if not FIXTURES.exists():
        pytest.skip(f"Stripe's fixtures3.json not found at {FIXTURES} (shared testdata missing)")
    return json.loads(FIXTURES.read_text())["resources"]


# --- declaration ---------------------------------------------------------------------------


def test_spec_declares_the_four_resources() -> None:
    assert SPEC.type_id == "stripe"
    assert SPEC.auth_kind == "api_key"
    assert {r.name: r.model for r in SPEC.resources} == {
        "customers": "customers",
        "invoices": "invoices",
        "payment_intents": "payments",
        "subscriptions": "subscriptions",
    }
    assert all(r.record_path == "data" and "starting_after" in r.paginator for r in SPEC.resources)
    fields = {f.name: f for f in SPEC.credential_fields}
    assert fields["access_token"].secret and fields["access_token"].required
    assert fields["webhook_secret"].secret and not fields["webhook_secret"].required


def test_streams_match_the_spec_and_the_sdk() -> None:
    client = stripe.StripeClient("sk_test_x")
    for res in SPEC.resources:
        stream = STREAMS[res.name]
        assert stream.model == res.model
        assert callable(getattr(client.v1, stream.service).list_async)
        assert 0 < len(stream.event_types) <= 20  # Stripe's limit on types[]
        assert all(
            t.startswith(stream.event_types[0].rsplit(".", 1)[0]) for t in stream.event_types
        )
        assert not any("*" in t or t.endswith(".upcoming") for t in stream.event_types)
    assert STREAMS["subscriptions"].list_params == {"status": "all"}
    assert "customer.subscription.deleted" not in STREAMS["subscriptions"].deleting_events


# --- mappings on Stripe's own fixtures -----------------------------------------------------


def test_map_customer_fixture(fixtures: dict[str, Any]) -> None:
    obj = fixtures["customer"]
    assert map_customer(obj) == Customer(
        name=obj["name"],
        email=obj["email"],
        phone=obj["phone"],
        currency="usd",
        balance=0,
        delinquent=False,
        description=obj["description"],
        address=obj["address"],
        metadata={},
        created_at=ts(1234567890),
    )


def test_map_invoice_fixture(fixtures: dict[str, Any]) -> None:
    obj = fixtures["invoice"]
    assert map_invoice(obj) == Invoice(
        number=obj["number"],
        customer_id="cus_QXg1o8vcGmoR32",
        customer_email=obj["customer_email"],
        status="draft",
        currency="usd",
        amount_due=1000,
        amount_paid=0,
        amount_remaining=1000,
        subtotal=1000,
        total=1000,
        due_at=ts(obj["due_date"]),
        period_start=ts(obj["period_start"]),
        period_end=ts(obj["period_end"]),
        hosted_url=obj["hosted_invoice_url"],
        metadata={},
        created_at=ts(obj["created"]),
    )


def test_map_payment_intent_fixture(fixtures: dict[str, Any]) -> None:
    obj = fixtures["payment_intent"]
    assert "invoice" not in obj  # the current API version dropped PaymentIntent.invoice
    assert map_payment_intent(obj) == Payment(
        amount=1099,
        amount_received=0,
        currency="usd",
        customer_id=None,
        invoice_id=None,
        status="requires_payment_method",
        description=None,
        payment_method_id=None,
        metadata={},
        created_at=ts(obj["created"]),
    )


def test_map_subscription_fixture_takes_periods_from_the_first_item(
    fixtures: dict[str, Any],
) -> None:
    obj = fixtures["subscription"]
    item = obj["items"]["data"][0]
    assert "current_period_start" not in obj  # moved to the items in newer API versions
    assert map_subscription(obj) == Subscription(
        customer_id="cus_QXg1o8vcGmoR32",
        status="active",
        currency="usd",
        current_period_start=ts(item["current_period_start"]),
        current_period_end=ts(item["current_period_end"]),
        cancel_at_period_end=True,
        canceled_at=ts(obj["canceled_at"]),
        items=[
            {"id": "si_QXhVnC2h0Jczwc", "price_id": "price_1PgafmB7WZ01zgkW6dKueIc5", "quantity": 1}
        ],
        metadata={},
        created_at=ts(obj["created"]),
    )


def test_mappings_accept_expanded_ids_and_older_api_versions(fixtures: dict[str, Any]) -> None:
    invoice = {**fixtures["invoice"], "customer": {"id": "cus_X", "object": "customer"}}
    assert map_invoice(invoice).customer_id == "cus_X"

    older_pi = {**fixtures["payment_intent"], "invoice": "in_1", "customer": "cus_Y"}
    assert map_payment_intent(older_pi).invoice_id == "in_1"
    assert map_payment_intent(older_pi).customer_id == "cus_Y"
    expanded_pi = {**older_pi, "invoice": {"id": "in_2"}, "payment_method": {"id": "pm_1"}}
    assert map_payment_intent(expanded_pi).invoice_id == "in_2"
    assert map_payment_intent(expanded_pi).payment_method_id == "pm_1"

    older_sub = {**fixtures["subscription"], "current_period_start": 100, "current_period_end": 200}
    mapped = map_subscription(older_sub)
    assert (mapped.current_period_start, mapped.current_period_end) == (ts(100), ts(200))
    plan_only = {"items": {"data": [{"id": "si_1", "plan": {"id": "plan_1"}, "quantity": 3}]}}
    assert map_subscription(plan_only).items == [
        {"id": "si_1", "price_id": "plan_1", "quantity": 3}
    ]


def test_metadata_values_become_strings_and_deleted_stub_maps() -> None:
    assert map_customer({"metadata": {"n": 1, "ok": True, "gone": None}}).metadata == {
        "n": "1",
        "ok": "True",
    }
    assert map_customer({"id": "cus_1", "object": "customer", "deleted": True}) == Customer()


# --- error classification -------------------------------------------------------------------


def _err(cls: type[stripe.StripeError], status: int, error: dict[str, Any], **kw: Any) -> Any:
    body = {"error": error}
    headers = kw.pop("headers", {"Request-Id": "req_1"})
    args: dict[str, Any] = {
        "http_body": json.dumps(body),
        "http_status": status,
        "json_body": body,
        "headers": headers,
    }
    if cls in (stripe.InvalidRequestError, stripe.CardError):
        return cls(error.get("message"), error.get("param"), code=error.get("code"), **args)
    return cls(error.get("message"), **args)


@pytest.mark.parametrize(
    ("exc", "cls", "code"),
    [
        (
            _err(
                stripe.AuthenticationError, 401, {"type": "invalid_request_error", "message": "no"}
            ),
            VendorAuthError,
            None,
        ),
        (
            _err(stripe.PermissionError, 403, {"type": "invalid_request_error", "message": "rk"}),
            VendorPermissionError,
            None,
        ),
        (
            _err(
                stripe.InvalidRequestError,
                404,
                {"type": "invalid_request_error", "code": "resource_missing", "message": "No"},
            ),
            VendorNotFoundError,
            "resource_missing",
        ),
        (
            _err(
                stripe.InvalidRequestError,
                400,
                {"type": "invalid_request_error", "code": "resource_missing", "message": "No"},
            ),
            VendorNotFoundError,
            "resource_missing",
        ),
        (
            _err(
                stripe.InvalidRequestError,
                400,
                {"type": "invalid_request_error", "code": "parameter_unknown", "param": "x"},
            ),
            VendorValidationError,
            "parameter_unknown",
        ),
        (
            _err(stripe.IdempotencyError, 400, {"type": "idempotency_error", "message": "reuse"}),
            VendorValidationError,
            None,
        ),
        (
            _err(
                stripe.RateLimitError,
                429,
                {"type": "invalid_request_error", "code": "lock_timeout"},
            ),
            VendorRateLimited,
            "lock_timeout",
        ),
        (
            _err(stripe.APIError, 500, {"type": "api_error", "message": "boom"}),
            VendorUnavailable,
            None,
        ),
        (
            _err(stripe.APIError, 409, {"type": "api_error", "message": "conflict"}),
            VendorUnavailable,
            None,
        ),
        (stripe.APIConnectionError("Network error: ConnectError"), VendorUnavailable, None),
        (
            _err(
                stripe.CardError,
                402,
                {"type": "card_error", "code": "card_declined", "message": "no"},
            ),
            VendorValidationError,
            "card_declined",
        ),
    ],
)
def test_classify_stripe_error(
    exc: stripe.StripeError, cls: type[VendorError], code: str | None
) -> None:
    classified = classify_stripe_error(exc)
    assert type(classified) is cls
    assert classified.vendor_code == code
    assert classified.status == exc.http_status


def test_validation_error_names_the_param() -> None:
    exc = _err(
        stripe.InvalidRequestError,
        400,
        {
            "type": "invalid_request_error",
            "message": "Received unknown parameter: foo",
            "param": "foo",
        },
    )
    assert "(param: foo)" in classify_stripe_error(exc).message


def test_rate_limit_reads_retry_after_case_insensitively() -> None:
    exc = _err(
        stripe.RateLimitError, 429, {"type": "invalid_request_error"}, headers={"Retry-After": "7"}
    )
    classified = classify_stripe_error(exc)
    assert isinstance(classified, VendorRateLimited)
    assert classified.retry_after == 7.0
    no_header = _err(stripe.RateLimitError, 429, {"type": "invalid_request_error"})
    assert classify_stripe_error(no_header).retry_after is None  # type: ignore[attr-defined]


def test_messages_are_cleaned() -> None:
    exc = _err(stripe.AuthenticationError, 401, {"message": f"Invalid API Key provided: {KEY}"})
    classified = classify_stripe_error(exc, lambda text: text.replace(KEY, "***"))
    assert KEY not in str(classified) and "***" in classified.message


# --- the connector over a stub transport: the real SDK, no network --------------------------


class FakeStripe:
    """Just enough of Stripe for the connector: lists, events, balance, canned failures."""

    def __init__(self) -> None:
        self.now = int(time.time())
        self.customers = [self.customer(i) for i in range(7, 0, -1)]  # newest first
        self.events: list[dict[str, Any]] = []  # newest first
        self.requests: list[httpx.Request] = []
        self.override: Callable[[httpx.Request], httpx.Response] | None = None

    def customer(self, i: int, **extra: Any) -> dict[str, Any]:
        return {
            "id": f"cus_{i:03d}",
            "object": "customer",
            "created": self.now - 1000 + i,
            "email": f"c{i}@example.org",
            "metadata": {"n": str(i)},
            **extra,
        }

    def event(self, type_: str, obj: dict[str, Any], created: int) -> None:
        evt = {
            "id": f"evt_{len(self.events):04d}",
            "object": "event",
            "type": type_,
            "created": created,
            "data": {"object": obj},
        }
        self.events.insert(0, evt)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.override is not None:
            return self.override(request)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return httpx.Response(
                401,
                json={
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided: sk_test_****abcd",
                    }
                },
            )
        query = dict(parse_qsl(request.url.query.decode()))
        path = request.url.path
        if path == "/v1/balance":
            return httpx.Response(
                200,
                json={
                    "object": "balance",
                    "livemode": False,
                    "available": [
                        {"amount": 0, "currency": "aud"},
                        {"amount": 5, "currency": "usd"},
                    ],
                },
            )
        if path == "/v1/customers":
            return self.listing(self.customers, query)
        if path == "/v1/events":
            types = {v for k, v in query.items() if k.startswith("types[")}
            gt = int(query.get("created[gt]", 0))
            events = [e for e in self.events if e["type"] in types and e["created"] > gt]
            return self.listing(events, query)
        return httpx.Response(
            404, json={"error": {"type": "invalid_request_error", "code": "resource_missing"}}
        )

    @staticmethod
    def listing(items: list[dict[str, Any]], query: dict[str, str]) -> httpx.Response:
        limit = int(query.get("limit", 10))
        start = 0
        if "starting_after" in query:
            start = next(i for i, o in enumerate(items) if o["id"] == query["starting_after"]) + 1
        data = items[start : start + limit]
        body = {
            "object": "list",
            "url": "/v1/x",
            "has_more": start + limit < len(items),
            "data": data,
        }
        return httpx.Response(200, json=body)


def _stub_ctx(
    fake: Callable[[httpx.Request], httpx.Response], calls: list[VendorCall], key: str = KEY
) -> ConnectorContext:
    async def audit(call: VendorCall) -> None:
        calls.append(call)

    return ConnectorContext(
        integration_id="int_stub",
        base_url="http://stripe.stub/",
        config={},
        credentials={"access_token": key},
        http=httpx.AsyncClient(transport=httpx.MockTransport(fake)),
        audit=audit,
        page_size=3,
    )


async def _pages(conn: StripeConnector, request: ReadRequest) -> list[Page]:
    return [page async for page in conn.read(request)]


async def test_stub_test_connection_and_audit() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    result = await StripeConnector(_stub_ctx(fake, calls)).test_connection()
    assert result.success and result.message == "Connected to Stripe (test mode)"
    assert result.details == {"livemode": False, "available_currencies": ["aud", "usd"]}
    request = fake.requests[0]
    assert request.method == "GET" and str(request.url) == "http://stripe.stub/v1/balance"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "stripe-version" in request.headers
    assert len(calls) == 1 and calls[0].status == 200 and KEY not in repr(calls[0])


async def test_stub_wrong_key_is_a_failed_test_with_stripes_message() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    result = await StripeConnector(_stub_ctx(fake, calls, key="sk_test_wrong")).test_connection()
    assert not result.success
    assert result.message == "Invalid API Key provided: sk_test_****abcd"
    assert len(fake.requests) == 1  # the SDK did not retry


async def test_stub_missing_key_is_a_failed_test() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    result = await StripeConnector(_stub_ctx(fake, calls, key="")).test_connection()
    assert not result.success and "secret key" in result.message
    assert fake.requests == []


@pytest.mark.parametrize(
    ("response", "cls", "retry_after"),
    [
        (
            httpx.Response(200, text="<html>proxy</html>", headers={"content-type": "text/html"}),
            VendorMalformedResponse,
            None,
        ),
        (httpx.Response(200, json=[1, 2]), VendorMalformedResponse, None),
        (
            httpx.Response(200, json={"object": "list", "data": "nope"}),
            VendorMalformedResponse,
            None,
        ),
        (
            httpx.Response(400, json={"message": "not stripe's shape"}),
            VendorMalformedResponse,
            None,
        ),
        (httpx.Response(502, text="Bad gateway"), VendorUnavailable, None),
        (
            httpx.Response(429, text="slow down", headers={"retry-after": "3"}),
            VendorRateLimited,
            3.0,
        ),
        (
            httpx.Response(
                429,
                json={
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit",
                        "message": "Too many",
                    }
                },
                headers={"Retry-After": "2"},
            ),
            VendorRateLimited,
            2.0,
        ),
        (
            httpx.Response(500, json={"error": {"type": "api_error", "message": "oops"}}),
            VendorUnavailable,
            None,
        ),
    ],
)
async def test_stub_bad_answers_are_classified(
    response: httpx.Response, cls: type[VendorError], retry_after: float | None
) -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    fake.override = lambda _request: response
    with pytest.raises(cls) as info:
        await _pages(StripeConnector(_stub_ctx(fake, calls)), ReadRequest(resource="customers"))
    if retry_after is not None:
        assert info.value.retry_after == retry_after  # type: ignore[attr-defined]
    assert "<html>" not in str(info.value)
    assert len(fake.requests) == 1 and len(calls) == 1  # no SDK retries, audited once


async def test_stub_transport_failure_is_unavailable_and_audited() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake.override = refuse
    with pytest.raises(VendorUnavailable):
        await _pages(StripeConnector(_stub_ctx(fake, calls)), ReadRequest(resource="customers"))
    assert len(fake.requests) == 1
    assert len(calls) == 1 and calls[0].status is None and "ConnectError" in (calls[0].error or "")


def created_of(pages: list[Page]) -> set[Any]:
    """The checkpoints' Stripe-side watermark (`at` is our clock, checked separately)."""
    return {(p.checkpoint or {}).get("created") for p in pages}


def at_is_now(pages: list[Page], before: int) -> bool:
    return all(before <= (p.checkpoint or {})["at"] <= time.time() for p in pages)


async def test_stub_full_read_pages_resumes_and_checkpoints() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    conn = StripeConnector(_stub_ctx(fake, calls))
    before = int(time.time())
    pages = await _pages(conn, ReadRequest(resource="customers"))
    ids = [r.vendor_id for p in pages for r in p.records]
    assert ids == [c["id"] for c in fake.customers]
    # no events yet: the watermark is the newest object's created, on Stripe's clock
    checkpoint = pages[0].checkpoint
    assert created_of(pages) == {fake.customers[0]["created"]} and at_is_now(pages, before)
    assert [p.cursor for p in pages] == [
        {"starting_after": "cus_005", "checkpoint": checkpoint},
        {"starting_after": "cus_002", "checkpoint": checkpoint},
        None,
    ]
    assert [p.api_calls for p in pages] == [2, 1, 1]  # the events probe, then one list per page
    assert fake.requests[0].url.path == "/v1/events" and "limit=1" in str(fake.requests[0].url)
    assert "limit=3" in str(fake.requests[1].url)
    record = pages[0].records[0]
    assert record.model == "customers" and record.modified_at is None and not record.deleted
    assert record.raw == fake.customers[0] and type(record.raw) is dict
    assert isinstance(record.data, Customer) and record.data.metadata == {"n": "7"}

    rest = await _pages(conn, ReadRequest(resource="customers", cursor=pages[0].cursor))
    assert [r.vendor_id for p in rest for r in p.records] == ids[3:]
    assert [p.checkpoint for p in rest] == [checkpoint, checkpoint]
    assert [p.api_calls for p in rest] == [1, 1]  # no probe on a resumed read


async def test_stub_incremental_dedupes_flags_deletions_and_moves_the_checkpoint() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    since = fake.now - 600
    c1, c2, c3 = fake.customers[0], fake.customers[1], fake.customers[2]
    fake.event("customer.updated", {**c1, "email": "old@example.org"}, since - 5)  # before
    fake.event("customer.updated", {**c1, "email": "first@example.org"}, since + 1)
    fake.event(
        "customer.subscription.updated", {"id": "sub_1", "object": "subscription"}, since + 2
    )
    fake.event("customer.updated", {**c2, "email": "x@example.org"}, since + 3)
    fake.event("customer.updated", {**c1, "email": "newest@example.org"}, since + 4)
    fake.event("customer.deleted", {**c3}, since + 5)
    conn = StripeConnector(_stub_ctx(fake, calls))
    before = int(time.time())
    request = ReadRequest(
        resource="customers", mode="incremental", checkpoint={"created": since, "at": before}
    )
    pages = await _pages(conn, request)
    records = [r for p in pages for r in p.records]
    assert [(r.vendor_id, r.modified_at) for r in records] == [
        (c3["id"], ts(since + 5)),
        (c1["id"], ts(since + 4)),
        (c2["id"], ts(since + 3)),
    ]
    assert records[0].raw["deleted"] is True and records[0].deleted
    assert "deleted" not in records[1].raw and not records[1].deleted
    assert records[1].data.email == "newest@example.org"  # type: ignore[attr-defined]
    assert created_of(pages) == {since + 5} and at_is_now(pages, before)
    assert pages[-1].cursor is None and [p.api_calls for p in pages] == [1, 1]
    query = dict(parse_qsl(fake.requests[0].url.query.decode()))
    assert query["created[gt]"] == str(since)
    assert {v for k, v in query.items() if k.startswith("types[")} == set(
        STREAMS["customers"].event_types
    )

    # resuming after the first page continues with the same checkpoint
    resumed = await _pages(conn, ReadRequest(**{**request.__dict__, "cursor": pages[0].cursor}))
    assert [p.checkpoint for p in resumed] == [pages[0].checkpoint]
    # The in-read dedupe does not survive a resume: the older c1 version comes again, stamped
    # with its older event time, so a store that keeps the newest version drops it.
    assert pages[1].records == []
    assert [(r.vendor_id, r.modified_at) for p in resumed for r in p.records] == [
        (c1["id"], ts(since + 1))
    ]

    # nothing new: no records; the same `created`, a fresh `at` (a quiet resource never expires)
    old_at = before - EVENT_RETENTION_S + 7200
    quiet = await _pages(
        conn,
        ReadRequest(
            resource="customers",
            mode="incremental",
            checkpoint={"created": since + 5, "at": old_at},
        ),
    )
    assert [p.records for p in quiet] == [[]]
    assert created_of(quiet) == {since + 5} and at_is_now(quiet, before)


async def test_stub_incremental_trusts_at_not_created() -> None:
    # a Stripe timeline far in the past (the sandbox's) is fine when `at` is recent
    fake, calls = FakeStripe(), list[VendorCall]()
    fake.event("customer.updated", fake.customers[0], 1_600_000_100)
    pages = await _pages(
        StripeConnector(_stub_ctx(fake, calls)),
        ReadRequest(
            resource="customers",
            mode="incremental",
            checkpoint={"created": 1_600_000_000, "at": int(time.time()) - 3600},
        ),
    )
    assert [r.vendor_id for p in pages for r in p.records] == [fake.customers[0]["id"]]
    assert created_of(pages) == {1_600_000_100}


@pytest.mark.parametrize(
    "checkpoint", [None, {"created": "garbage"}, "old created, no at", "old at"]
)
async def test_stub_incremental_without_usable_checkpoint_reads_fully(checkpoint: Any) -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    if checkpoint == "old created, no at":
        checkpoint = {"created": fake.now - EVENT_RETENTION_S - 1}
    elif checkpoint == "old at":
        checkpoint = {"created": fake.now - 60, "at": fake.now - EVENT_RETENTION_S + 3000}
    fake.event("customer.updated", fake.customers[0], fake.now - 50)
    fake.event("invoice.paid", {"id": "in_1", "object": "invoice"}, fake.now - 10)
    conn = StripeConnector(_stub_ctx(fake, calls))
    request = ReadRequest(resource="customers", mode="incremental", checkpoint=checkpoint)
    pages = await _pages(conn, request)
    assert [r.vendor_id for p in pages for r in p.records] == [c["id"] for c in fake.customers]
    assert all(r.modified_at is None for p in pages for r in p.records)
    assert created_of(pages) == {fake.now - 50}  # the newest *customer* event
    assert [p.api_calls for p in pages] == [2, 1, 1] and len(calls) == 4

    resumed = await _pages(conn, ReadRequest(**{**request.__dict__, "cursor": pages[1].cursor}))
    assert [r.vendor_id for p in resumed for r in p.records] == ["cus_001"]
    assert [p.checkpoint for p in resumed] == [pages[0].checkpoint]


async def test_stub_empty_account_checkpoints_our_clock() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    fake.customers = []
    before = int(time.time())
    pages = await _pages(
        StripeConnector(_stub_ctx(fake, calls)),
        ReadRequest(resource="customers", mode="incremental"),
    )
    assert [p.records for p in pages] == [[]] and pages[0].cursor is None
    checkpoint = pages[0].checkpoint or {}
    assert before <= checkpoint["created"] == checkpoint["at"] <= time.time()


async def test_unknown_resource_is_a_config_error() -> None:
    fake, calls = FakeStripe(), list[VendorCall]()
    with pytest.raises(VendorError, match="no resource"):
        await _pages(StripeConnector(_stub_ctx(fake, calls)), ReadRequest(resource="charges"))


# --- loopback: the sandbox's Stripe emulator ------------------------------------------------

SANDBOX_KEY = "sk_test_sandbox_key"
RESTRICTED_KEY = "rk_test_sandbox_restricted"
KINDS = {
    "customers": "customer",
    "invoices": "invoice",
    "payment_intents": "payment_intent",
    "subscriptions": "subscription",
}
MAPPERS: dict[str, Callable[[Any], Any]] = {
    "customers": map_customer,
    "invoices": map_invoice,
    "payment_intents": map_payment_intent,
    "subscriptions": map_subscription,
}


@pytest.fixture(scope="module")
def sandbox_server() -> Any:
    server_module = pytest.importorskip("sandbox.server", reason="sandbox/server.py not available")
    with server_module.SandboxServer(port=0) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Any) -> Any:
    sandbox_server.state.reset()
    sandbox_server.state.stripe.rate_limit_per_second = 0
    sandbox_server.state.stripe.configure(seed=7, size=230)
    return sandbox_server


class Loop:
    """One connector against the sandbox with its audit trail."""

    def __init__(self, server: Any, key: str = SANDBOX_KEY, page_size: int | None = None) -> None:
        self.calls: list[VendorCall] = []

        async def audit(call: VendorCall) -> None:
            self.calls.append(call)

        self.http = httpx.AsyncClient()
        self.ctx = ConnectorContext(
            integration_id="int_loop",
            base_url=f"{server.url}/stripe",
            config={},
            credentials={"access_token": key, "webhook_secret": "whsec_loopback_secret"},
            http=self.http,
            audit=audit,
            page_size=page_size,
        )
        self.conn = StripeConnector(self.ctx)

    async def pages(self, **request: Any) -> list[Page]:
        return [page async for page in self.conn.read(ReadRequest(**request))]

    async def __aenter__(self) -> Loop:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()


def expected_objects(resource: str, seed: int = 7, size: int = 230) -> list[dict[str, Any]]:
    from sandbox.stripe_data import StripeDataset

    ds = StripeDataset(
        seed, customers=size, invoices=size, payment_intents=size, subscriptions=size // 2
    )
    kind = KINDS[resource]
    return [ds.build(kind, i) for i in range(ds.size(kind) - 1, -1, -1)]


async def test_sandbox_test_connection_ok(sandbox: Any) -> None:
    async with Loop(sandbox) as loop:
        result = await loop.conn.test_connection()
    balance = sandbox.state.stripe.dataset.balance()
    assert result.success, result.message
    assert result.message == "Connected to Stripe (test mode)"
    assert result.details == {
        "livemode": False,
        "available_currencies": sorted({a["currency"] for a in balance["available"]}),
    }
    assert [(c.method, c.status) for c in loop.calls] == [("GET", 200)]
    assert loop.calls[0].url == f"{sandbox.url}/stripe/v1/balance"


async def test_sandbox_wrong_key_fails_with_stripes_message(sandbox: Any) -> None:
    wrong = "sk_test_not_the_right_key_9876"
    async with Loop(sandbox, key=wrong) as loop:
        result = await loop.conn.test_connection()
    assert not result.success
    assert result.message.startswith("Invalid API Key provided: sk_test_****")
    assert result.message.endswith("9876") and wrong not in result.message
    assert sandbox.state.stripe.counters.requests == 1  # no SDK retry


async def test_sandbox_restricted_key_fails_with_permission_message(sandbox: Any) -> None:
    async with Loop(sandbox, key=RESTRICTED_KEY) as loop:
        result = await loop.conn.test_connection()
    assert not result.success
    assert "does not have the required permissions" in result.message
    assert "rak_balance_read" in result.message
    assert [c.status for c in loop.calls] == [403]


async def test_sandbox_key_without_event_access_reads_fully_without_checkpoint(
    sandbox: Any,
) -> None:
    key = "rk_test_customers_only_5678"
    sandbox.state.stripe.restricted_keys[key] = {"rak_customer_read"}
    async with Loop(sandbox, key=key) as loop:
        pages = await loop.pages(resource="customers")
        with pytest.raises(VendorPermissionError):
            await loop.pages(resource="invoices")
    assert sum(len(p.records) for p in pages) == 230
    assert all(p.checkpoint is None for p in pages)
    assert [c.status for c in loop.calls] == [403, 200, 200, 200, 403, 403]


@pytest.mark.parametrize("resource", list(KINDS))
async def test_sandbox_full_read_equals_the_dataset(sandbox: Any, resource: str) -> None:
    async with Loop(sandbox) as loop:
        pages = await loop.pages(resource=resource)
    expected = expected_objects(resource)
    records = [r for p in pages for r in p.records]
    ids = [r.vendor_id for r in records]
    assert len(ids) == len(set(ids)) == len(expected)
    assert ids == [o["id"] for o in expected]
    assert [r.raw for r in records] == json.loads(json.dumps(expected))
    assert all(r.model == SPEC.resource(resource).model and r.modified_at is None for r in records)
    assert [r.data for r in records] == [MAPPERS[resource](o) for o in expected]
    assert len(pages) == -(-len(expected) // 100)  # limit 100 by default
    checkpoint = pages[0].checkpoint
    assert [p.cursor for p in pages[:-1]] == [
        {"starting_after": p.records[-1].vendor_id, "checkpoint": checkpoint} for p in pages[:-1]
    ]
    assert pages[-1].cursor is None and all(p.checkpoint == checkpoint for p in pages)
    # no events in the sandbox yet: the watermark is the newest object's created
    assert checkpoint is not None and checkpoint["created"] == expected[0]["created"]
    assert sum(p.api_calls for p in pages) == len(loop.calls) == len(pages) + 1  # + events probe
    if resource == "subscriptions":  # status=all: canceled ones are listed too
        assert "canceled" in {r.raw["status"] for r in records}


async def test_sandbox_resume_from_a_mid_cursor_yields_exactly_the_rest(sandbox: Any) -> None:
    async with Loop(sandbox, page_size=40) as loop:
        pages = await loop.pages(resource="invoices")
        assert len(pages) == 6
        rest = await loop.pages(resource="invoices", cursor=pages[2].cursor)
    all_ids = [r.vendor_id for p in pages for r in p.records]
    assert [r.vendor_id for p in rest for r in p.records] == all_ids[120:]
    assert [p.cursor for p in rest] == [p.cursor for p in pages[3:]]


async def test_sandbox_429_is_rate_limited_with_retry_after(sandbox: Any) -> None:
    sandbox.state.stripe.set_faults(rate_429=1.0, retry_after_s=3)
    async with Loop(sandbox) as loop:
        with pytest.raises(VendorRateLimited) as info:
            await loop.pages(resource="customers")
    assert info.value.retry_after == 3.0
    assert info.value.status == 429 and info.value.vendor_code == "rate_limit"
    assert sandbox.state.stripe.counters.requests == 1


async def test_sandbox_real_rate_limit_is_rate_limited(sandbox: Any) -> None:
    sandbox.state.stripe.rate_limit_per_second = 2
    async with Loop(sandbox, page_size=5) as loop:
        with pytest.raises(VendorRateLimited) as info:
            await loop.pages(resource="customers")
    assert info.value.retry_after == 1.0
    assert [c.status for c in loop.calls][-1] == 429


async def test_sandbox_500_is_unavailable(sandbox: Any) -> None:
    sandbox.state.stripe.set_faults(error_rate=1.0)
    async with Loop(sandbox) as loop:
        with pytest.raises(VendorUnavailable) as info:
            await loop.pages(resource="payment_intents")
    assert info.value.status == 500
    assert [c.status for c in loop.calls] == [500]
    assert sandbox.state.stripe.counters.requests == 1  # the SDK did not retry the 500


async def test_sandbox_dropped_connection_is_unavailable(sandbox: Any) -> None:
    sandbox.state.stripe.set_faults(drop_rate=1.0)
    async with Loop(sandbox) as loop:
        with pytest.raises(VendorUnavailable):
            await loop.pages(resource="subscriptions")
        result_error: VendorError | None = None
        try:
            await loop.conn.test_connection()
        except VendorError as exc:
            result_error = exc
    assert isinstance(result_error, VendorUnavailable)  # transient: raised, not success=False
    assert [c.status for c in loop.calls] == [None, None]
    assert all("transport" in (c.error or "") for c in loop.calls)
    assert sandbox.state.stripe.counters.requests == 2


async def test_sandbox_every_call_is_audited_without_secrets(sandbox: Any) -> None:
    async with Loop(sandbox) as loop:
        await loop.conn.test_connection()
        pages = []
        for resource in KINDS:
            pages += await loop.pages(resource=resource)
        pages += await loop.pages(resource="customers", mode="incremental")
    assert len(loop.calls) == sandbox.state.stripe.counters.requests
    assert len(loop.calls) == 1 + sum(p.api_calls for p in pages)
    for call in loop.calls:
        text = repr(call)
        assert SANDBOX_KEY not in text and "whsec_loopback_secret" not in text
        assert call.url.startswith(f"{sandbox.url}/stripe/v1/") and call.status == 200
        assert call.duration_ms >= 0
    urls = [c.url for c in loop.calls]
    assert any("status=all" in u for u in urls) and any("/v1/events?" in u for u in urls)


async def test_sandbox_full_then_incremental_returns_exactly_the_changes(sandbox: Any) -> None:
    stripe_state = sandbox.state.stripe
    async with Loop(sandbox) as loop:
        first = await loop.pages(resource="customers")  # a full sync leaves a checkpoint too
        checkpoint = first[-1].checkpoint
        assert checkpoint is not None and all(p.checkpoint == checkpoint for p in first)

        updated = stripe_state.update_customers(6)
        created = stripe_state.create_customers(3)
        deleted = stripe_state.delete_customers([updated[0], created[0]])
        updated_again = stripe_state.update_customers(2)
        changed = set(updated) | set(created) | set(updated_again)
        events = stripe_state.dataset.events()

        pages = await loop.pages(resource="customers", mode="incremental", checkpoint=checkpoint)
        records = [r for p in pages for r in p.records]
        assert sorted(r.vendor_id for r in records) == sorted(changed)  # each once
        newest = {}
        for event in events:  # oldest first: the last event of an object wins
            newest[event["data"]["object"]["id"]] = event
        for record in records:
            event = newest[record.vendor_id]
            assert record.modified_at == ts(event["created"])
            assert record.deleted is (record.vendor_id in deleted)
            assert record.raw.get("deleted") is (True if record.deleted else None)
            if not record.deleted:
                assert record.raw == event["data"]["object"]
        assert created_of(pages) == {events[-1]["created"]}
        assert events[-1]["created"] > checkpoint["created"]

        # a repeat run sees nothing new; the invoices saw no events at all
        again = await loop.pages(
            resource="customers", mode="incremental", checkpoint=pages[-1].checkpoint
        )
        invoices = await loop.pages(resource="invoices", mode="incremental", checkpoint=checkpoint)
    assert [p.records for p in again] == [[]] and created_of(again) == created_of(pages)
    assert [p.records for p in invoices] == [[]]
    assert created_of(invoices) == {checkpoint["created"]}


async def test_sandbox_incremental_pages_and_resumes_over_events(sandbox: Any) -> None:
    stripe_state = sandbox.state.stripe
    async with Loop(sandbox) as loop:
        first = await loop.pages(resource="customers", mode="incremental")
        assert sum(len(p.records) for p in first) == 230  # no checkpoint yet: a full read
        checkpoint = first[-1].checkpoint
        loop.ctx.page_size = 4
        changed = set(stripe_state.update_customers(10))
        pages = await loop.pages(resource="customers", mode="incremental", checkpoint=checkpoint)
        assert len(pages) == 3 and pages[0].cursor is not None
        resumed = await loop.pages(
            resource="customers", mode="incremental", checkpoint=checkpoint, cursor=pages[0].cursor
        )
    assert {r.vendor_id for p in pages for r in p.records} == changed
    assert [r.vendor_id for p in resumed for r in p.records] == [
        r.vendor_id for p in pages[1:] for r in p.records
    ]
    assert all(p.checkpoint == pages[0].checkpoint for p in resumed)


async def test_sandbox_expired_checkpoint_falls_back_to_a_full_read(sandbox: Any) -> None:
    stripe_state = sandbox.state.stripe
    stripe_state.update_customers(2)
    newest = stripe_state.dataset.events()[-1]["created"]
    async with Loop(sandbox) as loop:
        old = {"created": newest - 5, "at": int(time.time()) - EVENT_RETENTION_S - 10}
        pages = await loop.pages(resource="customers", mode="incremental", checkpoint=old)
    assert sum(len(p.records) for p in pages) == 230
    assert created_of(pages) == {newest}
    assert all(r.modified_at is None for p in pages for r in p.records)
