"""The sandbox ASGI app: Moodle under ``/moodle``, Stripe under ``/stripe``, control under
``/_control``.

Fault injection sits in front of FastAPI's own middleware stack (``SandboxApp.__call__``):
there the ASGI ``send`` is still the server's, which is what lets a "drop" fault abort the TCP
connection without any response (see ``sandbox.faults``). For every request under a vendor
prefix the vendor's counters are updated, ``latency_ms`` is slept, then drop / 500 / 429 are
rolled; the 500 and 429 bodies are the vendor's own (Moodle: an HTML page from the web server;
Stripe: its JSON error shape with a ``Request-Id``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import FastAPI
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox import control_api, moodle_api, stripe_api
from sandbox.faults import FaultKind, drop_connection
from sandbox.state import SandboxState, VendorState

FaultResponder = Callable[[FaultKind, VendorState], Response]
PREFIXES: dict[str, str] = {"moodle": "/moodle/", "stripe": "/stripe/"}


class SandboxApp(FastAPI):
    """FastAPI with per-vendor fault injection applied before routing."""

    sandbox_state: SandboxState
    fault_responders: dict[str, FaultResponder]

    def _vendor_for(self, path: str) -> str | None:
        for name, prefix in PREFIXES.items():
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                return name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = self._vendor_for(scope["path"])
            vendor = self.sandbox_state.vendor(name) if name else None
            if name is not None and vendor is not None:
                kind = vendor.roll_fault()
                if vendor.faults.latency_ms > 0:
                    await asyncio.sleep(vendor.faults.latency_ms / 1000.0)
                if kind is FaultKind.DROP:
                    await drop_connection(send)
                    return
                if kind is not FaultKind.NONE:
                    response = self.fault_responders[name](kind, vendor)
                    await response(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(state: SandboxState | None = None) -> FastAPI:
    """The sandbox app over ``state`` (default: seed 42, 200 Moodle users, 200 Stripe
    customers)."""
    app = SandboxApp(
        title="integrations sandbox",
        description="Vendor API emulators (Moodle, Stripe) with fault knobs",
        version="1.0",
    )
    app.sandbox_state = state if state is not None else SandboxState()
    app.fault_responders = {
        "moodle": moodle_api.fault_response,
        "stripe": stripe_api.fault_response,
    }
    app.include_router(control_api.build_router(app.sandbox_state))
    app.include_router(moodle_api.build_router(app.sandbox_state))
    app.include_router(stripe_api.build_router(app.sandbox_state))
    return app
