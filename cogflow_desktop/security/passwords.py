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

# OWASP's Password Storage Cheat Sheet: scrypt with N=2**17 (128 MiB), r=8, p=1 at least.
# About 0.4 s here, once per login. Accounts made with weaker parameters keep theirs (stored
# with the account) until their next login re-derives and re-wraps with these.
SCRYPT_N = 2**17
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


@dataclass(frozen=True)
class KdfParams:
    n: int
    r: int
    p: int

    def weaker_than(self, other: KdfParams) -> bool:
        """True when an account with these parameters must be re-derived with `other` (a
        stronger setting is kept as it is)."""
        return self.n < other.n or self.r < other.r or self.p < other.p


# What new and upgraded accounts get. Read at call time (the test suite lowers it to keep its
# hundreds of logins fast; a test checks this value against OWASP's floor).
CURRENT = KdfParams(SCRYPT_N, SCRYPT_R, SCRYPT_P)


def current_params() -> KdfParams:
    return CURRENT


def derive(password: str, salt: bytes, params: KdfParams | None = None) -> DerivedSecrets:
    params = params or CURRENT
    material = Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(
        password.encode("utf-8")
    )
    return DerivedSecrets(
        verifier=_expand(material, b"cogflow password verifier"),
        kek=_expand(material, b"cogflow key-encryption key"),
    )


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def verify(
    password: str, salt: bytes, stored_verifier: bytes, params: KdfParams | None = None
) -> DerivedSecrets | None:
    secrets = derive(password, salt, params)
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
