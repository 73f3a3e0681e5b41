"""Helpers shared by the sandbox tests: calling Moodle functions, paging Stripe lists."""

from __future__ import annotations

from typing import Any

import httpx

MOODLE_TOKEN = "sandbox-moodle-token"
STRIPE_KEY = "sk_test_sandbox_key"
REST = "/moodle/webservice/rest/server.php"


async def ws(
    http: httpx.AsyncClient,
    function: str | None,
    params: dict[str, Any] | None = None,
    *,
    token: str | None = MOODLE_TOKEN,
    fmt: str | None = "json",
    post: bool = False,
) -> httpx.Response:
    """Call a Moodle web service function (params already in bracket notation)."""
    data: dict[str, Any] = dict(params or {})
    if token is not None:
        data["wstoken"] = token
    if function is not None:
        data["wsfunction"] = function
    if fmt is not None:
        data["moodlewsrestformat"] = fmt
    if post:
        return await http.post(REST, data=data)
    return await http.get(REST, params=data)


async def ws_json(
    http: httpx.AsyncClient, function: str, params: dict[str, Any] | None = None, **kw: Any
) -> Any:
    resp = await ws(http, function, params, **kw)
    assert resp.status_code == 200, resp.text
    return resp.json()


def options(**named: Any) -> dict[str, str]:
    """``options[i][name]`` / ``options[i][value]`` pairs."""
    out: dict[str, str] = {}
    for i, (name, value) in enumerate(named.items()):
        out[f"options[{i}][name]"] = name
        out[f"options[{i}][value]"] = str(value)
    return out


def bearer(key: str = STRIPE_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def stripe_get(
    http: httpx.AsyncClient, path: str, params: Any = None, key: str = STRIPE_KEY
) -> httpx.Response:
    return await http.get(f"/stripe{path}", params=params, headers=bearer(key))


async def stripe_walk(
    http: httpx.AsyncClient, path: str, limit: int, **params: Any
) -> list[dict[str, Any]]:
    """Every object of a list, following ``starting_after``; checks each page's invariants."""
    out: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": limit, **params}
    while True:
        resp = await stripe_get(http, path, query)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["object"] == "list" and body["url"] == path
        assert len(body["data"]) <= limit
        out += body["data"]
        if not body["has_more"]:
            return out
        assert len(body["data"]) == limit
        query["starting_after"] = body["data"][-1]["id"]
