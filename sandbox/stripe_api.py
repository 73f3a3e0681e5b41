"""Stripe API emulator under ``/stripe`` (so ``/stripe/v1/customers`` is ``/v1/customers``).

Faithful to vendors.md section 1:

* Auth: ``Authorization: Bearer sk_...`` or HTTP Basic with the key as username. No key ->
  401 "You did not provide an API key. ..."; unknown key -> 401 "Invalid API Key provided:
  sk_test_****...abcd" (one ``*`` per hidden character, last 4 shown, as Stripe masks);
  a restricted ``rk_`` key without the resource's ``rak_*_read`` permission -> 403.
  Errors are ``{"error": {"type", "message"[, "code", "param", "doc_url",
  "request_log_url"]}}`` and every response carries ``Request-Id: req_...`` and
  ``Stripe-Version``.
* Lists: ``limit`` 1..100 (default 10), ``starting_after`` / ``ending_before`` (mutually
  exclusive), ``created`` or ``created[gt|gte|lt|lte]``, reverse-chronological
  ``{"object": "list", "url", "has_more", "data"}``; an unknown cursor id is 400
  ``resource_missing`` with ``param: starting_after``; an unknown parameter is 400 "Received
  unknown parameter: x". Resource filters: customers ``email``; invoices ``customer``,
  ``status``, ``subscription``, ``collection_method``; payment intents ``customer``;
  subscriptions ``customer``, ``price``, ``collection_method``, ``status`` (default excludes
  ``canceled``; ``all``, ``ended`` as documented); events ``type`` (with ``*`` wildcard),
  ``types[]`` (at most 20), ``delivery_success``. ``expand[]`` supports ``customer`` /
  ``data.customer``; other paths are refused with 400.
* Retrieve: unknown id -> 404 ``resource_missing`` (``param: id``); a deleted customer is
  ``{"id", "object": "customer", "deleted": true}``.
* Rate limit: a token bucket per key (default 25/s, Stripe's sandbox limit), 429
  ``{"error": {"code": "rate_limit", "type": "invalid_request_error", ...}}`` with
  ``Retry-After: 1``. Injected 500s are ``api_error`` "An unknown error occurred".

Not emulated: writes (POST), search endpoints, ``Stripe-Account``, idempotency replays.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.faults import FaultKind
from sandbox.formparams import nest
from sandbox.state import SandboxState, StripeVendorState, VendorState
from sandbox.stripe_data import API_VERSION, URLS, StripeDataset
from sandbox.stripe_paging import CreatedFilter, page

NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. You can learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
RESOURCES = {
    "customers": "customer",
    "invoices": "invoice",
    "payment_intents": "payment_intent",
    "subscriptions": "subscription",
    "events": "event",
}
PERMISSIONS = {
    "balance": "rak_balance_read",
    "customer": "rak_customer_read",
    "invoice": "rak_invoice_read",
    "payment_intent": "rak_payment_intent_read",
    "subscription": "rak_subscription_read",
    "event": "rak_event_read",
}
LIST_PARAMS = {"limit", "starting_after", "ending_before", "created", "expand"}
FILTER_PARAMS = {
    "customer": {"email"},
    "invoice": {"customer", "status", "subscription", "collection_method"},
    "payment_intent": {"customer"},
    "subscription": {"customer", "status", "price", "collection_method"},
    "event": {"type", "types", "delivery_success"},
}
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
SUB_STATUSES = (
    "active", "past_due", "unpaid", "canceled", "incomplete", "incomplete_expired",
    "trialing", "all", "ended", "paused",
)  # fmt: skip
EXPANDABLE_CUSTOMER = {"invoice", "payment_intent", "subscription"}
_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")
_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
_INT_RE = re.compile(r"^-?\d+$")


class StripeError(Exception):
    """An error response in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self, request_id: str, log_url: bool = True) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        if log_url and self.status not in (401, 500):
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t={int(time.time())}"
            )
        error["type"] = self.type
        return {"error": error}


