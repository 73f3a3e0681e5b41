"""API bodies and answers. Secrets are write-only: no answer model has a field for one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from activities.models import SyncResult

CREDENTIAL_FIELDS = (
    "access_token",
    "refresh_token",
    "api_key",
    "client_id",
    "client_secret",
    "realm_id",
    "sender_id",
    "sender_password",
    "webhook_secret",
)


class _Credentials(BaseModel):
    access_token: str | None = Field(None, min_length=1)
    refresh_token: str | None = Field(None, min_length=1)
    api_key: str | None = Field(None, min_length=1)
    client_id: str | None = Field(None, min_length=1)
    client_secret: str | None = Field(None, min_length=1)
    realm_id: str | None = Field(None, min_length=1)
    sender_id: str | None = Field(None, min_length=1)
    sender_password: str | None = Field(None, min_length=1)
    webhook_secret: str | None = Field(None, min_length=1)

    def credentials(self) -> dict[str, str]:
        return {k: v for k in CREDENTIAL_FIELDS if (v := getattr(self, k)) is not None}


class IntegrationCreate(_Credentials):
    """Body of `POST /api/tenants/{slug}/integrations/` (shape of the product document)."""

    model_config = ConfigDict(extra="forbid")

    integration_type: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    config: dict[str, Any] = Field(default_factory=dict)
    api_base_url: HttpUrl | None = None
    sync_frequency_minutes: int | None = Field(None, ge=5, le=60 * 24 * 7)


class IntegrationPatch(BaseModel):
    """Body of PATCH: any subset; a credential set to null is removed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    config: dict[str, Any] | None = None
    api_base_url: HttpUrl | None = None
    sync_frequency_minutes: int | None = Field(None, ge=5, le=60 * 24 * 7)
    access_token: str | None = None
    refresh_token: str | None = None
    api_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    realm_id: str | None = None
    sender_id: str | None = None
    sender_password: str | None = None
    webhook_secret: str | None = None


class IntegrationOut(BaseModel):
    id: str
    integration_type: str
    name: str
    description: str
    config: dict[str, Any]
    api_base_url: str
    status: str
    credentials_set: list[str]
    sync_frequency_minutes: int | None
    schedule_id: str | None = None
    last_sync_at: datetime | None
    last_sync_status: str | None
    created_at: datetime
    updated_at: datetime


class TestConnectionOut(BaseModel):
    __test__ = False

    success: bool
    message: str
    details: dict[str, Any]


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resources: list[str] | None = Field(None, min_length=1)
    mode: Literal["incremental", "full"] = "incremental"


class SyncOut(BaseModel):
    id: str
    status: str
    last_sync_at: datetime | None
    last_sync_status: str | None
    workflow_id: str
    joined_running: bool = False
    result: SyncResult | None = None


class SyncRunOut(BaseModel):
    id: str
    mode: str
    status: str
    resources: list[str]
    stats: dict[str, Any]
    error: str | None
    workflow_id: str
    started_at: datetime
    finished_at: datetime | None


class LogOut(BaseModel):
    id: str
    action: str
    status: str
    message: str
    created_at: datetime
    method: str | None = None
    url: str | None = None
    http_status: int | None = None
    duration_ms: float | None = None


class RecordOutModel(BaseModel):
    id: str
    model: str
    vendor_id: str
    data: dict[str, Any]
    raw: dict[str, Any] | None = None
    modified_at: datetime
    deleted: bool


class RecordsOut(BaseModel):
    records: list[RecordOutModel]
    next_cursor: str | None


class IntegrationTypeOut(BaseModel):
    type_id: str
    display_name: str
    category: str
    auth_kind: str
    status: Literal["available", "planned"]
    config_fields: list[dict[str, Any]]
    credential_fields: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    default_base_url: str | None
