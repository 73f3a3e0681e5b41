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

Parameter handling is in ``sandbox.stripe_params``, error bodies in ``sandbox.stripe_errors``.
Not emulated: writes (POST), search endpoints, ``Stripe-Account``, idempotency replays.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.faults import FaultKind
from sandbox.formparams import nest
from sandbox.state import SandboxState, StripeVendorState, VendorState
from sandbox.stripe_data import API_VERSION, URLS
from sandbox.stripe_errors import (
    NO_KEY_MESSAGE,
    StripeError,
    mask_key,
    rate_limit_error,
    resource_missing,
)
from sandbox.stripe_paging import page
from sandbox.stripe_params import (
    FILTER_PARAMS,
    LIST_PARAMS,
    apply_expand,
    check_unknown,
    created_filter,
    expand_paths,
    limit_param,
    predicate,
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
_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


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
    check_unknown(params, LIST_PARAMS | FILTER_PARAMS[kind])
    limit = limit_param(params)
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
    created = created_filter(params.get("created"))
    expand = expand_paths(params, kind, in_list=True)
    coll = ds.collection(kind)
    indexes, has_more = page(
        coll,
        limit=limit,
        starting_after=cursor.get("starting_after"),
        ending_before=cursor.get("ending_before"),
        created=created,
        predicate=predicate(kind, ds, params),
    )
    data = [apply_expand(ds, coll.build(i), expand) for i in indexes]
    return {"object": "list", "data": data, "has_more": has_more, "url": URLS[kind]}


def _retrieve(
    vendor: StripeVendorState, kind: str, obj_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    ds = vendor.dataset
    check_unknown(params, {"expand"})
    expand = expand_paths(params, kind, in_list=False)
    index = ds.index_of(kind, obj_id)
    if index is None:
        raise resource_missing(kind, obj_id, "id", 404)
    if kind == "customer" and ds.is_deleted_customer(index):
        return ds.deleted_customer(index)
    return apply_expand(ds, ds.build(kind, index), expand)


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
            check_unknown(params, {"expand"})
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
