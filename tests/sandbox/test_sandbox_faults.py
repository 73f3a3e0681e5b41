"""Fault knobs, the real rate limit, and the control API that drives them."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.sandbox.support import STRIPE_KEY, bearer, stripe_get, ws, ws_json


async def test_error_rate_gives_each_vendor_its_own_500(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    sandbox.state.moodle.set_faults(error_rate=1)
    sandbox.state.stripe.set_faults(error_rate=1)
    moodle = await ws(http, "core_webservice_get_site_info")
    assert moodle.status_code == 500 and moodle.headers["content-type"].startswith("text/html")
    assert "500 Internal Server Error" in moodle.text
    stripe = await stripe_get(http, "/v1/customers")
    assert stripe.status_code == 500 and stripe.headers["request-id"].startswith("req_")
    assert stripe.json() == {"error": {"message": "An unknown error occurred", "type": "api_error"}}
    stats = (await http.get("/_control/stripe/stats")).json()
    assert stats["counters"]["errors_injected"] == 1 and stats["counters"]["requests"] == 1


async def test_rate_429_fault_carries_retry_after(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    resp = await http.post("/_control/stripe/faults", json={"rate_429": 1, "retry_after_s": 3})
    assert resp.status_code == 200 and resp.json()["faults"]["rate_429"] == 1
    await http.post("/_control/moodle/faults", json={"rate_429": 1})
    stripe = await stripe_get(http, "/v1/customers")
    assert stripe.status_code == 429 and stripe.headers["retry-after"] == "3"
    assert stripe.json()["error"]["code"] == "rate_limit"
    assert stripe.json()["error"]["message"].startswith("Request rate limit exceeded.")
    moodle = await ws(http, "core_webservice_get_site_info")
    assert moodle.status_code == 429 and moodle.headers["retry-after"] == "1"
    assert sandbox.state.stripe.counters.rate_limited == 1


async def test_latency(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    sandbox.state.moodle.set_faults(latency_ms=250)
    started = time.perf_counter()
    await ws_json(http, "core_webservice_get_site_info")
    assert time.perf_counter() - started >= 0.25
    started = time.perf_counter()
    await stripe_get(http, "/v1/balance")
    assert time.perf_counter() - started < 0.25  # knobs are per vendor


async def test_drop_is_a_transport_error_in_httpx(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    sandbox.state.stripe.set_faults(drop_rate=1)
    sandbox.state.moodle.set_faults(drop_rate=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await stripe_get(http, "/v1/customers")
    with pytest.raises(httpx.TransportError):
        await ws(http, "core_webservice_get_site_info")
    assert sandbox.state.stripe.counters.dropped == 1
    sandbox.state.stripe.set_faults(drop_rate=0)
    assert (await stripe_get(http, "/v1/balance")).status_code == 200


async def test_seeded_faults_replay(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    runs = []
    for _ in range(2):
        await http.post("/_control/stripe/faults", json={"error_rate": 0.5, "fault_seed": 7})
        runs.append([(await stripe_get(http, "/v1/balance")).status_code for _ in range(20)])
    assert runs[0] == runs[1] and {200, 500} == set(runs[0])


async def test_control_api_validation_and_stats(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    for body in ({"error_rate": 2}, {"latency_ms": -1}, {"colour": "red"}):
        assert (await http.post("/_control/moodle/faults", json=body)).status_code == 422
    unknown = await http.post("/_control/quickbooks/faults", json={"error_rate": 0.1})
    assert unknown.status_code == 404 and unknown.json()["vendors"] == ["moodle", "stripe"]
    assert (await http.get("/_control/quickbooks/stats")).status_code == 404
    await http.post("/_control/moodle/faults", json={"latency_ms": 5, "rate_limit_per_second": 9})
    assert sandbox.state.moodle.faults.latency_ms == 5
    assert sandbox.state.moodle.rate_limit_per_second == 9
    await ws_json(http, "core_webservice_get_site_info")
    stats = (await http.get("/_control/moodle/stats")).json()
    assert stats["counters"]["requests"] == 1  # control calls are not vendor requests
    assert stats["dataset"]["users"] == 200
    reset = await http.post("/_control/reset")
    assert reset.status_code == 200 and reset.json()["moodle"]["counters"]["requests"] == 0
    assert sandbox.state.moodle.faults.latency_ms == 0
    assert sandbox.state.stripe.rate_limit_per_second == 25
    sized = await http.post("/_control/stripe/dataset", json={"seed": 1, "size": 10})
    assert sized.json()["dataset"]["customers"] == 10
    assert sized.json()["dataset"]["subscriptions"] == 5
    assert (await http.post("/_control/stripe/dataset", json={"size": -1})).status_code == 422


async def test_stripe_rate_limit_per_key(sandbox: SandboxServer, http: httpx.AsyncClient) -> None:
    stripe = sandbox.state.stripe
    assert stripe.rate_limit_per_second == 25
    other = "sk_test_other_key"
    stripe.valid_keys.add(other)
    burst = await asyncio.gather(*(stripe_get(http, "/v1/balance") for _ in range(40)))
    codes = [r.status_code for r in burst]
    assert 25 <= codes.count(200) <= 35 and codes.count(429) >= 5
    limited = next(r for r in burst if r.status_code == 429)
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["error"] == {
        "code": "rate_limit",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
        "message": limited.json()["error"]["message"],
        "request_log_url": limited.json()["error"]["request_log_url"],
        "type": "invalid_request_error",
    }
    assert (await stripe_get(http, "/v1/balance", key=other)).status_code == 200
    await asyncio.sleep(0.2)
    assert (await http.get("/stripe/v1/balance", headers=bearer(STRIPE_KEY))).status_code == 200


async def test_moodle_rate_limit_when_switched_on(
    sandbox: SandboxServer, http: httpx.AsyncClient
) -> None:
    assert sandbox.state.moodle.rate_limit_per_second == 0  # Moodle has none built in
    sandbox.state.moodle.rate_limit_per_second = 3
    codes = [(await ws(http, "core_webservice_get_site_info")).status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
