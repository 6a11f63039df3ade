"""The researcher signed in to the desktop app: the same login session, TOTP freshness rule and
audit trail as the web API, called in process (no Qt here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from cogflow_desktop import audit
from cogflow_desktop.export import (
    ExportOptions,
    ExportProgress,
    ExportResult,
)
from cogflow_desktop.services import auth, authenticator, results
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import AuthRequired, ServiceError
from cogflow_desktop.services.vault import SessionSecrets
from cogflow_desktop.store.models import RunSession

CLIENT = "desktop-app"


class Cancelled(Exception):
    """Long work stopped because the researcher asked it to."""


class ResearcherSession:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._token: str | None = None

    # -- sign-in -----------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> bool:
        """Log in (unwrapping the install key into memory); True when TOTP is enrolled."""
        self.sign_out()
        result = auth.login(self.ctx, username, password, CLIENT)
        self._token = result.token
        return result.mfa_enabled

    def sign_out(self) -> None:
        if self._token is not None:
            auth.logout(self.ctx, self._token, CLIENT)
        self._token = None

    @property
    def secrets(self) -> SessionSecrets | None:
        """The live session, or None once signed out or idle too long."""
        found = auth.session_for(self.ctx, self._token)
        if found is None:
            self._token = None
        return found

    @property
    def username(self) -> str | None:
        found = self.secrets
        return found.username if found else None

    def _require(self) -> SessionSecrets:
        found = self.secrets
        if found is None:
            raise AuthRequired("Sign in with your password first.")
        return found

    # -- TOTP --------------------------------------------------------------------------------
    def enrol_totp(self, regenerate: bool = False) -> auth.TotpSetup:
        """A secret to enrol; replacing an active one (`regenerate`) needs a fresh code."""
        return auth.mfa_setup(self.ctx, self._require(), regenerate=regenerate, client=CLIENT)

    def replace_totp_with_recovery_key(self, recovery_key: str) -> auth.TotpSetup:
        """A new authenticator when the old one is lost: the recovery key is the proof."""
        return authenticator.replace_with_recovery_key(
            self.ctx, self._require(), recovery_key, CLIENT
        )

    def verify_code(self, code: str) -> datetime:
        return auth.verify_code(self.ctx, self._require(), code.strip(), CLIENT)

    def mfa_enabled(self) -> bool:
        return auth.mfa_enabled(self.ctx, self._require().user_id)

    def fresh_until(self) -> datetime | None:
        found = self.secrets
        return auth.mfa_fresh_until(self.ctx, found) if found else None

    def can_decrypt(self) -> bool:
        return self.fresh_until() is not None

    # -- results -----------------------------------------------------------------------------
    def decrypt(self, run_session_id: str, include_trials: bool = True) -> dict[str, Any]:
        """One run's result, audited like the API's decrypt (denials too)."""
        found = self.secrets
        actor = found.username if found else audit.ANONYMOUS_ACTOR
        try:
            if found is None:
                raise AuthRequired("Sign in with your password first.")
            auth.require_fresh_mfa(self.ctx, found)
            with self.ctx.read() as s:
                answer = results.decrypt_run(s, found.private_key, run_session_id, include_trials)
        except ServiceError as exc:
            self._audit_decrypt(actor, run_session_id, "denied", {"reason": exc.message})
            raise
        self._audit_decrypt(actor, run_session_id, "ok", {"include_trials": include_trials})
        return answer

    def decrypt_many(
        self,
        run_ids: list[str],
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[dict[str, Any]]:
        answers = []
        for done, run_id in enumerate(run_ids):
            if cancelled is not None and cancelled():
                raise Cancelled("Decryption was cancelled.")
            answers.append(self.decrypt(run_id))
            if progress is not None:
                progress(done + 1, len(run_ids))
        return answers

    def participant_id(self, run_session_id: str) -> str:
        found = self._require()
        auth.require_fresh_mfa(self.ctx, found)
        with self.ctx.read() as s:
            run = s.get(RunSession, run_session_id)
            if run is None:
                raise AuthRequired("Run session not found.")
            return results.unseal_participant_id(found.private_key, run)

    def iter_trials(self, run_session_id: str) -> Iterator[dict[str, Any]]:
        found = self._require()
        auth.require_fresh_mfa(self.ctx, found)
        with self.ctx.read() as s:
            keys = results.RunKeys(s, found.private_key, run_session_id)
            yield from results.iter_trials(s, keys, run_session_id)

    def export(
        self,
        options: ExportOptions,
        progress: Callable[[ExportProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExportResult:
        """Decrypted export under the same rule as decrypt: signed in and MFA-fresh."""
        # The export service (formats, pyarrow) is loaded when a researcher first exports.
        from cogflow_desktop.export import audit_refusal, export_for_session

        found = self.secrets
        if found is None:
            audit_refusal(
                self.ctx,
                options,
                "Sign in with your password first.",
                actor=audit.ANONYMOUS_ACTOR,
                client=CLIENT,
            )
            raise AuthRequired("Sign in with your password first.")
        return export_for_session(
            self.ctx, found, options, client=CLIENT, progress=progress, cancelled=cancelled
        )

    def _audit_decrypt(
        self, actor: str, run_id: str, outcome: str, details: dict[str, Any]
    ) -> None:
        with self.ctx.write() as s:
            audit.record(
                s,
                "results.decrypt",
                actor=actor,
                client=CLIENT,
                target=run_id,
                outcome=outcome,
                details=details,
            )


def check_exit_password(ctx: Context, username: str, password: str, study_slug: str) -> None:
    """The kiosk's way out: a researcher's password (throttled, audited), else AuthRequired."""
    auth.check_password(ctx, username, password, CLIENT)
    with ctx.write() as s:
        audit.record(s, "kiosk.exit", actor=username, client=CLIENT, target=study_slug)
