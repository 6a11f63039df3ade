"""The codebook: what every exported column means, its unit, its levels, and where it is.

One source for the codebook CSV of the ZIP, the BIDS JSON sidecars, the Psych-DS
`variableMeasured` entries and the Parquet column metadata.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from cogflow_desktop.export.columns import MEANINGS, meta_columns
from cogflow_desktop.export.streams import STREAMS, Stream, all_streams

CODEBOOK_COLUMNS = ("name", "table", "type", "units", "meaning", "appears_in")

# Columns in seconds (BIDS events); every other unit comes from the name's suffix.
SECONDS_COLUMNS = frozenset({"onset", "duration", "response_time"})
_UNIT_SUFFIXES = (("_ms", "ms"), ("_deg", "deg"), ("_px", "px"), ("_cm", "cm"), ("_hz", "Hz"))
NAMED_UNITS = {"lsl_onset_time": "s"}  # columns whose unit their name does not end in

LEVELS: dict[str, dict[str, str]] = {
    "ended_reason": {
        "response": "The participant responded.",
        "timeout": "The response window ran out.",
        "duration": "A fixed-length trial ran its course.",
        "false_start": "A response came before the stimulus.",
        "aborted": "The experimenter aborted the run.",
        "error": "The component failed (the error field holds the message).",
    },
    "status": {
        "completed": "The run finished and its final result was submitted.",
        "failed": "The run was aborted and submitted as failed.",
        "started": "The run never finished; its data are the checkpointed trials.",
    },
    "correct": {"True": "Correct response.", "False": "Incorrect response."},
    "interrupted": {"True": "The run never finished.", "False": "The run finished."},
}

_JSON_ONLY = {
    "task_type": ("string", "The config's task_type (run level in JSON, per trial elsewhere)."),
    "trial_count": ("integer", "Trial count the run reported."),
    "result_payload": ("json", "The run's result payload (final, or latest checkpoint)."),
    "result_summary": ("json", "The run's summary as submitted; empty if never submitted."),
    "trials": ("json", "The run's trial rows, in trial_index order."),
}
_EVENT_TYPES = {"onset": "number", "duration": "number", "trial_type": "string"}
EVENT_COLUMNS = ("onset", "duration", "trial_type", "response_time")


def units(name: str, table: str = "trials") -> str | None:
    if name in SECONDS_COLUMNS and table == "events":
        return "s"
    base = name.removeprefix("trial.")
    if base in NAMED_UNITS:
        return NAMED_UNITS[base]
    for suffix, unit in _UNIT_SUFFIXES:
        if base.endswith(suffix):
            return unit
    return None


def _stream_meanings(streams: tuple[Stream, ...]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for s in all_streams(streams):
        described = {
            "run_session_id": MEANINGS["run_session_id"],
            "trial_index": "The trial's trial_index (join key to the trial table).",
            s.index_column: f"Position of the sample in its list ({s.table}).",
            **s.columns,
        }
        for child in s.nested:
            described[child.count_column] = f"Number of rows in {child.table} for this sample."
        found[s.table] = described
    return found


_STREAM_MEANINGS = _stream_meanings(STREAMS)
_COUNT_MEANINGS = {
    s.count_column: f"Number of samples of the {s.field!r} stream (rows in {s.table})."
    for s in all_streams(STREAMS)
}


def meaning(name: str, table: str = "trials") -> str:
    """One sentence, or "" for a recorded field nobody described."""
    if table != "trials":
        found = _STREAM_MEANINGS.get(table, {}).get(name)
        if found:
            return found
    if name.startswith("trial."):
        base = MEANINGS.get(name.removeprefix("trial."), "")
        return f"The trial's own recorded field. {base}".strip()
    if name in EVENT_COLUMNS:  # elsewhere than in events, a trial's own recorded field
        return MEANINGS[name] if table == "events" else ""
    return MEANINGS.get(name) or _COUNT_MEANINGS.get(name, "")


def describe(name: str, table: str = "trials", levels: Iterable[str] = ()) -> dict[str, Any]:
    """A BIDS-style column description: Description, Units, Levels where known."""
    entry: dict[str, Any] = {"Description": meaning(name, table) or f"Recorded field {name}."}
    unit = units(name, table)
    if unit:
        entry["Units"] = unit
    known = LEVELS.get(name)
    if known:
        entry["Levels"] = dict(known)
    elif levels:
        entry["Levels"] = {v: f"Rows of component type {v}." for v in sorted(set(levels))}
    return entry


def codebook_csv(tables: list[tuple[str, dict[str, str]]], include_participant_ids: bool) -> bytes:
    """`tables`: (table name, its columns in order with the type each held); the trial table
    first."""
    meta = set(meta_columns(include_participant_ids))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CODEBOOK_COLUMNS)
    trial_types: dict[str, str] = {}
    for table, column_types in tables:
        for name, typ in column_types.items():
            if table != "trials":
                where = f"csv ({table} table), bids sourcedata"
            elif name in meta:
                where = "csv, json"
            elif name == "component_type":
                where = "csv, json (trials), bids beh; events as trial_type"
            else:
                where = "csv, json (trials), bids beh and events"
            writer.writerow(
                [name, table, typ, units(name, table) or "", meaning(name, table), where]
            )
        if table == "trials":
            trial_types = column_types
    for name in EVENT_COLUMNS:
        typ = _EVENT_TYPES.get(name) or trial_types.get("rt_ms", "number")
        writer.writerow(
            [name, "events", typ, units(name, "events") or "", MEANINGS[name], "bids events"]
        )
    for name, (typ, text) in _JSON_ONLY.items():
        if name in trial_types:
            continue
        writer.writerow([name, "runs", typ, "", text, "json (run)"])
    return buf.getvalue().encode("utf-8")
