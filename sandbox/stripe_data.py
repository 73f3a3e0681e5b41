"""Deterministic Stripe account data with a mutation overlay and an events feed.

Objects are computed on demand from ``(seed, index)`` (shapes in ``sandbox.stripe_objects``).
Ids encode the index (``sandbox.determinism.IdCodec``), so ``starting_after=<id>`` resolves to
a list position in O(1). ``created`` is non-decreasing with the index and lists run from the
highest index down, i.e. reverse-chronological as Stripe returns them (vendors.md section 1);
generated timestamps are rounded to the minute, so neighbours can share a ``created`` second as
bulk-imported Stripe data does, and ties are ordered by position.

The overlay implements ``update_customers`` (``customer.updated`` events with
``previous_attributes``), ``delete_customers`` (gone from lists, retrievable as
``{"id", "object": "customer", "deleted": true}``, ``customer.deleted`` events) and
``create_customers`` (newer ``created``, ``customer.created`` events). Event ``created`` comes
from a logical clock that starts after every generated object and increases strictly. The
generated history has no events: it is dated further back than Stripe's 30-day event retention.
Not emulated: deleting a customer does not cancel its subscriptions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import stripe_objects as objects
from sandbox.determinism import IdCodec, mix, tag, token_string

API_VERSION = "2026-10-28.endive"
KINDS = ("customer", "invoice", "payment_intent", "subscription", "event")
PREFIXES = {
    "customer": "cus",
    "invoice": "in",
    "payment_intent": "pi",
    "subscription": "sub",
    "event": "evt",
}
URLS = {
    "customer": "/v1/customers",
    "invoice": "/v1/invoices",
    "payment_intent": "/v1/payment_intents",
    "subscription": "/v1/subscriptions",
    "event": "/v1/events",
}
_SPACING_S = 45
_ROUND_S = 60
_T_BASE = tag("stripe.base")
_T_ACCOUNT = tag("stripe.account")
_T_LINK = tag("stripe.link")
_T_MUT = tag("stripe.mutation")
_KIND_TAGS = {kind: tag(kind) for kind in KINDS}


@dataclass(frozen=True)
class Collection:
    """One listable resource: positions ``0..size()-1``, oldest first."""

    kind: str
    url: str
    size: Callable[[], int]
    created: Callable[[int], int]
    visible: Callable[[int], bool]
    build: Callable[[int], dict[str, Any]]
    decode: Callable[[str], int | None]


class StripeDataset:
    """A Stripe test-mode account computed from a seed and object counts."""

    def __init__(
        self, seed: int, customers: int, invoices: int, payment_intents: int, subscriptions: int
    ) -> None:
        counts = {
            "customer": customers,
            "invoice": invoices,
            "payment_intent": payment_intents,
            "subscription": subscriptions,
        }
        if any(n < 0 for n in counts.values()):
            raise ValueError("counts must be >= 0")
        if customers == 0 and (invoices or payment_intents or subscriptions):
            raise ValueError("invoices, payment intents and subscriptions need customers")
        self.seed = seed
        self.counts = counts
        self.codecs = {kind: IdCodec(prefix, seed) for kind, prefix in PREFIXES.items()}
        self.account_id = f"acct_1{token_string(seed, _T_ACCOUNT, length=15)}"
        self.base_time = 1_600_000_000 + mix(seed, _T_BASE) % 10_000_000
        self._span = _SPACING_S * max(1, *counts.values())
        self._clock = self.base_time + self._span + _ROUND_S
        self._overrides: dict[int, dict[str, Any]] = {}
        self._deleted: dict[int, int] = {}
        self._extra_created: list[int] = []
        self._events: list[dict[str, Any]] = []
        self._mutation_round = 0
        self._request_counter = 0

    # ---- positions and ids ----------------------------------------------------------------

    def object_id(self, kind: str, index: int) -> str:
        return self.codecs[kind].encode(index)

    def size(self, kind: str) -> int:
        if kind == "customer":
            return self.counts["customer"] + len(self._extra_created)
        if kind == "event":
            return len(self._events)
        return self.counts[kind]

    def created(self, kind: str, index: int) -> int:
        if kind == "event":
            return int(self._events[index]["created"])
        count = self.counts[kind]
        if kind == "customer" and index >= count:
            return self._extra_created[index - count]
        offset = (index * self._span) // max(count, 1)
        return self.base_time + offset // _ROUND_S * _ROUND_S

    def index_of(self, kind: str, obj_id: str) -> int | None:
        """Position of an id of this dataset (deleted customers included), else ``None``."""
        index = self.codecs[kind].decode(obj_id)
        if index is None or index >= self.size(kind):
            return None
        return index

    def is_deleted_customer(self, index: int) -> bool:
        return index in self._deleted

    def _linked_customer(self, kind: str, index: int) -> int:
        """A customer created no later than object ``index`` of ``kind``."""
        customers = self.counts["customer"]
        count = self.counts[kind]
        bound = max(1, min(customers, ((index + 1) * customers) // max(count, 1)))
        return mix(self.seed, _T_LINK, _KIND_TAGS[kind], index) % bound

    def invoice_customer_index(self, index: int) -> int:
        return self._linked_customer("invoice", index)

    def payment_intent_customer_index(self, index: int) -> int:
        return self._linked_customer("payment_intent", index)

    def subscription_customer_index(self, index: int) -> int:
        return self._linked_customer("subscription", index)

    def customer_index_of(self, kind: str, index: int) -> int:
        return self._linked_customer(kind, index)

    # ---- objects --------------------------------------------------------------------------

    def customer(self, index: int) -> dict[str, Any]:
        """The customer at ``index`` with overlay changes (deleted ones still build)."""
        obj = objects.customer(self, index)
        obj.update(self._overrides.get(index, {}))
        return obj

    def deleted_customer(self, index: int) -> dict[str, Any]:
        return {"id": self.object_id("customer", index), "object": "customer", "deleted": True}

    def build(self, kind: str, index: int) -> dict[str, Any]:
        if kind == "customer":
            return self.customer(index)
        if kind == "invoice":
            return objects.invoice(self, index)
        if kind == "payment_intent":
            return objects.payment_intent(self, index)
        if kind == "subscription":
            return objects.subscription(self, index)
        if kind == "event":
            return self._events[index]
        raise KeyError(kind)

    def balance(self) -> dict[str, Any]:
        return objects.balance(self)

    def subscription_status(self, index: int) -> str:
        return objects.subscription_status(self, index)

    def invoice_status(self, index: int) -> str:
        return objects.invoice_status(self, index)

    def invoice_collection_method(self, index: int) -> str:
        return objects.invoice_collection_method(self, index)

    def subscription_price_id(self, index: int) -> str:
        return objects.price_id(self, objects.subscription_price_index(self, index))

    def customer_email(self, index: int) -> str:
        override = self._overrides.get(index, {})
        if "email" in override:
            return str(override["email"])
        return str(objects.customer_profile(self.seed, index)["email"])

    def collection(self, kind: str) -> Collection:
        return Collection(
            kind=kind,
            url=URLS[kind],
            size=lambda: self.size(kind),
            created=lambda i: self.created(kind, i),
            visible=(lambda i: i not in self._deleted) if kind == "customer" else _always,
            build=lambda i: self.build(kind, i),
            decode=lambda obj_id: self.index_of(kind, obj_id),
        )

    # ---- mutations (overlay) and events ---------------------------------------------------

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _request_ids(self) -> tuple[str, str]:
        self._request_counter += 1
        rid = f"req_{token_string(self.seed, _T_MUT, self._request_counter, length=14)}"
        key = token_string(self.seed, _T_MUT, self._request_counter, 1, length=32)
        return rid, f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:32]}".lower()

    def _append_event(
        self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        rid, idem = self._request_ids()
        evt = objects.event(
            event_id=self.object_id("event", len(self._events)),
            api_version=API_VERSION,
            created=self._tick(),
            event_type=event_type,
            obj=obj,
            previous_attributes=previous,
            request_id=rid,
            idempotency_key=idem,
        )
        self._events.append(evt)
        return evt

    def _live_customers(self) -> list[int]:
        return [i for i in range(self.size("customer")) if i not in self._deleted]

    def _choose_customers(self, n: int) -> list[int]:
        rng = random.Random(mix(self.seed, _T_MUT, self._mutation_round))
        self._mutation_round += 1
        live = self._live_customers()
        return sorted(rng.sample(live, max(0, min(n, len(live)))))

    def update_customers(self, n: int) -> list[str]:
        """Change ``n`` customers' name and email; one ``customer.updated`` event each."""
        changed = []
        for index in self._choose_customers(n):
            before = self.customer(index)
            version = self._mutation_round
            first = before["name"].split(" ")[0]
            new_name = f"{first} Updated-{version}"
            new_email = f"{first.lower()}.v{version}.{index + 1}@example.org"
            self._overrides.setdefault(index, {}).update({"name": new_name, "email": new_email})
            after = self.customer(index)
            self._append_event(
                "customer.updated",
                after,
                {"email": before["email"], "name": before["name"]},
            )
            changed.append(after["id"])
        return changed

    def create_customers(self, n: int) -> list[str]:
        """Append ``n`` new customers (newest first in lists); ``customer.created`` events."""
        created = []
        for _ in range(max(0, n)):
            when = self._tick()
            self._extra_created.append(when)
            index = self.size("customer") - 1
            obj = self.customer(index)
            self._clock -= 1  # the event shares the creation second, then the clock moves on
            self._append_event("customer.created", obj, None)
            created.append(obj["id"])
        return created

    def pick_customers(self, n: int) -> list[str]:
        """Ids of ``n`` live customers, chosen deterministically (for ``delete_customers``)."""
        return [self.object_id("customer", i) for i in self._choose_customers(n)]

    def delete_customers(self, ids: list[str]) -> list[str]:
        """Delete customers by id; ``customer.deleted`` events; returns the ids deleted."""
        deleted = []
        for obj_id in ids:
            index = self.index_of("customer", obj_id)
            if index is None or index in self._deleted:
                continue
            obj = self.customer(index)
            evt = self._append_event("customer.deleted", obj, None)
            self._deleted[index] = int(evt["created"])
            deleted.append(obj_id)
        return deleted

    def events(self) -> list[dict[str, Any]]:
        return list(self._events)

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "customers": self.size("customer") - len(self._deleted),
            "deleted_customers": len(self._deleted),
            "invoices": self.counts["invoice"],
            "payment_intents": self.counts["payment_intent"],
            "subscriptions": self.counts["subscription"],
            "events": len(self._events),
            "account": self.account_id,
        }


def _always(_: int) -> bool:
    return True
