"""`Store`: one object that processes hold, giving each concern its repository."""

from __future__ import annotations

from runtime.keyring import KeyRing
from store.audit import AuditStore
from store.db import Database
from store.integrations import IntegrationStore
from store.records import RecordStore
from store.sync import SyncStore
from store.tenants import TenantStore


class Store:
    def __init__(self, db: Database, keyring: KeyRing) -> None:
        self.db = db
        self.tenants = TenantStore(db.engine)
        self.integrations = IntegrationStore(db.engine, keyring)
        self.syncs = SyncStore(db.engine)
        self.records = RecordStore(db.engine)
        self.audit = AuditStore(db.engine)

    @classmethod
    async def open(cls, url: str, keyring: KeyRing, *, migrate: bool = True) -> Store:
        db = Database(url)
        if migrate:
            await db.migrate()
        return cls(db, keyring)

    async def close(self) -> None:
        await self.db.dispose()
