"""The worker process is SIGKILLed in the middle of a 20k-record sync and restarted: the result
has every record exactly once, and the run's counters count every page exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid

import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType

from activities.models import SyncInput
from starter.temporal_gateway import TemporalGateway
from store.schema import sync_state
from tests.conftest import ROOT, Stack
from tests.helpers import all_records, stripe_objects

SIZE = 20_000
PAGE = 100


def start_worker(env: dict[str, str], log_path: str) -> subprocess.Popen[bytes]:
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def committed_pages(stack: Stack, integration_id: str) -> int:
    async with stack.store.db.engine.connect() as conn:
        stats = (
            await conn.execute(
                sa.select(sync_state.c.run_stats).where(
                    sync_state.c.integration_id == integration_id,
                    sync_state.c.resource == "customers",
                )
            )
        ).scalar()
    return int((stats or {}).get("pages", 0))


async def test_sigkill_mid_sync_loses_and_duplicates_nothing(stack: Stack, tmp_path) -> None:
    slug, headers, created = await stack.stripe_integration(
        seed=31, size=SIZE, config={"page_size": PAGE}
    )
    stripe = stack.sandbox.state.stripe
    stripe.faults.update(latency_ms=20)
    integration = await stack.store.integrations.get(created["id"])
    assert integration is not None

    queue = f"kill-{uuid.uuid4().hex[:8]}"
    env = {**stack.env, "TEMPORAL_TASK_QUEUE": queue}
    log_path = str(tmp_path / "worker.log")
    worker = start_worker(env, log_path)
    gateway = TemporalGateway(stack.settings.temporal_address, "default", queue, stack.keyring)
    handle, _ = await gateway.start_sync(
        slug,
        integration,
        SyncInput(
            tenant_slug=slug,
            integration_id=integration.id,
            mode="full",
            resources=["customers"],
            heartbeat_timeout_seconds=3,
        ),
    )
    try:
        for _ in range(600):
            if await committed_pages(stack, integration.id) >= 40:
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        at_kill = await committed_pages(stack, integration.id)
        assert 40 <= at_kill < SIZE // PAGE, at_kill
        stripe.faults.update(latency_ms=0)
        worker = start_worker(env, log_path)
        result = await asyncio.wait_for(handle.result(), timeout=240)
    finally:
        stripe.faults.update(latency_ms=0)
        worker.terminate()
        worker.wait(timeout=30)

    assert result.status == "success", result
    # counters are committed with the pages: each page counted once despite the kill
    assert result.stats["added"] == SIZE and result.stats["pages"] == SIZE // PAGE, result.stats
    records = await all_records(stack, slug, headers, integration.id, "customers")
    ids = [r["vendor_id"] for r in records]
    assert len(ids) == SIZE and len(set(ids)) == SIZE
    assert set(ids) == {c["id"] for c in stripe_objects(stripe.dataset, "customer")}
    # and the activity really was retried after the kill, resuming mid-stream
    history = await handle.fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert max(attempts) >= 2, attempts
