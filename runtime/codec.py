"""Temporal payload codec: AES-GCM with the key ring, so workflow history holds ciphertext.

Payloads are encoded as `binary/encrypted` with the key id in metadata (the samples-python
`encryption` pattern). Operators read them decrypted in the Temporal UI through the starter's
codec endpoint (`/codec/decode`), which uses this same codec.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from runtime.keyring import KeyRing

ENCODING = b"binary/encrypted"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCODING, "encryption-key-id": self.keyring.active.encode()},
                data=self.keyring.encrypt(p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out: list[Payload] = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)
                continue
            decoded = Payload()
            decoded.ParseFromString(self.keyring.decrypt(p.data))
            out.append(decoded)
        return out
