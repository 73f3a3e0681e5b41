"""Sync and connection-test activities.

`sync_resource` is the long-running one: it streams a resource's pages from the connector and
commits each page (records + cursor + counters, one transaction) before heartbeating the
cursor. A retried attempt resumes from the stored cursor of the same run, so a worker killed
at any moment loses nothing and duplicates nothing. Records never leave this activity: its
result carries only counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import to_application_error
from activities.metrics import SyncMetrics
from activities.models import (
    ConnectionTestResult,
    FinishSyncInput,
    PlanSyncInput,
    ResourcePlan,
    ResourceResult,
    RunStatus,
    SyncPlan,
    SyncResourceInput,
    SyncResult,
    TestConnectionInput,
)
from connectors import registry
from connectors.base import Connector, ConnectorContext, Page, ReadRequest, Record, VendorCall
from connectors.errors import VendorError
from store.audit import AuditEntry
from store.integrations import Integration
from store.records import RecordIn
from store.store import Store
from store.sync import STAT_KEYS

log = logging.getLogger(__name__)


def _activity_ids() -> tuple[str | None, str | None]:
    if not activity.in_activity():
        return None, None
    info = activity.info()
    return info.workflow_id, info.activity_id


class IntegrationActivities:
    """Holds the store and the worker's one shared httpx client."""

    def __init__(self, store: Store, http: httpx.AsyncClient) -> None:
        self.store = store
        self.http = http

    async def _integration(self, integration_id: str) -> Integration:
        integration = await self.store.integrations.get(integration_id)
        if integration is None:
            raise ApplicationError(
                f"integration {integration_id} does not exist or was disconnected",
                type="IntegrationNotFound",
                non_retryable=True,
            )
        return integration

    async def _connector(
        self, integration: Integration, metrics: SyncMetrics | None = None
    ) -> Connector:
        creds = await self.store.integrations.credentials(integration.id)
        workflow_id, activity_id = _activity_ids()

        async def audit(call: VendorCall) -> None:
            if metrics is not None:
                metrics.vendor_call(call.status)
            status = "success" if call.status is not None and call.status < 400 else "error"
            await self.store.audit.write(
                AuditEntry(
                    action="vendor_call",
                    status=status,
                    message=call.error or "",
                    tenant_id=integration.tenant_id,
                    integration_id=integration.id,
                    method=call.method,
                    url=call.url,
                    http_status=call.status,
                    duration_ms=round(call.duration_ms, 2),
                    workflow_id=workflow_id,
                    activity_id=activity_id,
                )
            )

        page_size = integration.config.get("page_size")
        ctx = ConnectorContext(
            integration_id=integration.id,
            base_url=integration.api_base_url,
            config=integration.config,
            credentials=creds,
            http=self.http,
            audit=audit,
            page_size=int(page_size) if page_size else None,
        )
        return registry.build(integration.integration_type, ctx)

    @activity.defn
    async def plan_sync(self, input: PlanSyncInput) -> SyncPlan:
        """Open a sync run: validate the resources, create the `sync_runs` row."""
        integration = await self._integration(input.integration_id)
        spec = registry.spec_for(integration.integration_type)
        pull = [r for r in spec.resources if r.direction in ("pull", "bidirectional")]
        if input.resources:
            known = {r.name: r for r in pull}
            unknown = [name for name in input.resources if name not in known]
            if unknown:
                raise ApplicationError(
                    f"unknown resources {unknown}; {spec.type_id} has {sorted(known)}",
                    type="InvalidSyncRequest",
                    non_retryable=True,
                )
            pull = [known[name] for name in input.resources]
        run_id = await self.store.syncs.start_run(
            integration_id=integration.id,
            workflow_id=input.workflow_id,
            mode=input.mode,
            resources=[r.name for r in pull],
        )
        return SyncPlan(
            run_id=run_id,
            integration_type=integration.integration_type,
            mode=input.mode,
            resources=[ResourcePlan(name=r.name, model=r.model) for r in pull],
        )

    @activity.defn
    async def sync_resource(self, input: SyncResourceInput) -> ResourceResult:
        """Stream one resource into the store, resuming this run's stored cursor."""
        integration = await self._integration(input.integration_id)
        syncs = self.store.syncs
        state = await syncs.begin_resource(integration.id, input.resource, input.run_id)
        if state.done:
            stats = await self._finish(integration, input)
            return ResourceResult(resource=input.resource, status="success", stats=stats)
        if state.cursor is not None:
            activity.logger.info("resuming %s from stored cursor", input.resource)
        metrics = SyncMetrics(integration.integration_type)
        connector = await self._connector(integration, metrics)
        request = ReadRequest(
            resource=input.resource,
            mode=input.mode,
            cursor=state.cursor,
            checkpoint=state.checkpoint,
        )
        heartbeat = _Heartbeater(state.cursor)
        totals = state.stats
        try:
            async with (
                heartbeat.running(),
                contextlib.aclosing(read_ahead(connector.read(request))) as pages,
            ):
                async for page in pages:
                    before = totals
                    totals = await syncs.commit_page(
                        tenant_id=integration.tenant_id,
                        integration_id=integration.id,
                        resource=input.resource,
                        run_id=input.run_id,
                        items=[_record_in(r) for r in page.records],
                        cursor=page.cursor,
                        pending_checkpoint=page.checkpoint,
                        api_calls=page.api_calls,
                    )
                    metrics.page(input.resource, input.model, before, totals)
                    heartbeat.beat(page.cursor)
        except VendorError as err:
            activity.logger.warning(
                "%s failed on %s: %s (%s)", input.resource, integration.id, err, err.kind
            )
            raise to_application_error(err) from None
        finally:
            await connector.aclose()
        stats = await self._finish(integration, input)
        return ResourceResult(resource=input.resource, status="success", stats=stats)

    async def _finish(self, integration: Integration, input: SyncResourceInput) -> dict[str, int]:
        stats = await self.store.syncs.finish_resource(
            integration_id=integration.id,
            resource=input.resource,
            run_id=input.run_id,
            model=input.model,
            sweep=input.mode == "full",
        )
        return {k: stats[k] for k in STAT_KEYS}

    @activity.defn
    async def finish_sync(self, input: FinishSyncInput) -> SyncResult:
        """Close the run: totals into `sync_runs`, outcome and health onto the integration."""
        totals = dict.fromkeys(STAT_KEYS, 0)
        for result in input.results:
            for key in STAT_KEYS:
                totals[key] += result.stats.get(key, 0)
        totals["duration_ms"] = round(input.duration_ms)
        failed = [r for r in input.results if r.status != "success"]
        status: RunStatus
        if any(r.error_type == "VendorAuthError" for r in failed):
            status = "auth_failed"
        elif not failed:
            status = "success"
        elif len(failed) == len(input.results):
            status = "failed"
        else:
            status = "partial"
        errors = "; ".join(f"{r.resource}: {r.error}" for r in failed if r.error) or None
        run = await self.store.syncs.finish_run(
            input.run_id,
            status=status,
            stats={"totals": totals, "resources": {r.resource: r.stats for r in input.results}},
            error=errors,
        )
        integration = await self._integration(input.integration_id)
        await self.store.integrations.record_sync_outcome(
            integration.id, status, run.finished_at or run.started_at
        )
        synced = totals["added"] + totals["updated"] + totals["unchanged"]
        message = (
            f"Synced {synced} records ({totals['added']} added, {totals['updated']} updated, "
            f"{totals['unchanged']} unchanged, {totals['deleted']} deleted) in "
            f"{totals['pages']} pages, {totals['api_calls']} vendor calls"
        )
        if errors:
            message += f"; errors: {errors}"
        workflow_id, activity_id = _activity_ids()
        await self.store.audit.write(
            AuditEntry(
                action="sync",
                status=status,
                message=message,
                tenant_id=integration.tenant_id,
                integration_id=integration.id,
                workflow_id=workflow_id,
                activity_id=activity_id,
            )
        )
        return SyncResult(run_id=input.run_id, status=status, stats=totals, resources=input.results)

    @activity.defn
    async def test_connection(self, input: TestConnectionInput) -> ConnectionTestResult:
        """One cheap authenticated call. Vendor rejections are a result, not an error."""
        integration = await self._integration(input.integration_id)
        connector = await self._connector(integration)
        try:
            result = await connector.test_connection()
        except VendorError as err:
            if err.retryable:
                raise to_application_error(err) from None
            result_success, message = False, str(err)
            details: dict[str, Any] = {"error_type": err.kind}
        else:
            result_success, message, details = result.success, result.message, result.details
        finally:
            await connector.aclose()
        workflow_id, activity_id = _activity_ids()
        await self.store.audit.write(
            AuditEntry(
                action="test_connection",
                status="success" if result_success else "failed",
                message=message,
                tenant_id=integration.tenant_id,
                integration_id=integration.id,
                workflow_id=workflow_id,
                activity_id=activity_id,
            )
        )
        return ConnectionTestResult(success=result_success, message=message, details=details)


