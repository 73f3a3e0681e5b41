"""The sandbox's own control API under ``/_control`` (not part of any vendor's protocol).

``POST /_control/{vendor}/faults`` sets fault knobs and the rate limit, ``POST
/_control/{vendor}/dataset`` regenerates data, ``POST /_control/moodle/mutate`` and ``POST
/_control/stripe/mutate`` change data and (for Stripe) append events, ``GET
/_control/{vendor}/stats`` reports counters, ``POST /_control/reset`` restores every default.
Bodies are validated with pydantic (422 on bad values); an unknown vendor is 404 with the list
of valid ones. Control requests never count as vendor requests and never get faults.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sandbox.moodle_data import FIRST_USER_ID
from sandbox.state import SandboxState


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    rate_429: float | None = Field(default=None, ge=0.0, le=1.0)
    latency_ms: float | None = Field(default=None, ge=0.0, le=60_000.0)
    drop_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    retry_after_s: int | None = Field(default=None, ge=0, le=3_600)
    rate_limit_per_second: float | None = Field(default=None, ge=0.0)
    fault_seed: int | None = None


class DatasetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 42
    size: int = Field(ge=0, le=1_000_000)
    courses: int | None = Field(default=None, ge=3, le=100_000)
    customers: int | None = Field(default=None, ge=0, le=1_000_000)
    invoices: int | None = Field(default=None, ge=0, le=1_000_000)
    payment_intents: int | None = Field(default=None, ge=0, le=1_000_000)
    subscriptions: int | None = Field(default=None, ge=0, le=1_000_000)


class MoodleMutateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: int = Field(default=0, ge=0)
    delete_users: int | list[int] = 0


class StripeMutateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    update_customers: int = Field(default=0, ge=0)
    create_customers: int = Field(default=0, ge=0)
    delete_customers: int | list[str] = 0


_MOODLE_COUNTS = ("courses",)
_STRIPE_COUNTS = ("customers", "invoices", "payment_intents", "subscriptions")


def _unknown_vendor(state: SandboxState, vendor: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"unknown vendor {vendor!r}", "vendors": sorted(state.vendors())},
        status_code=404,
    )


def build_router(state: SandboxState) -> APIRouter:
    router = APIRouter(prefix="/_control", tags=["control"])

    @router.get("")
    async def index() -> dict[str, Any]:
        return {"vendors": sorted(state.vendors())}

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        state.reset()
        return {name: v.stats() for name, v in state.vendors().items()}

    @router.post("/moodle/mutate")
    async def moodle_mutate(body: MoodleMutateIn) -> dict[str, Any]:
        vendor = state.moodle
        with vendor.lock:
            mutated = vendor.mutate_users(body.users)
            if isinstance(body.delete_users, int):
                live = vendor.dataset.live_user_indexes()
                step = max(1, len(live) // max(1, body.delete_users))
                ids = [FIRST_USER_ID + i for i in list(live)[::step][: body.delete_users]]
            else:
                ids = body.delete_users
            deleted = vendor.delete_users(ids)
        return {"mutated_user_ids": mutated, "deleted_user_ids": deleted}

    @router.post("/stripe/mutate")
    async def stripe_mutate(body: StripeMutateIn) -> dict[str, Any]:
        vendor = state.stripe
        with vendor.lock:
            before = vendor.dataset.size("event")
            updated = vendor.update_customers(body.update_customers)
            created = vendor.create_customers(body.create_customers)
            if isinstance(body.delete_customers, int):
                deleted = vendor.delete_random_customers(body.delete_customers)
            else:
                deleted = vendor.delete_customers(body.delete_customers)
            events = [e["id"] for e in vendor.dataset.events()[before:]]
        return {
            "updated_customer_ids": updated,
            "created_customer_ids": created,
            "deleted_customer_ids": deleted,
            "event_ids": events,
        }

    @router.post("/{vendor}/mutate")
    async def unknown_mutate(vendor: str) -> JSONResponse:
        return _unknown_vendor(state, vendor)

    @router.post("/{vendor}/faults", response_model=None)
    async def set_faults(vendor: str, body: FaultsIn) -> dict[str, Any] | JSONResponse:
        target = state.vendor(vendor)
        if target is None:
            return _unknown_vendor(state, vendor)
        target.set_faults(**body.model_dump(exclude_none=True))
        return target.stats()

    @router.post("/{vendor}/dataset", response_model=None)
    async def set_dataset(vendor: str, body: DatasetIn) -> dict[str, Any] | JSONResponse:
        target = state.vendor(vendor)
        if target is None:
            return _unknown_vendor(state, vendor)
        names = _MOODLE_COUNTS if vendor == "moodle" else _STRIPE_COUNTS
        counts = {n: getattr(body, n) for n in names if getattr(body, n) is not None}
        target.configure(body.seed, body.size, **counts)
        return target.stats()

    @router.get("/{vendor}/stats", response_model=None)
    async def stats(vendor: str) -> dict[str, Any] | JSONResponse:
        target = state.vendor(vendor)
        if target is None:
            return _unknown_vendor(state, vendor)
        return target.stats()

    return router
