"""The connector contract: a declaration of resources and auth, plus a reader per resource.

A connector is a short declaration (`ConnectorSpec`: its type id, auth kind, config and
credential fields, resources) plus a class with two coroutines, `test_connection` and
`read`. Shared code (HTTP, error classification, audit, paging helpers) lives beside this module;
a connector module holds only its vendor's quirks. Connectors never import Temporal or the store:
the caller hands them a `ConnectorContext` and consumes `Page`s.

Resuming: `read` yields pages; each page carries the `cursor` that resumes the stream *after* that
page. The caller commits the page's records together with its cursor and, after a crash, calls
`read` again with the last committed cursor. Cursors are small JSON-able dicts, never records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from connectors.models import Unified

AuthKind = Literal["oauth2", "api_key", "ws_token", "bearer_token", "session", "basic", "none"]
Direction = Literal["pull", "push", "bidirectional"]
SyncMode = Literal["full", "incremental"]
Cursor = dict[str, Any]


class FieldSpec(BaseModel):
    """A config or credential field the integration form asks for."""

    name: str
    label: str
    required: bool = True
    secret: bool = False
    help: str = ""


class ResourceSpec(BaseModel):
    """One syncable stream of a vendor: what it is called, what it becomes, how it pages.

    `paginator` and `incremental` are descriptive (shown in the catalogue, used by docs and
    tests); the connector's `read` implements them with the helpers in `connectors.paging`.
    """

    name: str
    model: str
    direction: Direction = "pull"
    paginator: str
    record_path: str
    incremental: str | None = None  # e.g. "timemodified > checkpoint", "events feed"
    description: str = ""


class ConnectorSpec(BaseModel):
    """The declaration of one integration type, as served by `GET /api/integration-types/`."""

    type_id: str
    display_name: str
    category: str
    auth_kind: AuthKind
    config_fields: list[FieldSpec] = []
    credential_fields: list[FieldSpec] = []
    resources: list[ResourceSpec] = []
    default_base_url: str | None = None
    docs: str = ""

    def resource(self, name: str) -> ResourceSpec:
        for res in self.resources:
            if res.name == name:
                return res
        raise KeyError(name)


@dataclass(frozen=True)
class VendorCall:
    """One outbound call, for the audit log. `url` is already redacted."""

    method: str
    url: str
    status: int | None
    duration_ms: float
    error: str | None = None


AuditSink = Callable[[VendorCall], Awaitable[None]]


async def _discard(_: VendorCall) -> None:
    return None


@dataclass
class ConnectorContext:
    """Everything a connector needs for one integration, handed in by the caller.

    `credentials` are decrypted secrets: never log them, never put them in errors. `http` is the
    worker's one shared `httpx.AsyncClient`; connectors wrap it in `connectors.http.VendorHttp`.
    """

    integration_id: str
    base_url: str
    config: dict[str, Any]
    credentials: dict[str, str]
    http: httpx.AsyncClient
    audit: AuditSink = _discard
    page_size: int | None = None  # override of the connector's default page size (tests, bench)


@dataclass
class Record:
    """One vendor object: `data` is the unified model, `raw` the vendor object as sent."""

    model: str
    vendor_id: str
    data: Unified
    raw: dict[str, Any]
    modified_at: datetime | None = None
    deleted: bool = False  # the vendor reports this object deleted (e.g. a Stripe *.deleted event)


@dataclass
class Page:
    """A batch of records plus where to resume after it.

    `cursor` is None on the last page of the stream. `checkpoint` is the incremental watermark to
    store once the whole stream has been read (None: keep the previous one). `api_calls` counts
    the vendor requests made to produce this page.
    """

    records: list[Record]
    cursor: Cursor | None
    checkpoint: Cursor | None = None
    api_calls: int = 1


@dataclass
class ReadRequest:
    """What to read: a resource, full or incremental, from a resume cursor and a checkpoint."""

    resource: str
    mode: SyncMode = "full"
    cursor: Cursor | None = None  # resume point inside this run (None: from the start)
    checkpoint: Cursor | None = None  # watermark of the last completed incremental run
    extra: dict[str, Any] = field(default_factory=dict)


class TestResult(BaseModel):
    """Outcome of a connection test. `message` carries the vendor's reason on failure."""

    __test__ = False  # not a pytest class

    success: bool
    message: str
    details: dict[str, Any] = {}


class Connector(ABC):
    """Base class of every vendor connector. Subclasses set `spec` and implement the two reads."""

    spec: ConnectorSpec

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx

    @abstractmethod
    async def test_connection(self) -> TestResult:
        """Make one cheap authenticated call. Never raises for vendor rejections: a rejected
        credential is `success=False` with the vendor's reason; only transient failures raise."""

    @abstractmethod
    def read(self, request: ReadRequest) -> AsyncIterator[Page]:
        """Yield the resource's pages from `request.cursor` on. Raises `VendorError`s."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release per-integration resources (never the shared httpx client)."""
