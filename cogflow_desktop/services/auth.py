"""Login sessions, TOTP enrolment and verification, and the MFA freshness rule."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets as pysecrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select, update

from cogflow_desktop import audit
from cogflow_desktop.security import envelopes, passwords, totp
from cogflow_desktop.services import clock, users
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import (
    AccountLocked,
    AuthRequired,
    BadRequest,
    Conflict,
    Corrupted,
    Forbidden,
)
from cogflow_desktop.services.throttle import Attempt
from cogflow_desktop.services.vault import SessionSecrets
from cogflow_desktop.store.models import AuditEvent, User, UserSession, utcnow


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _totp_aad(username: str, slot: str) -> bytes:
    return f"cogflow:totp:{slot}:{username}".encode()


@dataclass(frozen=True)
class LoginResult:
    token: str
    secrets: SessionSecrets
    mfa_enabled: bool


def client_kind(client: str) -> str:
    """How a caller reaches us: "network" for any address (every loopback address is the same
    machine, and 127.0.0.2... are free to bind), else the in-process caller's own name
    ("desktop-app", "cli"): a burst over the API never locks the app's own sign-in."""
    try:
        ipaddress.ip_address(client)
    except ValueError:
        return "network" if client in ("", "unknown") else client
    return "network"


def login_throttle_keys(username: str, client: str) -> tuple[str, str]:
    """Password failures count per account and kind of client, and per client address."""
    return (f"account:{username.lower()}|via:{client_kind(client)}", f"client:{client}")


def totp_throttle_keys(username: str, client: str) -> tuple[str, str]:
    """Code failures count per account over every client (guessing a code needs the password
    already), and per client address."""
    return (f"account:{username.lower()}", f"client:{client}")


def check_password(ctx: Context, username: str, password: str, client: str) -> tuple[User, bytes]:
    """The user and their key-encryption key, or AuthRequired/Throttled. Failures are audited
    (the audit rows also carry the throttle across restarts and CLI runs)."""
    assert ctx.login_throttle is not None
    keys = login_throttle_keys(username, client)
    attempt = ctx.login_throttle.attempt(*keys)
    try:
        with ctx.read() as s:
            user = s.scalar(select(User).where(User.username == username))
        if user is not None:
            params = users.kdf_params(user)
            derived = passwords.verify(password, user.password_salt, user.password_verifier, params)
        else:
            # Spend the same scrypt time, so response time does not reveal which usernames exist.
            passwords.derive(password, b"\0" * passwords.SALT_BYTES)
            derived = None
    except Corrupted as exc:  # the stored scrypt parameters were tampered with
        attempt.release()
        raise integrity_denied(ctx, "auth.login", username, client, exc) from exc
    except BaseException:
        attempt.release()
        raise
    if user is not None and derived is not None:
        attempt.succeeded(reset=keys[:1])
    else:
        attempt.failed()
        with ctx.write() as s:
            audit.record(
                s,
                "auth.login",
                actor=username or audit.ANONYMOUS_ACTOR,
                outcome="denied",
                client=client,
                details={"reason": "bad credentials"},
            )
        raise AuthRequired("Invalid credentials.")
    if user.locked_at is not None:
        # Said only after the right password: a guesser learns nothing about the account.
        with ctx.write() as s:
            audit.record(
                s,
                "auth.login",
                actor=user.username,
                outcome="denied",
                client=client,
                details={"reason": "account locked"},
            )
        raise AccountLocked(
            "This account is locked: another researcher can unlock it in Settings or with "
            "`cogflow-desktop users unlock`."
        )
    return user, derived.kek


ACCOUNT_INTEGRITY = users.ACCOUNT_INTEGRITY


def integrity_denied(
    ctx: Context, action: str, actor: str, client: str, exc: Exception
) -> Corrupted:
    """Audit a tamper finding as a denied action and return the error to raise."""
    with ctx.write() as s:
        audit.record(
            s,
            action,
            actor=actor,
            outcome="denied",
            client=client,
            details={"reason": f"integrity: {exc}"},
        )
    return Corrupted(ACCOUNT_INTEGRITY)


