"""The classified vendor errors every connector raises.

Errors are classified once, here and in `connectors.http`, so activities only translate a
`VendorError` subclass into a Temporal `ApplicationError` and never look at HTTP details.
The `kind` of each class is the `ApplicationError.type` the activity raises, which is what retry
policies name in `non_retryable_error_types`.
"""

from __future__ import annotations


class VendorError(Exception):
    """Base of all classified vendor failures.

    `message` is safe to show to users and to store (no secrets); `vendor_code` is the vendor's
    own error code when it sent one (e.g. Moodle's `invalidtoken`, Stripe's `resource_missing`).
    """

    kind = "VendorError"
    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, vendor_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.vendor_code = vendor_code

    def __str__(self) -> str:
        code = f" [{self.vendor_code}]" if self.vendor_code else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.message}{code}{status}"


class VendorAuthError(VendorError):
    """Credentials rejected (401, Moodle `invalidtoken`). A refresh may cure it; otherwise the
    integration needs re-authorisation. Not retried as-is."""

    kind = "VendorAuthError"
    retryable = False


class VendorPermissionError(VendorError):
    """Authenticated but not allowed (403, Moodle `accessexception`). Not retryable."""

    kind = "VendorPermissionError"
    retryable = False


class VendorNotFoundError(VendorError):
    """The object or endpoint does not exist (404). Not retryable."""

    kind = "VendorNotFoundError"
    retryable = False


class VendorValidationError(VendorError):
    """The vendor rejected our request as invalid (400/422, Moodle `invalidparameter`)."""

    kind = "VendorValidationError"
    retryable = False


class VendorRateLimited(VendorError):
    """429 or the vendor's equivalent. `retry_after` (seconds) comes from the vendor's header."""

    kind = "VendorRateLimited"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        vendor_code: str | None = None,
    ) -> None:
        super().__init__(message, status=status, vendor_code=vendor_code)
        self.retry_after = retry_after


class VendorUnavailable(VendorError):
    """5xx, timeouts, connection resets: transient, retried with backoff."""

    kind = "VendorUnavailable"
    retryable = True


class VendorMalformedResponse(VendorError):
    """The vendor answered something we cannot parse (HTML instead of JSON, a missing field).

    Retryable, because a proxy or a half-deployed vendor often answers garbage for a while; the
    retry policy's maximum attempts stops a crash loop, and the activity logs each one.
    """

    kind = "VendorMalformedResponse"
    retryable = True


class ConnectorConfigError(VendorError):
    """The integration's own configuration is unusable (missing credential, bad base URL)."""

    kind = "ConnectorConfigError"
    retryable = False


NON_RETRYABLE_KINDS: list[str] = [
    cls.kind
    for cls in (
        VendorAuthError,
        VendorPermissionError,
        VendorNotFoundError,
        VendorValidationError,
        ConnectorConfigError,
    )
]
