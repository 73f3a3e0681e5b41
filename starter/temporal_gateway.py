"""The starter's one Temporal client, connected lazily and shared by every request.

If Temporal is unreachable the gateway raises `TemporalUnavailable`, which the API answers
with 503 (the caller retries); it reconnects on the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.models import (
    ConnectionTestResult,
    ScheduledSyncInput,
    SyncInput,
    SyncResult,
    TestConnectionInput,
)
from runtime.keyring import KeyRing
from runtime.search_attributes import for_integration
from runtime.settings import Settings
from runtime.temporal import connect
from store.integrations import Integration
from workflows.connection_test import ConnectionTestWorkflow
from workflows.scheduled_sync import ScheduledSyncWorkflow
from workflows.sync import SyncWorkflow, workflow_id_for

log = logging.getLogger(__name__)

_TEST_TIMEOUT = timedelta(seconds=60)


def schedule_id_for(tenant_slug: str, integration_id: str) -> str:
    return f"sync-schedule:{tenant_slug}:{integration_id}"


class TemporalUnavailable(Exception):
    pass


class TemporalGateway:
    def __init__(self, address: str, namespace: str, task_queue: str, keyring: KeyRing) -> None:
        self.address = address
        self.namespace = namespace
        self.task_queue = task_queue
        self.keyring = keyring
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, keyring: KeyRing) -> TemporalGateway:
        return cls(
            settings.temporal_address,
            settings.temporal_namespace,
            settings.temporal_task_queue,
            keyring,
        )

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(
                        connect(self.address, self.namespace, self.keyring), timeout=10
                    )
                except Exception as exc:
                    raise TemporalUnavailable(
                        f"Temporal at {self.address} is unreachable: {type(exc).__name__}"
                    ) from None
        return self._client

    async def start_sync(
        self, tenant_slug: str, integration: Integration, sync_input: SyncInput
    ) -> tuple[WorkflowHandle[SyncWorkflow, SyncResult], bool]:
        """Start the integration's sync, or join the one running. Returns (handle, joined)."""
        client = await self.client()
        workflow_id = workflow_id_for(tenant_slug, integration.id)
        try:
            running = await client.get_workflow_handle(workflow_id).describe()
            joined = running.status == WorkflowExecutionStatus.RUNNING
        except RPCError:
            joined = False
        try:
            handle = await client.start_workflow(
                SyncWorkflow.run,
                sync_input,
                id=workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=for_integration(
                    tenant_slug, integration.integration_type, integration.id
                ),
                static_summary=f"{sync_input.mode} sync of {integration.name}",
            )
        except RPCError as exc:
            raise TemporalUnavailable(f"Temporal refused the start: {exc.message}") from None
        return handle, joined

    async def test_connection(
        self, tenant_slug: str, integration: Integration
    ) -> ConnectionTestResult:
        client = await self.client()
        try:
            return await client.execute_workflow(
                ConnectionTestWorkflow.run,
                TestConnectionInput(integration_id=integration.id),
                id=f"test:{tenant_slug}:{integration.id}:{uuid.uuid4().hex[:8]}",
                task_queue=self.task_queue,
                search_attributes=for_integration(
                    tenant_slug, integration.integration_type, integration.id
                ),
                execution_timeout=_TEST_TIMEOUT,
            )
        except RPCError as exc:
            raise TemporalUnavailable(f"Temporal refused the start: {exc.message}") from None

    async def apply_schedule(self, tenant_slug: str, integration: Integration) -> str | None:
        """Make the integration's Schedule match its `sync_frequency_minutes` (create, update
        or delete). Returns the schedule id, or None when it has no schedule."""
        client = await self.client()
        schedule_id = schedule_id_for(tenant_slug, integration.id)
        handle = client.get_schedule_handle(schedule_id)
        minutes = integration.sync_frequency_minutes
        try:
            if minutes is None:
                with contextlib.suppress(RPCError):  # none to delete
                    await handle.delete()
                return None
            schedule = self._schedule(tenant_slug, integration, minutes)
            try:
                await client.create_schedule(schedule_id, schedule)
            except ScheduleAlreadyRunningError:
                await handle.update(lambda _: ScheduleUpdate(schedule=schedule))
        except RPCError as exc:
            raise TemporalUnavailable(f"Temporal refused the schedule: {exc.message}") from None
        return schedule_id

    def _schedule(self, tenant_slug: str, integration: Integration, minutes: int) -> Schedule:
        every = timedelta(minutes=minutes)
        return Schedule(
            action=ScheduleActionStartWorkflow(
                ScheduledSyncWorkflow.run,
                ScheduledSyncInput(
                    sync=SyncInput(tenant_slug=tenant_slug, integration_id=integration.id),
                    integration_type=integration.integration_type,
                ),
                id=f"sync-trigger:{tenant_slug}:{integration.id}",
                task_queue=self.task_queue,
                typed_search_attributes=for_integration(
                    tenant_slug, integration.integration_type, integration.id
                ),
            ),
            spec=ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=every)],
                jitter=min(every / 10, timedelta(minutes=5)),
            ),
            policy=SchedulePolicy(
                overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(minutes=10)
            ),
            state=ScheduleState(note=f"incremental sync of {integration.name} every {minutes} min"),
        )

    async def cancel_workflows(self, tenant_slug: str, integration_id: str) -> None:
        """Cancel the integration's running sync (used when it is disconnected)."""
        client = await self.client()
        handle = client.get_workflow_handle(workflow_id_for(tenant_slug, integration_id))
        with contextlib.suppress(RPCError):  # nothing running
            await handle.cancel()
        with contextlib.suppress(RPCError):  # no schedule
            await client.get_schedule_handle(schedule_id_for(tenant_slug, integration_id)).delete()
