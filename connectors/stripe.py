"""Stripe (AU): customers, invoices, payment intents and subscriptions through the official SDK.

Contract (see `connectors.base`): `test_connection` makes one `GET /v1/balance`; `read` yields
pages of unified records with a resume cursor, and in incremental mode a checkpoint.

Transport: `stripe.StripeClient` with SDK retries off (Temporal retries) and an `HTTPClient`
subclass that sends every request through `VendorHttp.send` on the worker's shared httpx client,
so each call is timed and audited with a redacted URL, and transport failures raise
`VendorUnavailable` (the SDK only catches its own `APIConnectionError`, so ours pass through).
SDK exceptions are translated once, by `classify_stripe_error`.

Stripe facts relied on (docs.stripe.com/api, vendors.md section 1):
- Lists are newest first, `limit` 1-100, paged by `starting_after=<last id>` while `has_more`.
  Subscriptions are listed with `status=all`, otherwise canceled ones are left out.
- Objects have `created` but no updated timestamp and lists have no modified-since filter, so
  full reads carry `modified_at=None`; incremental reads use the events feed.
- `/v1/events` (newest first, filters `types[]` of up to 20 exact names, `created[gt]`) keeps
  events for 30 days only. Each event's `data.object` is the object as of the event, rendered
  in the event's API version, so mappings accept old and new shapes (`PaymentIntent.invoice`
  and `Subscription.current_period_*` are gone in newer versions; the periods moved to items).
- `customer.deleted` and `invoice.deleted` (drafts) mean the object is gone; the connector
  returns it as `Record(deleted=True)` (and `raw["deleted"] = True`, as Stripe's own deleted
  stubs have), which the store soft-deletes.
  `customer.subscription.deleted` means *canceled*: the subscription still exists with
  `status=canceled`, so it is an ordinary update.
- Errors: `{"error": {type, code, message, param}}`; 429 (also `lock_timeout`) with Retry-After.
  Messages mask keys (`sk_test_****abcd`); they are still passed through `VendorHttp.clean`.

Cursors and checkpoints (a checkpoint is `{"created": T, "at": A}`: T on Stripe's clock, the
`created[gt]` filter of the next incremental read; A on ours, when it was taken):
- Full read (and incremental read without a usable checkpoint): first the newest event of the
  resource's types is probed; every page carries the checkpoint T = that event's `created`, else
  the newest object's `created` (first of the first page), else our current unix time, with
  A = our time before the probe. Anything that changes after its page was read gets a later
  event, so the next incremental read sees it. Cursor:
  `{"starting_after": <last id of the page>, "checkpoint": ...}`; a resumed read continues just
  after the last committed page, with the same checkpoint. Records have `modified_at=None`.
- Incremental read with a usable checkpoint: the events of the resource's types with
  `created > T`, newest first; one record per object (its newest event wins within a read),
  `modified_at` = the event's `created`, so a store keeping the newest version drops the older
  copies a resumed read may yield again. Pages carry `{"created": newest event's created (T if
  none), "at": our time at the start}`, so a quiet resource never ages out. Cursor:
  `{"phase": "events", "starting_after": <evt id>, "since": T, "checkpoint": ...}`.
- Usable: taken less than 30 days (less an hour's margin) ago by `at`; Stripe deletes older
  events, so an older checkpoint (or none: the first run) means a full read instead. Retention
  is never judged by comparing Stripe's `created` with our clock (skew; the sandbox's timeline
  lies in the past); a checkpoint without `at` is judged by its `created`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic
import stripe

from connectors.base import (
    Connector,
    ConnectorContext,
    ConnectorSpec,
    Cursor,
    FieldSpec,
    Page,
    ReadRequest,
    Record,
    ResourceSpec,
    TestResult,
)
from connectors.errors import (
    ConnectorConfigError,
    VendorAuthError,
    VendorError,
    VendorMalformedResponse,
    VendorNotFoundError,
    VendorPermissionError,
    VendorRateLimited,
    VendorUnavailable,
    VendorValidationError,
)
from connectors.http import VendorHttp, classify_status, epoch_to_datetime, parse_retry_after
from connectors.models import Customer, Invoice, Payment, Subscription, Unified
from connectors.paging import after_id_pages

# The SDK's telemetry (on by default) writes an id file under ~/.config/stripe and sends the host's
# platform string and previous request timings in headers. A worker has no use for either.
stripe.enable_telemetry = False

PAGE_LIMIT = 100  # Stripe's maximum `limit`
EVENT_RETENTION_S = 30 * 24 * 3600  # /v1/events returns the last 30 days only
RETENTION_MARGIN_S = 3600  # fall back to a full read an hour before events could expire


def _resource(name: str, model: str, description: str) -> ResourceSpec:
    return ResourceSpec(
        name=name,
        model=model,
        paginator="starting_after/has_more, limit 100",
        record_path="data",
        incremental="events feed (/v1/events, created[gt])",
        description=description,
    )


SPEC = ConnectorSpec(
    type_id="stripe",
    display_name="Stripe (AU)",
    category="payments",
    auth_kind="api_key",
    default_base_url="https://api.stripe.com",
    credential_fields=[
        FieldSpec(
            name="access_token", label="Secret key (sk_live_… / sk_test_… / rk_…)", secret=True
        ),
        FieldSpec(
            name="webhook_secret",
            label="Webhook signing secret (whsec_…)",
            secret=True,
            required=False,
        ),
    ],
    resources=[
        _resource("customers", "customers", "GET /v1/customers"),
        _resource("invoices", "invoices", "GET /v1/invoices"),
        _resource("payment_intents", "payments", "GET /v1/payment_intents"),
        _resource(
            "subscriptions",
            "subscriptions",
            "GET /v1/subscriptions?status=all (canceled ones included)",
        ),
    ],
    docs="https://docs.stripe.com/api",
)


# --- mappings: plain Stripe dicts (either API version) to unified models --------------------


def _id_of(value: Any) -> str | None:
    """An id field that may be expanded: `"cus_1"` or `{"id": "cus_1", ...}`."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) else None
    return None


