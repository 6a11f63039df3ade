"""How a participant's run ended, in the sentences the researcher reads (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _trials(n: int | None) -> str:
    if n is None:
        return ""
    return f" with {n} trial{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class KioskOutcome:
    # completed: the page stored the result and the window closed after the end screen (or
    #   on the experimenter's key); aborted: the experimenter ended it and the page stored it
    #   as failed; abort_unconfirmed: ended, but the page never confirmed the save; refused:
    #   the study was refused before a trial; closed: no run was recording (an error screen);
    #   crashed: the page died and the app ended the run as failed (gui/kiosk_crash.py).
    outcome: str
    study_slug: str
    result: dict[str, Any] | None = None
    trials: int | None = None
    page_state: str = ""
    messages: tuple[str, ...] = field(default_factory=tuple)

    @property
    def aborted(self) -> bool:
        return self.outcome in ("aborted", "abort_unconfirmed")

    @property
    def status(self) -> str | None:
        """The run's stored status, when the page confirmed storing it."""
        result = self.result or {}
        return str(result["status"]) if result.get("submitted") and "status" in result else None

    @property
    def problem(self) -> bool:
        """Whether the researcher must be told in a dialog, not only in the status bar."""
        if self.outcome in ("refused", "abort_unconfirmed"):
            return True
        return bool(self.result) and not (self.result or {}).get("submitted", False)

    def sentence(self) -> str:
        study = self.study_slug
        result = self.result or {}
        if self.outcome == "refused":
            return (
                f"{study} cannot run in this version of CogFlow Desktop, so the participant's "
                "screen was closed before the first trial."
            )
        if self.outcome == "abort_unconfirmed":
            return (
                f"The run of {study} was ended, but the page did not confirm saving it: it "
                "is kept as interrupted, with every trial checkpointed so far."
            )
        if self.outcome == "crashed":
            if not result:
                return f"The participant's page for {study} stopped before a run had started."
            return (
                f"The participant's page stopped unexpectedly, so the run of {study} was saved "
                f"as failed{_trials(self.trials)}."
            )
        if self.outcome == "closed":
            return (
                f"The participant's screen for {study} was closed; no run was recording "
                f"(the page showed: {self.page_state or 'nothing yet'})."
            )
        if result and not result.get("submitted", False):
            return (
                f"The run of {study} was not stored: the app already holds a different result "
                "for it. Every checkpointed trial is kept."
            )
        if self.outcome == "aborted" or self.status == "failed":
            return (
                f"The run of {study} was ended by the experimenter and saved as failed"
                f"{_trials(self.trials)}."
            )
        return f"The run of {study} is saved as {self.status or 'completed'}{_trials(self.trials)}."


def exit_intro(page_state: str, paused: bool) -> str:
    """What the exit dialog says, given what the page was doing when the chord came."""
    if page_state in ("running", "retrying", "paused"):
        held = "The run is paused. " if paused else ""
        return (
            f"{held}Ending it now saves it as failed, with every response collected so far. "
            "Cancel goes on where it stopped."
        )
    if page_state == "loading":
        return "The study is still loading. Closing now stops it before the first trial."
    return (
        "No run is recording (the screen shows a problem). Closing the participant's screen "
        "needs a researcher's password."
    )
