"""What the kiosk does when the participant's page dies (a renderer crash, an out-of-memory
kill): the dead page's sealed buffer is handed over (the app reloads the Interpreter with
`?recover=1`), then the experimenter chooses: continue the same run from its next trial, or end
it as failed with every stored trial (the crash recorded in its result_payload) and start a new
run for the same participant or close the screen.

Continuing needs the run's *resume snapshot*, which the live page sent before each trial and
the app holds in memory only (services/resume_snapshots.py): where the schedule stood (seed,
next item and trial index) and the components' adaptive state. The continuing page gets it with
a one-time grant in its address (`resume_query`). Where it is missing (the app restarted), or
the run stood where it cannot be picked up again exactly (eye tracking, a running DRT, state
that cannot be saved), or the stored trials run past it, or the study was published again,
Continue is not offered and the dialog says why (`resume_offer`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from cogflow_desktop import audit
from cogflow_desktop.services import runs, studies
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import ServiceError
from cogflow_desktop.store.models import RunSession, TrialRecord

log = logging.getLogger(__name__)

RECOVER_QUERY = "/interpreter/?recover=1"
NO_SNAPSHOT = (
    "the app holds no record of where it stood (it keeps one only in memory, while the app runs)"
)
STALE_SNAPSHOT = "more trials are stored than the app's last record of where it stood knows of"
REPUBLISHED = "its study was published again since it started (the page runs the newest version)"


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


@dataclass(frozen=True)
class ResumeOffer:
    """Whether a crashed run can go on: `next_trial` is the trial_index it would continue from
    (None when it cannot, and `reason` says why, as the end of a sentence)."""

    next_trial: int | None
    stored: int
    reason: str = ""

    @property
    def possible(self) -> bool:
        return self.next_trial is not None


def resume_offer(ctx: Context, run_id: str) -> ResumeOffer:
    stored = stored_trials(ctx, run_id)
    snapshot = ctx.resume.peek(run_id)
    if snapshot is None:
        return ResumeOffer(None, stored, NO_SNAPSHOT)
    if not snapshot.get("resumable"):
        why = snapshot.get("not_resumable_reason")
        return ResumeOffer(None, stored, str(why) if why else "it stood where it cannot go on")
    nxt = snapshot.get("next_trial_index")
    if not isinstance(nxt, int) or isinstance(nxt, bool) or nxt < 0 or stored > nxt:
        return ResumeOffer(None, stored, STALE_SNAPSHOT)
    if not _runs_latest_version(ctx, run_id):
        return ResumeOffer(None, stored, REPUBLISHED)
    return ResumeOffer(nxt, stored)


def _runs_latest_version(ctx: Context, run_id: str) -> bool:
    """Does the run use its study's newest config version (the one a continuing page reads)?"""
    with ctx.read() as s:
        run = s.get(RunSession, run_id)
        if run is None:
            return False
        newest = studies.latest_version(s, run.study_id)
        return newest is not None and newest.id == run.config_version_id


def crash_sentence(cause: str, slug: str, offer: ResumeOffer) -> str:
    """The one sentence of the crash dialog."""
    stored = f"{offer.stored} trial{'' if offer.stored == 1 else 's'}"
    head = f"The participant's page {cause}; the run of {slug} has {stored} stored"
    if offer.next_trial is not None:
        return f"{head} and can continue from trial {offer.next_trial + 1}."
    return f"{head} but cannot continue, because {offer.reason}."


def resume_query(ctx: Context, run_id: str, crash: PageCrash) -> str:
    """The address of a page that continues the run (a fresh one-time grant each call)."""
    query = {"recover": "1", "resume": run_id, "grant": ctx.resume.grant(run_id),
             "crash": crash.status}  # fmt: skip
    return f"/interpreter/?{urlencode(query)}"


def stored_trials(ctx: Context, run_id: str) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).where(TrialRecord.run_id == run_id)) or 0)


def end_as_failed(ctx: Context, run_id: str, crash: PageCrash) -> int:
    """End the run as failed, keeping every stored trial; the crash goes in result_payload.
    Returns the number of stored trials. A run that already has its final result is left as
    it is."""
    snapshot = ctx.resume.peek(run_id) or {}
    ctx.resume.drop(run_id)  # the run ends here: where it stood is not kept
    with ctx.read() as s:
        status = s.scalar(select(RunSession.status).where(RunSession.id == run_id))
    count = stored_trials(ctx, run_id)
    if status != "started":
        return count
    payload: dict[str, Any] = {
        "format": "cogflow-result-v1",
        "ended_reason": "page_crashed",
        "interruption": {"kind": "page_crashed", "status": crash.status,
                         "exit_code": crash.exit_code},
    }  # fmt: skip
    earlier = snapshot.get("interruptions")
    if isinstance(earlier, list) and earlier:  # it had been continued after an earlier crash
        payload["interruptions"] = earlier
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
