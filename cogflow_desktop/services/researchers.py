"""The researcher lifecycle: list, add, change password, lock, unlock, remove, and rotating the
install key. Shared by the CLI (`users ...`) and the app's Settings page.

Everything that changes someone's access is done by a signed-in researcher whose TOTP check is
fresh (password and a current code), and is audited. Changes take effect at once: live
sessions re-check the account on every request (auth.session_for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import delete, func, select, update

from cogflow_desktop import audit
from cogflow_desktop.security import envelopes, keyring
from cogflow_desktop.services import auth, users
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import (
    AuthRequired,
    BadRequest,
    Conflict,
    Corrupted,
    NotFound,
    ServiceError,
)
from cogflow_desktop.services.vault import SessionSecrets
from cogflow_desktop.store.models import (
    InstallKeys,
    RunKey,
    RunSession,
    Study,
    User,
    UserSession,
    utcnow,
)


@dataclass(frozen=True)
class ResearcherInfo:
    username: str
    mfa_enabled: bool
    locked: bool
    locked_by: str | None
    created_at: datetime
    last_login_at: datetime | None
    # False for an account made before the current key format that has not signed in since:
    # a key rotation cannot reach it.
    converted: bool


def list_researchers(ctx: Context) -> list[ResearcherInfo]:
    with ctx.read() as s:
        return [
            ResearcherInfo(
                username=u.username,
                mfa_enabled=u.mfa_enabled,
                locked=u.locked_at is not None,
                locked_by=u.locked_by,
                created_at=u.created_at,
                last_login_at=u.last_login_at,
                converted=u.sealed_install_key is not None,
            )
            for u in s.scalars(select(User).order_by(User.username))
        ]


def _require_fresh(ctx: Context, acting: SessionSecrets, action: str, client: str) -> None:
    """A signed-in researcher with a TOTP code verified just now; refusals are audited."""
    try:
        if not auth.still_valid(ctx, acting):
            raise AuthRequired("Sign in again: your session has ended.")
        auth.require_fresh_mfa(ctx, acting)
    except ServiceError as exc:
        with ctx.write() as s:
            audit.record(
                s, action, actor=acting.username, outcome="denied", client=client,
                details={"reason": exc.message},
            )  # fmt: skip
        raise


def _target(s, username: str) -> User:  # type: ignore[no-untyped-def]
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"There is no researcher named {username!r}.")
    return user


def _active_others(s, user: User) -> int:  # type: ignore[no-untyped-def]
    return int(
        s.scalar(select(func.count(User.id)).where(User.id != user.id, User.locked_at.is_(None)))
        or 0
    )


def add(
    ctx: Context, acting: SessionSecrets, username: str, password: str, *, client: str
) -> users.CreatedUser:
    """Add a researcher: needs an existing researcher's password (the session) and a fresh
    TOTP code; the new account gets its copy of the install key sealed to its own key."""
    _require_fresh(ctx, acting, "user.create", client)
    return users.create_user(
        ctx, username, password, unlocked_key=acting.private_key, actor=acting.username
    )


def change_password(
    ctx: Context, acting: SessionSecrets, old_password: str, new_password: str, *, client: str
) -> None:
    """A researcher's own new password: the account's key is re-wrapped, nothing else changes.
    Other sessions of the account end (their epoch is bumped); this one goes on."""
    users.check_new_password(new_password)
    with ctx.read() as s:
        if s.scalar(select(User.mfa_enabled).where(User.id == acting.user_id)):
            needs_code = True
        else:
            needs_code = False
    if needs_code:
        _require_fresh(ctx, acting, "user.passwd", client)
    user, keys = auth.open_account(ctx, acting.username, old_password, client, "user.passwd")
    secrets, _account = users.account_secrets(
        user.username, new_password, keys.install_key, keys.account_key
    )
    with ctx.write() as s:
        row = s.get(User, user.id)
        if row is None or row.password_salt != user.password_salt:
            raise Conflict("This account changed meanwhile; try again.")
        users.apply_secrets(row, secrets)
        row.session_epoch += 1
        audit.record(s, "user.passwd", actor=acting.username, client=client, target=row.username)
        acting.epoch = row.session_epoch  # this session stays signed in


def lock(ctx: Context, acting: SessionSecrets, username: str, *, client: str) -> None:
    """Lock an account: it cannot sign in, and its live sessions stop at once."""
    _require_fresh(ctx, acting, "user.lock", client)
    with ctx.write() as s:
        user = _target(s, username)
        if user.id == acting.user_id:
            raise BadRequest("You cannot lock your own account; sign out instead.")
        if user.locked_at is not None:
            return
        if _active_others(s, user) == 0:
            raise Conflict("The last unlocked researcher cannot be locked.")
        user.locked_at = utcnow()
        user.locked_by = acting.username
        user.session_epoch += 1
        audit.record(s, "user.lock", actor=acting.username, client=client, target=username)
    auth.drop_sessions_of(ctx, username)


def unlock(ctx: Context, acting: SessionSecrets, username: str, *, client: str) -> None:
    _require_fresh(ctx, acting, "user.unlock", client)
    with ctx.write() as s:
        user = _target(s, username)
        if user.locked_at is None:
            return
        user.locked_at = None
        user.locked_by = None
        audit.record(s, "user.unlock", actor=acting.username, client=client, target=username)


def remove(ctx: Context, acting: SessionSecrets, username: str, *, client: str) -> None:
    """Delete an account with its copy of the install key and its TOTP secret. Its studies
    and runs stay (they belong to the installation). To also retire what the removed person
    might have copied, rotate the install key afterwards."""
    _require_fresh(ctx, acting, "user.remove", client)
    with ctx.write() as s:
        user = _target(s, username)
        if _active_others(s, user) == 0:
            raise Conflict("The last researcher cannot be removed.")
        s.execute(update(Study).where(Study.owner_id == user.id).values(owner_id=None))
        s.execute(delete(UserSession).where(UserSession.user_id == user.id))
        s.delete(user)
        audit.record(s, "user.remove", actor=acting.username, client=client, target=username)
    auth.drop_sessions_of(ctx, username)


@dataclass(frozen=True)
class Rotation:
    recovery_key: str
    run_keys: int
    participant_ids: int
    accounts: int
    unattended_sync_turned_off: bool


def rotate_install_key(ctx: Context, acting: SessionSecrets, *, client: str) -> Rotation:
    """A new install key pair: every run's content key and sealed participant id re-sealed to
    it, a copy sealed to every account, a new recovery key (shown once); the old key's copies
    (accounts, recovery, unattended sync) are destroyed. Recording pauses while the write lock
    is held (one transaction, so nothing is ever sealed to a retired key).

    Every session ends, this one too: sign in again to use the new key."""
    _require_fresh(ctx, acting, "install.rotate_key", client)
    old = acting.private_key
    with ctx.read() as s:
        unconverted = s.scalars(
            select(User.username).where(User.sealed_install_key.is_(None))
        ).all()
    if unconverted:
        names = ", ".join(unconverted)
        raise Conflict(
            f"{names} must sign in once (to convert their account to the current key format) "
            "or be removed before the install key can be rotated."
        )
    turned_off = _turn_off_unattended_sync(ctx, acting.username)
    new = keyring.new_install_key()
    new_public = keyring.public_bytes(new)
    recovery_key = keyring.new_recovery_key()
    with ctx.write() as s:
        install = s.scalar(select(InstallKeys).limit(1))
        if install is None or install.public_key != keyring.public_bytes(old):
            raise Conflict("The install key changed meanwhile; sign in again and retry.")
        keys = _reseal_run_keys(s, old, new_public)
        participants = _reseal_participants(s, old, new_public)
        accounts = 0
        for user in s.scalars(select(User)):
            assert user.public_key is not None
            user.sealed_install_key = envelopes.seal(
                user.public_key, new.private_bytes_raw(), users.install_copy_aad(user.username)
            )
            user.wrapped_private_key = b""
            user.session_epoch += 1
            accounts += 1
        install.public_key = new_public
        install.recovery_wrapped_private_key = keyring.wrap_private_key(
            new, keyring.recovery_kek(recovery_key), users.RECOVERY_AAD
        )
        audit.record(
            s,
            "install.rotate_key",
            actor=acting.username,
            client=client,
            details={
                "run_keys": keys,
                "participant_ids": participants,
                "accounts": accounts,
                "unattended_sync_turned_off": turned_off,
            },
        )
    ctx.sessions.clear()
    if ctx.anchor is not None:  # the anchor is signed with the new key from now on
        ctx.anchor.rekey(new)
        ctx.anchor.disarm()
    return Rotation(recovery_key, keys, participants, accounts, turned_off)


def _reseal(old: X25519PrivateKey, new_public: bytes, blob: bytes, aads: list[bytes]) -> bytes:
    """Open with the old key (trying each associated data the row may carry) and seal the
    same bytes with the same associated data to the new key."""
    for aad in aads:
        try:
            plain = envelopes.unseal(old, blob, aad)
        except envelopes.DecryptionError:
            continue
        return envelopes.seal(new_public, plain, aad)
    raise Corrupted(
        "A stored key failed its integrity check, so the install key was not rotated: "
        "nothing was changed."
    )


def _reseal_run_keys(s, old: X25519PrivateKey, new_public: bytes) -> int:  # type: ignore[no-untyped-def]
    from cogflow_desktop.services.runs import run_key_aads

    count = 0
    for row in s.scalars(select(RunKey)):
        row.sealed_key = _reseal(old, new_public, row.sealed_key, run_key_aads(row.run_id))
        count += 1
    return count


def _reseal_participants(s, old: X25519PrivateKey, new_public: bytes) -> int:  # type: ignore[no-untyped-def]
    from cogflow_desktop.services.runs import participant_aad

    count = 0
    for run in s.scalars(select(RunSession)):
        run.participant_id_sealed = _reseal(
            old, new_public, run.participant_id_sealed, [participant_aad(run.id)]
        )
        count += 1
    return count


def _turn_off_unattended_sync(ctx: Context, actor: str) -> bool:
    """The keyring's copy is of the old key: delete it (turn it on again afterwards). The
    keystore lives with sync, which builds on services: imported here, when needed."""
    from cogflow_desktop.sync import keystore

    if not keystore.is_enabled(ctx):
        return False
    try:
        keystore.disable(ctx, actor=actor)
    except keystore.KeystoreError as exc:
        raise Conflict(f"Unattended sync could not be turned off first: {exc}") from exc
    return True