def _metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def map_customer(obj: Mapping[str, Any]) -> Customer:
    address = obj.get("address")
    return Customer(
        name=obj.get("name"),
        email=obj.get("email"),
        phone=obj.get("phone"),
        currency=obj.get("currency"),
        balance=obj.get("balance"),
        delinquent=obj.get("delinquent"),
        description=obj.get("description"),
        address=dict(address) if isinstance(address, Mapping) else None,
        metadata=_metadata(obj.get("metadata")),
        created_at=epoch_to_datetime(obj.get("created")),
    )


def map_invoice(obj: Mapping[str, Any]) -> Invoice:
    return Invoice(
        number=obj.get("number"),
        customer_id=_id_of(obj.get("customer")),
        customer_email=obj.get("customer_email"),
        status=obj.get("status"),
        currency=obj.get("currency"),
        amount_due=obj.get("amount_due"),
        amount_paid=obj.get("amount_paid"),
        amount_remaining=obj.get("amount_remaining"),
        subtotal=obj.get("subtotal"),
        total=obj.get("total"),
        due_at=epoch_to_datetime(obj.get("due_date")),
        period_start=epoch_to_datetime(obj.get("period_start")),
        period_end=epoch_to_datetime(obj.get("period_end")),
        hosted_url=obj.get("hosted_invoice_url"),
        metadata=_metadata(obj.get("metadata")),
        created_at=epoch_to_datetime(obj.get("created")),
    )


def map_payment_intent(obj: Mapping[str, Any]) -> Payment:
    return Payment(
        amount=obj.get("amount"),
        amount_received=obj.get("amount_received"),
        currency=obj.get("currency"),
        customer_id=_id_of(obj.get("customer")),
        invoice_id=_id_of(obj.get("invoice")),  # absent in newer API versions
        status=obj.get("status"),
        description=obj.get("description"),
        payment_method_id=_id_of(obj.get("payment_method")),
        metadata=_metadata(obj.get("metadata")),
        created_at=epoch_to_datetime(obj.get("created")),
    )


