"""The one HTTP path to vendors: audit every call, classify every failure.

`VendorHttp` wraps the worker's shared `httpx.AsyncClient` for one integration. Each request is
timed and written to the audit sink with its URL redacted, whatever its outcome. Responses are
classified into `connectors.errors` by status; connectors whose vendors report errors inside
HTTP 200 bodies (Moodle) add their own check on the parsed JSON.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from connectors.base import AuditSink, VendorCall
from connectors.errors import (
    ConnectorConfigError,
    VendorAuthError,
    VendorError,
    VendorMalformedResponse,
    VendorNotFoundError,
    VendorPermissionError,
    VendorRateLimited,
    VendorUnavailable,
    VendorValidationError,
)
from connectors.redact import redact_text, redact_url

# The OpenTelemetry API only (no SDK, no Temporal): the process decides where spans go.
_tracer = trace.get_tracer("integrations.connectors")

ErrorDetail = tuple[str | None, str | None]  # (vendor code, vendor message)
ErrorExtractor = Callable[[Any], ErrorDetail]


def default_error_extractor(body: Any) -> ErrorDetail:
    """Find a code and message in common JSON error shapes."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            return _str(inner.get("code") or inner.get("type")), _str(inner.get("message"))
        code = body.get("errorcode") or body.get("code") or body.get("error")
        msg = body.get("message") or body.get("error_description") or body.get("detail")
        return _str(code), _str(msg)
    return None, None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None if absent/garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def classify_status(
    status: int,
    code: str | None,
    message: str | None,
    headers: Mapping[str, str],
) -> VendorError | None:
    """Map an HTTP status to a classified error; None for success statuses."""
    if status < 400:
        return None
    text = message or f"HTTP {status}"
    if status == 401:
        return VendorAuthError(text, status=status, vendor_code=code)
    if status == 403:
        return VendorPermissionError(text, status=status, vendor_code=code)
    if status == 404:
        return VendorNotFoundError(text, status=status, vendor_code=code)
    if status == 429:
        return VendorRateLimited(
            text,
            retry_after=parse_retry_after(headers.get("retry-after")),
            status=status,
            vendor_code=code,
        )
    if status in (408, 409, 423, 425) or status >= 500:
        return VendorUnavailable(text, status=status, vendor_code=code)
    return VendorValidationError(text, status=status, vendor_code=code)


class VendorHttp:
    """Audited, classified HTTP for one integration.

    `secrets` are the integration's credential values: they are masked out of any vendor message
    before it becomes an error (some vendors echo the token back in their error text).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        audit: AuditSink,
        *,
        secrets: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        error_extractor: ErrorExtractor = default_error_extractor,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.audit = audit
        self.secrets = [s for s in (secrets or []) if s]
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.error_extractor = error_extractor
        self.calls = 0

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request and audit it. Transport failures become `VendorUnavailable`;
        HTTP statuses are returned as they are (see `request_json` for classification)."""
        try:
            request = self.client.build_request(
                method,
                self.url(path),
                params=params,
                data=data,
                content=content,
                headers={**self.headers, **(headers or {})},
                timeout=self.timeout,
            )
        except (httpx.InvalidURL, ValueError) as exc:
            raise ConnectorConfigError(
                f"cannot call {redact_url(self.url(path))}: {type(exc).__name__}"
            ) from None
        safe_url = redact_url(str(request.url))
        started = time.perf_counter()
        self.calls += 1
        with _tracer.start_as_current_span(
            f"{method} {request.url.host}",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": method, "url.full": safe_url},
        ) as span:
            response = await self._send_audited(request, method, safe_url, started)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_status(StatusCode.ERROR)
            return response

    async def _send_audited(
        self, request: httpx.Request, method: str, safe_url: str, started: float
    ) -> httpx.Response:
        try:
            response = await self.client.send(request)
            await response.aread()
        except httpx.TimeoutException as exc:
            await self._audit(method, safe_url, None, started, f"timeout: {type(exc).__name__}")
            raise VendorUnavailable(f"timed out calling {safe_url}") from None
        except httpx.UnsupportedProtocol:
            await self._audit(method, safe_url, None, started, "unsupported protocol")
            raise ConnectorConfigError(f"api_base_url is not http(s): {safe_url}") from None
        except httpx.TransportError as exc:
            await self._audit(method, safe_url, None, started, f"transport: {type(exc).__name__}")
            raise VendorUnavailable(
                f"connection failed calling {safe_url}: {type(exc).__name__}"
            ) from None
        except httpx.HTTPError as exc:  # decoding errors, redirect loops: the vendor's garbage
            await self._audit(method, safe_url, None, started, f"http: {type(exc).__name__}")
            raise VendorMalformedResponse(
                f"unusable response from {safe_url}: {type(exc).__name__}"
            ) from None
        await self._audit(method, safe_url, response.status_code, started, None)
        return response

    async def _audit(
        self, method: str, url: str, status: int | None, started: float, error: str | None
    ) -> None:
        duration = (time.perf_counter() - started) * 1000
        await self.audit(VendorCall(method, url, status, duration, error))

    def parse_json(self, response: httpx.Response) -> Any:
        """The body as JSON, or `VendorMalformedResponse` naming what came instead."""
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            ctype = response.headers.get("content-type", "unknown")
            raise VendorMalformedResponse(
                f"expected JSON from {redact_url(str(response.request.url))}, got {ctype} "
                f"({len(response.content)} bytes)",
                status=response.status_code,
            ) from None

    def raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            body: Any = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        code, message = self.error_extractor(body)
        if message:
            message = self.clean(message)
        error = classify_status(response.status_code, code, message, response.headers)
        if error is not None:
            raise error

    def clean(self, text: str) -> str:
        """Mask this integration's secrets in vendor-provided text."""
        return redact_text(text, self.secrets)

    async def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send, classify the status, parse JSON. The common path for REST connectors."""
        response = await self.send(method, path, **kwargs)
        self.raise_for_status(response)
        return self.parse_json(response)


def epoch_to_datetime(value: Any) -> datetime | None:
    """Vendors' unix timestamps (Moodle, Stripe) to aware datetimes; 0/None/garbage to None."""
    if value in (None, 0, "0", ""):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
