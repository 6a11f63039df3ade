"""The app's entry point: an export needs the session's TOTP check to be fresh."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from conftest import LiveServer, enrolled_researcher
from export_helpers import SeededRun, read_csv, seed_heterogeneous_study
from sqlalchemy import select

from cogflow_desktop.export import ExportOptions, export_for_session
from cogflow_desktop.export.service import EXPORT_ACTION
from cogflow_desktop.services import auth
from cogflow_desktop.services.errors import Forbidden
from cogflow_desktop.store.models import AuditEvent


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> tuple[str, list[SeededRun]]:
    return seed_heterogeneous_study(live_server.url)


def test_session_export_needs_fresh_mfa(
    live_server: LiveServer, seeded: tuple[str, list[SeededRun]], tmp_path: Path
) -> None:
    slug, runs = seeded
    who = enrolled_researcher(live_server)
    ctx = live_server.ctx
    login = auth.login(ctx, who.username, f"pw-{who.username}-long-enough", client="app")
    try:
        options = ExportOptions(slug, "csv", tmp_path / "app.csv")
        with pytest.raises(Forbidden, match="MFA verification required"):
            export_for_session(ctx, login.secrets, options)
        assert list(tmp_path.iterdir()) == []

        code = pyotp.TOTP(who.totp_secret).at(time.time() + 30)
        auth.verify_code(ctx, login.secrets, code, client="app")
        result = export_for_session(ctx, login.secrets, options)
        assert result.trials == sum(len(r.trials) for r in runs)
        assert len(read_csv(tmp_path / "app.csv")[1]) == result.trials
    finally:
        auth.logout(ctx, login.token, client="app")

    with ctx.read() as s:
        outcomes = [
            (e.outcome, e.details.get("reason"))
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == EXPORT_ACTION, AuditEvent.actor == who.username)
                .order_by(AuditEvent.id)
            )
        ]
    assert outcomes == [("denied", "MFA verification required."), ("ok", None)]