def _items(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = obj.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    return [i for i in data if isinstance(i, Mapping)] if isinstance(data, list) else []


def map_subscription(obj: Mapping[str, Any]) -> Subscription:
    items = _items(obj)
    # Newer API versions moved current_period_* from the subscription to its items.
    period_source: Mapping[str, Any] = obj
    if obj.get("current_period_start") is None and items:
        period_source = items[0]
    return Subscription(
        customer_id=_id_of(obj.get("customer")),
        status=obj.get("status"),
        currency=obj.get("currency"),
        current_period_start=epoch_to_datetime(period_source.get("current_period_start")),
        current_period_end=epoch_to_datetime(period_source.get("current_period_end")),
        cancel_at_period_end=obj.get("cancel_at_period_end"),
        canceled_at=epoch_to_datetime(obj.get("canceled_at")),
        items=[
            {
                "id": item.get("id"),
                "price_id": _id_of(item.get("price")) or _id_of(item.get("plan")),
                "quantity": item.get("quantity"),
            }
            for item in items
        ],
        metadata=_metadata(obj.get("metadata")),
        created_at=epoch_to_datetime(obj.get("created")),
    )


# --- the four streams --------------------------------------------------------------------


@dataclass(frozen=True)
class StripeStream:
    """How one resource is listed, which events change it, and how it maps."""

    service: str  # list path under /v1/
    object: str  # Stripe's `object` value
    model: str
    mapper: Callable[[Mapping[str, Any]], Unified]
    event_types: tuple[str, ...]  # exact names: `types[]` takes no wildcards, at most 20
    deleting_events: frozenset[str] = frozenset()
    list_params: Mapping[str, Any] = field(default_factory=dict)


def _events(prefix: str, names: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{name}" for name in names.split())


STREAMS: dict[str, StripeStream] = {
    "customers": StripeStream(
        service="customers",
        object="customer",
        model="customers",
        mapper=map_customer,
        # not "customer.*": that also matches customer.subscription.*, customer.source.*, ...
        event_types=("customer.created", "customer.updated", "customer.deleted"),
        deleting_events=frozenset({"customer.deleted"}),
    ),
    "invoices": StripeStream(
        service="invoices",
        object="invoice",
        model="invoices",
        mapper=map_invoice,
        # invoice.upcoming is left out: its object is a preview without an id.
        event_types=_events(
            "invoice",
            "created deleted finalization_failed finalized marked_uncollectible overdue overpaid"
            " paid payment_action_required payment_attempt_required payment_failed"
            " payment_succeeded sent updated voided will_be_due",
        ),
        deleting_events=frozenset({"invoice.deleted"}),
    ),
    "payment_intents": StripeStream(
        service="payment_intents",
        object="payment_intent",
        model="payments",
        mapper=map_payment_intent,
        event_types=_events(
            "payment_intent",
            "amount_capturable_updated canceled created partially_funded payment_failed"
            " processing requires_action succeeded",
        ),
    ),
    "subscriptions": StripeStream(
        service="subscriptions",
        object="subscription",
        model="subscriptions",
        mapper=map_subscription,
        # customer.subscription.deleted = canceled (status=canceled): an update, not a deletion.
        event_types=_events(
            "customer.subscription",
            "created deleted paused pending_update_applied pending_update_expired resumed"
            " trial_will_end updated",
        ),
        list_params={"status": "all"},
    ),
}


# --- errors ------------------------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def _response_headers(err: stripe.StripeError) -> Any:
    if err.headers:
        return err.headers
    # SDK quirk: its "Invalid response body" APIError passes the headers in the json_body slot.
    if isinstance(err.json_body, Mapping) and not isinstance(err.json_body, dict):
        return err.json_body
    return {}


_RETRYABLE_STATUSES = frozenset({408, 409, 423, 425})


def classify_stripe_error(
    err: stripe.StripeError, clean: Callable[[str], str] = str
) -> VendorError:
    """Translate an SDK exception into the shared classification, keeping Stripe's `code`."""
    status = err.http_status
    code = err.error.code if err.error is not None and err.error.code else err.code
    message = clean(err.user_message or f"Stripe {type(err).__name__}")
    headers = _response_headers(err)

    if isinstance(err, stripe.AuthenticationError):
        return VendorAuthError(message, status=status, vendor_code=code)
    if isinstance(err, stripe.PermissionError):
        return VendorPermissionError(message, status=status, vendor_code=code)
    if isinstance(err, stripe.RateLimitError):
        retry_after = parse_retry_after(_header(headers, "retry-after"))
        return VendorRateLimited(message, retry_after=retry_after, status=status, vendor_code=code)
    if isinstance(err, stripe.IdempotencyError):
        return VendorValidationError(message, status=status, vendor_code=code)
    if isinstance(err, stripe.InvalidRequestError):
        if status == 404 or code == "resource_missing":
            return VendorNotFoundError(message, status=status, vendor_code=code)
        if err.param:
            message = f"{message} (param: {err.param})"
        return VendorValidationError(message, status=status, vendor_code=code)
    if isinstance(err, stripe.CardError):
        return VendorValidationError(message, status=status, vendor_code=code)
    if isinstance(err, stripe.APIConnectionError):
        return VendorUnavailable(message, status=status, vendor_code=code)
    if isinstance(err, stripe.APIError) and err.error is None:
        # The body was not JSON ("Invalid response body from API") or a JSON without an
        # `error` object ("Invalid response object from API"): not Stripe's error format.
        if status == 429:
            retry_after = parse_retry_after(_header(headers, "retry-after"))
            return VendorRateLimited(
                "Stripe answered HTTP 429 with a non-Stripe body", retry_after=retry_after
            )
        if status is None:
            return VendorUnavailable(message)
        if status >= 500 or status in _RETRYABLE_STATUSES:
            return VendorUnavailable(
                f"Stripe answered HTTP {status} with a non-Stripe body", status=status
            )
        ctype = _header(headers, "content-type") or "unknown content type"
        return VendorMalformedResponse(
            f"Stripe answered HTTP {status} with a body that is not a Stripe object ({ctype})",
            status=status,
        )
    if status is not None:
        classified = classify_status(status, code, message, headers if headers else {})
        if classified is not None:
            return classified
    return VendorUnavailable(message, status=status, vendor_code=code)


# --- transport ---------------------------------------------------------------------------


class VendorHttpClient(stripe.HTTPClient):
    """The SDK's HTTP client slot, filled with the worker's audited `VendorHttp`. Async only."""

    name = "connectors.http"

    def __init__(self, http: VendorHttp) -> None:
        super().__init__()
        self.http = http

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        content = post_data.encode() if isinstance(post_data, str) else post_data
        try:
            response = await self.http.send(method.upper(), url, content=content, headers=headers)
        except httpx.DecodingError:
            raise VendorMalformedResponse("Stripe sent an undecodable body") from None
        except httpx.HTTPError as exc:  # what VendorHttp.send does not classify itself
            raise VendorUnavailable(f"calling Stripe failed: {type(exc).__name__}") from None
        except httpx.InvalidURL:
            raise ConnectorConfigError("the Stripe base URL is not a valid URL") from None
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        return None  # the shared httpx client belongs to the worker


# --- the connector -----------------------------------------------------------------------


class StripeConnector(Connector):
    spec = SPEC

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.http = VendorHttp(
            ctx.http,
            ctx.base_url or SPEC.default_base_url or "",
            ctx.audit,
            secrets=list(ctx.credentials.values()),
        )
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            api_key = self.ctx.credentials.get("access_token")
            if not api_key:
                raise ConnectorConfigError("no Stripe secret key (access_token) configured")
            self._client = stripe.StripeClient(
                api_key,
                base_addresses={"api": self.http.base_url},
                max_network_retries=0,  # Temporal retries
                http_client=VendorHttpClient(self.http),
            )
        return self._client

    @property
    def page_size(self) -> int:
        return max(1, min(self.ctx.page_size or PAGE_LIMIT, PAGE_LIMIT))

    async def _call(self, request: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        """Run one SDK call; classified errors out, a plain dict (no StripeObject) back."""
        try:
            result = await request()
        except stripe.StripeError as err:
            raise classify_stripe_error(err, self.http.clean) from None
        if not isinstance(result, stripe.StripeObject):
            raise VendorMalformedResponse(
                f"Stripe answered a {type(result).__name__}, not an object"
            )
        return result.to_dict(recursive=True, for_json=True)

    async def _list(
        self, service: str, params: Mapping[str, Any], after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        query = {**params, "limit": limit}
        if after:
            query["starting_after"] = after
        # raw_request: the SDK's auth, versioning and error classes, but the list comes back
        # as parsed JSON instead of StripeObjects that we would only turn back into dicts
        # (that round trip was 70% of a page's CPU time).
        try:
            response = await self.client.raw_request_async("get", f"/v1/{service}", **query)
        except stripe.StripeError as err:
            raise classify_stripe_error(err, self.http.clean) from None
        try:
            body = json.loads(response.body)  # plain dicts, not the SDK's OrderedDicts
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise VendorMalformedResponse(f"Stripe's {service} list is not a JSON object")
        data, has_more = body.get("data"), body.get("has_more")
        if (
            not isinstance(data, list)
            or not isinstance(has_more, bool)
            or not all(isinstance(o, dict) and isinstance(o.get("id"), str) for o in data)
        ):
            raise VendorMalformedResponse(f"Stripe's {service} list has no data/has_more")
        return data, has_more

    async def test_connection(self) -> TestResult:
        try:
            balance = await self._call(lambda: self.client.v1.balance.retrieve_async())
        except (VendorAuthError, VendorPermissionError, ConnectorConfigError) as exc:
            return TestResult(success=False, message=exc.message)
        livemode = bool(balance.get("livemode"))
        available = balance.get("available")
        currencies = sorted(
            {a["currency"] for a in available if isinstance(a, dict) and a.get("currency")}
            if isinstance(available, list)
            else set()
        )
        return TestResult(
            success=True,
            message=f"Connected to Stripe ({'live' if livemode else 'test'} mode)",
            details={"livemode": livemode, "available_currencies": currencies},
        )

    async def read(self, request: ReadRequest) -> AsyncIterator[Page]:
        stream = STREAMS.get(request.resource)
        if stream is None:
            raise ConnectorConfigError(f"Stripe has no resource {request.resource!r}")
        cursor = request.cursor or {}
        if cursor.get("phase") == "events":
            pages = self._read_events(stream, cursor["since"], cursor)
        elif cursor:
            pages = self._read_full(stream, cursor)
        else:
            since = _usable_checkpoint(request.checkpoint, time.time())
            if request.mode == "incremental" and since is not None:
                pages = self._read_events(stream, since, None)
            else:
                pages = self._read_full(stream, None)
        async for page in pages:
            yield page

    async def _read_full(self, stream: StripeStream, cursor: Cursor | None) -> AsyncIterator[Page]:
        """The whole list; a fresh read first captures the watermark for the next incremental."""

        async def fetch(after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
            return await self._list(stream.service, stream.list_params, after, limit)

        calls = self.http.calls
        checkpoint: Cursor | None = (cursor or {}).get("checkpoint")
        newest_event: int | None = None
        watermark = cursor is None
        if watermark:
            at = int(time.time())
            try:
                newest_event = await self._newest_event_created(stream)
            except VendorPermissionError:
                # A restricted key without event access: full reads only, no checkpoint.
                watermark = False
        async for objects, after in after_id_pages(
            fetch,
            start_after=(cursor or {}).get("starting_after"),
            page_size=self.page_size,
            id_of=lambda o: str(o["id"]),
        ):
            if watermark and checkpoint is None:
                # Stripe's own clock: the newest event, else the newest object (lists are newest
                # first), else ours. Anything that changes after this page was read has a later
                # event, whatever the skew between Stripe's clock and ours.
                newest_object = objects[0].get("created") if objects else None
                created = newest_event if newest_event is not None else newest_object
                checkpoint = {"created": created if isinstance(created, int) else at, "at": at}
            next_cursor: Cursor | None = None
            if after is not None:
                next_cursor = {"starting_after": after, "checkpoint": checkpoint}
            records = [self._record(stream, obj, None) for obj in objects]
            yield Page(records, next_cursor, checkpoint, api_calls=self.http.calls - calls)
            calls = self.http.calls

    async def _newest_event_created(self, stream: StripeStream) -> int | None:
        events, _ = await self._list("events", {"types": list(stream.event_types)}, None, 1)
        created = events[0].get("created") if events else None
        return created if isinstance(created, int) else None

    async def _read_events(
        self, stream: StripeStream, since: int, cursor: Cursor | None
    ) -> AsyncIterator[Page]:
        """Events of the stream's types after `since`, newest first, one record per object."""
        params = {"types": list(stream.event_types), "created": {"gt": since}}

        async def fetch(after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
            return await self._list("events", params, after, limit)

        checkpoint: Cursor = (cursor or {}).get("checkpoint") or {
            "created": since,
            "at": int(time.time()),
        }
        found_newest = cursor is not None
        seen: set[str] = set()
        calls = self.http.calls
        async for events, after in after_id_pages(
            fetch,
            start_after=(cursor or {}).get("starting_after"),
            page_size=self.page_size,
            id_of=lambda e: str(e["id"]),
        ):
            records: list[Record] = []
            for event in events:  # newest first: the first event of an object wins
                created = event.get("created")
                data = event.get("data")
                obj = data.get("object") if isinstance(data, dict) else None
                if not isinstance(created, int) or not isinstance(obj, dict):
                    raise VendorMalformedResponse(f"Stripe event {event['id']} has no data.object")
                if not found_newest:
                    checkpoint = {**checkpoint, "created": created}
                    found_newest = True
                if obj.get("object") != stream.object or not isinstance(obj.get("id"), str):
                    continue
                if obj["id"] in seen:
                    continue
                seen.add(obj["id"])
                deleted = event.get("type") in stream.deleting_events
                if deleted:
                    obj = {**obj, "deleted": True}
                records.append(self._record(stream, obj, created, deleted=deleted))
            next_cursor: Cursor | None = None
            if after is not None:
                next_cursor = {
                    "phase": "events",
                    "starting_after": after,
                    "since": since,
                    "checkpoint": checkpoint,
                }
            yield Page(records, next_cursor, checkpoint, api_calls=self.http.calls - calls)
            calls = self.http.calls

    def _record(
        self, stream: StripeStream, obj: dict[str, Any], created: int | None, deleted: bool = False
    ) -> Record:
        try:
            data = stream.mapper(obj)
        except pydantic.ValidationError as exc:
            raise VendorMalformedResponse(
                f"Stripe {stream.object} {obj.get('id')} does not fit the {stream.model} model: "
                f"{exc.error_count()} invalid field(s)"
            ) from None
        return Record(
            model=stream.model,
            vendor_id=str(obj["id"]),
            data=data,
            raw=obj,
            modified_at=epoch_to_datetime(created) if created is not None else None,
            deleted=deleted,
        )


def _usable_checkpoint(checkpoint: Cursor | None, now: float) -> int | None:
    """The checkpoint's `created` if the events after it are surely still kept, else None.

    Retention is judged on our clock by `at` (when the checkpoint was taken: events after it are
    kept 30 days from then), never by comparing Stripe's `created` with our clock; a checkpoint
    without `at` falls back to its `created`.
    """
    created = (checkpoint or {}).get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        return None
    at = (checkpoint or {}).get("at", created)
    if not isinstance(at, int | float) or isinstance(at, bool):
        return None
    if now - at > EVENT_RETENTION_S - RETENTION_MARGIN_S:
        return None
    return created
