"""Codec endpoint for the Temporal UI and CLI: `POST /codec/decode` and `/codec/encode`.

Workflow payloads are AES-GCM ciphertext in Temporal (see `runtime.codec`). The UI, started
with `--ui-codec-endpoint http://<api>/codec`, posts payloads here to show them decrypted to
an operator. The body and answer are the protobuf JSON of `Payloads`
(`{"payloads": [{"metadata": {...base64}, "data": "base64"}]}`), as the UI expects.
When `CODEC_AUTH_TOKEN` is set, callers must send it as a bearer token.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException
from google.protobuf import json_format
from pydantic import Base64Bytes, BaseModel
from temporalio.api.common.v1 import Payload, Payloads

from runtime.codec import EncryptionCodec
from starter.deps import State

router = APIRouter(prefix="/codec", tags=["codec"])


def authorised_codec(
    state: State, authorization: Annotated[str | None, Header()] = None
) -> EncryptionCodec:
    """The service's codec, for callers holding the operator token (when one is set)."""
    token = state.settings.codec_auth_token
    if token:
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            raise HTTPException(401, "the codec endpoint needs the operator token")
    return EncryptionCodec(state.store.integrations.keyring)


Codec = Annotated[EncryptionCodec, Depends(authorised_codec)]


class PayloadJSON(BaseModel):
    """One payload in protobuf JSON form: base64 metadata values and data."""

    metadata: dict[str, Base64Bytes] = {}
    data: Base64Bytes = b""


class PayloadsJSON(BaseModel):
    payloads: list[PayloadJSON]

    def to_proto(self) -> list[Payload]:
        return [Payload(metadata=dict(p.metadata), data=p.data) for p in self.payloads]


def _json(payloads: list[Payload]) -> dict[str, Any]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


@router.post("/decode")
async def decode(body: PayloadsJSON, codec: Codec) -> dict[str, Any]:
    try:
        decoded = await codec.decode(body.to_proto())
    except Exception:
        raise HTTPException(400, "a payload did not decrypt with this key ring") from None
    return _json(decoded)


@router.post("/encode")
async def encode(body: PayloadsJSON, codec: Codec) -> dict[str, Any]:
    return _json(await codec.encode(body.to_proto()))
