"""ConnectionTestWorkflow: run a connector's connection test as an activity.

Every vendor call is an activity, the connection test too: it gets retries for transient
failures (a few, quickly, since a person is waiting) and the audit trail. A vendor rejection
is a normal result (`success: false` with the vendor's reason); a vendor that stays
unreachable after the retries is reported the same way, with the classified reason.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import ConnectionTestResult, TestConnectionInput
    from activities.sync import IntegrationActivities


@workflow.defn
class ConnectionTestWorkflow:
    @workflow.run
    async def run(self, input: TestConnectionInput) -> ConnectionTestResult:
        try:
            return await workflow.execute_activity_method(
                IntegrationActivities.test_connection,
                input,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=500),
                    maximum_interval=timedelta(seconds=2),
                    maximum_attempts=3,
                    non_retryable_error_types=["IntegrationNotFound"],
                ),
            )
        except ActivityError as err:
            cause = err.cause
            kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            return ConnectionTestResult(
                success=False,
                message=str(cause) if cause else str(err),
                details={"error_type": kind},
            )
