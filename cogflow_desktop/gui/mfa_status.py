"""How the researcher's unlock stands, in words (no Qt), for the Results page and status bar."""

from __future__ import annotations

from datetime import datetime

from cogflow_desktop.store.models import utcnow


def describe(
    username: str | None, fresh_until: datetime | None, now: datetime | None = None
) -> str:
    if username is None:
        return "Locked: reading results asks for your password and a code."
    if fresh_until is None:
        return f"Signed in as {username}; reading results asks for a code."
    left = int((fresh_until - (now or utcnow())).total_seconds())
    minutes, seconds = divmod(max(left, 0), 60)
    local = fresh_until.astimezone().strftime("%H:%M")
    return (
        f"Signed in as {username}; code verified, results readable until {local} "
        f"({minutes} min {seconds:02d} s left)."
    )
