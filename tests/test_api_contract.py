"""The starter API's contract: catalogue, validation answers, auth and tenant isolation,
write-only secrets."""

from __future__ import annotations

from tests.conftest import Stack

ALL_TYPES = {
    "readytech_jr", "vettrak", "eskilled", "axcelerate", "cloudassess", "coursebox", "moodle",
    "d2l_brightspace", "canvas", "quickbooks", "sage_intacct", "xero", "myob", "stripe",
    "civica_cx", "civica_icon", "nec_housing", "nec_revenues", "dynamics365", "msgraph",
    "salesforce", "mri", "itrent", "resourcelink", "peoplehr", "soap_generic", "rest_generic",
    "file_drop",
}  # fmt: skip


async def test_catalogue_lists_every_type(stack: Stack) -> None:
    resp = await stack.api.get("/api/integration-types/")
    assert resp.status_code == 200
    types = {t["type_id"]: t for t in resp.json()}
    assert set(types) == ALL_TYPES
    assert types["moodle"]["status"] == "available"
    assert types["stripe"]["status"] == "available"
    assert types["xero"]["status"] == "planned"
    moodle_resources = {r["name"]: r["model"] for r in types["moodle"]["resources"]}
    assert moodle_resources["students"] == "students"
    assert {f["name"] for f in types["stripe"]["credential_fields"]} >= {"access_token"}


async def test_unknown_type_lists_the_valid_ones(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    resp = await stack.api.post(
        f"/api/tenants/{slug}/integrations/",
        json=stack.moodle_body(integration_type="blackboard"),
        headers=headers,
    )
    assert resp.status_code == 422
    detail = resp.json()["detail"][0]
    assert detail["loc"] == ["body", "integration_type"]
    assert "blackboard" in detail["msg"] and "moodle" in detail["msg"] and "xero" in detail["msg"]


async def test_planned_type_is_refused_with_the_available_list(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    resp = await stack.api.post(
        f"/api/tenants/{slug}/integrations/",
        json=stack.moodle_body(integration_type="xero"),
        headers=headers,
    )
    assert resp.status_code == 422
    assert "available types: moodle, stripe" in resp.json()["detail"][0]["msg"]


async def test_malformed_bodies_name_the_field(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    url = f"/api/tenants/{slug}/integrations/"
    cases = {
        "name": {k: v for k, v in stack.moodle_body().items() if k != "name"},
        "api_base_url": stack.moodle_body(api_base_url="not a url"),
        "colour": stack.moodle_body(colour="blue"),
        "api_key": {k: v for k, v in stack.moodle_body().items() if k != "api_key"},
        "config": stack.moodle_body(config=["not", "a", "dict"]),
    }
    for bad_size in ("abc", 0, 5000, True):
        resp = await stack.api.post(
            url, json=stack.moodle_body(config={"page_size": bad_size}), headers=headers
        )
        assert resp.status_code == 422, (bad_size, resp.text)
        assert resp.json()["detail"][0]["loc"] == ["body", "config"]
    for field, body in cases.items():
        resp = await stack.api.post(url, json=body, headers=headers)
        assert resp.status_code == 422, (field, resp.text)
        assert field in {d["loc"][-1] for d in resp.json()["detail"]}, (field, resp.text)
    resp = await stack.api.post(
        url, content=b"{not json", headers={**headers, "content-type": "application/json"}
    )
    assert resp.status_code == 422
    assert await stack.store.integrations.list() is not None
    tenant = await stack.store.tenants.by_slug(slug)
    assert tenant is not None
    assert await stack.store.integrations.list(tenant.id) == []  # nothing half-created


async def test_keys_authenticate_and_isolate_tenants(stack: Stack) -> None:
    slug_a, headers_a = await stack.tenant()
    slug_b, headers_b = await stack.tenant()
    created = await stack.create(slug_a, headers_a, stack.moodle_body())
    url_a = f"/api/tenants/{slug_a}/integrations/{created['id']}/"
    assert (await stack.api.get(url_a)).status_code == 401
    bad = {"Authorization": "Bearer iwk_not-a-key"}
    assert (await stack.api.get(url_a, headers=bad)).status_code == 401
    # B's key on A's slug, and A's integration under B's slug: both 404
    assert (await stack.api.get(url_a, headers=headers_b)).status_code == 404
    url_b = f"/api/tenants/{slug_b}/integrations/{created['id']}/"
    assert (await stack.api.get(url_b, headers=headers_b)).status_code == 404
    assert (await stack.api.get(url_a, headers=headers_a)).status_code == 200


async def test_secrets_are_write_only_and_sealed(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    secret = "sandbox-moodle-token"
    created = await stack.create(slug, headers, stack.moodle_body(webhook_secret="whsec_abc123"))
    assert created["credentials_set"] == ["api_key", "webhook_secret"]
    base = f"/api/tenants/{slug}/integrations/"
    for resp in (
        await stack.api.get(base, headers=headers),
        await stack.api.get(f"{base}{created['id']}/", headers=headers),
    ):
        assert secret not in resp.text and "whsec_abc123" not in resp.text
    # at rest: the column holds AES-GCM ciphertext, not the token
    import sqlalchemy as sa

    from store.schema import integrations

    async with stack.store.db.engine.connect() as conn:
        blob = (
            await conn.execute(
                sa.select(integrations.c.credentials).where(integrations.c.id == created["id"])
            )
        ).scalar_one()
    assert secret.encode() not in blob and blob.startswith(b"test1$")
    assert (await stack.store.integrations.credentials(created["id"]))["api_key"] == secret


async def test_patch_and_delete(stack: Stack) -> None:
    slug, headers = await stack.tenant()
    created = await stack.create(slug, headers, stack.moodle_body())
    url = f"/api/tenants/{slug}/integrations/{created['id']}/"
    resp = await stack.api.patch(
        url, json={"name": "Renamed", "api_key": "new-token"}, headers=headers
    )
    assert resp.status_code == 200 and resp.json()["name"] == "Renamed"
    assert (await stack.store.integrations.credentials(created["id"]))["api_key"] == "new-token"
    # removing a required credential is refused and changes nothing
    resp = await stack.api.patch(url, json={"api_key": None}, headers=headers)
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "api_key"]
    assert (await stack.store.integrations.credentials(created["id"]))["api_key"] == "new-token"
    resp = await stack.api.patch(url, json={"bogus": 1}, headers=headers)
    assert resp.status_code == 422
    assert (await stack.api.delete(url, headers=headers)).status_code == 204
    assert (await stack.api.get(url, headers=headers)).status_code == 404
    assert await stack.store.integrations.credentials(created["id"]) == {}
