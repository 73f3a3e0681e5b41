"""A sync frequency becomes a Temporal Schedule whose runs join the integration's one sync."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.service import RPCError

from activities.models import SyncResult
from starter.temporal_gateway import schedule_id_for
from tests.conftest import Stack


async def test_frequency_creates_updates_and_removes_the_schedule(stack: Stack) -> None:
    stack.sandbox.state.moodle.configure(seed=51, size=60)
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body(sync_frequency_minutes=30))
    schedule_id = schedule_id_for(slug, integ["id"])
    assert integ["schedule_id"] == schedule_id
    handle = stack.client.get_schedule_handle(schedule_id)
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(minutes=30)

    await handle.trigger()
    url = f"/api/tenants/{slug}/integrations/{integ['id']}/"
    for _ in range(200):
        current = (await stack.api.get(url, headers=headers)).json()
        if current["last_sync_status"]:
            break
        await asyncio.sleep(0.1)
    assert current["last_sync_status"] == "success", current
    sync_handle = stack.client.get_workflow_handle(
        f"sync:{slug}:{integ['id']}", result_type=SyncResult
    )
    assert (await sync_handle.result()).status == "success"  # the canonical sync id ran it

    patched = await stack.api.patch(url, json={"sync_frequency_minutes": 120}, headers=headers)
    assert patched.status_code == 200
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(hours=2)

    patched = await stack.api.patch(url, json={"sync_frequency_minutes": None}, headers=headers)
    assert patched.json()["schedule_id"] is None
    with pytest.raises(RPCError):
        await handle.describe()


async def test_disconnect_removes_the_schedule(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    integ = await stack.create(slug, headers, stack.moodle_body(sync_frequency_minutes=15))
    handle = stack.client.get_schedule_handle(schedule_id_for(slug, integ["id"]))
    await handle.describe()
    url = f"/api/tenants/{slug}/integrations/{integ['id']}/"
    assert (await stack.api.delete(url, headers=headers)).status_code == 204
    with pytest.raises(RPCError):
        await handle.describe()
    bad = await stack.api.post(
        f"/api/tenants/{slug}/integrations/",
        json=stack.moodle_body(sync_frequency_minutes=1),
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "sync_frequency_minutes"
