"""Entry point: build the Temporal client and run the integrations worker.

`python worker.py` (console script `integrations-worker`). Settings come from the environment
(see the README). The worker owns one shared `httpx.AsyncClient`, one store, and stops
gracefully on SIGTERM/SIGINT (in-flight activities get `graceful_shutdown_timeout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from activities.sync import IntegrationActivities
from runtime.keyring import keyring_from_settings
from runtime.logs import setup_logging
from runtime.settings import Settings, get_settings
from runtime.temporal import connect
from runtime.tracing import setup_tracing
from store.store import Store
from workflows.connection_test import ConnectionTestWorkflow
from workflows.scheduled_sync import ScheduledSyncWorkflow
from workflows.sync import SyncWorkflow

log = logging.getLogger("worker")

WORKFLOWS = [SyncWorkflow, ConnectionTestWorkflow, ScheduledSyncWorkflow]


def build_worker(
    client: Client, acts: IntegrationActivities, task_queue: str, max_activities: int
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[acts.plan_sync, acts.sync_resource, acts.finish_sync, acts.test_connection],
        max_concurrent_activities=max_activities,
        graceful_shutdown_timeout=timedelta(seconds=20),
        max_heartbeat_throttle_interval=timedelta(seconds=5),
    )


@contextlib.asynccontextmanager
async def worker_resources(
    settings: Settings,
) -> AsyncIterator[tuple[Client, IntegrationActivities]]:
    keyring = keyring_from_settings(settings)
    store = await Store.open(settings.resolved_database_url(), keyring)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx.AsyncClient(
        timeout=settings.vendor_timeout_seconds, limits=limits, follow_redirects=False
    ) as http:
        try:
            client = await connect(
                settings.temporal_address,
                settings.temporal_namespace,
                keyring,
                metrics_bind=settings.worker_metrics_bind,
            )
            yield client, IntegrationActivities(store, http)
        finally:
            await store.close()


async def run(settings: Settings) -> None:
    async with worker_resources(settings) as (client, acts):
        worker = build_worker(
            client, acts, settings.temporal_task_queue, settings.worker_max_concurrent_activities
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "worker polling %s on %s (namespace %s)",
            settings.temporal_task_queue,
            settings.temporal_address,
            settings.temporal_namespace,
        )
        async with worker:
            await stop.wait()
            log.info("shutting down")


def cli() -> None:
    settings = get_settings()
    setup_logging(settings.log_level)
    setup_tracing("integrations-worker")
    asyncio.run(run(settings))


if __name__ == "__main__":
    cli()
