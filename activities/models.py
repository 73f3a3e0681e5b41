"""Inputs and outputs of activities and workflows: one pydantic model per call.

Import-light on purpose (pydantic only): workflows import this module inside the sandbox.
Nothing here ever holds a record or a secret: only ids, counts, cursors and error messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

SyncMode = Literal["full", "incremental"]
ResourceStatus = Literal["success", "failed", "skipped"]
RunStatus = Literal["success", "partial", "failed", "auth_failed"]


class SyncInput(BaseModel):
    """Start (or continue-as-new) a sync of one integration."""

    tenant_slug: str
    integration_id: str
    mode: SyncMode = "incremental"
    resources: list[str] | None = None  # None: every pull resource the connector declares
    heartbeat_timeout_seconds: float = 30.0
    # carried across continue-as-new:
    plan: SyncPlan | None = None
    done: list[ResourceResult] = Field(default_factory=list)
    started_at: datetime | None = None


class ScheduledSyncInput(BaseModel):
    """What an integration's Schedule passes to `ScheduledSyncWorkflow`."""

    sync: SyncInput
    integration_type: str


class PlanSyncInput(BaseModel):
    integration_id: str
    workflow_id: str
    mode: SyncMode
    resources: list[str] | None = None


class ResourcePlan(BaseModel):
    name: str
    model: str


class SyncPlan(BaseModel):
    run_id: str
    integration_type: str
    mode: SyncMode
    resources: list[ResourcePlan]


class SyncResourceInput(BaseModel):
    run_id: str
    integration_id: str
    resource: str
    model: str
    mode: SyncMode


class ResourceResult(BaseModel):
    resource: str
    status: ResourceStatus
    stats: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None


class FinishSyncInput(BaseModel):
    run_id: str
    integration_id: str
    results: list[ResourceResult]
    duration_ms: float


class SyncResult(BaseModel):
    run_id: str
    status: RunStatus
    stats: dict[str, int]
    resources: list[ResourceResult]


class TestConnectionInput(BaseModel):
    integration_id: str


class ConnectionTestResult(BaseModel):
    success: bool
    message: str
    details: dict[str, object] = Field(default_factory=dict)


SyncInput.model_rebuild()
ScheduledSyncInput.model_rebuild()
