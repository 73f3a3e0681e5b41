"""ScheduledSyncWorkflow: what an integration's Temporal Schedule starts.

A Schedule appends the scheduled time to the workflow ids it starts, so it cannot start the
integration's one `sync:{tenant}:{id}` workflow itself. This small workflow does: it starts
that workflow as an abandoned child under its canonical id, or, if a sync is already running
(manual or earlier schedule), leaves it be. Two syncs of one integration never run at once.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.models import ScheduledSyncInput
    from runtime.search_attributes import for_integration
    from workflows.sync import SyncWorkflow, workflow_id_for


@workflow.defn
class ScheduledSyncWorkflow:
    @workflow.run
    async def run(self, input: ScheduledSyncInput) -> str:
        sync = input.sync
        workflow_id = workflow_id_for(sync.tenant_slug, sync.integration_id)
        try:
            await workflow.start_child_workflow(
                SyncWorkflow.run,
                sync,
                id=workflow_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=for_integration(
                    sync.tenant_slug, input.integration_type, sync.integration_id
                ),
                static_summary=f"scheduled {sync.mode} sync",
            )
        except WorkflowAlreadyStartedError:
            return f"a sync was already running as {workflow_id}"
        return f"started {workflow_id}"
