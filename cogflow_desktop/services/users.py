"""Researcher accounts and the install key they unlock."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select

from cogflow_desktop import audit
from cogflow_desktop.security import keyring, passwords, pseudonyms
from cogflow_desktop.security.envelopes import DecryptionError
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import (
    AuthRequired,
    BadRequest,
    Conflict,
    ValidationFailed,
)
from cogflow_desktop.store.models import InstallKeys, User

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@+-_")
RECOVERY_AAD = b"cogflow:install-key:recovery"


def user_key_aad(username: str) -> bytes:
    return f"cogflow:install-key:user:{username}".encode()


@dataclass(frozen=True)
class CreatedUser:
    user_id: int
    username: str
    recovery_key: str | None  # set only when this account created the install's keys


def _check_username(username: str) -> None:
    if not username or len(username) > 150 or not set(username) <= USERNAME_CHARS:
        raise ValidationFailed(
            {"username": ["A username has 1 to 150 letters, digits and . @ + - _ only."]}
        )


def user_count(ctx: Context) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count(User.id))) or 0)


def create_user(
    ctx: Context,
    username: str,
    password: str,
    *,
    unlocked_key: X25519PrivateKey | None = None,
    actor: str = audit.SYSTEM_ACTOR,
) -> CreatedUser:
    """Create an account. The first one also creates the install key pair and recovery key;
    later ones need the install key, unlocked by an existing researcher or the recovery key."""
    _check_username(username)
    problem = passwords.password_problem(password)
    if problem:
        raise ValidationFailed({"password": [problem]})
    salt = passwords.new_salt()
    derived = passwords.derive(password, salt)  # slow: do it before taking the write lock
    with ctx.write() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"A researcher named {username!r} already exists.")
        install = s.scalar(select(InstallKeys).limit(1))
        recovery_key: str | None = None
        if install is None:
            private_key = keyring.new_install_key()
            recovery_key = keyring.new_recovery_key()
            install = InstallKeys(
                public_key=keyring.public_bytes(private_key),
                recovery_wrapped_private_key=keyring.wrap_private_key(
                    private_key, keyring.recovery_kek(recovery_key), RECOVERY_AAD
                ),
                participant_salt=pseudonyms.new_salt(),
            )
            s.add(install)
            ctx.forget_install_cache()
        elif unlocked_key is None:
            raise AuthRequired(
                "Adding a researcher needs an existing researcher's password or the recovery key."
            )
        else:
            if keyring.public_bytes(unlocked_key) != install.public_key:
                raise BadRequest("The key given does not belong to this installation.")
            private_key = unlocked_key
        user = User(
            username=username,
            password_salt=salt,
            password_verifier=derived.verifier,
            wrapped_private_key=keyring.wrap_private_key(
                private_key, derived.kek, user_key_aad(username)
            ),
        )
        s.add(user)
        s.flush()
        audit.record(
            s,
            "user.create",
            actor=actor,
            target=username,
            details={"created_install_keys": recovery_key is not None},
        )
        return CreatedUser(user.id, username, recovery_key)


def unlock_with_password(
    ctx: Context, username: str, password: str, *, client: str = "cli"
) -> X25519PrivateKey:
    """The install private key, for CLI use (no session): throttled and audited like a login.
    Wrong credentials: AuthRequired; too many: Throttled."""
    from cogflow_desktop.services import auth  # auth builds on this module

    try:
        return auth.unlock_install_key(ctx, username, password, client)
    except AuthRequired as exc:
        raise AuthRequired("The username or password is not correct.") from exc


def unlock_with_recovery_key(ctx: Context, recovery_key: str) -> X25519PrivateKey:
    install = ctx.install_keys()
    if install is None:
        raise BadRequest("This installation has no keys yet: create the first researcher.")
    try:
        kek = keyring.recovery_kek(recovery_key)
        return keyring.unwrap_private_key(install.recovery_wrapped_private_key, kek, RECOVERY_AAD)
    except (ValueError, DecryptionError) as exc:
        raise AuthRequired("That recovery key does not open this installation.") from exc