def _record_in(record: Record) -> RecordIn:
    """A connector's record as the store takes it: unified data dumped to JSON types."""
    return RecordIn(
        model=record.model,
        vendor_id=record.vendor_id,
        data=record.data.model_dump(mode="json"),
        raw=record.raw,
        vendor_modified_at=record.modified_at,
        deleted=record.deleted,
    )


async def read_ahead(pages: AsyncIterator[Page]) -> AsyncGenerator[Page, None]:
    """Fetch page n+1 from the vendor while page n is being committed.

    Pages are still handed out strictly in order, so the resume cursor semantics are those of
    the plain stream; a prefetched page that is never consumed (failure, cancellation) is
    simply dropped and will be read again by the next attempt.
    """
    upcoming: asyncio.Future[Page] = asyncio.ensure_future(anext(pages))
    try:
        while True:
            try:
                page = await upcoming
            except StopAsyncIteration:
                return
            upcoming = asyncio.ensure_future(anext(pages))
            yield page
    finally:
        if not upcoming.done():
            upcoming.cancel()
        with contextlib.suppress(BaseException):
            await upcoming
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()


class _Heartbeater:
    """Heartbeats the last committed cursor after each page and, while a slow page is being
    fetched, every few seconds, so a live attempt is never taken for a dead one."""

    def __init__(self, cursor: dict[str, Any] | None, every: float = 5.0) -> None:
        self.cursor = cursor
        self.every = every

    def beat(self, cursor: dict[str, Any] | None) -> None:
        self.cursor = cursor
        if activity.in_activity():
            activity.heartbeat(cursor)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.beat(self.cursor)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
