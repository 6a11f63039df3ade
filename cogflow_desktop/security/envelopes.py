"""AES-256-GCM envelopes bound to their row, and keys sealed to an X25519 public key.

Blob layouts (all versioned by a leading byte so the format can change later):
  encrypt():  0x01 | nonce(12) | ciphertext+tag
  seal():     0x01 | ephemeral public key(32) | nonce(12) | ciphertext+tag
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
_SEAL_INFO = b"cogflow-desktop seal v1"


class DecryptionError(Exception):
    """A ciphertext did not authenticate or is malformed: wrong key, wrong row, or tampered
    bytes. Every way a stored blob can be bad ends here, never in another exception."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return Cipher(key).decrypt(blob, aad)


class Cipher:
    """encrypt() and decrypt() for many envelopes under one key: the AES-GCM key schedule is
    set up once (building it costs more than sealing or opening a small envelope). Same
    format, same checks, a fresh random nonce for every envelope."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        if blob[:1] != VERSION or len(blob) < 1 + NONCE_BYTES + 16:
            raise DecryptionError("unknown envelope format")
        try:
            return self._aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
        except InvalidTag as exc:
            raise DecryptionError("envelope does not authenticate") from exc


def _seal_key(shared: bytes, ephemeral_pub: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=ephemeral_pub + recipient_pub,
        info=_SEAL_INFO,
    ).derive(shared)


def seal(recipient_public: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt to a public key: only the matching private key opens it (ECIES-style)."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_pub = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    key = _seal_key(shared, ephemeral_pub, recipient_public)
    return VERSION + ephemeral_pub + encrypt(key, plaintext, aad)[1:]


def unseal(private_key: X25519PrivateKey, blob: bytes, aad: bytes) -> bytes:
    return unseal_any(private_key, blob, (aad,))[0]


def unseal_any(
    private_key: X25519PrivateKey, blob: bytes, aads: Sequence[bytes]
) -> tuple[bytes, int]:
    """Open a sealed blob whose associated data is one of `aads` (one key agreement, then a
    tag check per candidate): the plaintext and which candidate it was."""
    if blob[:1] != VERSION or len(blob) < 1 + 32 + NONCE_BYTES + 16:
        raise DecryptionError("unknown sealed format")
    ephemeral_pub = blob[1:33]
    recipient_pub = private_key.public_key().public_bytes_raw()
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_pub))
    except ValueError as exc:  # a low-order point: the blob was forged or damaged
        raise DecryptionError("sealed key is malformed") from exc
    cipher = Cipher(_seal_key(shared, ephemeral_pub, recipient_pub))
    for i, aad in enumerate(aads):
        try:
            return cipher.decrypt(VERSION + blob[33:], aad), i
        except DecryptionError:
            continue
    raise DecryptionError("envelope does not authenticate")
