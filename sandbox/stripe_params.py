"""Stripe list parameters: validation, filters and ``expand`` (vendors.md section 1).

Parameters arrive nested from bracket notation (``created[gt]``, ``types[]``, ``expand[0]``).
An unknown parameter is 400 "Received unknown parameter: x"; a non-integer where an integer is
expected is 400 "Invalid integer: x"; ``limit`` must be 1..100. Filters become predicates over
list positions evaluated by ``sandbox.stripe_paging``: customers ``email``; invoices
``customer``, ``status``, ``subscription``, ``collection_method``; payment intents ``customer``;
subscriptions ``customer``, ``price``, ``collection_method`` and ``status`` (default: all but
``canceled``; ``all``; ``ended`` = canceled + incomplete_expired); events ``type`` (``*``
wildcard), ``types[]`` (at most 20), ``delivery_success`` (no webhook endpoint exists, so no
event matches). ``expand`` supports ``customer`` (``data.customer`` in lists) on objects that
reference one; any other path is refused, never silently ignored.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from sandbox.stripe_data import StripeDataset
from sandbox.stripe_errors import StripeError, resource_missing
from sandbox.stripe_paging import CreatedFilter

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
_INT_RE = re.compile(r"^-?\d+$")


def int_param(value: Any, param: str) -> int:
    if not isinstance(value, str) or not _INT_RE.match(value.strip()):
        raise StripeError(400, f"Invalid integer: {value}", param=param)
    return int(value)


def check_unknown(params: dict[str, Any], allowed: set[str]) -> None:
    for key, value in params.items():
        if key not in allowed:
            raise StripeError(400, f"Received unknown parameter: {key}", param=key)
        if key == "created" and isinstance(value, dict):
            for sub in value:
                if sub not in ("gt", "gte", "lt", "lte"):
                    name = f"created[{sub}]"
                    raise StripeError(400, f"Received unknown parameter: {name}", param=name)


def created_filter(value: Any) -> CreatedFilter | None:
    if value is None:
        return None
    if isinstance(value, str):
        return CreatedFilter(eq=int_param(value, "created"))
    if isinstance(value, dict):
        bounds = {k: int_param(v, f"created[{k}]") for k, v in value.items()}
        return CreatedFilter(**bounds)
    raise StripeError(400, "Invalid created: must be an integer or a hash", param="created")


def limit_param(params: dict[str, Any]) -> int:
    if "limit" not in params:
        return 10
    limit = int_param(params["limit"], "limit")
    if limit < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", param="limit")
    if limit > 100:
        raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
    return limit


def expand_paths(params: dict[str, Any], kind: str, in_list: bool) -> list[str]:
    raw = params.get("expand", [])
    paths = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    out = []
    for path in paths:
        bare = path[len("data.") :] if in_list and path.startswith("data.") else path
        if bare != "customer" or kind not in EXPANDABLE_CUSTOMER:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        out.append(bare)
    return out


def apply_expand(ds: StripeDataset, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
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


def predicate(kind: str, ds: StripeDataset, params: dict[str, Any]) -> Callable[[int], bool]:
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
