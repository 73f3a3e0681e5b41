"""Mutable sandbox state: per-vendor datasets, credentials, fault knobs, rate limits, counters.

``SandboxState`` holds one ``MoodleVendorState`` and one ``StripeVendorState``. Everything here
can be changed while the server runs, from Python (``state.stripe.set_faults(error_rate=1)``)
or through ``/_control``. Each vendor state carries a ``threading.RLock`` that the API handlers
hold while they read the dataset and that every mutation helper takes, because tests mutate
from their own thread while uvicorn serves from another.

Defaults follow vendors.md: Stripe's test-mode limit is 25 requests/s per key (section 1),
Moodle has no built-in limit (section 6) so its limiter is off. The fault RNG is seeded from the
dataset seed (override with ``seed_faults``) so a fault sequence replays exactly.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from sandbox.determinism import token_string
from sandbox.faults import Counters, FaultKind, Faults, roll_fault
from sandbox.moodle_data import MoodleDataset
from sandbox.ratelimit import TokenBucketLimiter
from sandbox.stripe_data import StripeDataset

DEFAULT_SEED = 42
DEFAULT_MOODLE_SIZE = 200
DEFAULT_STRIPE_SIZE = 200
MOODLE_DEFAULT_TOKEN = "sandbox-moodle-token"
MOODLE_DEFAULT_USERNAME = "admin"
MOODLE_DEFAULT_PASSWORD = "sandbox"
STRIPE_DEFAULT_KEY = "sk_test_sandbox_key"
STRIPE_DEFAULT_RESTRICTED_KEY = "rk_test_sandbox_restricted"
STRIPE_TEST_RATE_LIMIT = 25.0
_REQUEST_COUNTER = itertools.count(1)  # process-wide: Request-Ids never repeat across resets


class VendorState:
    """What every emulated vendor has: fault knobs, a rate limiter, counters and a lock."""

    name: ClassVar[str] = ""
    default_rate_limit: ClassVar[float] = 0.0

    def __init__(self, seed: int) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.counters = Counters()
        self._fault_rng = random.Random(seed)
        self._limiter = TokenBucketLimiter(self.default_rate_limit)

    # ---- faults ---------------------------------------------------------------------------

    def set_faults(self, **changes: Any) -> Faults:
        """Change fault knobs (``error_rate``, ``rate_429``, ``latency_ms``, ``drop_rate``,
        ``retry_after_s``); ``rate_limit_per_second`` and ``fault_seed`` are accepted too."""
        with self.lock:
            rate = changes.pop("rate_limit_per_second", None)
            fault_seed = changes.pop("fault_seed", None)
            self.faults.update(**changes)
            if rate is not None:
                self.rate_limit_per_second = float(rate)
            if fault_seed is not None:
                self.seed_faults(int(fault_seed))
            return self.faults

    def seed_faults(self, seed: int) -> None:
        with self.lock:
            self._fault_rng = random.Random(seed)

    def roll_fault(self) -> FaultKind:
        """Count one request and decide its injected fault."""
        with self.lock:
            self.counters.requests += 1
            kind = roll_fault(self.faults, self._fault_rng)
            if kind is FaultKind.DROP:
                self.counters.dropped += 1
                self.counters.errors_injected += 1
            elif kind is FaultKind.ERROR:
                self.counters.errors_injected += 1
            elif kind is FaultKind.THROTTLE:
                self.counters.rate_limited += 1
            return kind

    # ---- rate limit -----------------------------------------------------------------------

    @property
    def rate_limit_per_second(self) -> float:
        return self._limiter.rate_per_second

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, value: float) -> None:
        self._limiter.rate_per_second = value

    def allow_request(self, key: str) -> bool:
        """Take a token for ``key``; counts a refusal in ``rate_limited``."""
        if self._limiter.allow(key):
            return True
        with self.lock:
            self.counters.rate_limited += 1
        return False

    # ---- data -----------------------------------------------------------------------------

    def configure(self, seed: int, size: int, **counts: int) -> None:
        """Replace the vendor's dataset."""
        raise NotImplementedError

    # ---- bookkeeping ----------------------------------------------------------------------

    def reset_counters(self) -> None:
        with self.lock:
            self.counters = Counters()

    def dataset_summary(self) -> dict[str, Any]:
        return {}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "vendor": self.name,
                "counters": self.counters.as_dict(),
                "faults": self.faults.as_dict(),
                "rate_limit_per_second": self.rate_limit_per_second,
                "dataset": self.dataset_summary(),
            }


@dataclass
class MoodleLogin:
    password: str
    token: str


