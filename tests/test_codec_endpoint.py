"""The codec endpoint lets the Temporal UI show decrypted payloads, and nothing else does."""

from __future__ import annotations

import base64

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType

from tests.conftest import Stack
from tests.helpers import sync


async def test_decodes_a_real_history_payload_and_round_trips(stack: Stack) -> None:
    stack.sandbox.state.moodle.configure(seed=41, size=50)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body())
    result = await sync(stack, slug, headers, integ["id"], resources=["courses"])
    history = await stack.client.get_workflow_handle(result["workflow_id"]).fetch_history()
    started = next(
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    )
    sealed = started.workflow_execution_started_event_attributes.input
    body = json_format.MessageToDict(sealed)
    assert integ["id"].encode() not in base64.b64decode(body["payloads"][0]["data"])

    resp = await stack.api.post("/codec/decode", json=body, headers={"X-Namespace": "default"})
    assert resp.status_code == 200, resp.text
    plain = base64.b64decode(resp.json()["payloads"][0]["data"])
    assert integ["id"].encode() in plain and b'"mode":"incremental"' in plain

    encoded = await stack.api.post("/codec/encode", json=resp.json())
    again = await stack.api.post("/codec/decode", json=encoded.json())
    assert again.json() == resp.json()
    assert (
        json_format.ParseDict(encoded.json(), Payloads()).payloads[0].metadata["encoding"]
        == b"binary/encrypted"
    )


async def test_cors_allows_the_ui_and_rejects_garbage(stack: Stack) -> None:
    pre = await stack.api.options(
        "/codec/decode",
        headers={
            "Origin": "http://localhost:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "http://localhost:8233"
    bad = await stack.api.post("/codec/decode", json={"payloads": "nope"})
    assert bad.status_code == 422
    encoding = base64.b64encode(b"binary/encrypted").decode()
    data = base64.b64encode(b"test1$" + b"x" * 40).decode()
    forged = {"payloads": [{"metadata": {"encoding": encoding}, "data": data}]}
    assert (await stack.api.post("/codec/decode", json=forged)).status_code == 400
