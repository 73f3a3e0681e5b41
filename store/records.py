"""Synced records: upsert with change detection, soft deletion, and the change-feed read.

A record is keyed by (integration, model, vendor id). Its `content_hash` covers the unified
data and the raw object, so a re-sync of unchanged data writes nothing but the `last_seen_run`
mark that full-sync deletion detection relies on. `vendor_modified_at`, when the vendor gives
one, guards against out-of-order delivery: an older version never overwrites a newer one.
`modified_at` is when *our* copy last changed, which is what the records API pages on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.schema import as_utc, records, utcnow

CHUNK = 500  # bound on IN (...) lists and executemany batches


@dataclass
class RecordIn:
    model: str
    vendor_id: str
    data: dict[str, Any]
    raw: dict[str, Any]
    vendor_modified_at: datetime | None = None
    deleted: bool = False


@dataclass
class UpsertCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
        }


@dataclass
class RecordOut:
    id: str
    model: str
    vendor_id: str
    data: dict[str, Any]
    raw: dict[str, Any]
    modified_at: datetime
    first_seen_at: datetime
    deleted: bool


@dataclass
class RecordPage:
    records: list[RecordOut] = field(default_factory=list)
    next_cursor: str | None = None


def content_hash(data: dict[str, Any], raw: dict[str, Any]) -> str:
    blob = json.dumps({"d": data, "r": raw}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _dedupe(items: list[RecordIn]) -> list[RecordIn]:
    """One item per (model, vendor id): the newest by vendor time, else the last given."""
    chosen: dict[tuple[str, str], RecordIn] = {}
    for item in items:
        key = (item.model, item.vendor_id)
        prev = chosen.get(key)
        if (
            prev is not None
            and prev.vendor_modified_at is not None
            and item.vendor_modified_at is not None
            and item.vendor_modified_at < prev.vendor_modified_at
        ):
            continue
        chosen[key] = item
    return list(chosen.values())


def _chunks(seq: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


async def upsert(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    integration_id: str,
    run_id: str | None,
    items: list[RecordIn],
) -> UpsertCounts:
    """Apply a batch inside the caller's transaction and count what changed."""
    counts = UpsertCounts()
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    touched: list[int] = []
    by_model: dict[str, list[RecordIn]] = {}
    for item in _dedupe(items):
        by_model.setdefault(item.model, []).append(item)

    for model, batch in by_model.items():
        existing: dict[str, Any] = {}
        for ids in _chunks([i.vendor_id for i in batch]):
            rows = await conn.execute(
                sa.select(
                    records.c.id,
                    records.c.vendor_id,
                    records.c.content_hash,
                    records.c.vendor_modified_at,
                    records.c.deleted,
                ).where(
                    records.c.integration_id == integration_id,
                    records.c.model == model,
                    records.c.vendor_id.in_(ids),
                )
            )
            existing.update({r.vendor_id: r for r in rows})

        for item in batch:
            digest = content_hash(item.data, item.raw)
            old = existing.get(item.vendor_id)
            if old is None:
                if item.deleted:
                    continue  # never seen, already gone: nothing to record
                inserts.append(
                    {
                        "tenant_id": tenant_id,
                        "integration_id": integration_id,
                        "model": model,
                        "vendor_id": item.vendor_id,
                        "data": item.data,
                        "raw": item.raw,
                        "content_hash": digest,
                        "first_seen_at": now,
                        "modified_at": now,
                        "vendor_modified_at": item.vendor_modified_at,
                        "last_seen_run": run_id,
                        "deleted": False,
                    }
                )
                counts.added += 1
                continue
            old_vmod = as_utc(old.vendor_modified_at)
            stale = (
                item.vendor_modified_at is not None
                and old_vmod is not None
                and item.vendor_modified_at < old_vmod
            )
            if stale or (item.deleted and old.deleted):
                touched.append(old.id)
                counts.unchanged += 1
            elif item.deleted or digest != old.content_hash or old.deleted:
                updates.append(
                    {
                        "_id": old.id,
                        "data": item.data,
                        "raw": item.raw,
                        "content_hash": digest,
                        "modified_at": now,
                        "vendor_modified_at": item.vendor_modified_at or old_vmod,
                        "last_seen_run": run_id,
                        "deleted": item.deleted,
                        "deleted_at": now if item.deleted else None,
                    }
                )
                if item.deleted:
                    counts.deleted += 1
                else:
                    counts.updated += 1
            else:
                touched.append(old.id)
                counts.unchanged += 1

    if inserts:
        await conn.execute(records.insert(), inserts)
    if updates:
        stmt = (
            records.update()
            .where(records.c.id == sa.bindparam("_id"))
            .values(
                data=sa.bindparam("data"),
                raw=sa.bindparam("raw"),
                content_hash=sa.bindparam("content_hash"),
                modified_at=sa.bindparam("modified_at"),
                vendor_modified_at=sa.bindparam("vendor_modified_at"),
                last_seen_run=sa.bindparam("last_seen_run"),
                deleted=sa.bindparam("deleted"),
                deleted_at=sa.bindparam("deleted_at"),
            )
        )
        await conn.execute(stmt, updates)
    if touched and run_id is not None:
        for ids in _chunks(touched):
            await conn.execute(
                records.update().where(records.c.id.in_(ids)).values(last_seen_run=run_id)
            )
    return counts


