"""Researcher accounts and the install key they unlock.

An account (format 2) has its own X25519 key pair: the private half is wrapped under a key
derived from the password (scrypt, parameters stored with the account), and a copy of the
install private key is sealed to the public half. So the install key can be rotated, sealed
anew to every account, without anyone's password. Accounts made before that (format 1) hold
the install key wrapped directly under the password's key; their next sign-in converts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select

from cogflow_desktop import audit
from cogflow_desktop.security import envelopes, keyring, passwords, pseudonyms
from cogflow_desktop.security.envelopes import DecryptionError
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import (
    AccountLocked,
    AuthRequired,
    BadRequest,
    Conflict,
    Corrupted,
    ValidationFailed,
)
from cogflow_desktop.store.models import InstallKeys, User

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@+-_")
RECOVERY_AAD = b"cogflow:install-key:recovery"
# Stored scrypt parameters beyond these are refused (a changed row must not make a login
# allocate gigabytes).
_MAX_KDF = passwords.KdfParams(2**20, 32, 16)
ACCOUNT_INTEGRITY = (
    "This account's stored keys failed their integrity check: the database was changed or "
    "damaged. Sign in as another researcher, or use the recovery key."
)


def user_key_aad(username: str) -> bytes:
    """Format 1: the install key wrapped under the password's key."""
    return f"cogflow:install-key:user:{username}".encode()


def account_key_aad(username: str) -> bytes:
    """Format 2: the account's own private key wrapped under the password's key."""
    return f"cogflow:account-key:{username}".encode()


def install_copy_aad(username: str) -> bytes:
    """Format 2: the install private key sealed to the account's public key."""
    return f"cogflow:install-key:sealed-to:{username}".encode()


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def totp_key_for(account_key: X25519PrivateKey) -> bytes:
    """TOTP secrets are encrypted under a key of the account's own (format 2)."""
    return _hkdf(account_key.private_bytes_raw(), b"cogflow totp secret key v2")


def legacy_totp_key(kek: bytes) -> bytes:
    return _hkdf(kek, b"cogflow totp secret key")


def kdf_params(user: User) -> passwords.KdfParams:
    params = passwords.KdfParams(user.kdf_n, user.kdf_r, user.kdf_p)
    if params.n < 2 or params.n & (params.n - 1) or _MAX_KDF.weaker_than(params):
        raise Corrupted(ACCOUNT_INTEGRITY)
    return params


@dataclass(frozen=True)
class AccountKeys:
    install_key: X25519PrivateKey
    account_key: X25519PrivateKey | None  # None: a format-1 account, not yet converted
    totp_key: bytes


def open_account(user: User, kek: bytes, install_public: bytes | None) -> AccountKeys:
    """The account's keys from the password's key. DecryptionError when anything stored was
    tampered with, including a sealed install key that is not this installation's."""
    if user.sealed_install_key is not None and user.wrapped_user_key is not None:
        account = keyring.unwrap_private_key(
            user.wrapped_user_key, kek, account_key_aad(user.username)
        )
        raw = envelopes.unseal(account, user.sealed_install_key, install_copy_aad(user.username))
        try:
            install = X25519PrivateKey.from_private_bytes(raw)
        except ValueError as exc:
            raise DecryptionError("sealed install key is malformed") from exc
        keys = AccountKeys(install, account, totp_key_for(account))
    else:
        install = keyring.unwrap_private_key(
            user.wrapped_private_key, kek, user_key_aad(user.username)
        )
        keys = AccountKeys(install, None, legacy_totp_key(kek))
    # The install key a researcher holds must be the one new results are sealed to: a changed
    # public key (or a copy sealed from another key) is caught at the next sign-in.
    if install_public is None or keyring.public_bytes(install) != install_public:
        raise DecryptionError("the account's install key does not match the installation")
    return keys


def needs_conversion(user: User) -> bool:
    return user.sealed_install_key is None or kdf_params(user).weaker_than(
        passwords.current_params()
    )


@dataclass(frozen=True)
class AccountSecrets:
    """What a password change or conversion writes: the account's new password material."""

    password_salt: bytes
    password_verifier: bytes
    kdf: passwords.KdfParams
    public_key: bytes
    wrapped_user_key: bytes
    sealed_install_key: bytes


