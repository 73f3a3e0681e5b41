"""Deterministic pseudo-randomness and id codecs shared by the generated datasets.

Every generated value is a pure function of ``(seed, tag, index, ...)`` through a splitmix64
style mixer, so any record can be computed on its own in O(1) without generating the ones
before it (this is what lets a 100,000-record dataset serve its last page as fast as its first).
Python's ``hash()`` is never used: it is salted per process and would break determinism.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

MASK64 = (1 << 64) - 1
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B62_INDEX = {ch: i for i, ch in enumerate(BASE62)}


def tag(name: str) -> int:
    """A stable 64-bit integer for a string label (used to separate random streams)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")


def _fmix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def mix(*parts: int) -> int:
    """Hash integers to a well-spread 64-bit integer (deterministic across processes)."""
    h = 0x6A09E667F3BCC908
    for part in parts:
        h = _fmix(h ^ (part & MASK64))
    return h


def unit(*parts: int) -> float:
    """A float in [0, 1) derived from ``parts``."""
    return mix(*parts) / float(1 << 64)


def pick(seq: Sequence[T], *parts: int) -> T:
    """A deterministic element of ``seq``."""
    return seq[mix(*parts) % len(seq)]


def b62encode(value: int, width: int) -> str:
    """Fixed-width base62 (most significant first)."""
    chars = []
    for _ in range(width):
        value, rem = divmod(value, 62)
        chars.append(BASE62[rem])
    return "".join(reversed(chars))


def b62decode(text: str) -> int | None:
    """Inverse of :func:`b62encode`; ``None`` if ``text`` has a non-base62 character."""
    value = 0
    for ch in text:
        digit = _B62_INDEX.get(ch)
        if digit is None:
            return None
        value = value * 62 + digit
    return value


_ID_WIDTH = 7
_ID_SPACE = 62**_ID_WIDTH
_ID_MULT = 2_654_435_761  # odd and not a multiple of 31, so invertible modulo 62**7
_ID_MULT_INV = pow(_ID_MULT, -1, _ID_SPACE)


class IdCodec:
    """Stripe-looking ids (``cus_`` + 14 base62 chars) that encode a record index.

    The first 7 characters are an invertible scramble of the index, the last 7 a checksum
    keyed by the seed, so ``decode`` resolves an id to its position in O(1) and rejects ids
    of another seed or typos (they become ``resource_missing``).
    """

    def __init__(self, prefix: str, seed: int) -> None:
        self.prefix = prefix
        self._seed = seed
        self._salt = mix(seed, tag(prefix)) % _ID_SPACE
        self._check_key = mix(seed, tag(prefix), 1)

    def encode(self, index: int) -> str:
        scrambled = (index * _ID_MULT + self._salt) % _ID_SPACE
        check = mix(self._check_key, scrambled) % _ID_SPACE
        return f"{self.prefix}_{b62encode(scrambled, _ID_WIDTH)}{b62encode(check, _ID_WIDTH)}"

    def decode(self, obj_id: str) -> int | None:
        head = f"{self.prefix}_"
        if not obj_id.startswith(head) or len(obj_id) != len(head) + 2 * _ID_WIDTH:
            return None
        body = obj_id[len(head) :]
        scrambled = b62decode(body[:_ID_WIDTH])
        check = b62decode(body[_ID_WIDTH:])
        if scrambled is None or check is None:
            return None
        if mix(self._check_key, scrambled) % _ID_SPACE != check:
            return None
        return ((scrambled - self._salt) * _ID_MULT_INV) % _ID_SPACE


def token_string(*parts: int, length: int = 24) -> str:
    """A deterministic opaque base62 string (client secrets, request ids, tokens)."""
    out: list[str] = []
    counter = 0
    while len(out) < length:
        value = mix(*parts, counter)
        counter += 1
        for _ in range(10):
            value, rem = divmod(value, 62)
            out.append(BASE62[rem])
    return "".join(out[:length])
