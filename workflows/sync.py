"""SyncWorkflow: one sync of one integration, resource by resource.

Contract: workflow id `sync:{tenant}:{integration_id}`, started with conflict policy
USE_EXISTING, so a second trigger joins the running sync instead of starting another.
The plan activity opens a run; one long-running `sync_resource` activity per resource streams
pages into the store and heartbeats its cursor; `finish_sync` writes the run's stats and the
integration's outcome. Only ids, counts and error messages pass through history; records
never do. A resource that fails for good is reported and the others still run, except after
an auth failure, which makes the rest pointless. Continues-as-new between resources when the
server suggests it, carrying the plan and the finished results.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        FinishSyncInput,
        PlanSyncInput,
        ResourceResult,
        SyncInput,
        SyncPlan,
        SyncResourceInput,
        SyncResult,
    )
    from activities.sync import IntegrationActivities
    from connectors.errors import NON_RETRYABLE_KINDS

PROGRESS_QUERY = "progress"

SHORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
    non_retryable_error_types=["IntegrationNotFound", "InvalidSyncRequest"],
)
# Bounded: vendor garbage or a long outage ends as a failed resource, never a crash loop.
RESOURCE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=10,
    non_retryable_error_types=[*NON_RETRYABLE_KINDS, "IntegrationNotFound"],
)


def workflow_id_for(tenant_slug: str, integration_id: str) -> str:
    return f"sync:{tenant_slug}:{integration_id}"


@workflow.defn
class SyncWorkflow:
    @workflow.init
    def __init__(self, input: SyncInput) -> None:
        self.plan: SyncPlan | None = input.plan
        self.done: list[ResourceResult] = list(input.done)
        self.current: str | None = None

    @workflow.run
    async def run(self, input: SyncInput) -> SyncResult:
        started = input.started_at or workflow.now()
        if self.plan is None:
            self.plan = await workflow.execute_activity_method(
                IntegrationActivities.plan_sync,
                PlanSyncInput(
                    integration_id=input.integration_id,
                    workflow_id=workflow.info().workflow_id,
                    mode=input.mode,
                    resources=input.resources,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=SHORT_RETRY,
            )
        plan = self.plan
        for resource in plan.resources[len(self.done) :]:
            if self.done and workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    input.model_copy(
                        update={"plan": plan, "done": self.done, "started_at": started}
                    )
                )
            self.current = resource.name
            if any(r.error_type == "VendorAuthError" for r in self.done):
                self.done.append(
                    ResourceResult(
                        resource=resource.name,
                        status="skipped",
                        error="skipped after an authentication failure",
                    )
                )
                continue
            self.done.append(await self._sync_one(input, plan, resource.name, resource.model))
        self.current = None
        elapsed = (workflow.now() - started).total_seconds() * 1000
        return await workflow.execute_activity_method(
            IntegrationActivities.finish_sync,
            FinishSyncInput(
                run_id=plan.run_id,
                integration_id=input.integration_id,
                results=self.done,
                duration_ms=elapsed,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=SHORT_RETRY,
        )

    async def _sync_one(
        self, input: SyncInput, plan: SyncPlan, name: str, model: str
    ) -> ResourceResult:
        try:
            return await workflow.execute_activity_method(
                IntegrationActivities.sync_resource,
                SyncResourceInput(
                    run_id=plan.run_id,
                    integration_id=input.integration_id,
                    resource=name,
                    model=model,
                    mode=plan.mode,
                ),
                start_to_close_timeout=timedelta(hours=6),
                heartbeat_timeout=timedelta(seconds=input.heartbeat_timeout_seconds),
                retry_policy=RESOURCE_RETRY,
                summary=f"sync {name}",
            )
        except ActivityError as err:
            cause = err.cause
            message = str(cause) if cause else str(err)
            error_type = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            workflow.logger.warning("resource %s failed: %s (%s)", name, message, error_type)
            return ResourceResult(
                resource=name, status="failed", error=message, error_type=error_type
            )

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> dict[str, object]:
        return {
            "current": self.current,
            "done": [r.resource for r in self.done],
            "total": len(self.plan.resources) if self.plan else None,
        }