def account_secrets(
    username: str,
    password: str,
    install_key: X25519PrivateKey,
    account_key: X25519PrivateKey | None = None,
) -> tuple[AccountSecrets, X25519PrivateKey]:
    """Derive (slow: call before taking the write lock) and wrap an account's keys."""
    params = passwords.current_params()
    salt = passwords.new_salt()
    derived = passwords.derive(password, salt, params)
    account = account_key or X25519PrivateKey.generate()
    public = keyring.public_bytes(account)
    return (
        AccountSecrets(
            password_salt=salt,
            password_verifier=derived.verifier,
            kdf=params,
            public_key=public,
            wrapped_user_key=keyring.wrap_private_key(
                account, derived.kek, account_key_aad(username)
            ),
            sealed_install_key=envelopes.seal(
                public, install_key.private_bytes_raw(), install_copy_aad(username)
            ),
        ),
        account,
    )


def apply_secrets(user: User, secrets: AccountSecrets) -> None:
    user.password_salt = secrets.password_salt
    user.password_verifier = secrets.password_verifier
    user.kdf_n, user.kdf_r, user.kdf_p = secrets.kdf.n, secrets.kdf.r, secrets.kdf.p
    user.public_key = secrets.public_key
    user.wrapped_user_key = secrets.wrapped_user_key
    user.sealed_install_key = secrets.sealed_install_key
    user.wrapped_private_key = b""


def reencrypt_totp(user: User, old_key: bytes, new_key: bytes, aad: object) -> None:
    """Move the account's TOTP secrets from one key to another (same associated data)."""
    for attr, slot in (("totp_secret_enc", "active"), ("totp_pending_enc", "pending")):
        blob = getattr(user, attr)
        if blob is not None:
            plain = envelopes.decrypt(old_key, blob, aad(user.username, slot))  # type: ignore[operator]
            setattr(user, attr, envelopes.encrypt(new_key, plain, aad(user.username, slot)))  # type: ignore[operator]


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


def check_new_password(password: str) -> None:
    problem = passwords.password_problem(password)
    if problem:
        raise ValidationFailed({"password": [problem]})


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
    later ones need the install key, unlocked by an existing researcher or the recovery key.

    The primitive: the rule that adding a researcher needs an existing researcher's password
    and a fresh TOTP code is enforced by `researchers.add` (CLI and app)."""
    _check_username(username)
    check_new_password(password)
    first = ctx.install_keys() is None
    private_key = keyring.new_install_key() if first else unlocked_key
    if private_key is None:
        raise AuthRequired(
            "Adding a researcher needs an existing researcher's password or the recovery key."
        )
    secrets, _account = account_secrets(username, password, private_key)  # slow, before the lock
    with ctx.write() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"A researcher named {username!r} already exists.")
        install = s.scalar(select(InstallKeys).limit(1))
        recovery_key: str | None = None
        if install is None:
            if not first:
                raise Conflict("The installation's keys changed meanwhile; try again.")
            recovery_key = keyring.new_recovery_key()
            install = InstallKeys(
                public_key=keyring.public_bytes(private_key),
                recovery_wrapped_private_key=keyring.wrap_private_key(
                    private_key, keyring.recovery_kek(recovery_key), RECOVERY_AAD
                ),
                participant_salt=pseudonyms.new_salt(),
            )
            s.add(install)
        elif first:
            raise Conflict("Another researcher set up this installation meanwhile; sign in.")
        elif keyring.public_bytes(private_key) != install.public_key:
            raise BadRequest("The key given does not belong to this installation.")
        user = User(username=username)
        apply_secrets(user, secrets)
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
    except AccountLocked:
        raise
    except AuthRequired as exc:
        raise AuthRequired("The username or password is not correct.") from exc


def unlock_with_recovery_key(ctx: Context, recovery_key: str) -> X25519PrivateKey:
    with ctx.read() as s:
        install = s.scalar(select(InstallKeys).limit(1))
    if install is None:
        raise BadRequest("This installation has no keys yet: create the first researcher.")
    try:
        kek = keyring.recovery_kek(recovery_key)
        return keyring.unwrap_private_key(install.recovery_wrapped_private_key, kek, RECOVERY_AAD)
    except (ValueError, DecryptionError) as exc:
        raise AuthRequired("That recovery key does not open this installation.") from exc
