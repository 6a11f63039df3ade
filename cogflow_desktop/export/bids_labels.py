"""BIDS labels for participants, runs and tasks: letters and digits only, stable, collision-free.

- `sub-<label>`: the first 16 characters of the participant key (a salted SHA-256 in hex, so a
  participant gets the same label in every export of this installation, and no raw id leaves).
- `ses-<label>`: each CogFlow run session is a BIDS session: the first 8 hex digits of its
  run_session_id (a uuid4), so the label does not depend on which other runs are exported.
- `task-<label>`: the config's task_type without its non-alphanumerics (`soc-dashboard` ->
  `socdashboard`), `cogflow` when the config has none.
- If two different keys (or two runs of one participant) share a short label in one export, the
  one seen later (runs are exported oldest first) gets the full key or run id as its label, so
  labels never collide; with 64 and 32 random bits this is not expected to happen in practice.
"""

from __future__ import annotations

import re

SUBJECT_CHARS = 16
SESSION_CHARS = 8
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def alnum(text: str | None, fallback: str) -> str:
    return _NOT_ALNUM.sub("", text or "") or fallback


class Labels:
    def __init__(self) -> None:
        self._subjects: dict[str, str] = {}  # participant key -> label
        self._subject_owner: dict[str, str] = {}  # label -> participant key
        self._sessions: dict[tuple[str, str], str] = {}  # (subject, run id) -> label
        self._session_owner: dict[tuple[str, str], str] = {}  # (subject, label) -> run id

    def subject(self, participant_key: str) -> str:
        found = self._subjects.get(participant_key)
        if found is not None:
            return found
        full = alnum(participant_key, "unknown")
        label = full[:SUBJECT_CHARS]
        if self._subject_owner.get(label, participant_key) != participant_key:
            label = full
        self._subjects[participant_key] = label
        self._subject_owner[label] = participant_key
        return label

    def session(self, subject: str, run_session_id: str) -> str:
        found = self._sessions.get((subject, run_session_id))
        if found is not None:
            return found
        full = alnum(run_session_id, "run")
        label = full[:SESSION_CHARS]
        if self._session_owner.get((subject, label), run_session_id) != run_session_id:
            label = full
        self._sessions[(subject, run_session_id)] = label
        self._session_owner[(subject, label)] = run_session_id
        return label


def task(task_type: str | None) -> str:
    return alnum(task_type, "cogflow")