async def sweep_unseen(
    conn: AsyncConnection, *, integration_id: str, model: str, run_id: str
) -> int:
    """Soft-delete the records a complete full pass of `run_id` did not see."""
    now = utcnow()
    result = await conn.execute(
        records.update()
        .where(
            records.c.integration_id == integration_id,
            records.c.model == model,
            records.c.deleted.is_(False),
            sa.or_(records.c.last_seen_run.is_(None), records.c.last_seen_run != run_id),
        )
        .values(deleted=True, deleted_at=now, modified_at=now)
    )
    return int(result.rowcount or 0)


def encode_cursor(modified_at: datetime, record_id: int) -> str:
    raw = f"{modified_at.isoformat()}|{record_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class InvalidCursor(ValueError):
    pass


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when, _, rid = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        parsed = as_utc(datetime.fromisoformat(when))
        assert parsed is not None
        return parsed, int(rid)
    except Exception:
        raise InvalidCursor("cursor is not one this API issued") from None


class RecordStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def page(
        self,
        *,
        integration_id: str,
        model: str | None,
        modified_after: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
        include_deleted: bool = True,
    ) -> RecordPage:
        """Records in change order (modified_at, id): a consumer pages forward and later
        resumes with `modified_after` or the last cursor to see only what changed since."""
        c = records.c
        query = sa.select(records).where(c.integration_id == integration_id)
        if model:
            query = query.where(c.model == model)
        if not include_deleted:
            query = query.where(c.deleted.is_(False))
        if modified_after is not None:
            query = query.where(c.modified_at > modified_after)
        if cursor:
            after_ts, after_id = decode_cursor(cursor)
            query = query.where(
                sa.or_(
                    c.modified_at > after_ts, sa.and_(c.modified_at == after_ts, c.id > after_id)
                )
            )
        query = query.order_by(c.modified_at, c.id).limit(limit + 1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        out = [
            RecordOut(
                id=str(r.id),
                model=r.model,
                vendor_id=r.vendor_id,
                data=r.data,
                raw=r.raw,
                modified_at=as_utc(r.modified_at) or utcnow(),
                first_seen_at=as_utc(r.first_seen_at) or utcnow(),
                deleted=r.deleted,
            )
            for r in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit and out:
            last = out[-1]
            next_cursor = encode_cursor(last.modified_at, int(last.id))
        return RecordPage(records=out, next_cursor=next_cursor)

    async def counts(self, integration_id: str) -> dict[str, dict[str, int]]:
        c = records.c
        query = (
            sa.select(c.model, c.deleted, sa.func.count())
            .where(c.integration_id == integration_id)
            .group_by(c.model, c.deleted)
        )
        out: dict[str, dict[str, int]] = {}
        async with self.engine.connect() as conn:
            for model, deleted, n in (await conn.execute(query)).all():
                out.setdefault(model, {"live": 0, "deleted": 0})[
                    "deleted" if deleted else "live"
                ] = int(n)
        return out

    async def purge(self, integration_id: str) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                records.delete().where(records.c.integration_id == integration_id)
            )
        return int(result.rowcount or 0)
