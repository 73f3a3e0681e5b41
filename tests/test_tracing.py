"""One trace from the API request through the workflow and activity to the vendor calls."""

from __future__ import annotations

from tests.conftest import SPANS, Stack
from tests.helpers import sync


async def test_a_sync_is_one_trace_from_request_to_vendor(stack: Stack) -> None:
    stack.sandbox.state.moodle.configure(seed=71, size=30)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    SPANS.clear()
    await sync(stack, slug, headers, integ["id"], mode="full", resources=["students"])
    spans = SPANS.get_finished_spans()
    request = next(
        s
        for s in spans
        if s.name == "POST /api/tenants/{tenant_slug}/integrations/{integration_id}/sync/"
    )
    trace_id = request.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    assert {"StartWorkflow:SyncWorkflow", "RunWorkflow:SyncWorkflow"} <= names, names
    assert {
        "RunActivity:plan_sync",
        "RunActivity:sync_resource",
        "RunActivity:finish_sync",
    } <= names
    vendor = [s for s in in_trace if s.name.startswith("POST 127.0.0.1")]
    assert vendor, names
    for span in vendor:
        attributes = dict(span.attributes or {})
        url = str(attributes["url.full"])
        assert "sandbox-moodle-token" not in url and "wstoken" not in url
        assert attributes["http.response.status_code"] == 200
