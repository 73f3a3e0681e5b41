"""The audit log: every vendor call and every user-visible action, secrets already redacted.

Rows are written by the store's callers with redacted URLs and messages; this module adds no
vendor knowledge. `GET .../logs/` reads it newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from store.schema import as_utc, audit_log, utcnow


@dataclass
class AuditEntry:
    action: str
    status: str
    message: str = ""
    tenant_id: str | None = None
    integration_id: str | None = None
    method: str | None = None
    url: str | None = None
    http_status: int | None = None
    duration_ms: float | None = None
    workflow_id: str | None = None
    activity_id: str | None = None


@dataclass
class AuditRow:
    id: int
    action: str
    status: str
    message: str
    created_at: datetime
    method: str | None
    url: str | None
    http_status: int | None
    duration_ms: float | None
    workflow_id: str | None


class AuditStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def write(self, *entries: AuditEntry) -> None:
        if not entries:
            return
        now = utcnow()
        async with self.engine.begin() as conn:
            await conn.execute(
                audit_log.insert(),
                [{**e.__dict__, "created_at": now} for e in entries],
            )

    async def list(
        self,
        integration_id: str,
        *,
        action: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[AuditRow]:
        c = audit_log.c
        query = sa.select(audit_log).where(c.integration_id == integration_id)
        if action:
            query = query.where(c.action == action)
        if before_id is not None:
            query = query.where(c.id < before_id)
        query = query.order_by(c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditRow(
                id=r.id,
                action=r.action,
                status=r.status,
                message=r.message,
                created_at=as_utc(r.created_at) or utcnow(),
                method=r.method,
                url=r.url,
                http_status=r.http_status,
                duration_ms=r.duration_ms,
                workflow_id=r.workflow_id,
            )
            for r in rows
        ]
