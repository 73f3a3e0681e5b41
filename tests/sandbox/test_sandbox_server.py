"""SandboxServer lifecycle, the app factory, the CLI arguments and webhook signatures."""

from __future__ import annotations

import json

import httpx
import pytest
import stripe

from sandbox.__main__ import parse_args
from sandbox.app import create_app
from sandbox.server import SandboxServer
from sandbox.state import SandboxState
from sandbox.stripe_webhooks import sign_payload, sign_payload_rotating


async def test_port_zero_picks_a_real_free_port() -> None:
    state = SandboxState(seed=1, moodle_size=10, stripe_size=10)
    with SandboxServer(state=state, port=0) as one, SandboxServer(port=0) as two:
        assert one.port != two.port and one.port > 0
        assert one.url == f"http://127.0.0.1:{one.port}" and one.state is state
        async with httpx.AsyncClient() as http:
            resp = await http.get(f"{one.url}/_control/stripe/stats")
            assert resp.json()["dataset"]["customers"] == 10
            assert (await http.get(f"{two.url}/_control")).json() == {
                "vendors": ["moodle", "stripe"]
            }
        url = one.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_control", timeout=2)


async def test_create_app_defaults() -> None:
    app = create_app()
    state = app.sandbox_state  # type: ignore[attr-defined]
    assert isinstance(state, SandboxState)
    assert state.moodle.dataset.seed == 42 and state.moodle.dataset.size == 200
    assert state.stripe.dataset.counts["customer"] == 200


async def test_cli_defaults() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.seed, args.moodle_size, args.stripe_size) == (
        "127.0.0.1",
        8766,
        42,
        200,
        200,
    )


async def test_webhook_signature_verifies_with_the_sdk() -> None:
    payload = json.dumps({"id": "evt_1", "object": "event"}).encode()
    secret = "whsec_test_secret"
    now = 1_700_000_000
    header = sign_payload(payload, secret, now)
    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert stripe.WebhookSignature.verify_header(payload.decode(), header, secret, tolerance=None)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload.decode() + " ", header, secret, None)
    rotated = sign_payload_rotating(payload, ["whsec_old", secret], now)
    assert rotated.count("v1=") == 2
    assert stripe.WebhookSignature.verify_header(payload.decode(), rotated, secret, None)
