"""AES-GCM key ring with key ids, for credentials at rest and Temporal payloads.

Ciphertext layout: `kid` (utf-8) + b"$" + 12-byte nonce + AES-GCM ciphertext-with-tag, so every
blob names the key that sealed it and keys can rotate: new data uses the active key, old data
still opens with the key that sealed it until it is re-encrypted (`integrations-cli rotate-key`).
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.settings import Settings

NONCE_BYTES = 12


class KeyRingError(Exception):
    """A key ring that cannot be used (bad spec, unknown kid, tampered ciphertext)."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    active: str

    @classmethod
    def parse(cls, spec: str, active: str = "") -> KeyRing:
        """Parse 'kid:base64key,kid2:base64key'. The first kid is active unless named."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            kid, sep, b64 = item.partition(":")
            if not sep or not kid or "$" in kid:
                raise KeyRingError("ENCRYPTION_KEYS entries must look like 'kid:base64key'")
            try:
                key = base64.b64decode(b64, validate=True)
            except ValueError:
                raise KeyRingError(f"key {kid!r} is not valid base64") from None
            if len(key) != 32:
                raise KeyRingError(f"key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            keys[kid] = key
        if not keys:
            raise KeyRingError("ENCRYPTION_KEYS holds no key")
        chosen = active or next(iter(keys))
        if chosen not in keys:
            raise KeyRingError(f"active key {chosen!r} is not in the key ring")
        return cls(keys=keys, active=chosen)

    @classmethod
    def dev(cls, path: Path) -> KeyRing:
        """The embedded default: a key generated once into `path` (git-ignored var/)."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            spec = f"dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(spec + "\n")
        return cls.parse(path.read_text().strip())

    @staticmethod
    def generate_spec(kid: str) -> str:
        return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, aad or None)
        return self.active.encode() + b"$" + nonce + sealed

    def key_id_of(self, blob: bytes) -> str:
        kid, sep, _ = blob.partition(b"$")
        if not sep:
            raise KeyRingError("ciphertext carries no key id")
        return kid.decode()

    def decrypt(self, blob: bytes, aad: bytes = b"") -> bytes:
        kid = self.key_id_of(blob)
        key = self.keys.get(kid)
        if key is None:
            raise KeyRingError(f"ciphertext sealed with unknown key {kid!r}")
        body = blob[len(kid) + 1 :]
        try:
            return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad or None)
        except Exception:
            raise KeyRingError(f"ciphertext under key {kid!r} failed authentication") from None


def keyring_from_settings(settings: Settings) -> KeyRing:
    """The configured key ring (`ENCRYPTION_KEYS`), or the dev key generated under `VAR_DIR`."""
    if settings.encryption_keys:
        return KeyRing.parse(settings.encryption_keys, settings.encryption_active_key)
    return KeyRing.dev(settings.var_dir / "dev.keys")
