"""Request dependencies: the app's shared objects and tenant authentication."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from runtime.settings import Settings
from starter.temporal_gateway import TemporalGateway
from store.integrations import Integration
from store.store import Store
from store.tenants import Tenant


@dataclass
class AppState:
    settings: Settings
    store: Store
    temporal: TemporalGateway


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.services
    return state


State = Annotated[AppState, Depends(get_state)]

_bearer = HTTPBearer(auto_error=False)


async def tenant_from_path(
    tenant_slug: str,
    state: State,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    """The tenant of the bearer key, which must own `tenant_slug`.

    A key of another tenant gets 404, not 403: it must not learn that the slug exists.
    """
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(
            401,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tenant = await state.store.tenants.by_key(creds.credentials)
    if tenant is None:
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    if tenant.slug != tenant_slug:
        raise HTTPException(404, f"tenant {tenant_slug!r} not found")
    return tenant


CurrentTenant = Annotated[Tenant, Depends(tenant_from_path)]


async def integration_from_path(
    integration_id: str, tenant: CurrentTenant, state: State
) -> Integration:
    integration = await state.store.integrations.get(integration_id, tenant_id=tenant.id)
    if integration is None:
        raise HTTPException(404, f"integration {integration_id!r} not found")
    return integration


CurrentIntegration = Annotated[Integration, Depends(integration_from_path)]
