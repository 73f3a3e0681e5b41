"""Integrations: create, list, read, change, disconnect, test the connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.exceptions import RequestValidationError

from connectors.registry import CATALOGUE, available_type_ids
from starter.deps import AppState, CurrentIntegration, CurrentTenant, State
from starter.schemas import (
    CREDENTIAL_FIELDS,
    IntegrationCreate,
    IntegrationOut,
    IntegrationPatch,
    TestConnectionOut,
)
from starter.temporal_gateway import TemporalUnavailable, schedule_id_for
from store.audit import AuditEntry
from store.integrations import Integration

router = APIRouter(prefix="/api/tenants/{tenant_slug}/integrations", tags=["integrations"])


def integration_out(i: Integration, tenant_slug: str) -> IntegrationOut:
    return IntegrationOut(
        schedule_id=schedule_id_for(tenant_slug, i.id) if i.sync_frequency_minutes else None,
        id=i.id,
        integration_type=i.integration_type,
        name=i.name,
        description=i.description,
        config=i.config,
        api_base_url=i.api_base_url,
        status=i.status,
        credentials_set=i.credential_names,
        sync_frequency_minutes=i.sync_frequency_minutes,
        last_sync_at=i.last_sync_at,
        last_sync_status=i.last_sync_status,
        created_at=i.created_at,
        updated_at=i.updated_at,
    )


def _invalid(field: str, msg: str, value: Any = None) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ["body", field], "msg": msg, "type": "value_error", "input": value}]
    )


async def _log(
    state: AppState, tenant_id: str, integration_id: str, action: str, message: str
) -> None:
    await state.store.audit.write(
        AuditEntry(
            action=action,
            status="success",
            message=message,
            tenant_id=tenant_id,
            integration_id=integration_id,
        )
    )


def _check_type(type_id: str) -> None:
    entry = CATALOGUE.get(type_id)
    if entry is None:
        raise _invalid(
            "integration_type",
            f"unknown integration_type {type_id!r}; valid types: {', '.join(CATALOGUE)}",
            type_id,
        )
    if entry.status != "available":
        raise _invalid(
            "integration_type",
            f"integration_type {type_id!r} is planned but not available yet; "
            f"available types: {', '.join(available_type_ids())}",
            type_id,
        )


def _check_config(config: dict[str, Any]) -> None:
    """The config keys the platform itself reads; the rest belongs to the connector."""
    page_size = config.get("page_size")
    if page_size is not None and (
        isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 1000
    ):
        raise _invalid(
            "config", "config.page_size must be a whole number from 1 to 1000", page_size
        )


def _check_credentials(type_id: str, creds: dict[str, str]) -> None:
    for field in CATALOGUE[type_id].spec.credential_fields:
        if field.required and not creds.get(field.name):
            raise _invalid(field.name, f"{type_id} requires {field.name} ({field.label})")


@router.post("/", status_code=201)
async def create_integration(
    body: IntegrationCreate, tenant: CurrentTenant, state: State
) -> IntegrationOut:
    _check_type(body.integration_type)
    _check_config(body.config)
    creds = body.credentials()
    _check_credentials(body.integration_type, creds)
    spec = CATALOGUE[body.integration_type].spec
    base_url = str(body.api_base_url) if body.api_base_url else spec.default_base_url
    if not base_url:
        raise _invalid("api_base_url", f"{body.integration_type} requires api_base_url")
    integration = await state.store.integrations.create(
        tenant_id=tenant.id,
        integration_type=body.integration_type,
        name=body.name,
        description=body.description,
        config=body.config,
        api_base_url=base_url.rstrip("/"),
        credentials=creds,
        sync_frequency_minutes=body.sync_frequency_minutes,
    )
    if integration.sync_frequency_minutes:
        try:
            await state.temporal.apply_schedule(tenant.slug, integration)
        except TemporalUnavailable:
            # no integration without its schedule: undo, answer 503, the caller retries
            await state.store.integrations.disconnect(integration.id)
            raise
    await _log(
        state,
        tenant.id,
        integration.id,
        "create",
        f"Created {spec.display_name} integration {body.name!r}",
    )
    return integration_out(integration, tenant.slug)


@router.get("/")
async def list_integrations(tenant: CurrentTenant, state: State) -> list[IntegrationOut]:
    return [integration_out(i, tenant.slug) for i in await state.store.integrations.list(tenant.id)]


@router.get("/{integration_id}/")
async def get_integration(integration: CurrentIntegration, tenant: CurrentTenant) -> IntegrationOut:
    return integration_out(integration, tenant.slug)


@router.patch("/{integration_id}/")
async def patch_integration(
    body: IntegrationPatch, integration: CurrentIntegration, tenant: CurrentTenant, state: State
) -> IntegrationOut:
    given = body.model_dump(exclude_unset=True)
    creds = {k: given.pop(k) for k in list(given) if k in CREDENTIAL_FIELDS}
    if "api_base_url" in given:
        if given["api_base_url"] is None:
            raise _invalid("api_base_url", "api_base_url cannot be removed")
        given["api_base_url"] = str(given["api_base_url"]).rstrip("/")
    for key in ("name", "config"):
        if key in given and given[key] is None:
            raise _invalid(key, f"{key} cannot be null")
    if "config" in given:
        _check_config(given["config"])
    after = set(integration.credential_names)
    after |= {k for k, v in creds.items() if v is not None}
    after -= {k for k, v in creds.items() if v is None}
    _check_credentials(integration.integration_type, dict.fromkeys(after, "set"))
    renamed_scheduled = "name" in given and integration.sync_frequency_minutes
    if "sync_frequency_minutes" in given or renamed_scheduled:
        await state.temporal.apply_schedule(tenant.slug, integration.model_copy(update=given))
    updated = await state.store.integrations.update(
        integration.id, fields=given, credentials=creds or None
    )
    assert updated is not None
    changed = sorted([*given, *creds])
    await _log(
        state,
        integration.tenant_id,
        integration.id,
        "update",
        f"Changed {', '.join(changed) or 'nothing'}",
    )
    return integration_out(updated, tenant.slug)


@router.delete("/{integration_id}/", status_code=204)
async def delete_integration(
    integration: CurrentIntegration, tenant: CurrentTenant, state: State
) -> Response:
    await state.temporal.cancel_workflows(tenant.slug, integration.id)
    await state.store.integrations.disconnect(integration.id)
    purged = await state.store.records.purge(integration.id)
    await _log(
        state,
        tenant.id,
        integration.id,
        "delete",
        f"Disconnected; credentials deleted, {purged} records purged",
    )
    return Response(status_code=204)


@router.post("/{integration_id}/test_connection/")
async def test_connection(
    integration: CurrentIntegration, tenant: CurrentTenant, state: State
) -> TestConnectionOut:
    result = await state.temporal.test_connection(tenant.slug, integration)
    spec = CATALOGUE[integration.integration_type].spec
    details = {
        **result.details,
        "integration_type": integration.integration_type,
        "integration_name": spec.display_name,
        "tested_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return TestConnectionOut(success=result.success, message=result.message, details=details)