def open_account(
    ctx: Context, username: str, password: str, client: str, action: str
) -> tuple[User, users.AccountKeys]:
    """Check the password and open the account's keys, converting a format-1 or weakly
    derived account on the way (one more scrypt, once). Tampering: an audited Corrupted."""
    user, kek = check_password(ctx, username, password, client)
    install = ctx.install_keys()
    try:
        keys = users.open_account(user, kek, install.public_key if install else None)
        if users.needs_conversion(user):
            keys = _convert_account(ctx, user, password, keys, client)
    except envelopes.DecryptionError as exc:
        raise integrity_denied(ctx, action, user.username, client, exc) from exc
    return user, keys


def _convert_account(
    ctx: Context, user: User, password: str, keys: users.AccountKeys, client: str
) -> users.AccountKeys:
    """Re-derive the password's key with today's scrypt parameters and give a format-1
    account its own key pair; TOTP secrets move to the account's key. Nothing else changes."""
    before = {"format": 2 if user.sealed_install_key else 1, "kdf": [user.kdf_n, user.kdf_r]}
    secrets, account = users.account_secrets(
        user.username, password, keys.install_key, keys.account_key
    )
    new_totp_key = users.totp_key_for(account)
    with ctx.write() as s:
        row = s.get(User, user.id)
        if row is None or row.password_salt != user.password_salt:
            raise Conflict("This account changed while signing in; sign in again.")
        users.reencrypt_totp(row, keys.totp_key, new_totp_key, _totp_aad)
        users.apply_secrets(row, secrets)
        audit.record(
            s,
            "user.upgrade_keys",
            actor=user.username,
            client=client,
            target=user.username,
            details={"from": before, "to": {"format": 2, "kdf": [secrets.kdf.n, secrets.kdf.r]}},
        )
    return users.AccountKeys(keys.install_key, account, new_totp_key)


def login(ctx: Context, username: str, password: str, client: str) -> LoginResult:
    user, keys = open_account(ctx, username, password, client, "auth.login")
    token = pysecrets.token_urlsafe(32)
    now = utcnow()
    session_secrets = SessionSecrets(
        user_id=user.id,
        username=user.username,
        private_key=keys.install_key,
        totp_key=keys.totp_key,
        created_at=now,
        last_seen_at=now,
        csrf_token=pysecrets.token_urlsafe(24),
        token_hash=token_hash(token),
        epoch=user.session_epoch,
    )
    _arm_anchor(ctx, keys.install_key)
    with ctx.write() as s:
        s.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now))
        s.execute(update(User).where(User.id == user.id).values(last_login_at=now))
        audit.record(s, "auth.login", actor=user.username, client=client)
    ctx.sessions.put(token_hash(token), session_secrets)
    return LoginResult(token, session_secrets, user.mfa_enabled)


def _arm_anchor(ctx: Context, install_key: X25519PrivateKey) -> None:
    """A researcher's key is here: the audit chain is anchored from now on (audit_anchor)."""
    if ctx.anchor is not None:
        ctx.anchor.arm(install_key)


def _disarm_anchor_if_alone(ctx: Context) -> None:
    """No session holds the key any more: write a last anchor and forget its key."""
    if ctx.anchor is not None and len(ctx.sessions) == 0:
        ctx.anchor.disarm()


def session_for(ctx: Context, token: str | None) -> SessionSecrets | None:
    """The live session of a cookie value; expired sessions are dropped with their key."""
    if not token:
        return None
    th = token_hash(token)
    found = ctx.sessions.get(th)
    if found is None:
        return None
    now = utcnow()
    if now - found.last_seen_at > timedelta(seconds=ctx.settings.session_idle_seconds) or (
        not still_valid(ctx, found)
    ):
        ctx.sessions.drop(th)
        _disarm_anchor_if_alone(ctx)
        return None
    found.last_seen_at = now
    return found


def still_valid(ctx: Context, session: SessionSecrets) -> bool:
    """Checked on every request: a removed or locked account, a changed password or a rotated
    install key ends the session at once, in this process and any other."""
    with ctx.read() as s:
        state = s.execute(
            select(User.locked_at, User.session_epoch).where(User.id == session.user_id)
        ).first()
    return state is not None and state[0] is None and state[1] == session.epoch


