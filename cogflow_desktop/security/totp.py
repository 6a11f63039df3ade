"""TOTP with pyotp's defaults (SHA-1, 6 digits, 30 s), one step of drift, each code once."""

from __future__ import annotations

import time

import pyotp

ISSUER = "CogFlow Desktop"
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(
    secret: str, code: str, last_used_step: int | None, now: float | None = None
) -> int | None:
    """The time step the code belongs to, or None if it is wrong, stale or already used.

    Steps at or before the last accepted one are refused, so a code (or an older one seen
    over a shoulder) cannot be replayed.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
