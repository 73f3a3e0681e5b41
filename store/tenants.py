"""Tenants and their API keys. Keys are random; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.schema import api_keys, tenants, utcnow

KEY_PREFIX = "iwk_"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")  # slugs appear in workflow ids and URLs


class Tenant(BaseModel):
    id: str
    slug: str
    name: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TenantStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self, slug: str, name: str | None = None) -> tuple[Tenant, str]:
        """Create a tenant and its first API key; the key is returned once and never stored."""
        if not SLUG_PATTERN.match(slug):
            raise ValueError(
                f"tenant slug {slug!r} must be 2-63 characters of a-z, 0-9 and '-', "
                "starting with a letter or digit"
            )
        tenant = Tenant(id=uuid.uuid4().hex, slug=slug, name=name or slug)
        async with self.engine.begin() as conn:
            await conn.execute(
                tenants.insert().values(
                    id=tenant.id, slug=tenant.slug, name=tenant.name, created_at=utcnow()
                )
            )
            key = await self._add_key(conn, tenant.id)
        return tenant, key

    async def issue_key(self, tenant_id: str) -> str:
        async with self.engine.begin() as conn:
            return await self._add_key(conn, tenant_id)

    async def _add_key(self, conn: AsyncConnection, tenant_id: str) -> str:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        await conn.execute(
            api_keys.insert().values(
                id=uuid.uuid4().hex,
                tenant_id=tenant_id,
                key_hash=hash_key(key),
                prefix=key[:10],
                created_at=utcnow(),
            )
        )
        return key

    async def by_slug(self, slug: str) -> Tenant | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(tenants).where(tenants.c.slug == slug))).first()
        return Tenant(id=row.id, slug=row.slug, name=row.name) if row else None

    async def by_key(self, key: str) -> Tenant | None:
        """The tenant owning a live API key, or None."""
        query = (
            sa.select(tenants)
            .join(api_keys, api_keys.c.tenant_id == tenants.c.id)
            .where(api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return Tenant(id=row.id, slug=row.slug, name=row.name) if row else None

    async def list(self) -> list[Tenant]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(tenants).order_by(tenants.c.slug))).all()
        return [Tenant(id=r.id, slug=r.slug, name=r.name) for r in rows]