def resource_missing(kind: str, obj_id: str, param: str, status: int) -> StripeError:
    return StripeError(status, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def mask_key(key: str) -> str:
    """Stripe's masking: prefix kept, one ``*`` per hidden character, last 4 shown."""
    prefix = next((p for p in _KEY_PREFIXES if key.startswith(p)), "")
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + rest
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def extract_key(authorization: str | None) -> str | None:
    """The API key from a Bearer or Basic ``Authorization`` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def _json(status: int, body: Any, request_id: str, version: str, **headers: str) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={"Request-Id": request_id, "Stripe-Version": version, **headers},
    )


def rate_limit_error(retry_after: int) -> StripeError:
    return StripeError(
        429, RATE_LIMIT_MESSAGE, code="rate_limit", headers={"Retry-After": str(retry_after)}
    )


def fault_response(kind: FaultKind, vendor: VendorState) -> Response:
    """Injected faults in Stripe's shape (with a ``Request-Id``)."""
    assert isinstance(vendor, StripeVendorState)
    rid = vendor.next_request_id()
    if kind is FaultKind.THROTTLE:
        error = rate_limit_error(vendor.faults.retry_after_s)
    else:
        error = StripeError(500, "An unknown error occurred", type_="api_error")
    return _json(error.status, error.body(rid), rid, API_VERSION, **error.headers)


# ---- parameter parsing ---------------------------------------------------------------------


def _int(value: Any, param: str) -> int:
    if not isinstance(value, str) or not _INT_RE.match(value.strip()):
        raise StripeError(400, f"Invalid integer: {value}", param=param)
    return int(value)


def _check_unknown(params: dict[str, Any], allowed: set[str]) -> None:
    for key, value in params.items():
        if key not in allowed:
            raise StripeError(400, f"Received unknown parameter: {key}", param=key)
        if key == "created" and isinstance(value, dict):
            for sub in value:
                if sub not in ("gt", "gte", "lt", "lte"):
                    name = f"created[{sub}]"
                    raise StripeError(400, f"Received unknown parameter: {name}", param=name)


def _created_filter(value: Any) -> CreatedFilter | None:
    if value is None:
        return None
    if isinstance(value, str):
        return CreatedFilter(eq=_int(value, "created"))
    if isinstance(value, dict):
        bounds = {k: _int(v, f"created[{k}]") for k, v in value.items()}
        return CreatedFilter(**bounds)
    raise StripeError(400, "Invalid created: must be an integer or a hash", param="created")


def _limit(params: dict[str, Any]) -> int:
    if "limit" not in params:
        return 10
    limit = _int(params["limit"], "limit")
    if limit < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", param="limit")
    if limit > 100:
        raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
    return limit


def _expand_paths(params: dict[str, Any], kind: str, in_list: bool) -> list[str]:
    raw = params.get("expand", [])
    paths = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    out = []
    for path in paths:
        bare = path[len("data.") :] if in_list and path.startswith("data.") else path
        if bare != "customer" or kind not in EXPANDABLE_CUSTOMER:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        out.append(bare)
    return out


def _apply_expand(ds: StripeDataset, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    if "customer" in paths and isinstance(obj.get("customer"), str):
        index = ds.index_of("customer", obj["customer"])
        if index is not None:
            obj = dict(obj)
            obj["customer"] = (
                ds.deleted_customer(index) if ds.is_deleted_customer(index) else ds.customer(index)
            )
    return obj


def _customer_param(ds: StripeDataset, params: dict[str, Any]) -> int | None:
    if "customer" not in params:
        return None
    value = str(params["customer"])
    index = ds.index_of("customer", value)
    if index is None:
        raise resource_missing("customer", value, "customer", 400)
    return index


def _predicate(kind: str, ds: StripeDataset, params: dict[str, Any]) -> Callable[[int], bool]:
    checks: list[Callable[[int], bool]] = []
    customer = _customer_param(ds, params) if kind != "customer" else None
    if customer is not None:
        checks.append(lambda i: ds.customer_index_of(kind, i) == customer)
    if kind == "customer" and "email" in params:
        email = str(params["email"])
        checks.append(lambda i: ds.customer_email(i) == email)
    if kind == "invoice":
        _invoice_checks(ds, params, checks)
    if kind == "subscription":
        _subscription_checks(ds, params, checks)
    if kind == "event":
        _event_checks(ds, params, checks)
    return lambda i: all(check(i) for check in checks)


def _invoice_checks(
    ds: StripeDataset, params: dict[str, Any], checks: list[Callable[[int], bool]]
) -> None:
    if "status" in params:
        status = params["status"]
        if status not in INVOICE_STATUSES:
            raise StripeError(
                400,
                "Invalid status: must be one of draft, open, paid, uncollectible, or void",
                param="status",
            )
        checks.append(lambda i: ds.invoice_status(i) == status)
    if "collection_method" in params:
        method = params["collection_method"]
        if method not in ("charge_automatically", "send_invoice"):
            raise StripeError(
                400,
                "Invalid collection_method: must be one of charge_automatically or send_invoice",
                param="collection_method",
            )
        checks.append(lambda i: ds.invoice_collection_method(i) == method)
    if "subscription" in params:
        sub = str(params["subscription"])
        if ds.index_of("subscription", sub) is None:
            raise resource_missing("subscription", sub, "subscription", 400)
        checks.append(lambda i: False)  # generated invoices are all one-off ("manual")


def _subscription_checks(
    ds: StripeDataset, params: dict[str, Any], checks: list[Callable[[int], bool]]
) -> None:
    status = params.get("status")
    if status is not None and status not in SUB_STATUSES:
        raise StripeError(
            400,
            "Invalid status: must be one of active, past_due, unpaid, canceled, incomplete, "
            "incomplete_expired, trialing, all, ended, or paused",
            param="status",
        )
    if status is None:
        checks.append(lambda i: ds.subscription_status(i) != "canceled")
    elif status == "ended":
        checks.append(lambda i: ds.subscription_status(i) in ("canceled", "incomplete_expired"))
    elif status != "all":
        checks.append(lambda i: ds.subscription_status(i) == status)
    if "price" in params:
        price = str(params["price"])
        checks.append(lambda i: ds.subscription_price_id(i) == price)
    if "collection_method" in params:
        method = params["collection_method"]
        checks.append(lambda i: method == "charge_automatically")


def _event_checks(
    ds: StripeDataset, params: dict[str, Any], checks: list[Callable[[int], bool]]
) -> None:
    if "type" in params and "types" in params:
        raise StripeError(400, "You may only specify one of these parameters: type, types.")
    if "type" in params:
        pattern = str(params["type"])
        checks.append(lambda i: fnmatch.fnmatchcase(ds.build("event", i)["type"], pattern))
    if "types" in params:
        types = params["types"]
        types = [types] if isinstance(types, str) else list(types)
        if len(types) > 20:
            raise StripeError(400, "You may pass at most 20 types.", param="types")
        wanted = set(types)
        checks.append(lambda i: ds.build("event", i)["type"] in wanted)
    if "delivery_success" in params:
        # No webhook endpoints exist, so no event was delivered (or failed to be).
        checks.append(lambda i: False)


# ---- handlers ------------------------------------------------------------------------------


def _authorize(request: Request, vendor: StripeVendorState, permission: str) -> None:
    key = extract_key(request.headers.get("authorization"))
    if key is None:
        raise StripeError(
            401, NO_KEY_MESSAGE, headers={"WWW-Authenticate": 'Bearer realm="Stripe"'}
        )
    if key.startswith("pk_"):
        raise StripeError(
            401,
            "This API call cannot be made with a publishable API key. Please use a secret API "
            "key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
        )
    restricted = vendor.restricted_keys.get(key)
    if key not in vendor.valid_keys and restricted is None:
        raise StripeError(
            401,
            f"Invalid API Key provided: {mask_key(key)}",
            headers={"WWW-Authenticate": 'Bearer realm="Stripe"'},
        )
    if not vendor.allow_request(key):
        raise rate_limit_error(1)
    if restricted is not None and key not in vendor.valid_keys and permission not in restricted:
        shown = key[:8] + "***" + key[-6:]
        raise StripeError(
            403,
            f"The provided key '{shown}' does not have the required permissions for this "
            f"endpoint on account '{vendor.dataset.account_id}'. Having the '{permission}' "
            "permission would allow this request to continue.",
        )


def _version(request: Request) -> str:
    requested = request.headers.get("stripe-version")
    if requested is None:
        return API_VERSION
    if not _VERSION_RE.match(requested):
        raise StripeError(400, f"Invalid Stripe API version: {requested}", param="version")
    return requested


def _list(vendor: StripeVendorState, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    ds = vendor.dataset
    _check_unknown(params, LIST_PARAMS | FILTER_PARAMS[kind])
    limit = _limit(params)
    after = params.get("starting_after")
    before = params.get("ending_before")
    if after is not None and before is not None:
        raise StripeError(
            400, "You may only specify one of these parameters: ending_before, starting_after."
        )
    cursor = {}
    for name, value in (("starting_after", after), ("ending_before", before)):
        if value is not None:
            index = ds.index_of(kind, str(value))
            if index is None:
                raise resource_missing(kind, str(value), name, 400)
            cursor[name] = index
    created = _created_filter(params.get("created"))
    expand = _expand_paths(params, kind, in_list=True)
    coll = ds.collection(kind)
    indexes, has_more = page(
        coll,
        limit=limit,
        starting_after=cursor.get("starting_after"),
        ending_before=cursor.get("ending_before"),
        created=created,
        predicate=_predicate(kind, ds, params),
    )
    data = [_apply_expand(ds, coll.build(i), expand) for i in indexes]
    return {"object": "list", "data": data, "has_more": has_more, "url": URLS[kind]}


def _retrieve(
    vendor: StripeVendorState, kind: str, obj_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    ds = vendor.dataset
    _check_unknown(params, {"expand"})
    expand = _expand_paths(params, kind, in_list=False)
    index = ds.index_of(kind, obj_id)
    if index is None:
        raise resource_missing(kind, obj_id, "id", 404)
    if kind == "customer" and ds.is_deleted_customer(index):
        return ds.deleted_customer(index)
    return _apply_expand(ds, ds.build(kind, index), expand)


def build_router(state: SandboxState) -> APIRouter:
    """Routes under ``/stripe``."""
    router = APIRouter(prefix="/stripe", include_in_schema=False)

    async def respond(
        request: Request, permission: str, produce: Callable[[dict[str, Any]], Any]
    ) -> Response:
        vendor = state.stripe
        rid = vendor.next_request_id()
        version = API_VERSION
        try:
            version = _version(request)
            _authorize(request, vendor, permission)
            params = nest(request.query_params.multi_items())
            with vendor.lock:
                body = produce(params)
        except StripeError as error:
            return _json(error.status, error.body(rid), rid, version, **error.headers)
        return _json(200, body, rid, version)

    @router.get("/v1/balance")
    async def get_balance(request: Request) -> Response:
        def produce(params: dict[str, Any]) -> Any:
            _check_unknown(params, {"expand"})
            return state.stripe.dataset.balance()

        return await respond(request, PERMISSIONS["balance"], produce)

    @router.get("/v1/{resource}")
    async def list_objects(resource: str, request: Request) -> Response:
        kind = RESOURCES.get(resource)
        if kind is None:
            return _unrecognized(state, request)
        return await respond(
            request, PERMISSIONS[kind], lambda params: _list(state.stripe, kind, params)
        )

    @router.get("/v1/{resource}/{obj_id}")
    async def retrieve_object(resource: str, obj_id: str, request: Request) -> Response:
        kind = RESOURCES.get(resource)
        if kind is None:
            return _unrecognized(state, request)
        return await respond(
            request,
            PERMISSIONS[kind],
            lambda params: _retrieve(state.stripe, kind, obj_id, params),
        )

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def catch_all(path: str, request: Request) -> Response:
        return _unrecognized(state, request)

    return router


def _unrecognized(state: SandboxState, request: Request) -> Response:
    rid = state.stripe.next_request_id()
    path = request.url.path.removeprefix("/stripe")
    error = StripeError(
        404,
        f"Unrecognized request URL ({request.method}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )
    return _json(404, error.body(rid, log_url=False), rid, API_VERSION)
