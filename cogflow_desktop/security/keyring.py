"""The install key pair, and the ways its private key is wrapped (password, recovery key)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cogflow_desktop.security import envelopes

RECOVERY_KEY_BYTES = 20  # 160 bits, 32 base32 characters in 8 groups


def new_install_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(private_key: X25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes_raw()


def wrap_private_key(private_key: X25519PrivateKey, kek: bytes, aad: bytes) -> bytes:
    return envelopes.encrypt(kek, private_key.private_bytes_raw(), aad)


def unwrap_private_key(blob: bytes, kek: bytes, aad: bytes) -> X25519PrivateKey:
    raw = envelopes.decrypt(kek, blob, aad)
    try:
        return X25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise envelopes.DecryptionError("wrapped key is malformed") from exc


def new_recovery_key() -> str:
    raw = base64.b32encode(os.urandom(RECOVERY_KEY_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def recovery_kek(recovery_key: str) -> bytes:
    """The wrapping key from a recovery key as typed (case, spaces and dashes ignored)."""
    normalized = "".join(ch for ch in recovery_key.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(normalized)
    except ValueError as exc:
        raise ValueError(
            "That is not a recovery key: it should be 8 groups of 4 letters and digits."
        ) from exc
    if len(raw) != RECOVERY_KEY_BYTES:
        raise ValueError(
            "That is not a recovery key: it should be 8 groups of 4 letters and digits."
        )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cogflow recovery key"
    ).derive(raw)
