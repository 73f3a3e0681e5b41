"""Stripe object shapes (customer, invoice, payment_intent, subscription, balance, event).

Field sets are those of the ``stripe/openapi`` ``fixtures3.json`` resources cited in vendors.md
section 1 (copied into code here: the emulator never reads that file at run time). Values are
deterministic functions of the dataset seed and the object's index, and are made consistent
with each other the way Stripe makes them: a ``paid`` invoice has ``amount_paid ==
amount_due`` and a ``status_transitions.paid_at``, a ``draft`` one has no ``number`` nor
hosted URL, a ``succeeded`` PaymentIntent has ``amount_received == amount`` and a
``latest_charge``, a ``canceled`` subscription has ``canceled_at``/``ended_at``, every
``customer`` points at an existing ``cus_`` created no later than the object. ``livemode`` is
always ``false`` (test mode). Values that fixtures3 fills with placeholders
("obj_123", random integers) are replaced by realistic nulls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.determinism import mix, pick, tag, token_string

if TYPE_CHECKING:
    from sandbox.stripe_data import StripeDataset

FIRST_NAMES = (
    "Olivia", "Jack", "Amelia", "Noah", "Isla", "Oliver", "Mia", "Leo", "Ava", "William",
    "Charlotte", "Thomas", "Grace", "Henry", "Ruby", "Lucas", "Priya", "Mohammed", "Aisha", "Wei",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Wilson", "Nguyen", "Patel", "Singh",
    "Chen", "Martin", "Walker", "Evans", "Khan", "Lewis", "Kelly", "Campbell", "Li", "Wang",
)  # fmt: skip
PLACES = (
    ("Sydney", "AU", "NSW", "2000", "aud"), ("Melbourne", "AU", "VIC", "3000", "aud"),
    ("Brisbane", "AU", "QLD", "4000", "aud"), ("Auckland", "NZ", None, "1010", "nzd"),
    ("London", "GB", None, "EC1A 1BB", "gbp"), ("Manchester", "GB", None, "M1 1AE", "gbp"),
    ("Austin", "US", "TX", "78701", "usd"), ("Toronto", "CA", "ON", "M5H 2N2", "cad"),
)  # fmt: skip
STREETS = ("High Street", "George Street", "Queen Street", "Station Road", "Park Lane")
INVOICE_AMOUNTS = (4_500, 9_900, 12_000, 25_000, 49_500, 150_000)
INVOICE_STATUSES = (("paid", 70), ("open", 15), ("draft", 5), ("void", 5), ("uncollectible", 5))
PI_STATUSES = (
    ("succeeded", 75), ("requires_payment_method", 8), ("canceled", 6), ("processing", 3),
    ("requires_action", 5), ("requires_capture", 3),
)  # fmt: skip
SUB_STATUSES = (
    ("active", 68), ("canceled", 15), ("trialing", 5), ("past_due", 5), ("unpaid", 3),
    ("incomplete", 2), ("incomplete_expired", 1), ("paused", 1),
)  # fmt: skip
PRICES = (("Monthly tuition", 29_900, "month"), ("Resource pack", 4_900, "month"),
          ("Annual membership", 99_000, "year"))  # fmt: skip

_T_NAME = tag("stripe.name")
_T_PLACE = tag("stripe.place")
_T_CUS = tag("stripe.customer")
_T_INV = tag("stripe.invoice")
_T_PI = tag("stripe.payment_intent")
_T_SUB = tag("stripe.subscription")
_T_PRICE = tag("stripe.price")
_DAY = 86_400


def weighted(table: tuple[tuple[str, int], ...], value: int) -> str:
    """Pick from ``(label, percent)`` rows summing to 100."""
    roll = value % 100
    for label, weight in table:
        if roll < weight:
            return label
        roll -= weight
    return table[-1][0]


def customer_profile(seed: int, index: int) -> dict[str, Any]:
    """The generated (pre-mutation) identity of customer ``index``."""
    first = pick(FIRST_NAMES, seed, _T_NAME, index, 0)
    last = pick(LAST_NAMES, seed, _T_NAME, index, 1)
    city, country, state, postal, currency = pick(PLACES, seed, _T_PLACE, index)
    street = pick(STREETS, seed, _T_PLACE, index, 2)
    return {
        "name": f"{first} {last}",
        "email": f"{first}.{last}.{index + 1}@example.com".lower(),
        "city": city,
        "country": country,
        "state": state,
        "postal_code": postal,
        "currency": currency,
        "line1": f"{1 + mix(seed, _T_PLACE, index, 1) % 250} {street}",
    }


def invoice_prefix(seed: int, index: int) -> str:
    return f"{mix(seed, _T_CUS, index, 7) % 0xFFFFFFFF:08X}"


def _address(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "city": profile["city"],
        "country": profile["country"],
        "line1": profile["line1"],
        "line2": None,
        "postal_code": profile["postal_code"],
        "state": profile["state"],
    }


def customer(ds: StripeDataset, index: int) -> dict[str, Any]:
    seed = ds.seed
    profile = customer_profile(seed, index)
    h = mix(seed, _T_CUS, index)
    obj: dict[str, Any] = {
        "id": ds.object_id("customer", index),
        "object": "customer",
        "address": _address(profile),
        "balance": 0,
        "created": ds.created("customer", index),
        "currency": profile["currency"],
        "default_source": None,
        "delinquent": h % 100 < 4,
        "description": "Student account" if h % 3 else None,
        "discount": None,
        "email": profile["email"],
        "invoice_prefix": invoice_prefix(seed, index),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": (
                f"pm_{token_string(seed, _T_CUS, index, 2, length=24)}" if h % 5 else None
            ),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {"student_id": f"STU{index + 1:06d}"},
        "name": profile["name"],
        "next_invoice_sequence": 1 + (h >> 8) % 20,
        "phone": f"+61 4{(h >> 16) % 100:02d} {(h >> 24) % 1000:03d} {(h >> 34) % 1000:03d}"
        if h % 2
        else None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    return obj


def invoice_status(ds: StripeDataset, index: int) -> str:
    return weighted(INVOICE_STATUSES, mix(ds.seed, _T_INV, index))


def invoice_collection_method(ds: StripeDataset, index: int) -> str:
    send_invoice = (mix(ds.seed, _T_INV, index) >> 16) % 3 == 0
    return "send_invoice" if send_invoice else "charge_automatically"


def price_id(ds: StripeDataset, which: int) -> str:
    return f"price_{token_string(ds.seed, _T_PRICE, which, length=24)}"


def invoice(ds: StripeDataset, index: int) -> dict[str, Any]:
    seed = ds.seed
    h = mix(seed, _T_INV, index)
    inv_id = ds.object_id("invoice", index)
    cus_index = ds.invoice_customer_index(index)
    profile = customer_profile(seed, cus_index)
    currency = profile["currency"]
    created = ds.created("invoice", index)
    status = weighted(INVOICE_STATUSES, h)
    amount = INVOICE_AMOUNTS[(h >> 8) % len(INVOICE_AMOUNTS)]
    send_invoice = (h >> 16) % 3 == 0
    finalized_at = None if status == "draft" else created + 3_600
    paid = status == "paid"
    amount_due = amount
    amount_paid = amount if paid else 0
    amount_remaining = 0 if status in ("paid", "void") else amount_due - amount_paid
    secret = token_string(seed, _T_INV, index, 1, length=36)
    hosted = (
        None if status == "draft" else f"https://invoice.stripe.com/i/{ds.account_id}/test_{secret}"
    )
    line_id = f"il_{token_string(seed, _T_INV, index, 2, length=24)}"
    return {
        "id": inv_id,
        "object": "invoice",
        "account_country": "AU",
        "account_name": "Sandbox Training College",
        "account_tax_ids": None,
        "amount_due": amount_due,
        "amount_overpaid": 0,
        "amount_paid": amount_paid,
        "amount_remaining": amount_remaining,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 1 if finalized_at and not send_invoice else 0,
        "attempted": bool(finalized_at) and not send_invoice,
        "auto_advance": status in ("draft", "open"),
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": created + _DAY if status == "draft" else None,
        "billing_reason": "manual",
        "collection_method": "send_invoice" if send_invoice else "charge_automatically",
        "created": created,
        "currency": currency,
        "custom_fields": None,
        "customer": ds.object_id("customer", cus_index),
        "customer_account": None,
        "customer_address": _address(profile),
        "customer_email": profile["email"],
        "customer_name": profile["name"],
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": "Course fees",
        "discounts": [],
        "due_date": created + 30 * _DAY if send_invoice else None,
        "effective_at": finalized_at,
        "ending_balance": 0 if finalized_at else None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": hosted,
        "invoice_pdf": f"{hosted.replace('invoice.stripe.com/i', 'pay.stripe.com/invoice')}/pdf"
        if hosted
        else None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": line_id,
                    "object": "line_item",
                    "amount": amount,
                    "currency": currency,
                    "description": "Course fees",
                    "discount_amounts": [],
                    "discountable": True,
                    "discounts": [],
                    "invoice": inv_id,
                    "livemode": False,
                    "metadata": {},
                    "parent": None,
                    "period": {"end": created, "start": created},
                    "pretax_credit_amounts": [],
                    "pricing": None,
                    "quantity": 1,
                    "quantity_decimal": "1",
                    "subscription": None,
                    "subtotal": amount,
                    "taxes": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/invoices/{inv_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None
        if status == "draft"
        else f"{invoice_prefix(seed, cus_index)}-{index % 10_000 + 1:04d}",
        "on_behalf_of": None,
        "parent": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": created,
        "period_start": created,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": finalized_at,
            "marked_uncollectible_at": created + 40 * _DAY if status == "uncollectible" else None,
            "paid_at": created + 2 * 3_600 if paid else None,
            "voided_at": created + 5 * _DAY if status == "void" else None,
        },
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "test_clock": None,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created + 1 if finalized_at else None,
    }


def payment_intent(ds: StripeDataset, index: int) -> dict[str, Any]:
    seed = ds.seed
    h = mix(seed, _T_PI, index)
    pi_id = ds.object_id("payment_intent", index)
    cus_index = ds.payment_intent_customer_index(index)
    currency = customer_profile(seed, cus_index)["currency"]
    created = ds.created("payment_intent", index)
    status = weighted(PI_STATUSES, h)
    amount = INVOICE_AMOUNTS[(h >> 8) % len(INVOICE_AMOUNTS)]
    charged = status in ("succeeded", "processing", "requires_capture")
    has_method = charged or status == "requires_action"
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": amount if status == "requires_capture" else 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": created + 7 * _DAY if status == "canceled" else None,
        "cancellation_reason": "abandoned" if status == "canceled" else None,
        "capture_method": "manual" if status == "requires_capture" else "automatic_async",
        "client_secret": f"{pi_id}_secret_{token_string(seed, _T_PI, index, 1, length=25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": ds.object_id("customer", cus_index),
        "customer_account": None,
        "description": "Course fees",
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": f"ch_{token_string(seed, _T_PI, index, 2, length=24)}"
        if charged
        else None,
        "livemode": False,
        "metadata": {},
        "next_action": {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
        if status == "requires_action"
        else None,
        "on_behalf_of": None,
        "payment_method": f"pm_{token_string(seed, _T_PI, index, 3, length=24)}"
        if has_method
        else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def price(ds: StripeDataset, which: int, currency: str) -> dict[str, Any]:
    nickname, amount, interval = PRICES[which]
    return {
        "id": price_id(ds, which),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": ds.base_time - 30 * _DAY,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": nickname,
        "product": f"prod_{token_string(ds.seed, _T_PRICE, which, 1, length=14)}",
        "recurring": {
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }


def subscription_status(ds: StripeDataset, index: int) -> str:
    return weighted(SUB_STATUSES, mix(ds.seed, _T_SUB, index))


def subscription_price_index(ds: StripeDataset, index: int) -> int:
    return (mix(ds.seed, _T_SUB, index) >> 8) % len(PRICES)


def subscription(ds: StripeDataset, index: int) -> dict[str, Any]:
    seed = ds.seed
    h = mix(seed, _T_SUB, index)
    sub_id = ds.object_id("subscription", index)
    cus_index = ds.subscription_customer_index(index)
    currency = customer_profile(seed, cus_index)["currency"]
    created = ds.created("subscription", index)
    status = subscription_status(ds, index)
    which = subscription_price_index(ds, index)
    item_price = price(ds, which, currency)
    period = 30 * _DAY if PRICES[which][2] == "month" else 365 * _DAY
    periods_elapsed = (h >> 16) % 12
    period_start = created + periods_elapsed * period
    ended = status in ("canceled", "incomplete_expired")
    ended_at = period_start + period // 2 if ended else None
    trial_end = created + 14 * _DAY if status == "trialing" else None
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic"},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": ended_at if status == "canceled" else None,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if status == "canceled" else None,
        },
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": ds.object_id("customer", cus_index),
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": ended_at,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{token_string(seed, _T_SUB, index, 1, length=14)}",
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": created,
                    "current_period_end": period_start + period,
                    "current_period_start": period_start,
                    "discounts": [],
                    "metadata": {},
                    "price": item_price,
                    "quantity": 1,
                    "subscription": sub_id,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": created if trial_end else None,
    }


def balance(ds: StripeDataset) -> dict[str, Any]:
    available = 1_000 * (mix(ds.seed, tag("stripe.balance")) % 500_000)
    pending = 100 * (mix(ds.seed, tag("stripe.balance"), 1) % 100_000)
    return {
        "object": "balance",
        "available": [
            {"amount": available, "currency": "aud", "source_types": {"card": available}}
        ],
        "connect_reserved": [{"amount": 0, "currency": "aud"}],
        "livemode": False,
        "pending": [{"amount": pending, "currency": "aud", "source_types": {"card": pending}}],
    }


def event(
    *,
    event_id: str,
    api_version: str,
    created: int,
    event_type: str,
    obj: dict[str, Any],
    previous_attributes: dict[str, Any] | None,
    request_id: str | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """An event in Stripe's shape; ``previous_attributes`` only on ``*.updated`` events."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
