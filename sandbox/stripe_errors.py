"""Stripe's error bodies and messages (vendors.md section 1, "Errors").

``{"error": {"code", "doc_url", "message", "param", "request_log_url", "type"}}`` with only the
fields Stripe fills for that error: ``code`` + ``doc_url`` for coded errors such as
``resource_missing`` and ``rate_limit``, ``param`` when a parameter is at fault, no
``request_log_url`` on 401 (no account is known yet). Keys in messages are masked as Stripe
does: prefix kept, one ``*`` per hidden character, last four shown.
"""

from __future__ import annotations

import time
from typing import Any

NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. You can learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")


class StripeError(Exception):
    """An error response in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self, request_id: str, log_url: bool = True) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        if log_url and self.status not in (401, 500):
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t={int(time.time())}"
            )
        error["type"] = self.type
        return {"error": error}


def resource_missing(kind: str, obj_id: str, param: str, status: int) -> StripeError:
    return StripeError(status, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def mask_key(key: str) -> str:
    """Stripe's masking: prefix kept, one ``*`` per hidden character, last 4 shown."""
    prefix = next((p for p in _KEY_PREFIXES if key.startswith(p)), "")
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + rest
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def rate_limit_error(retry_after: int) -> StripeError:
    return StripeError(
        429, RATE_LIMIT_MESSAGE, code="rate_limit", headers={"Retry-After": str(retry_after)}
    )
