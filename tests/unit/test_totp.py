"""TOTP: pyotp-compatible codes, one step of drift each way, each step accepted once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from cogflow_desktop.security import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_790_000_015.0  # 15 s into a 30 s step
STEP = int(NOW // 30)


def _code(step: int) -> str:
    return pyotp.TOTP(SECRET).at(step * 30)


def test_current_code_is_accepted_and_names_its_step() -> None:
    assert totp.matching_step(SECRET, _code(STEP), None, NOW) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_is_accepted(offset: int) -> None:
    assert totp.matching_step(SECRET, _code(STEP + offset), None, NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_more_drift_is_refused(offset: int) -> None:
    code = _code(STEP + offset)
    if code in {_code(STEP + d) for d in (-1, 0, 1)}:
        pytest.skip("codes of two steps collide for this secret")  # 1 in ~330,000
    assert totp.matching_step(SECRET, code, None, NOW) is None


def test_a_code_is_accepted_once() -> None:
    used = totp.matching_step(SECRET, _code(STEP), None, NOW)
    assert used == STEP
    assert totp.matching_step(SECRET, _code(STEP), used, NOW) is None
    # An older code, seen over a shoulder, is refused too; the next one still works.
    assert totp.matching_step(SECRET, _code(STEP - 1), used, NOW) is None
    assert totp.matching_step(SECRET, _code(STEP + 1), used, NOW) == STEP + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert totp.matching_step(SECRET, code, None, NOW) is None


def test_spaces_in_a_typed_code_are_ignored() -> None:
    code = _code(STEP)
    assert totp.matching_step(SECRET, f" {code[:3]} {code[3:]} ", None, NOW) == STEP


def test_secrets_and_uri_work_with_authenticator_apps() -> None:
    secret = totp.new_secret()
    assert secret != totp.new_secret()
    assert len(secret) >= 32
    uri = urlparse(totp.provisioning_uri(secret, "alice"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == [totp.ISSUER]
    # What the app computes is what the server accepts.
    parsed = pyotp.parse_uri(totp.provisioning_uri(secret, "alice"))
    assert totp.matching_step(secret, parsed.at(NOW), None, NOW) == STEP
