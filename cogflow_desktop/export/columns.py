"""Column names, their order, how a value becomes a cell, and what each column means."""

from __future__ import annotations

import json
from typing import Any

from cogflow_desktop.export.source import RunRecord

# Run and study metadata come first in every tidy table, in this order.
META_COLUMNS = (
    "study_slug",
    "config_version_label",
    "run_session_id",
    "participant_key",
    "status",
    "interrupted",
    "started_at",
    "completed_at",
)
PARTICIPANT_ID_COLUMN = "participant_external_id"
# The data vocabulary every task records (resources/schema/README.md), next.
VOCAB_COLUMNS = (
    "trial_index",
    "component_type",
    "rt_ms",
    "response",
    "correct",
    "stimulus_onset_ms",
    "ended_reason",
)

# Scalars a CSV writer turns into text by itself (None becomes an empty cell).
PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def cell(value: Any) -> Any:
    """A cell for the csv module: scalars as they are, nested values as JSON text."""
    return value if type(value) in PLAIN_TYPES else dumps(value)


def iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def meta_columns(include_participant_ids: bool) -> tuple[str, ...]:
    if not include_participant_ids:
        return META_COLUMNS
    at = META_COLUMNS.index("participant_key") + 1
    return (*META_COLUMNS[:at], PARTICIPANT_ID_COLUMN, *META_COLUMNS[at:])


def meta_cells(run: RunRecord, include_participant_ids: bool) -> list[Any]:
    cells: list[Any] = [
        run.study_slug,
        run.config_version_label,
        run.run_session_id,
        run.participant_key,
        run.status,
        run.interrupted,
        iso(run.started_at),
        iso(run.completed_at),
    ]
    if include_participant_ids:
        cells.insert(4, run.participant_external_id)
    return cells


def data_column(name: str, reserved: frozenset[str] | tuple[str, ...]) -> str:
    """The header of a recorded field; one that shares a name with a column the export itself
    adds (a trial's own `status` or `duration`) is kept, as `trial.<name>`, never dropped."""
    return f"trial.{name}" if name in reserved else name


def kind(value: Any) -> str:
    """The codebook type of one value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "json"


def combined_kind(kinds: set[str]) -> str:
    """One type name for every value a column held (nulls aside)."""
    seen = kinds - {"null"}
    if not seen:
        return "empty"
    if seen == {"integer", "number"}:
        return "number"
    if len(seen) == 1:
        return next(iter(seen))
    return "mixed (" + ", ".join(sorted(seen)) + ")"


# Meanings of the columns whose meaning is fixed by the contract or the data vocabulary.
MEANINGS: dict[str, str] = {
    "study_slug": "Study identifier (slug).",
    "config_version_label": "Label of the published config version the run used.",
    "run_session_id": "Run session id (uuid4): one run of one participant.",
    "participant_key": "Pseudonymous participant key: sha256 of a per-install salt and the id.",
    PARTICIPANT_ID_COLUMN: "Raw participant id as entered (exported only on explicit request).",
    "status": "Run status: completed, failed, or started (never finished).",
    "interrupted": "True when the run never finished (crash, closed window); data are its "
    "checkpointed trials.",
    "started_at": "When the run started (ISO 8601, UTC).",
    "completed_at": "When the final result was submitted (ISO 8601, UTC); empty if never.",
    "trial_index": "Trial position in the run, in completion order (unique per run).",
    "component_type": "Component type of the config item that produced the row.",
    "task_type": "The config's task_type.",
    "rt_ms": "Response time in ms from stimulus onset; empty without a response.",
    "response": "Key name, button index, survey answers (JSON), or side/segment.",
    "correct": "Whether the response was correct; empty where correctness does not apply.",
    "stimulus_onset_ms": "Frame time the stimulus first showed, ms since the run started.",
    "ended_reason": "Why the trial ended: response, timeout, duration, false_start, aborted.",
    "trial_start_ms": "Trial start, ms since the run started.",
    "trial_end_ms": "Trial end, ms since the run started.",
    "stimulus_offset_ms": "Frame time the stimulus was removed, ms since the run started.",
    "stimulus_frames": "Frames the stimulus was planned to show for.",
    "block_index": "Index of the generated block the trial belongs to.",
    "block_trial_index": "Trial position within its block.",
    "loop_iteration": "Iteration of the enclosing loop.",
    "label": "Name or label of the config item.",
    "stimulus": "Stimulus shown (text, HTML, or image URL).",
    "congruency": "Congruent or incongruent trial.",
    "correct_key": "Key that counts as correct.",
    "correct_response": "Response that counts as correct.",
    "target_direction": "Direction of the flanker target.",
    "digit": "SART digit shown.",
    "is_nogo": "Whether the SART digit was the no-go digit.",
    "foreperiod_ms": "PVT foreperiod before the stimulus, ms.",
    "false_start": "PVT response before the stimulus.",
    "lapse": "PVT response time of 500 ms or more.",
    "coherence": "RDM motion coherence (0-1).",
    "direction_deg": "RDM motion direction, degrees.",
    "is_match": "N-back: the token matches the one n back.",
    # Lab hardware (README: Lab hardware: LSL and triggers).
    "lsl_onset_time": "Stimulus onset on the LSL clock (pylsl.local_clock of the computer that "
    "ran it), in seconds: the timestamp of the onset marker in the study's LSL stream.",
    # BIDS-style events columns.
    "onset": "Stimulus onset in seconds from the run's first stimulus.",
    "duration": "Stimulus duration in seconds (offset, else trial end, minus onset).",
    "trial_type": "Component type of the row (the event's type).",
    "response_time": "Response time in seconds from stimulus onset.",
}
