"""Trigger a sync (or join the running one), list sync runs, read the integration's log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from fastapi.exceptions import RequestValidationError
from temporalio.client import WorkflowFailureError

from activities.models import SyncInput
from connectors.registry import spec_for
from starter.deps import CurrentIntegration, CurrentTenant, State
from starter.schemas import LogOut, SyncOut, SyncRequest, SyncRunOut

router = APIRouter(prefix="/api/tenants/{tenant_slug}/integrations", tags=["sync"])


@router.post("/{integration_id}/sync/")
async def sync(
    integration: CurrentIntegration,
    tenant: CurrentTenant,
    state: State,
    response: Response,
    body: Annotated[SyncRequest | None, Body()] = None,
    wait: Annotated[bool, Query(description="answer when the sync has ended")] = False,
) -> SyncOut:
    request = body or SyncRequest()
    if request.resources:
        spec = spec_for(integration.integration_type)
        known = [r.name for r in spec.resources if r.direction in ("pull", "bidirectional")]
        unknown = [name for name in request.resources if name not in known]
        if unknown:
            raise RequestValidationError(
                [
                    {
                        "loc": ["body", "resources"],
                        "msg": f"unknown resources {unknown}; {spec.type_id} has {known}",
                        "type": "value_error",
                        "input": request.resources,
                    }
                ]
            )
    handle, joined = await state.temporal.start_sync(
        tenant.slug,
        integration,
        SyncInput(
            tenant_slug=tenant.slug,
            integration_id=integration.id,
            mode=request.mode,
            resources=request.resources,
        ),
    )
    result = None
    if wait:
        try:
            result = await handle.result()
        except WorkflowFailureError as err:
            cause = err.cause
            response.status_code = 502
            refreshed = await state.store.integrations.get(integration.id)
            current = refreshed or integration
            return SyncOut(
                id=integration.id,
                status=f"failed: {cause or err}",
                last_sync_at=current.last_sync_at,
                last_sync_status=current.last_sync_status,
                workflow_id=handle.id,
                joined_running=joined,
            )
    else:
        response.status_code = 202
    current = await state.store.integrations.get(integration.id) or integration
    return SyncOut(
        id=integration.id,
        status=current.status,
        last_sync_at=current.last_sync_at,
        last_sync_status=current.last_sync_status,
        workflow_id=handle.id,
        joined_running=joined,
        result=result,
    )


@router.get("/{integration_id}/syncs/")
async def list_syncs(
    integration: CurrentIntegration,
    state: State,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[SyncRunOut]:
    runs = await state.store.syncs.list_runs(integration.id, limit=limit)
    return [
        SyncRunOut(
            id=r.id,
            mode=r.mode,
            status=r.status,
            resources=r.resources,
            stats=r.stats,
            error=r.error,
            workflow_id=r.workflow_id,
            started_at=r.started_at,
            finished_at=r.finished_at,
        )
        for r in runs
    ]


@router.get("/{integration_id}/logs/")
async def logs(
    integration: CurrentIntegration,
    state: State,
    action: Annotated[str | None, Query(description="e.g. sync, vendor_call")] = None,
    before: Annotated[int | None, Query(ge=1, description="id of the oldest entry seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[LogOut]:
    rows = await state.store.audit.list(
        integration.id, action=action, before_id=before, limit=limit
    )
    return [
        LogOut(
            id=str(r.id),
            action=r.action,
            status=r.status,
            message=r.message,
            created_at=r.created_at,
            method=r.method,
            url=r.url,
            http_status=r.http_status,
            duration_ms=r.duration_ms,
        )
        for r in rows
    ]
