"""Test helpers: reading whole record sets through the API, decoding workflow histories."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from runtime.codec import EncryptionCodec
from runtime.keyring import KeyRing
from tests.conftest import Stack


async def all_records(
    stack: Stack, slug: str, headers: dict[str, str], integ_id: str, model: str, **params: Any
) -> list[dict[str, Any]]:
    """Every record of a model, following next_cursor."""
    out: list[dict[str, Any]] = []
    query: dict[str, Any] = {"model": model, "limit": 1000, **params}
    while True:
        resp = await stack.api.get(
            f"/api/tenants/{slug}/integrations/{integ_id}/records/", params=query, headers=headers
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        out += body["records"]
        if not body["next_cursor"]:
            return out
        query["cursor"] = body["next_cursor"]


async def logs(
    stack: Stack, slug: str, headers: dict[str, str], integ_id: str, **params: Any
) -> list[dict[str, Any]]:
    """The integration's log entries, newest first (`action=`, `limit=`, `before=`)."""
    resp = await stack.api.get(
        f"/api/tenants/{slug}/integrations/{integ_id}/logs/", params=params, headers=headers
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json())


async def sync(
    stack: Stack, slug: str, headers: dict[str, str], integ_id: str, **body: Any
) -> dict[str, Any]:
    resp = await stack.api.post(
        f"/api/tenants/{slug}/integrations/{integ_id}/sync/",
        params={"wait": "true"},
        json=body or None,
        headers=headers,
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _payloads(msg: Message) -> list[Payload]:
    """Every Payload inside a protobuf message (history events nest them deeply)."""
    if isinstance(msg, Payload):
        return [msg]
    found: list[Payload] = []
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        if not field.is_repeated:
            values = [value]
        elif field.message_type.GetOptions().map_entry:
            values = list(value.values())
        else:
            values = list(value)
        for item in values:
            if isinstance(item, Message):
                found += _payloads(item)
    return found


async def history_texts(client: Client, keyring: KeyRing, workflow_id: str) -> tuple[str, str]:
    """(raw history JSON of every run, decrypted payload text of every run)."""
    codec = EncryptionCodec(keyring)
    raw_parts: list[str] = []
    plain_parts: list[str] = []
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        handle = client.get_workflow_handle(workflow_id, run_id=execution.run_id)
        history = await handle.fetch_history()
        raw_parts.append(history.to_json())
        for event in history.events:
            for payload in await codec.decode(_payloads(event)):
                plain_parts.append(payload.data.decode("utf-8", "replace"))
    return "\n".join(raw_parts), "\n".join(plain_parts)


def stripe_objects(dataset: Any, kind: str) -> list[dict[str, Any]]:
    """Every object of a kind that the sandbox's list endpoint would show (status=all)."""
    col = dataset.collection(kind)
    return [col.build(i) for i in range(col.size()) if col.visible(i)]
