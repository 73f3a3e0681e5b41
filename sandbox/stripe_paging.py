"""Stripe cursor pagination over a ``Collection`` (vendors.md section 1, "Pagination").

Lists are reverse-chronological. ``starting_after=X`` returns the ``limit`` items that come
after X in that order (older), ``ending_before=X`` the ``limit`` items just before X (newer),
still newest first; ``has_more`` says whether more items lie beyond the page in the direction
of travel, which is what the SDKs' auto-paging relies on. ``created[gt|gte|lt|lte]`` (or an
exact ``created``) narrows the position range by binary search, since ``created`` never
decreases with position; other filters are predicates checked while walking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.stripe_data import Collection


@dataclass(frozen=True)
class CreatedFilter:
    eq: int | None = None
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


def _first_true(size: int, pred: Callable[[int], bool]) -> int:
    """Smallest position where a monotonic (False..True) predicate holds, else ``size``."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def created_bounds(coll: Collection, flt: CreatedFilter) -> tuple[int, int]:
    """Half-open position range ``[lo, hi)`` whose ``created`` satisfies the filter."""
    size = coll.size()
    created = coll.created
    lo, hi = 0, size
    lower = [v for v in (flt.gte, flt.eq) if v is not None]
    if flt.gt is not None:
        lower.append(flt.gt + 1)
    if lower:
        bound = max(lower)
        lo = _first_true(size, lambda i: created(i) >= bound)
    upper = [v for v in (flt.lte, flt.eq) if v is not None]
    if flt.lt is not None:
        upper.append(flt.lt - 1)
    if upper:
        bound = min(upper)
        hi = _first_true(size, lambda i: created(i) > bound)
    return lo, max(lo, hi)


def page(
    coll: Collection,
    *,
    limit: int,
    starting_after: int | None = None,
    ending_before: int | None = None,
    created: CreatedFilter | None = None,
    predicate: Callable[[int], bool] | None = None,
) -> tuple[list[int], bool]:
    """Positions of one page, newest first, and ``has_more``."""
    lo, hi = created_bounds(coll, created or CreatedFilter())

    def keep(i: int) -> bool:
        return coll.visible(i) and (predicate is None or predicate(i))

    found: list[int] = []
    if ending_before is not None:
        i = max(lo, ending_before + 1)
        while i < hi and len(found) <= limit:
            if keep(i):
                found.append(i)
            i += 1
        has_more = len(found) > limit
        return list(reversed(found[:limit])), has_more
    i = min(hi, starting_after if starting_after is not None else hi) - 1
    while i >= lo and len(found) <= limit:
        if keep(i):
            found.append(i)
        i -= 1
    has_more = len(found) > limit
    return found[:limit], has_more
