"""The product's own metrics, emitted through the Temporal SDK's metric meter.

They are exported wherever the worker's SDK metrics go (the Prometheus endpoint of
`WORKER_METRICS_BIND`), with the SDK's activity labels (task queue, activity type) added:
- `integrations_records_synced{integration_type, model, outcome}`: outcome is added, updated,
  unchanged or deleted;
- `integrations_sync_pages{integration_type, resource}`;
- `integrations_vendor_calls{integration_type, status_class}`: 2xx…5xx, or `error` for
  transport failures.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.common import MetricCounter

OUTCOMES = ("added", "updated", "unchanged", "deleted")


class SyncMetrics:
    """Counters for one activity execution (a no-op outside an activity)."""

    def __init__(self, integration_type: str) -> None:
        self.integration_type = integration_type
        self.records: MetricCounter | None = None
        self.pages: MetricCounter | None = None
        self.calls: MetricCounter | None = None
        if activity.in_activity():
            meter = activity.metric_meter()
            self.records = meter.create_counter(
                "integrations_records_synced", "records written to the store, by outcome"
            )
            self.pages = meter.create_counter("integrations_sync_pages", "pages committed")
            self.calls = meter.create_counter(
                "integrations_vendor_calls", "calls to vendor APIs, by status class"
            )

    def page(
        self, resource: str, model: str, before: dict[str, int], after: dict[str, int]
    ) -> None:
        """Count a committed page from the run's totals before and after it."""
        if self.records is None or self.pages is None:
            return
        for outcome in OUTCOMES:
            delta = after.get(outcome, 0) - before.get(outcome, 0)
            if delta > 0:
                self.records.add(
                    delta,
                    {"integration_type": self.integration_type, "model": model, "outcome": outcome},
                )
        self.pages.add(1, {"integration_type": self.integration_type, "resource": resource})

    def vendor_call(self, status: int | None) -> None:
        if self.calls is None:
            return
        status_class = f"{status // 100}xx" if status else "error"
        self.calls.add(1, {"integration_type": self.integration_type, "status_class": status_class})
