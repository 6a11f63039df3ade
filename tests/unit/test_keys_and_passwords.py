"""Password-derived keys, the recovery key, pseudonyms, and the install key they unwrap."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cogflow_desktop.security import keyring, passwords, pseudonyms
from cogflow_desktop.security.envelopes import DecryptionError
from cogflow_desktop.services import users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.services.errors import AuthRequired, Conflict, ValidationFailed
from cogflow_desktop.settings import Settings


def test_password_verify_and_wrong_password() -> None:
    salt = passwords.new_salt()
    derived = passwords.derive("a long passphrase", salt)
    assert derived.verifier != derived.kek
    assert passwords.verify("a long passphrase", salt, derived.verifier) == derived
    assert passwords.verify("a long passphrasE", salt, derived.verifier) is None
    # Same password, another salt: unrelated keys.
    assert passwords.derive("a long passphrase", passwords.new_salt()).kek != derived.kek


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least 10"), (" padded password ", "spaces"), ("long enough ok", None)],
)
def test_password_problem(password: str, problem: str | None) -> None:
    found = passwords.password_problem(password)
    assert (found is None) if problem is None else (problem in found)


def test_wrapped_private_key_needs_the_right_kek_and_owner() -> None:
    private = keyring.new_install_key()
    kek = passwords.derive("alice's passphrase", passwords.new_salt()).kek
    wrapped = keyring.wrap_private_key(private, kek, users.user_key_aad("alice"))
    assert private.private_bytes_raw() not in wrapped
    back = keyring.unwrap_private_key(wrapped, kek, users.user_key_aad("alice"))
    assert keyring.public_bytes(back) == keyring.public_bytes(private)
    with pytest.raises(DecryptionError):
        keyring.unwrap_private_key(wrapped, kek, users.user_key_aad("bob"))
    other = passwords.derive("someone else's", passwords.new_salt()).kek
    with pytest.raises(DecryptionError):
        keyring.unwrap_private_key(wrapped, other, users.user_key_aad("alice"))


def test_recovery_key_format_and_normalisation() -> None:
    key = keyring.new_recovery_key()
    groups = key.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    typed = " ".join(groups).lower()
    assert keyring.recovery_kek(typed) == keyring.recovery_kek(key)
    assert keyring.recovery_kek(keyring.new_recovery_key()) != keyring.recovery_kek(key)
    for bad in ("", "not a key", key[:-5]):
        with pytest.raises(ValueError, match="not a recovery key"):
            keyring.recovery_kek(bad)


def test_participant_key_is_salted_sha256() -> None:
    salt = pseudonyms.new_salt()
    assert len(salt) == 64
    expected = hashlib.sha256(f"{salt}:P-001".encode()).hexdigest()
    assert pseudonyms.participant_key(salt, "P-001") == expected
    assert pseudonyms.participant_key(pseudonyms.new_salt(), "P-001") != expected


# --- accounts and the install key (a real database in a temp folder) --------------------------


@pytest.fixture()
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    context = open_context(Settings.from_env(tmp_path))
    yield context
    context.close()


def test_first_account_creates_install_keys_and_recovery_unwraps(ctx) -> None:  # type: ignore[no-untyped-def]
    created = users.create_user(ctx, "alice", "alice's passphrase")
    assert created.recovery_key is not None
    install = ctx.install_keys()
    by_password = users.unlock_with_password(ctx, "alice", "alice's passphrase")
    by_recovery = users.unlock_with_recovery_key(ctx, created.recovery_key)
    assert keyring.public_bytes(by_password) == install.public_key
    assert keyring.public_bytes(by_recovery) == install.public_key


def test_wrong_password_and_wrong_recovery_key(ctx) -> None:  # type: ignore[no-untyped-def]
    users.create_user(ctx, "alice", "alice's passphrase")
    with pytest.raises(AuthRequired):
        users.unlock_with_password(ctx, "alice", "not alice's passphrase")
    with pytest.raises(AuthRequired):
        users.unlock_with_password(ctx, "nobody", "alice's passphrase")
    with pytest.raises(AuthRequired):
        users.unlock_with_recovery_key(ctx, keyring.new_recovery_key())
    with pytest.raises(AuthRequired):
        users.unlock_with_recovery_key(ctx, "garbage")


def test_second_account_needs_the_unlocked_install_key(ctx) -> None:  # type: ignore[no-untyped-def]
    first = users.create_user(ctx, "alice", "alice's passphrase")
    with pytest.raises(AuthRequired):
        users.create_user(ctx, "bob", "bob's passphrase")
    stranger = keyring.new_install_key()
    with pytest.raises(Exception, match="does not belong"):
        users.create_user(ctx, "bob", "bob's passphrase", unlocked_key=stranger)
    key = users.unlock_with_recovery_key(ctx, first.recovery_key)
    second = users.create_user(ctx, "bob", "bob's passphrase", unlocked_key=key)
    assert second.recovery_key is None
    bob_key = users.unlock_with_password(ctx, "bob", "bob's passphrase")
    assert keyring.public_bytes(bob_key) == ctx.install_keys().public_key
    with pytest.raises(Conflict):
        users.create_user(ctx, "bob", "another passphrase", unlocked_key=key)
    with pytest.raises(ValidationFailed):
        users.create_user(ctx, "carol", "short", unlocked_key=key)
