"""Integrations: configuration in clear, credentials sealed with the key ring (AES-GCM).

The credentials blob is bound to its integration id as AES-GCM associated data, so a blob copied
onto another row fails to open. Reads return `Integration` (no secrets) plus the names of the
credentials that are set; only `credentials()` opens the blob, for activities.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from runtime.keyring import KeyRing
from store.schema import as_utc, integrations, utcnow

Health = Literal["pending", "active", "degraded", "needs_reauth", "disabled"]

DEGRADE_AFTER = 2  # consecutive failed syncs before an integration counts as degraded


class Integration(BaseModel):
    id: str
    tenant_id: str
    integration_type: str
    name: str
    description: str
    config: dict[str, Any]
    api_base_url: str
    credential_names: list[str]
    status: Health
    sync_frequency_minutes: int | None
    last_sync_at: datetime | None
    last_sync_status: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


def _row(row: Any) -> Integration:
    return Integration(
        id=row.id,
        tenant_id=row.tenant_id,
        integration_type=row.integration_type,
        name=row.name,
        description=row.description,
        config=row.config,
        api_base_url=row.api_base_url,
        credential_names=sorted(row.credential_names),
        status=row.status,
        sync_frequency_minutes=row.sync_frequency_minutes,
        last_sync_at=as_utc(row.last_sync_at),
        last_sync_status=row.last_sync_status,
        consecutive_failures=row.consecutive_failures,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


class IntegrationStore:
    def __init__(self, engine: AsyncEngine, keyring: KeyRing) -> None:
        self.engine = engine
        self.keyring = keyring

    def _seal(self, integration_id: str, creds: dict[str, str]) -> bytes:
        return self.keyring.encrypt(json.dumps(creds).encode(), aad=integration_id.encode())

    async def create(
        self,
        *,
        tenant_id: str,
        integration_type: str,
        name: str,
        description: str,
        config: dict[str, Any],
        api_base_url: str,
        credentials: dict[str, str],
        sync_frequency_minutes: int | None = None,
    ) -> Integration:
        integration_id = uuid.uuid4().hex
        now = utcnow()
        async with self.engine.begin() as conn:
            await conn.execute(
                integrations.insert().values(
                    id=integration_id,
                    tenant_id=tenant_id,
                    integration_type=integration_type,
                    name=name,
                    description=description,
                    config=config,
                    api_base_url=api_base_url,
                    credentials=self._seal(integration_id, credentials),
                    credential_names=sorted(credentials),
                    status="pending",
                    sync_frequency_minutes=sync_frequency_minutes,
                    consecutive_failures=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        found = await self.get(integration_id)
        assert found is not None
        return found

    def _live(self) -> sa.Select[Any]:
        return sa.select(integrations).where(integrations.c.deleted_at.is_(None))

    async def get(self, integration_id: str, tenant_id: str | None = None) -> Integration | None:
        query = self._live().where(integrations.c.id == integration_id)
        if tenant_id is not None:
            query = query.where(integrations.c.tenant_id == tenant_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _row(row) if row else None

    async def list(self, tenant_id: str | None = None) -> list[Integration]:
        query = self._live().order_by(integrations.c.created_at, integrations.c.id)
        if tenant_id is not None:
            query = query.where(integrations.c.tenant_id == tenant_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_row(r) for r in rows]

    async def credentials(self, integration_id: str) -> dict[str, str]:
        async with self.engine.connect() as conn:
            blob = (
                await conn.execute(
                    sa.select(integrations.c.credentials).where(integrations.c.id == integration_id)
                )
            ).scalar()
        if not blob:
            return {}
        return dict(json.loads(self.keyring.decrypt(blob, aad=integration_id.encode())))

    async def update(
        self,
        integration_id: str,
        *,
        fields: dict[str, Any] | None = None,
        credentials: dict[str, str | None] | None = None,
    ) -> Integration | None:
        """Change plain fields and merge credentials (a None value removes that credential)."""
        values: dict[str, Any] = dict(fields or {})
        if credentials:
            merged: dict[str, str] = await self.credentials(integration_id)
            for key, value in credentials.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            values["credentials"] = self._seal(integration_id, merged)
            values["credential_names"] = sorted(merged)
        if values:
            values["updated_at"] = utcnow()
            async with self.engine.begin() as conn:
                await conn.execute(
                    integrations.update().where(integrations.c.id == integration_id).values(values)
                )
        return await self.get(integration_id)

    async def reseal_all(self) -> int:
        """Re-encrypt every credentials blob under the active key (key rotation)."""
        count = 0
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(integrations.c.id, integrations.c.credentials).where(
                        integrations.c.credentials.is_not(None)
                    )
                )
            ).all()
            for row in rows:
                plain = self.keyring.decrypt(row.credentials, aad=row.id.encode())
                sealed = self.keyring.encrypt(plain, aad=row.id.encode())
                await conn.execute(
                    integrations.update()
                    .where(integrations.c.id == row.id)
                    .values(credentials=sealed)
                )
                count += 1
        return count

    async def record_sync_outcome(self, integration_id: str, status: str, at: datetime) -> None:
        """Set last_sync_* and move health: success -> active; failures degrade it."""
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(integrations.c.status, integrations.c.consecutive_failures).where(
                        integrations.c.id == integration_id
                    )
                )
            ).first()
            if row is None:
                return
            failures = 0 if status == "success" else row.consecutive_failures + 1
            health = row.status
            if status == "success":
                health = "active"
            elif status == "auth_failed":
                health = "needs_reauth"
            elif failures >= DEGRADE_AFTER and row.status in ("pending", "active"):
                health = "degraded"
            await conn.execute(
                integrations.update()
                .where(integrations.c.id == integration_id)
                .values(
                    last_sync_at=at,
                    last_sync_status=status,
                    consecutive_failures=failures,
                    status=health,
                    updated_at=utcnow(),
                )
            )

    async def disconnect(self, integration_id: str) -> None:
        """Soft-delete: drop the credentials now; records are purged by `RecordStore.purge`."""
        async with self.engine.begin() as conn:
            await conn.execute(
                integrations.update()
                .where(integrations.c.id == integration_id)
                .values(
                    credentials=None,
                    credential_names=[],
                    status="disabled",
                    deleted_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
