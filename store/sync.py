"""Sync runs and per-resource sync state (resume cursors, incremental checkpoints).

`commit_page` writes a page's records, the cursor after that page and the run's counters in
ONE transaction. A worker killed at any point therefore resumes from a cursor that matches
exactly what is stored: no page is lost and none is counted twice. The activity also
heartbeats the cursor (Temporal's resume channel); the stored cursor is the authority.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.records import RecordIn, sweep_unseen, upsert
from store.schema import as_utc, sync_runs, sync_state, utcnow

STAT_KEYS = ("added", "updated", "unchanged", "deleted", "pages", "api_calls")


def _grew_a_decade(before: int, after: int) -> bool:
    """True when a count passes 1,000, 10,000, 100,000, …"""
    return after >= 1000 and len(str(before)) < len(str(after))


def empty_stats() -> dict[str, int]:
    return dict.fromkeys(STAT_KEYS, 0)


@dataclass
class ResourceState:
    """Where a resource stands within a run."""

    cursor: dict[str, Any] | None
    done: bool
    checkpoint: dict[str, Any] | None
    stats: dict[str, int] = field(default_factory=empty_stats)


class SyncRun(BaseModel):
    id: str
    integration_id: str
    workflow_id: str
    mode: str
    status: str
    resources: list[str]
    stats: dict[str, Any]
    error: str | None
    started_at: datetime
    finished_at: datetime | None


def _run(row: Any) -> SyncRun:
    return SyncRun(
        id=row.id,
        integration_id=row.integration_id,
        workflow_id=row.workflow_id,
        mode=row.mode,
        status=row.status,
        resources=row.resources,
        stats=row.stats,
        error=row.error,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
    )


class SyncStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def start_run(
        self, *, integration_id: str, workflow_id: str, mode: str, resources: list[str]
    ) -> str:
        run_id = uuid.uuid4().hex
        async with self.engine.begin() as conn:
            await conn.execute(
                sync_runs.insert().values(
                    id=run_id,
                    integration_id=integration_id,
                    workflow_id=workflow_id,
                    mode=mode,
                    status="running",
                    resources=resources,
                    stats={},
                    started_at=utcnow(),
                )
            )
        return run_id

    async def finish_run(
        self, run_id: str, *, status: str, stats: dict[str, Any], error: str | None
    ) -> SyncRun:
        async with self.engine.begin() as conn:
            await conn.execute(
                sync_runs.update()
                .where(sync_runs.c.id == run_id)
                .values(status=status, stats=stats, error=error, finished_at=utcnow())
            )
            row = (await conn.execute(sync_runs.select().where(sync_runs.c.id == run_id))).one()
        return _run(row)

    async def get_run(self, run_id: str) -> SyncRun | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sync_runs.select().where(sync_runs.c.id == run_id))).first()
        return _run(row) if row else None

    async def list_runs(self, integration_id: str, limit: int = 20) -> list[SyncRun]:
        query = (
            sync_runs.select()
            .where(sync_runs.c.integration_id == integration_id)
            .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_run(r) for r in rows]

    async def _state_row(self, conn: AsyncConnection, integration_id: str, resource: str) -> Any:
        return (
            await conn.execute(
                sync_state.select().where(
                    sync_state.c.integration_id == integration_id,
                    sync_state.c.resource == resource,
                )
            )
        ).first()

    async def begin_resource(
        self, integration_id: str, resource: str, run_id: str
    ) -> ResourceState:
        """The resource's state for this run: fresh if the stored state is of another run,
        else what a previous attempt of this run left (resume)."""
        async with self.engine.begin() as conn:
            row = await self._state_row(conn, integration_id, resource)
            if row is not None and row.run_id == run_id:
                return ResourceState(
                    cursor=row.cursor,
                    done=bool(row.cursor_done),
                    checkpoint=row.checkpoint,
                    stats={**empty_stats(), **(row.run_stats or {})},
                )
            values = {
                "run_id": run_id,
                "cursor": None,
                "cursor_done": False,
                "pending_checkpoint": None,
                "run_stats": empty_stats(),
                "updated_at": utcnow(),
            }
            if row is None:
                await conn.execute(
                    sync_state.insert().values(
                        integration_id=integration_id, resource=resource, **values
                    )
                )
                checkpoint = None
            else:
                await conn.execute(
                    sync_state.update()
                    .where(
                        sync_state.c.integration_id == integration_id,
                        sync_state.c.resource == resource,
                    )
                    .values(**values)
                )
                checkpoint = row.checkpoint
        return ResourceState(cursor=None, done=False, checkpoint=checkpoint)

    async def commit_page(
        self,
        *,
        tenant_id: str,
        integration_id: str,
        resource: str,
        run_id: str,
        items: list[RecordIn],
        cursor: dict[str, Any] | None,
        pending_checkpoint: dict[str, Any] | None,
        api_calls: int,
    ) -> dict[str, int]:
        """Upsert the page and move the cursor atomically. Returns the run's running totals."""
        async with self.engine.begin() as conn:
            counts = await upsert(
                conn,
                tenant_id=tenant_id,
                integration_id=integration_id,
                run_id=run_id,
                items=items,
            )
            row = await self._state_row(conn, integration_id, resource)
            stats = {**empty_stats(), **((row.run_stats if row else None) or {})}
            for key, value in counts.as_dict().items():
                stats[key] += value
            stats["pages"] += 1
            stats["api_calls"] += api_calls
            values: dict[str, Any] = {
                "cursor": cursor,
                "cursor_done": cursor is None,
                "run_stats": stats,
                "updated_at": utcnow(),
            }
            if pending_checkpoint is not None:
                values["pending_checkpoint"] = pending_checkpoint
            await conn.execute(
                sync_state.update()
                .where(
                    sync_state.c.integration_id == integration_id,
                    sync_state.c.resource == resource,
                    sync_state.c.run_id == run_id,
                )
                .values(**values)
            )
        if _grew_a_decade(stats["added"] - counts.added, stats["added"]):
            await self._refresh_statistics()
        return stats

    async def _refresh_statistics(self) -> None:
        """ANALYZE the records table on PostgreSQL during a bulk load.

        A freshly filled table has no statistics, and the planner then answers the per-page
        existence check with the change-feed index (same integration/model prefix) plus a
        filter: a scan of everything loaded so far, per page, quadratic over a first sync.
        Autovacuum analyses eventually; a few ANALYZEs as the load grows (at 1k, 10k, 100k…
        added records) keep the plan on the unique index all along.
        """
        if self.engine.dialect.name != "postgresql":
            return
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE records"))
            await conn.commit()

    async def finish_resource(
        self,
        *,
        integration_id: str,
        resource: str,
        run_id: str,
        model: str,
        sweep: bool,
    ) -> dict[str, int]:
        """Close a completely read resource: promote the checkpoint and, after a full pass,
        soft-delete what the pass did not see. Idempotent for a retried activity."""
        async with self.engine.begin() as conn:
            row = await self._state_row(conn, integration_id, resource)
            stats = {**empty_stats(), **((row.run_stats if row else None) or {})}
            if row is None or row.run_id != run_id:
                return stats
            if sweep and not (row.run_stats or {}).get("swept"):
                stats["deleted"] += await sweep_unseen(
                    conn, integration_id=integration_id, model=model, run_id=run_id
                )
            await conn.execute(
                sync_state.update()
                .where(
                    sync_state.c.integration_id == integration_id,
                    sync_state.c.resource == resource,
                )
                .values(
                    checkpoint=row.pending_checkpoint or row.checkpoint,
                    run_stats={**stats, "swept": 1 if sweep else 0},
                    last_complete_at=utcnow(),
                    cursor_done=True,
                    updated_at=utcnow(),
                )
            )
        return stats

    async def checkpoints(self, integration_id: str) -> dict[str, dict[str, Any] | None]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(sync_state.c.resource, sync_state.c.checkpoint).where(
                        sync_state.c.integration_id == integration_id
                    )
                )
            ).all()
        return {r.resource: r.checkpoint for r in rows}
