"""`read_ahead` overlaps vendor reads with commits without changing what the stream yields."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from activities.sync import read_ahead
from connectors.base import Page
from connectors.errors import VendorUnavailable


async def _stream(
    n: int, fail_at: int | None = None, log: list[str] | None = None
) -> AsyncIterator[Page]:
    for i in range(n):
        if i == fail_at:
            raise VendorUnavailable("down")
        await asyncio.sleep(0.01)
        if log is not None:
            log.append(f"fetched {i}")
        yield Page(records=[], cursor={"i": i} if i < n - 1 else None)


async def test_order_is_kept_and_the_next_page_is_fetched_during_the_commit() -> None:
    log: list[str] = []
    seen = []
    async for page in read_ahead(_stream(4, log=log)):
        await asyncio.sleep(0.03)  # a slow commit
        log.append(f"committed {page.cursor}")
        seen.append(page.cursor)
    assert seen == [{"i": 0}, {"i": 1}, {"i": 2}, None]
    assert log.index("fetched 1") < log.index("committed {'i': 0}")


async def test_an_error_surfaces_in_order_after_the_pages_before_it() -> None:
    seen = []
    with pytest.raises(VendorUnavailable):
        async for page in read_ahead(_stream(5, fail_at=2)):
            seen.append(page.cursor)
    assert seen == [{"i": 0}, {"i": 1}]


async def test_leaving_early_closes_the_stream() -> None:
    closed = []

    async def stream() -> AsyncIterator[Page]:
        try:
            for i in range(10):
                yield Page(records=[], cursor={"i": i})
        finally:
            closed.append(True)

    async with contextlib.aclosing(read_ahead(stream())) as pages:
        async for page in pages:
            if page.cursor == {"i": 1}:
                break
    await asyncio.sleep(0)
    assert closed == [True]
