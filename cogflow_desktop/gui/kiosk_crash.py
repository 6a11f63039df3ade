"""What the kiosk does when the participant's page dies (a renderer crash, an out-of-memory
kill): the experimenter is told, the dead page's sealed buffer is handed over (the app reloads
the Interpreter with `?recover=1`), and the run is ended as failed with every stored trial, the
crash recorded in its result_payload; then a new run for the same participant may start.

Continuing the *same* run from the next trial is not offered: the page cannot yet rebuild a
run's schedule and adaptive state (staircases, QUEST) from its seed and stored trials.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select

from cogflow_desktop import audit
from cogflow_desktop.services import runs
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import ServiceError
from cogflow_desktop.store.models import RunSession, TrialRecord

log = logging.getLogger(__name__)

RECOVER_QUERY = "/interpreter/?recover=1"


@dataclass(frozen=True)
class PageCrash:
    status: str  # QtWebEngine's termination status, e.g. "KilledTerminationStatus"
    exit_code: int

    @property
    def cause(self) -> str:
        if "Killed" in self.status:
            return "was killed (often because the computer ran out of memory)"
        if "Crashed" in self.status:
            return "crashed"
        return f"stopped unexpectedly (exit code {self.exit_code})"


def stored_trials(ctx: Context, run_id: str) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).where(TrialRecord.run_id == run_id)) or 0)


def end_as_failed(ctx: Context, run_id: str, crash: PageCrash) -> int:
    """End the run as failed, keeping every stored trial; the crash goes in result_payload.
    Returns the number of stored trials. A run that already has its final result is left as
    it is."""
    with ctx.read() as s:
        status = s.scalar(select(RunSession.status).where(RunSession.id == run_id))
    count = stored_trials(ctx, run_id)
    if status != "started":
        return count
    payload = {
        "format": "cogflow-result-v1",
        "ended_reason": "page_crashed",
        "interruption": {"kind": "page_crashed", "status": crash.status,
                         "exit_code": crash.exit_code},
    }  # fmt: skip
    try:
        runs.submit(
            ctx,
            runs.SubmitRequest(run_id, "failed", count, {}, payload, []),
            actor=audit.SYSTEM_ACTOR,
            client="kiosk",
        )
    except ServiceError as exc:  # e.g. the page's own submit got there first
        log.warning("The crashed run %s could not be ended as failed: %s", run_id, exc.message)
    return count
