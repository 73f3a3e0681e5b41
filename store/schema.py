"""Table definitions (SQLAlchemy Core). The schema itself is created by migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

JSONType: Any = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every stored datetime is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


TS = sa.DateTime(timezone=True)

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant_id", sa.String(32), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS),
)

integrations = sa.Table(
    "integrations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant_id", sa.String(32), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("integration_type", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("config", JSONType, nullable=False),
    sa.Column("api_base_url", sa.String(500), nullable=False),
    sa.Column("credentials", sa.LargeBinary),
    sa.Column("credential_names", JSONType, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("sync_frequency_minutes", sa.Integer),
    sa.Column("last_sync_at", TS),
    sa.Column("last_sync_status", sa.String(20)),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("deleted_at", TS),
    sa.Index("ix_integrations_tenant", "tenant_id"),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("integration_id", sa.String(32), sa.ForeignKey("integrations.id"), nullable=False),
    sa.Column("workflow_id", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("resources", JSONType, nullable=False),
    sa.Column("stats", JSONType, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS),
    sa.Index("ix_sync_runs_integration", "integration_id", "started_at"),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("integration_id", sa.String(32), sa.ForeignKey("integrations.id"), primary_key=True),
    sa.Column("resource", sa.String(100), primary_key=True),
    sa.Column("run_id", sa.String(32)),
    sa.Column("cursor", JSONType),
    sa.Column("cursor_done", sa.Boolean, nullable=False, default=False),
    sa.Column("pending_checkpoint", JSONType),
    sa.Column("checkpoint", JSONType),
    sa.Column("run_stats", JSONType),
    sa.Column("last_complete_at", TS),
    sa.Column("updated_at", TS, nullable=False),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("tenant_id", sa.String(32), nullable=False),
    sa.Column("integration_id", sa.String(32), sa.ForeignKey("integrations.id"), nullable=False),
    sa.Column("model", sa.String(50), nullable=False),
    sa.Column("vendor_id", sa.String(200), nullable=False),
    sa.Column("data", JSONType, nullable=False),
    sa.Column("raw", JSONType, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("first_seen_at", TS, nullable=False),
    sa.Column("modified_at", TS, nullable=False),
    sa.Column("vendor_modified_at", TS),
    sa.Column("last_seen_run", sa.String(32)),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("deleted_at", TS),
    sa.UniqueConstraint("integration_id", "model", "vendor_id", name="uq_records_vendor"),
    sa.Index("ix_records_changes", "integration_id", "model", "modified_at", "id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("tenant_id", sa.String(32)),
    sa.Column("integration_id", sa.String(32)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("method", sa.String(10)),
    sa.Column("url", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("duration_ms", sa.Float),
    sa.Column("workflow_id", sa.String(200)),
    sa.Column("activity_id", sa.String(100)),
    sa.Index("ix_audit_integration", "integration_id", "id"),
)
