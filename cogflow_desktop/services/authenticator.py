"""Replacing a researcher's authenticator when the old one is gone (a lost phone).

A replacement normally needs a current code from the old authenticator (`auth.mfa_setup` with
`regenerate`). Without it, the install's recovery key is the other proof: it opens every result
anyway, so accepting it here grants nothing it does not already grant. The new secret is only
pending until one of its codes is verified; the old one stays active until then.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cogflow_desktop import audit
from cogflow_desktop.security import envelopes, totp
from cogflow_desktop.services import auth, users
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import AuthRequired
from cogflow_desktop.services.vault import SessionSecrets
from cogflow_desktop.store.models import User


def _deny(s: Session, user: User, client: str, reason: str) -> None:
    audit.record(
        s,
        "mfa.setup",
        actor=user.username,
        outcome="denied",
        client=client,
        details={"regenerate": True, "proof": "recovery_key", "reason": reason},
    )


def replace_with_recovery_key(
    ctx: Context, session: SessionSecrets, recovery_key: str, client: str
) -> auth.TotpSetup:
    """A new pending TOTP secret for the signed-in researcher, proven by the recovery key."""
    try:
        users.unlock_with_recovery_key(ctx, recovery_key.strip())
        proven = True
    except AuthRequired:
        proven = False
    if not proven:
        with ctx.write() as s:  # its own transaction: the refusal is recorded, then raised
            user = s.get(User, session.user_id)
            if user is not None:
                _deny(s, user, client, "wrong recovery key")
        raise AuthRequired("That recovery key does not open this installation.")
    with ctx.write() as s:
        user = s.get(User, session.user_id)
        if user is None:
            raise AuthRequired("Authentication required.")
        secret = totp.new_secret()
        user.totp_pending_enc = envelopes.encrypt(
            session.totp_key, secret.encode(), auth._totp_aad(user.username, "pending")
        )
        audit.record(
            s,
            "mfa.setup",
            actor=user.username,
            client=client,
            details={"regenerate": True, "proof": "recovery_key"},
        )
    return auth.TotpSetup(user.username, secret, totp.provisioning_uri(secret, user.username))
