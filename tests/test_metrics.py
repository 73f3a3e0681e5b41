"""The worker serves the SDK's and the product's metrics for Prometheus."""

from __future__ import annotations

import re
import socket
import uuid

import httpx

from activities.models import SyncInput
from activities.sync import IntegrationActivities
from runtime.temporal import connect
from starter.temporal_gateway import TemporalGateway
from tests.conftest import Stack
from worker import build_worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_records_pages_and_vendor_calls_are_counted(stack: Stack) -> None:
    slug, _, created = await stack.stripe_integration(seed=81, size=250)
    integration = await stack.store.integrations.get(created["id"])
    assert integration is not None
    bind = f"127.0.0.1:{_free_port()}"
    client = await connect(
        stack.settings.temporal_address, "default", stack.keyring, metrics_bind=bind
    )
    queue = f"metrics-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient() as http:
        worker = build_worker(client, IntegrationActivities(stack.store, http), queue, 5)
        async with worker:
            gateway = TemporalGateway(
                stack.settings.temporal_address, "default", queue, stack.keyring
            )
            handle, _ = await gateway.start_sync(
                slug,
                integration,
                SyncInput(tenant_slug=slug, integration_id=integration.id, resources=["customers"]),
            )
            assert (await handle.result()).status == "success"
            text = (await http.get(f"http://{bind}/metrics")).text
    assert _value(text, "integrations_records_synced", model="customers", outcome="added") == 250
    assert _value(text, "integrations_sync_pages", resource="customers") == 3
    assert _value(text, "integrations_vendor_calls", status_class="2xx") >= 3
    assert re.search(r"^temporal_activity_execution_latency", text, re.M)  # the SDK's own