class MoodleVendorState(VendorState):
    """Moodle site: dataset, web service tokens (None = every function) and logins."""

    name = "moodle"
    default_rate_limit = 0.0

    def __init__(self, seed: int = DEFAULT_SEED, size: int = DEFAULT_MOODLE_SIZE) -> None:
        super().__init__(seed)
        self.dataset = MoodleDataset(seed, size)
        self.tokens: dict[str, set[str] | None] = {MOODLE_DEFAULT_TOKEN: None}
        self.logins: dict[str, MoodleLogin] = {
            MOODLE_DEFAULT_USERNAME: MoodleLogin(MOODLE_DEFAULT_PASSWORD, MOODLE_DEFAULT_TOKEN)
        }
        self.services: set[str] = {"moodle_mobile_app", "integrations"}
        self.site_name = "Sandbox Moodle"

    @property
    def site_url(self) -> str:
        """The site's ``wwwroot``: the base of ``siteurl`` and of profile image URLs. Like a
        real Moodle's ``$CFG->wwwroot`` it is configuration, not derived from the request."""
        return self.dataset.site_url

    @site_url.setter
    def site_url(self, value: str) -> None:
        with self.lock:
            self.dataset.site_url = value.rstrip("/")

    def configure(self, seed: int, size: int, **counts: int) -> None:
        """Replace the dataset (``counts`` may hold ``courses``); clears mutations."""
        unknown = set(counts) - {"courses"}
        if unknown:
            raise ValueError(f"unknown Moodle counts: {sorted(unknown)}")
        dataset = MoodleDataset(seed, size, courses=counts.get("courses"))
        with self.lock:
            dataset.site_url = self.dataset.site_url
            self.dataset = dataset
            self._fault_rng = random.Random(seed)

    def mutate_users(self, n: int) -> list[int]:
        with self.lock:
            return self.dataset.mutate_users(n)

    def delete_users(self, ids: list[int]) -> list[int]:
        with self.lock:
            return self.dataset.delete_users(ids)

    def dataset_summary(self) -> dict[str, Any]:
        return self.dataset.summary()


class StripeVendorState(VendorState):
    """Stripe account: dataset, secret keys, restricted keys with their permissions."""

    name = "stripe"
    default_rate_limit = STRIPE_TEST_RATE_LIMIT

    def __init__(self, seed: int = DEFAULT_SEED, size: int = DEFAULT_STRIPE_SIZE) -> None:
        super().__init__(seed)
        self.dataset = self._build(seed, size, {})
        self.valid_keys: set[str] = {STRIPE_DEFAULT_KEY}
        self.restricted_keys: dict[str, set[str]] = {
            STRIPE_DEFAULT_RESTRICTED_KEY: {"rak_customer_read"}
        }
        self._request_seed = seed

    @staticmethod
    def _build(seed: int, size: int, counts: dict[str, int]) -> StripeDataset:
        unknown = set(counts) - {"customers", "invoices", "payment_intents", "subscriptions"}
        if unknown:
            raise ValueError(f"unknown Stripe counts: {sorted(unknown)}")
        return StripeDataset(
            seed,
            customers=counts.get("customers", size),
            invoices=counts.get("invoices", size),
            payment_intents=counts.get("payment_intents", size),
            subscriptions=counts.get("subscriptions", size // 2),
        )

    def configure(self, seed: int, size: int, **counts: int) -> None:
        """Replace the dataset: ``size`` customers, invoices and payment intents, ``size // 2``
        subscriptions unless ``counts`` overrides one of them; clears mutations and events."""
        dataset = self._build(seed, size, counts)
        with self.lock:
            self.dataset = dataset
            self._fault_rng = random.Random(seed)

    def next_request_id(self) -> str:
        counter = next(_REQUEST_COUNTER)
        return f"req_{token_string(self._request_seed, 0x5EED, counter, length=14)}"

    def update_customers(self, n: int) -> list[str]:
        with self.lock:
            return self.dataset.update_customers(n)

    def create_customers(self, n: int) -> list[str]:
        with self.lock:
            return self.dataset.create_customers(n)

    def delete_customers(self, ids: list[str]) -> list[str]:
        with self.lock:
            return self.dataset.delete_customers(ids)

    def delete_random_customers(self, n: int) -> list[str]:
        with self.lock:
            return self.dataset.delete_customers(self.dataset.pick_customers(n))

    def dataset_summary(self) -> dict[str, Any]:
        return self.dataset.summary()


class SandboxState:
    """All vendors' state; ``reset()`` restores the constructor's defaults in place."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        moodle_size: int = DEFAULT_MOODLE_SIZE,
        stripe_size: int = DEFAULT_STRIPE_SIZE,
    ) -> None:
        self._defaults = (seed, moodle_size, stripe_size)
        self.moodle = MoodleVendorState(seed, moodle_size)
        self.stripe = StripeVendorState(seed, stripe_size)

    def vendors(self) -> dict[str, VendorState]:
        return {"moodle": self.moodle, "stripe": self.stripe}

    def vendor(self, name: str) -> VendorState | None:
        return self.vendors().get(name)

    def reset(self) -> None:
        """Fresh datasets, default credentials, no faults, default rate limits, zero counters."""
        seed, moodle_size, stripe_size = self._defaults
        site_url = self.moodle.site_url
        for vendor, fresh in (
            (self.moodle, MoodleVendorState(seed, moodle_size)),
            (self.stripe, StripeVendorState(seed, stripe_size)),
        ):
            with vendor.lock:
                lock = vendor.lock
                vendor.__dict__.update(fresh.__dict__)
                vendor.lock = lock
        self.moodle.site_url = site_url