def drop_sessions_of(ctx: Context, username: str) -> None:
    """Forget this process's sessions of an account (and the keys they hold) now."""
    ctx.sessions.drop_where(lambda secrets: secrets.username == username)


def logout(ctx: Context, token: str, client: str) -> None:
    th = token_hash(token)
    dropped = ctx.sessions.drop(th)
    if dropped is None:
        return
    with ctx.write() as s:
        s.execute(update(UserSession).where(UserSession.token_hash == th).values(ended_at=utcnow()))
        audit.record(s, "auth.logout", actor=dropped.username, client=client)
    _disarm_anchor_if_alone(ctx)


def mfa_fresh_until(ctx: Context, session: SessionSecrets) -> datetime | None:
    if session.mfa_verified_at is None:
        return None
    window = ctx.settings.mfa_reauth_seconds
    verified = session.mfa_verified_elapsed
    if verified is not None and clock.elapsed() - verified >= window:
        return None  # whatever the wall clock says: setting it back does not extend the window
    until = session.mfa_verified_at + timedelta(seconds=window)
    return until if until > utcnow() else None


def require_fresh_mfa(ctx: Context, session: SessionSecrets) -> None:
    if mfa_fresh_until(ctx, session) is None:
        raise Forbidden("MFA verification required.")


@dataclass(frozen=True)
class TotpSetup:
    username: str
    secret: str
    otpauth_uri: str


def mfa_setup(ctx: Context, session: SessionSecrets, regenerate: bool, client: str) -> TotpSetup:
    """Hand out a secret to enrol. An active enrolment's secret is never shown again: a new one
    needs `regenerate`, a fresh MFA verification, and becomes active only once verified."""
    with ctx.write() as s:
        user = s.get(User, session.user_id)
        if user is None:
            raise AuthRequired("Authentication required.")
        if user.mfa_enabled and not regenerate:
            audit.record(
                s,
                "mfa.setup",
                actor=user.username,
                outcome="denied",
                client=client,
                details={"reason": "already enrolled"},
            )
            raise Conflict(
                "An authenticator is already enrolled; ask for a new one with regenerate "
                "after verifying a current code."
            )
        if user.mfa_enabled and mfa_fresh_until(ctx, session) is None:
            audit.record(
                s,
                "mfa.setup",
                actor=user.username,
                outcome="denied",
                client=client,
                details={"reason": "regenerate needs fresh MFA"},
            )
            raise Forbidden("MFA verification required.")
        pending_aad = _totp_aad(user.username, "pending")
        if user.totp_pending_enc is not None and not regenerate:
            # Not yet active, so showing it again (the QR screen was closed) discloses nothing new.
            try:
                secret = envelopes.decrypt(
                    session.totp_key, user.totp_pending_enc, pending_aad
                ).decode()
            except (envelopes.DecryptionError, UnicodeDecodeError):
                secret = None  # a damaged pending secret is simply replaced: it was never active
        else:
            secret = None
        if secret is None:
            secret = totp.new_secret()
            user.totp_pending_enc = envelopes.encrypt(
                session.totp_key, secret.encode(), pending_aad
            )
        audit.record(
            s, "mfa.setup", actor=user.username, client=client, details={"regenerate": regenerate}
        )
    return TotpSetup(user.username, secret, totp.provisioning_uri(secret, user.username))


def verify_code(ctx: Context, session: SessionSecrets, code: str, client: str) -> datetime:
    """Check a TOTP code (pending enrolment first, then the active one); on success the session
    is MFA-fresh from now. Each code is accepted once; failures are throttled."""
    assert ctx.totp_throttle is not None
    keys = totp_throttle_keys(session.username, client)
    attempt = ctx.totp_throttle.attempt(*keys)
    try:
        return _verify_code(ctx, session, code, client, attempt, keys)
    finally:
        attempt.release()  # a no-op once the outcome was recorded


