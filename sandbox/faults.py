"""Fault knobs (errors, 429s, latency, dropped connections) applied at the edge of each vendor.

``Faults`` holds the knobs, ``Counters`` what happened, ``roll_fault`` decides (from a seeded
RNG, so a test can replay the same sequence) what happens to one request, and
``drop_connection`` closes the TCP connection without any response. Under uvicorn the ASGI
``send`` callable is bound to the connection's ``RequestResponseCycle``, which owns the asyncio
transport: aborting it makes the client see "server disconnected without sending a response"
(httpx raises ``RemoteProtocolError``), exactly what a crashed PHP worker or a proxy reset
looks like. Under another server the fallback starts a response and dies mid-body, which the
server turns into a closed connection too.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import asdict, dataclass
from typing import Any

from starlette.types import Send

_RATE_FIELDS = ("error_rate", "rate_429", "drop_rate")


@dataclass
class Faults:
    """Per-vendor fault knobs; every request rolls drop, then 500, then 429."""

    error_rate: float = 0.0
    rate_429: float = 0.0
    latency_ms: float = 0.0
    drop_rate: float = 0.0
    retry_after_s: int = 1

    def update(self, **changes: Any) -> None:
        """Set some knobs, validating them all before changing any."""
        validated: dict[str, Any] = {}
        for name, value in changes.items():
            if value is None:
                continue
            if name in _RATE_FIELDS:
                rate = float(value)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1")
                validated[name] = rate
            elif name == "latency_ms":
                latency = float(value)
                if not 0.0 <= latency <= 60_000.0:
                    raise ValueError("latency_ms must be between 0 and 60000")
                validated[name] = latency
            elif name == "retry_after_s":
                retry = int(value)
                if retry < 0:
                    raise ValueError("retry_after_s must be >= 0")
                validated[name] = retry
            else:
                raise ValueError(f"unknown fault knob {name!r}")
        for name, value in validated.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Counters:
    """What a vendor emulator has seen since the last reset."""

    requests: int = 0
    errors_injected: int = 0
    dropped: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class FaultKind(enum.Enum):
    NONE = "none"
    DROP = "drop"
    ERROR = "error"
    THROTTLE = "throttle"


def roll_fault(faults: Faults, rng: random.Random) -> FaultKind:
    """Decide the fate of one request. A knob at 0 consumes no randomness."""
    if faults.drop_rate > 0 and rng.random() < faults.drop_rate:
        return FaultKind.DROP
    if faults.error_rate > 0 and rng.random() < faults.error_rate:
        return FaultKind.ERROR
    if faults.rate_429 > 0 and rng.random() < faults.rate_429:
        return FaultKind.THROTTLE
    return FaultKind.NONE


class DroppedConnection(Exception):
    """Raised (fallback path) after a partial response so the server closes the socket."""


async def drop_connection(send: Send) -> None:
    """Close the client connection without sending a response."""
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    if isinstance(transport, asyncio.Transport):
        transport.abort()
        # Let the protocol's connection_lost() run so the server marks the cycle disconnected
        # and does not try to answer with its own 500.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    raise DroppedConnection("sandbox dropped the connection")
