"""Secret redaction for everything that leaves a connector as text: URLs, headers, messages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_KEY_PATTERN = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|apikey|key|signature|sig|auth|credential|code)",
    re.IGNORECASE,
)
_SAFE_KEYS = frozenset({"wsfunction", "moodlewsrestformat", "limit", "starting_after"})
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "cookie",
        "set-cookie",
        "stripe-signature",
    }
)


def is_secret_key(name: str) -> bool:
    """True for parameter or field names that carry credentials."""
    return name.lower() not in _SAFE_KEYS and bool(SECRET_KEY_PATTERN.search(name))


def redact_url(url: str) -> str:
    """Mask secret query parameters and userinfo: `?wstoken=abc` becomes `?wstoken=***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = [
        (k, MASK if is_secret_key(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(pairs, safe="[]*")))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_HEADERS else v) for k, v in headers}


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of the given secret values (of 4+ characters) in free text."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
