"""Password hashing and password-derived keys, both from one scrypt run.

scrypt output is split with HKDF into a verifier (stored) and a key-encryption key (never
stored), so checking a password and unwrapping the install key cost one scrypt, not two.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# 2**15 x 8: about 32 MiB and ~0.1 s here; OWASP's floor for scrypt is 2**17 x 8 x 1 for
# interactive logins on servers, but lab PCs are modest and this runs once per login.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class DerivedSecrets:
    verifier: bytes
    kek: bytes


def _expand(material: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


def derive(password: str, salt: bytes) -> DerivedSecrets:
    material = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
        password.encode("utf-8")
    )
    return DerivedSecrets(
        verifier=_expand(material, b"cogflow password verifier"),
        kek=_expand(material, b"cogflow key-encryption key"),
    )


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def verify(password: str, salt: bytes, stored_verifier: bytes) -> DerivedSecrets | None:
    secrets = derive(password, salt)
    if hmac.compare_digest(secrets.verifier, stored_verifier):
        return secrets
    return None


def password_problem(password: str) -> str | None:
    """One plain sentence saying why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if password.strip() != password:
        return "The password must not start or end with spaces."
    return None
