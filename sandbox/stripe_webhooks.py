"""Stripe webhook signing, with Stripe's real scheme (vendors.md section 1, "Webhooks").

``Stripe-Signature: t=<unix>,v1=<hex>`` where ``<hex>`` is ``HMAC-SHA256(secret, "<t>.<raw
body>")`` keyed with the endpoint secret (``whsec_...``) used verbatim as bytes, exactly as the
official SDKs verify it (``stripe.WebhookSignature.verify_header``). Several secrets (rotation)
give several ``v1`` entries. Delivery itself (retries, out-of-order, duplicates) is left to the
later webhook work.
"""

from __future__ import annotations

import hashlib
import hmac


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` signed at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header value for ``payload``."""
    return f"t={timestamp},v1={compute_signature(payload, secret, timestamp)}"


def sign_payload_rotating(payload: bytes, secrets: list[str], timestamp: int) -> str:
    """A header carrying one ``v1`` per secret, as Stripe sends during secret rotation."""
    parts = [f"t={timestamp}"]
    parts.extend(f"v1={compute_signature(payload, s, timestamp)}" for s in secrets)
    return ",".join(parts)
