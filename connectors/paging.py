"""Paging helpers shared by connectors: offset/limit and after-id (cursor) paging.

Each helper drives a vendor-specific `fetch` coroutine and yields `(items, next_position)`
where `next_position` is None after the last page, so a connector can put the position in its
`Page.cursor` and resume from it after a crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

OffsetFetch = Callable[[int, int], Awaitable[Sequence[T]]]
AfterFetch = Callable[[str | None, int], Awaitable[tuple[Sequence[T], bool]]]


async def offset_pages(
    fetch: OffsetFetch[T], *, start: int = 0, page_size: int
) -> AsyncIterator[tuple[Sequence[T], int | None]]:
    """Offset paging (Moodle's limitfrom/limitnumber): a short page ends the stream."""
    offset = start
    while True:
        items = await fetch(offset, page_size)
        offset += len(items)
        done = len(items) < page_size
        yield items, None if done else offset
        if done:
            return


async def after_id_pages(
    fetch: AfterFetch[T],
    *,
    start_after: str | None = None,
    page_size: int,
    id_of: Callable[[T], str],
) -> AsyncIterator[tuple[Sequence[T], str | None]]:
    """Cursor paging by the last object's id (Stripe's starting_after + has_more)."""
    after = start_after
    while True:
        items, has_more = await fetch(after, page_size)
        if items:
            after = id_of(items[-1])
        done = not has_more or not items
        yield items, None if done else after
        if done:
            return


def chunked(
    items: Sequence[Any], size: int, start: int = 0
) -> AsyncIterator[tuple[Sequence[Any], int | None]]:
    """Split a vendor response that has no paging (one big list) into resumable pages."""

    async def gen() -> AsyncIterator[tuple[Sequence[Any], int | None]]:
        pos = start
        if pos >= len(items):
            yield [], None
            return
        while pos < len(items):
            chunk = items[pos : pos + size]
            pos += len(chunk)
            yield chunk, (pos if pos < len(items) else None)

    return gen()
