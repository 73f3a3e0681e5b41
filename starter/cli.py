"""Operator CLI (`integrations-cli`): tenants, integration health, syncs, key rotation, replay.

integrations-cli create-tenant acme [--name "Acme College"]   # prints the API key once
integrations-cli issue-key acme
integrations-cli list-integrations [--tenant acme]
integrations-cli sync acme <integration-id> [--mode full]     # with a progress bar
integrations-cli rotate-key [--new-kid k2]                     # re-seal credentials
integrations-cli replay <workflow-id>                          # determinism check
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Replayer

from activities.models import SyncInput
from runtime.keyring import KeyRing, keyring_from_settings
from runtime.settings import Settings, get_settings
from runtime.temporal import connect, data_converter
from starter.temporal_gateway import TemporalGateway
from store.store import Store
from workflows.connection_test import ConnectionTestWorkflow
from workflows.sync import PROGRESS_QUERY, SyncWorkflow


async def _store(settings: Settings) -> Store:
    return await Store.open(settings.resolved_database_url(), keyring_from_settings(settings))


async def create_tenant(settings: Settings, slug: str, name: str | None) -> int:
    store = await _store(settings)
    try:
        if await store.tenants.by_slug(slug):
            print(f"tenant {slug!r} exists; use issue-key for another key", file=sys.stderr)
            return 1
        try:
            tenant, key = await store.tenants.create(slug, name)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"tenant:  {tenant.slug} ({tenant.id})")
        print(f"api key: {key}")
        print("(shown once; only its hash is stored)")
        return 0
    finally:
        await store.close()


async def issue_key(settings: Settings, slug: str) -> int:
    store = await _store(settings)
    try:
        tenant = await store.tenants.by_slug(slug)
        if tenant is None:
            print(f"no tenant {slug!r}", file=sys.stderr)
            return 1
        print(await store.tenants.issue_key(tenant.id))
        return 0
    finally:
        await store.close()


async def list_integrations(settings: Settings, slug: str | None) -> int:
    store = await _store(settings)
    try:
        tenants = {t.id: t.slug for t in await store.tenants.list()}
        tenant_id = next((i for i, s in tenants.items() if s == slug), None) if slug else None
        if slug and tenant_id is None:
            print(f"no tenant {slug!r}", file=sys.stderr)
            return 1
        rows = await store.integrations.list(tenant_id)
        print(f"{'tenant':12} {'id':32} {'type':10} {'health':12} {'last sync':26} name")
        for i in rows:
            last = (
                f"{i.last_sync_at:%Y-%m-%d %H:%M:%S} {i.last_sync_status}"
                if i.last_sync_at
                else "-"
            )
            print(
                f"{tenants.get(i.tenant_id, '?'):12} {i.id:32} {i.integration_type:10} "
                f"{i.status:12} {last:26} {i.name}"
            )
        return 0
    finally:
        await store.close()


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else 0
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total} resources"


async def run_sync(settings: Settings, slug: str, integration_id: str, mode: str) -> int:
    store = await _store(settings)
    try:
        tenant = await store.tenants.by_slug(slug)
        integration = await store.integrations.get(integration_id, tenant.id) if tenant else None
        if integration is None:
            print(f"no integration {integration_id!r} for tenant {slug!r}", file=sys.stderr)
            return 1
        gateway = TemporalGateway.from_settings(settings, keyring_from_settings(settings))
        handle, joined = await gateway.start_sync(
            slug,
            integration,
            SyncInput(tenant_slug=slug, integration_id=integration.id, mode=mode),  # type: ignore[arg-type]
        )
        print(f"{'joined running' if joined else 'started'} {handle.id}")
        started = time.monotonic()
        while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            try:
                progress = await handle.query(PROGRESS_QUERY)
                done, total = len(progress["done"]), progress["total"] or 0
                line = _bar(done, total) + f" {progress.get('current') or ''}"
            except Exception:
                line = "waiting for the worker…"
            print(f"\r{line:70} {time.monotonic() - started:6.1f}s", end="", flush=True)
            await asyncio.sleep(0.5)
        result = await handle.result()
        print(f"\r{_bar(len(result.resources), len(result.resources)):70}")
        print(f"status {result.status}: {result.stats}")
        return 0 if result.status == "success" else 2
    finally:
        await store.close()


async def rotate_key(settings: Settings, new_kid: str | None) -> int:
    """Re-seal every credentials blob under the active key.

    With the dev key ring (`var/dev.keys`), `--new-kid` first generates a new key and makes it
    active, keeping the old ones for reading. With ENCRYPTION_KEYS set, put the new key first
    (or name it in ENCRYPTION_ACTIVE_KEY) and run this; then drop the old key once done.
    """
    if new_kid:
        if settings.encryption_keys:
            print("--new-kid works on the dev key ring only; edit ENCRYPTION_KEYS", file=sys.stderr)
            return 1
        path = settings.var_dir / "dev.keys"
        keyring_from_settings(settings)  # make sure the file exists
        path.write_text(f"{KeyRing.generate_spec(new_kid)},{path.read_text().strip()}\n")
    store = await _store(settings)
    try:
        count = await store.integrations.reseal_all()
        print(f"re-sealed {count} credential blobs under key {store.integrations.keyring.active!r}")
        return 0
    finally:
        await store.close()


async def replay(settings: Settings, workflow_id: str) -> int:
    keyring = keyring_from_settings(settings)
    client = await connect(settings.temporal_address, settings.temporal_namespace, keyring)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(
        workflows=[SyncWorkflow, ConnectionTestWorkflow],
        data_converter=data_converter(keyring),
    )
    await replayer.replay_workflow(history)
    print(f"replayed {workflow_id}: {len(history.events)} events, deterministic")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="integrations-cli", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("create-tenant", help="create a tenant and print its API key")
    p.add_argument("slug")
    p.add_argument("--name")
    p = sub.add_parser("issue-key", help="issue another API key for a tenant")
    p.add_argument("slug")
    p = sub.add_parser("list-integrations", help="integrations and their health")
    p.add_argument("--tenant")
    p = sub.add_parser("sync", help="start a sync and follow it with a progress bar")
    p.add_argument("tenant")
    p.add_argument("integration_id")
    p.add_argument("--mode", choices=["incremental", "full"], default="incremental")
    p = sub.add_parser("rotate-key", help="re-seal credentials under the active key")
    p.add_argument("--new-kid", help="dev key ring only: generate this key and make it active")
    p = sub.add_parser("replay", help="replay a workflow's history against the current code")
    p.add_argument("workflow_id")
    args = parser.parse_args(argv)
    settings = get_settings()
    commands = {
        "create-tenant": lambda: create_tenant(settings, args.slug, args.name),
        "issue-key": lambda: issue_key(settings, args.slug),
        "list-integrations": lambda: list_integrations(settings, args.tenant),
        "sync": lambda: run_sync(settings, args.tenant, args.integration_id, args.mode),
        "rotate-key": lambda: rotate_key(settings, args.new_kid),
        "replay": lambda: replay(settings, args.workflow_id),
    }
    sys.exit(asyncio.run(commands[args.cmd]()))


if __name__ == "__main__":
    main()
