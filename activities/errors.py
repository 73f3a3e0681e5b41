"""Translate classified connector errors into Temporal `ApplicationError`s.

The error's `kind` becomes the `ApplicationError.type`; non-retryable kinds stop retries at
once; a rate limit carries the vendor's Retry-After as `next_retry_delay`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from connectors.errors import VendorError, VendorRateLimited


def to_application_error(err: VendorError) -> ApplicationError:
    delay = None
    if isinstance(err, VendorRateLimited) and err.retry_after is not None:
        delay = timedelta(seconds=max(0.5, err.retry_after))
    return ApplicationError(
        str(err),
        {"status": err.status, "vendor_code": err.vendor_code},
        type=err.kind,
        non_retryable=not err.retryable,
        next_retry_delay=delay,
    )