def _verify_code(
    ctx: Context,
    session: SessionSecrets,
    code: str,
    client: str,
    attempt: Attempt,
    keys: tuple[str, str],
) -> datetime:
    with ctx.write() as s:
        user = s.get(User, session.user_id)
        if user is None:
            raise AuthRequired("Authentication required.")
        if user.totp_pending_enc is None and user.totp_secret_enc is None:
            raise BadRequest("TOTP is not set up for this account.")
        now = utcnow()
        candidates = []
        if user.totp_pending_enc is not None:
            candidates.append(("pending", user.totp_pending_enc))
        if user.totp_secret_enc is not None:
            candidates.append(("active", user.totp_secret_enc))
        tampered: Exception | None = None
        for slot, blob in candidates:
            try:
                secret = envelopes.decrypt(session.totp_key, blob, _totp_aad(user.username, slot))
                secret.decode("ascii")
            except (envelopes.DecryptionError, UnicodeDecodeError) as exc:
                tampered = exc
                break
            step = totp.matching_step(secret.decode(), code, user.totp_last_step, now.timestamp())
            if step is None:
                continue
            user.totp_last_step = step
            if slot == "pending":
                user.totp_secret_enc = envelopes.encrypt(
                    session.totp_key, secret, _totp_aad(user.username, "active")
                )
                user.totp_pending_enc = None
                user.mfa_enabled = True
            s.execute(
                update(UserSession)
                .where(UserSession.token_hash == session.token_hash)
                .values(mfa_verified_at=now)
            )
            audit.record(
                s,
                "mfa.verify",
                actor=user.username,
                client=client,
                details={"enrolment": slot == "pending"},
            )
            session.mfa_verified_at = now
            session.mfa_verified_elapsed = clock.elapsed()
            attempt.succeeded(reset=keys[:1])
            return now
        if tampered is None:
            audit.record(s, "mfa.verify", actor=user.username, outcome="denied", client=client)
    if tampered is not None:
        raise integrity_denied(ctx, "mfa.verify", session.username, client, tampered)
    attempt.failed()
    raise AuthRequired("Invalid TOTP code.")


def mfa_enabled(ctx: Context, user_id: int) -> bool:
    with ctx.read() as s:
        return bool(s.scalar(select(User.mfa_enabled).where(User.id == user_id)))


def unlock_install_key(ctx: Context, username: str, password: str, client: str) -> X25519PrivateKey:
    """The install private key from a researcher's password, without a session (the CLI's
    unlock paths): throttled and audited exactly like a login."""
    user, keys = open_account(ctx, username, password, client, "auth.unlock")
    _arm_anchor(ctx, keys.install_key)  # until this process closes its context
    with ctx.write() as s:
        audit.record(s, "auth.unlock", actor=user.username, client=client)
    return keys.install_key


_THROTTLED_ACTIONS = ("auth.login", "mfa.verify")


def seed_throttles(ctx: Context) -> None:
    """Carry recent failures over from the audit log, so a restart, or a new CLI process per
    guess, does not start with a clean slate."""
    assert ctx.login_throttle is not None and ctx.totp_throttle is not None
    longest = max(t.window_seconds for t in ctx.login_throttle.tiers + ctx.totp_throttle.tiers)
    now = utcnow()
    with ctx.read() as s:
        rows = s.execute(
            select(
                AuditEvent.action,
                AuditEvent.actor,
                AuditEvent.client,
                AuditEvent.outcome,
                AuditEvent.details,
                AuditEvent.created_at,
            )
            .where(
                AuditEvent.action.in_(_THROTTLED_ACTIONS),
                AuditEvent.created_at >= now - timedelta(seconds=longest),
            )
            .order_by(AuditEvent.id)
        ).all()
    for action, actor, client, outcome, details, created_at in rows:
        client = client or "unknown"
        if action == "auth.login":
            throttle, keys = ctx.login_throttle, login_throttle_keys(actor, client)
        else:
            throttle, keys = ctx.totp_throttle, totp_throttle_keys(actor, client)
        if outcome == "ok":
            throttle.reset(keys[0])
        elif outcome == "denied" and not str((details or {}).get("reason", "")).startswith(
            "integrity"
        ):
            for key in keys:
                throttle.record_past_failure(key, (now - created_at).total_seconds())
