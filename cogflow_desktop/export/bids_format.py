"""BIDS-style events: per run an events.tsv with its JSON sidecar, plus dataset files.

Layout (a folder):
  dataset_description.json            BIDS fields and the schema.org fields Psych-DS asks for
  participants.tsv / participants.json
  README
  sub-<key16>/sub-<key16>_ses-<run32>_task-<task>_events.tsv / .json
  manifest.json                       SHA-256 of every other file

Onsets and durations are seconds from the run's first stimulus, `trial_type` is the component
type, `response_time` is seconds; every other field follows as its own column. A run's rows are
held in memory while its file is written (memory grows with one run's length, never with the
number of runs). TSV has no quoting, so tabs and line breaks inside text become spaces; the CSV
and JSON formats keep such text exactly.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from cogflow_desktop import __version__
from cogflow_desktop.export.atomic import fsync_dir, temp_name, write_synced
from cogflow_desktop.export.columns import (
    MEANINGS,
    PARTICIPANT_ID_COLUMN,
    VOCAB_COLUMNS,
    data_column,
    dumps,
)
from cogflow_desktop.export.manifest import MANIFEST_NAME, Manifest
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord

BIDS_VERSION = "1.9.0"
EVENT_COLUMNS = ("onset", "duration", "trial_type", "response_time")
# The vocabulary minus component_type, which is trial_type here.
_FIRST_DATA = tuple(c for c in VOCAB_COLUMNS if c != "component_type")
_SECONDS = frozenset({"onset", "duration", "response_time"})
NA = "n/a"


def label(text: str | None, fallback: str) -> str:
    """A BIDS label: letters and digits only."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", text or "")
    return cleaned or fallback


def tsv_cell(value: Any) -> str:
    if value is None:
        return NA
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        return repr(round(value, 6))
    text = value if isinstance(value, str) else dumps(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _seconds(ms: Any, origin: float) -> float | None:
    if not isinstance(ms, (int, float)) or isinstance(ms, bool):
        return None
    return (ms - origin) / 1000.0


def _first_number(*values: Any) -> float | None:
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def events(trials: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The events table of one run: its columns and its rows as TSV cells."""
    onsets = [_first_number(t.get("stimulus_onset_ms")) for t in trials]
    starts = [_first_number(t.get("trial_start_ms")) for t in trials]
    known = [v for v in onsets if v is not None] or [v for v in starts if v is not None]
    origin = min(known) if known else 0.0
    columns: dict[str, None] = dict.fromkeys(_FIRST_DATA)
    for trial in trials:
        columns.update(dict.fromkeys(k for k in trial if k != "component_type"))
    names = [*EVENT_COLUMNS, *(data_column(c, EVENT_COLUMNS) for c in columns)]
    rows = []
    for t in trials:
        onset_ms = _first_number(t.get("stimulus_onset_ms"), t.get("trial_start_ms"))
        end_ms = _first_number(t.get("stimulus_offset_ms"), t.get("trial_end_ms"))
        onset = None if onset_ms is None else (onset_ms - origin) / 1000.0
        duration = None if onset_ms is None or end_ms is None else (end_ms - onset_ms) / 1000.0
        rt = t.get("rt_ms")
        response_time = _seconds(rt, 0.0)
        head = [onset, duration, t.get("component_type"), response_time]
        rows.append([tsv_cell(v) for v in head] + [tsv_cell(t.get(c)) for c in columns])
    return names, rows


def sidecar(columns: list[str]) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for name in columns:
        entry: dict[str, Any] = {"Description": MEANINGS.get(name, f"Recorded field {name}.")}
        if name in _SECONDS:
            entry["Units"] = "s"
        elif name.endswith("_ms"):
            entry["Units"] = "ms"
        described[name] = entry
    return described


class BidsSink:
    def __init__(self, target: Path, *, study_slug: str, study_name: str, include_ids: bool):
        if target.exists():
            raise FileExistsError(str(target))
        self.target = target
        self._slug, self._name, self._ids = study_slug, study_name, include_ids
        self._staging = temp_name(target, ".d")
        self._staging.mkdir()
        self._manifest = Manifest(temp_name(target, ".manifest"))
        self._run: RunRecord | None = None
        self._trials: list[dict[str, Any]] = []
        self._columns: dict[str, None] = dict.fromkeys(EVENT_COLUMNS)
        # label -> raw id (or None): grows with participants, not with trials.
        self._participants: dict[str, tuple[str, str | None]] = {}
        self.runs = 0

    def begin_run(self, run: RunRecord) -> None:
        self._run, self._trials = run, []

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        self._trials.extend(trials)

    def end_run(self) -> None:
        run = self._run
        assert run is not None
        sub = label(run.participant_key[:16], "unknown")
        stem = (
            f"sub-{sub}_ses-{label(run.run_session_id, 'run')}"
            f"_task-{label(run.task_type, 'cogflow')}_events"
        )
        folder = self._staging / f"sub-{sub}"
        folder.mkdir(exist_ok=True)
        names, rows = events(self._trials)
        lines = ["\t".join(map(tsv_cell, names))] + ["\t".join(r) for r in rows]
        self._add(folder / f"{stem}.tsv", ("\n".join(lines) + "\n").encode("utf-8"))
        self._add(folder / f"{stem}.json", _json_bytes(sidecar(names)))
        self._columns.update(dict.fromkeys(names))
        self._participants.setdefault(
            sub, (run.participant_key, run.participant_external_id if self._ids else None)
        )
        self._run, self._trials = None, []
        self.runs += 1

    def _add(self, path: Path, data: bytes) -> None:
        size, sha = write_synced(path, data)
        self._manifest.add(WrittenFile(path.relative_to(self._staging).as_posix(), size, sha))

    def finish(self) -> list[WrittenFile]:
        self._write_dataset_files()
        manifest = self._manifest.write(
            self._staging / MANIFEST_NAME,
            {"format": "cogflow-desktop-bids", "study_slug": self._slug, "runs": self.runs},
        )
        fsync_dir(self._staging)
        self._staging.replace(self.target)
        fsync_dir(self.target.parent)
        return [manifest]

    def _write_dataset_files(self) -> None:
        description = {
            "Name": self._name,
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{"Name": "CogFlow Desktop", "Version": __version__}],
            # schema.org fields for Psych-DS.
            "@context": "https://schema.org/",
            "@type": "Dataset",
            "name": self._name,
            "description": f"Behavioural events of CogFlow study {self._slug}, exported by "
            "CogFlow Desktop.",
            "variableMeasured": list(self._columns),
        }
        self._add(self._staging / "dataset_description.json", _json_bytes(description))
        head = ["participant_id", "participant_key"]
        if self._ids:
            head.append(PARTICIPANT_ID_COLUMN)
        lines = ["\t".join(head)]
        for sub, (key, raw) in sorted(self._participants.items()):
            cells = [f"sub-{sub}", key] + ([tsv_cell(raw)] if self._ids else [])
            lines.append("\t".join(cells))
        self._add(self._staging / "participants.tsv", ("\n".join(lines) + "\n").encode())
        self._add(
            self._staging / "participants.json",
            _json_bytes({c: {"Description": MEANINGS.get(c, c)} for c in head[1:]}),
        )
        readme = (
            f"CogFlow study {self._slug}: behavioural events, one file per run session.\n"
            "Onsets and durations are in seconds from each run's first stimulus.\n"
        )
        self._add(self._staging / "README", readme.encode("utf-8"))

    def abort(self) -> None:
        self._manifest.discard()
        shutil.rmtree(self._staging, ignore_errors=True)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
