"""Bracket-notation form parameters, as PHP (Moodle) and Stripe decode them.

``criteria[0][key]=email&criteria[0][value]=%`` becomes
``{"criteria": [{"key": "email", "value": "%"}]}``; ``created[gt]=5`` becomes
``{"created": {"gt": "5"}}``; ``types[]=a&types[]=b`` and ``types[0]=a&types[1]=b`` both
become ``{"types": ["a", "b"]}``. Containers whose keys are all integers turn into lists in
insertion order (PHP arrays keep insertion order). Values stay strings: each API casts and
validates them the way its vendor does. Request bodies are decoded here too, because the
``python-multipart`` package is not installed (only ``application/x-www-form-urlencoded``
bodies are understood).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART_RE = re.compile(r"\[([^\[\]]*)\]")


def split_key(key: str) -> list[str]:
    """``a[b][]`` -> ``["a", "b", ""]``; a malformed key is kept whole."""
    match = _KEY_RE.match(key)
    if match is None:
        return [key]
    return [match.group(1), *_PART_RE.findall(match.group(2))]


def _insert(container: dict[str, Any], path: list[str], value: str) -> None:
    node = container
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":
            part = str(sum(1 for k in node if k.isdigit()))
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return list(converted.values())
    return converted


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest flat ``(key, value)`` pairs; a later duplicate key overwrites (PHP behaviour)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        _insert(root, split_key(key), value)
    result = _listify(root)
    return result if isinstance(result, dict) else {}


async def request_pairs(request: Request) -> list[tuple[str, str]]:
    """Query-string pairs followed by urlencoded body pairs (so the body wins, like $_REQUEST)."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        if body and (
            content_type.startswith("application/x-www-form-urlencoded") or not content_type
        ):
            pairs.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return pairs
