"""Secrets never leave a connector in clear: URLs, headers, vendor messages."""

from __future__ import annotations

from connectors.http import classify_status, parse_retry_after
from connectors.redact import redact_headers, redact_text, redact_url


def test_query_string_tokens_are_masked() -> None:
    url = (
        "https://m.example/webservice/rest/server.php?wstoken=abc123&wsfunction=core_x"
        "&access_token=zzz&api_key=k&limit=10&client_secret=s"
    )
    out = redact_url(url)
    for secret in ("abc123", "zzz", "=k&", "=s"):
        assert secret not in out
    assert "wsfunction=core_x" in out and "limit=10" in out
    assert redact_url("https://user:pw@h.example/x") == "https://***@h.example/x"


def test_headers_and_text() -> None:
    headers = redact_headers([("Authorization", "Bearer sk_live_1"), ("Accept", "json")])
    assert headers == {"Authorization": "***", "Accept": "json"}
    assert redact_text("bad token sk_test_abcd1234 given", ["sk_test_abcd1234"]) == (
        "bad token *** given"
    )


def test_status_classification() -> None:
    assert classify_status(200, None, None, {}) is None
    kinds = {
        s: type(classify_status(s, None, "m", {})).__name__
        for s in (400, 401, 403, 404, 429, 500, 503)
    }
    assert kinds == {
        400: "VendorValidationError",
        401: "VendorAuthError",
        403: "VendorPermissionError",
        404: "VendorNotFoundError",
        429: "VendorRateLimited",
        500: "VendorUnavailable",
        503: "VendorUnavailable",
    }
    limited = classify_status(429, None, None, {"retry-after": "7"})
    assert getattr(limited, "retry_after", None) == 7.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
