"""A BIDS dataset of behavioural data (datatype `beh`), valid for the official validators.

Layout (a new folder; labels: see bids_labels.py):
  dataset_description.json, README.md, CHANGES, participants.tsv/.json, .bidsignore
  sub-<S>/sub-<S>_sessions.tsv/.json            one row per run session of the participant
  sub-<S>/ses-<R>/beh/sub-<S>_ses-<R>_task-<T>_beh.tsv/.json     every trial, every field
  sub-<S>/ses-<R>/beh/sub-<S>_ses-<R>_task-<T>_events.tsv/.json  trials with a time, as events
  sourcedata/sub-<S>/ses-<R>/beh/..._<stream table>.tsv/.json    continuous streams, long form
  manifest.json                                 SHA-256 of every other file (.bidsignore'd)

`_beh.tsv` is the trial table of the run (the CSV's data columns, streams as counts). The
`_events.tsv` view leads with `onset` and `duration` (seconds from the run's first stimulus;
`duration` runs to the stimulus offset, else to the trial end), `trial_type` (the component
type) and `response_time` (seconds), then the same fields. Continuous streams have no place in
the BIDS specification (they are stimulus parameter frames and responses, not physiological
recordings), so they go to `sourcedata/`, which the validators skip. Every TSV has a JSON
sidecar describing each column (codebook.py). A run's rows are held in memory while its files
are written (memory grows with one run's length, never with the number of runs). TSV has no
quoting, so tabs and line breaks inside text become spaces; CSV and JSON keep them exactly.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cogflow_desktop import __version__
from cogflow_desktop.export import bids_labels
from cogflow_desktop.export.atomic import file_sha256, fsync_dir, temp_name, write_synced
from cogflow_desktop.export.codebook import EVENT_COLUMNS, describe
from cogflow_desktop.export.columns import (
    MEANINGS,
    PARTICIPANT_ID_COLUMN,
    VOCAB_COLUMNS,
    data_column,
    dumps,
)
from cogflow_desktop.export.csv_format import stream_first_fields
from cogflow_desktop.export.manifest import MANIFEST_NAME, Manifest
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord
from cogflow_desktop.export.streams import (
    STREAMS,
    BidsPhysio,
    Stream,
    StreamSplitter,
    all_streams,
)

BIDS_VERSION = "1.10.1"
NA = "n/a"
# The vocabulary minus component_type, which is trial_type in events.
_EVENT_DATA = tuple(c for c in VOCAB_COLUMNS if c != "component_type")
# Column names the BIDS schema (1.11.2, objects.columns) defines with a type, unit or set of
# values; the validators check any column of that name. A recorded field of one of these names is
# kept as `trial.<name>`, so its values never have to fit BIDS' meaning of the name.
BIDS_TYPED_COLUMNS = frozenset(
    [
        "HED",
        "acq_time",
        "age",
        "cardiac",
        "component",
        "derived_from",
        "desc_id",
        "duration",
        "filename",
        "group",
        "handedness",
        "hemisphere",
        "high_cutoff",
        "hplc_recovery_fractions",
        "impedance",
        "index",
        "interelectrode_distance",
        "low_cutoff",
        "mapping",
        "metabolite_parent_fraction",
        "metabolite_polar_fraction",
        "onset",
        "participant_id",
        "pathology",
        "placement_scheme",
        "plasma_radioactivity",
        "pupil_size",
        "respiratory",
        "response_time",
        "sample_id",
        "sample_type",
        "sampling_frequency",
        "session_id",
        "sex",
        "short_channel",
        "size",
        "species",
        "status",
        "stim_file",
        "strain",
        "strain_rrid",
        "template_x",
        "template_y",
        "template_z",
        "time",
        "timestamp",
        "trigger",
        "type",
        "units",
        "volume_type",
        "wavelength_actual",
        "wavelength_emission_actual",
        "wavelength_nominal",
        "whole_blood_radioactivity",
        "x",
        "x_coordinate",
        "y",
        "y_coordinate",
        "z",
    ]
)
_EVENT_RESERVED = BIDS_TYPED_COLUMNS | frozenset(EVENT_COLUMNS)
SESSION_COLUMNS = (
    "session_id",
    "acq_time",
    "run_session_id",
    "run_status",
    "interrupted",
    "completed_at",
    "config_version_label",
    "trial_count",
)
_SESSION_MEANINGS = {
    "session_id": "BIDS session label: one CogFlow run session (see README.md).",
    "acq_time": "When the run started (UTC).",
    "completed_at": "When the final result was submitted (UTC); n/a if never.",
    "run_status": MEANINGS["status"],
}


def tsv_cell(value: Any) -> str:
    if value is None:
        return NA
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        return repr(round(value, 6))
    text = value if isinstance(value, str) else dumps(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ") or NA


def tsv_bytes(names: list[str], rows: list[list[str]]) -> bytes:
    lines = ["\t".join(names), *("\t".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def bids_time(value: datetime | None) -> str | None:
    """BIDS datetime: YYYY-MM-DDThh:mm:ss[.000000]Z, in UTC."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _number(*values: Any) -> float | None:
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def _columns(rows: list[dict[str, Any]], first: tuple[str, ...] | list[str]) -> list[str]:
    found: dict[str, None] = dict.fromkeys(first)
    for row in rows:
        found.update(dict.fromkeys(row))
    return list(found)


def beh_table(trials: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The run's trial table: every trial, every field, vocabulary first."""
    fields = _columns(trials, VOCAB_COLUMNS)
    names = [data_column(c, BIDS_TYPED_COLUMNS) for c in fields]
    return names, [[tsv_cell(t.get(c)) for c in fields] for t in trials]


def _onset_ms(trial: dict[str, Any]) -> float | None:
    return _number(trial.get("stimulus_onset_ms"), trial.get("trial_start_ms"))


def event_origin(trials: list[dict[str, Any]]) -> float:
    """The run's time zero in events and physio files: its first stimulus (ms since start)."""
    return min((v for t in trials if (v := _onset_ms(t)) is not None), default=0.0)


def physio(
    spec: BidsPhysio, rows: list[dict[str, Any]], origin_ms: float
) -> tuple[bytes, dict[str, Any]]:
    """A physio recording: gzipped header-less TSV in time order, and its sidecar."""
    timed = sorted(
        (r for r in rows if _number(r.get(spec.time_field)) is not None),
        key=lambda r: r[spec.time_field],
    )
    lines = ["\t".join(tsv_cell(r.get(f)) for _c, f in spec.columns) for r in timed]
    data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
    start = (timed[0][spec.time_field] - origin_ms) / 1000.0 if timed else 0.0
    described = {
        **spec.sidecar,
        "SamplingFrequency": spec.sampling_frequency,
        "StartTime": round(start, 6),
        "Columns": [c for c, _f in spec.columns],
    }
    return data, described


def events(trials: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The events view of one run: trials with a time, onset/duration/trial_type/response_time
    first (seconds), then every other field (a trial's own `duration` as `trial.duration`)."""
    timed = [t for t in trials if _onset_ms(t) is not None]
    onsets = [_onset_ms(t) for t in timed]
    origin = event_origin(trials)
    fields = [c for c in _columns(timed, _EVENT_DATA) if c != "component_type"]
    names = [*EVENT_COLUMNS, *(data_column(c, _EVENT_RESERVED) for c in fields)]
    rows = []
    for t, onset_ms in zip(timed, onsets, strict=True):
        assert onset_ms is not None
        end_ms = _number(t.get("stimulus_offset_ms"), t.get("trial_end_ms"))
        duration = None if end_ms is None else max(0.0, (end_ms - onset_ms) / 1000.0)
        rt = _number(t.get("rt_ms"))
        head = [(onset_ms - origin) / 1000.0, duration, t.get("component_type")]
        head.append(None if rt is None else rt / 1000.0)
        rows.append([tsv_cell(v) for v in head] + [tsv_cell(t.get(c)) for c in fields])
    return names, rows


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return cell == NA
    return True


def sidecar(
    columns: list[str], table: str, trial_types: set[str], rows: Sequence[Sequence[str]] = ()
) -> dict[str, Any]:
    type_column = "trial_type" if table == "events" else "component_type"
    described = {
        name: describe(name, table, trial_types if name == type_column else ()) for name in columns
    }
    # BIDS validators read Units as "this column holds numbers": a column named like a
    # measure (`phase_onsets_ms`) that holds objects or text keeps its description, not a unit.
    for i, name in enumerate(columns):
        if "Units" in described[name] and any(not _numeric(r[i]) for r in rows):
            del described[name]["Units"]
    return described


def _stimulus_presentation(payload: dict[str, Any], trials: list[dict[str, Any]]) -> dict[str, Any]:
    """What the run recorded about its screen: the refresh rate and resolution from the
    payload's timing, distance and size (m) from a visual-angle calibration in the run."""
    found: dict[str, Any] = {
        "SoftwareName": "CogFlow Desktop (Interpreter in QtWebEngine/Chromium)",
        "SoftwareVersion": __version__,
        "ScreenOrigin": ["top", "left"],
    }
    timing = payload.get("timing") if isinstance(payload.get("timing"), dict) else {}
    screen = timing.get("screen") if isinstance(timing.get("screen"), dict) else {}
    if _number(timing.get("refresh_hz")) is not None:
        found["ScreenRefreshRate"] = round(float(timing["refresh_hz"]), 3)
    width, height = screen.get("width"), screen.get("height")
    if isinstance(width, int) and isinstance(height, int):
        found["ScreenResolution"] = [width, height]
    calibrated = [t for t in trials if _number(t.get("px_per_cm"), None) is not None]
    if calibrated:
        last = calibrated[-1]
        distance = _number(last.get("viewing_distance_cm"))
        if distance is not None:
            found["ScreenDistance"] = round(distance / 100, 4)
        if "ScreenResolution" in found and last["px_per_cm"] > 0:
            found["ScreenSize"] = [round(v / last["px_per_cm"] / 100, 4) for v in (width, height)]
    return found


def _physio_fits(spec: BidsPhysio, presentation: dict[str, Any]) -> bool:
    """Gaze on screen needs the screen's geometry in BIDS; without it the stream stays in
    sourcedata/ rather than making the dataset invalid."""
    if spec.sidecar.get("SampleCoordinateSystem") != "gaze-on-screen":
        return True
    return all(k in presentation for k in ("ScreenDistance", "ScreenResolution", "ScreenSize"))


class BidsSink:
    def __init__(
        self,
        target: Path,
        *,
        study_slug: str,
        study_name: str,
        include_ids: bool,
        streams: tuple[Stream, ...] = STREAMS,
    ):
        if target.exists():
            raise FileExistsError(str(target))
        self.target = target
        self._slug, self._name, self._ids = study_slug, study_name, include_ids
        self._staging = temp_name(target, ".d")
        self._staging.mkdir()
        self._manifest = Manifest(temp_name(target, ".manifest"))
        self._labels = bids_labels.Labels()
        self._splitter = StreamSplitter(streams)
        self._parents = {c.table: s for s in all_streams(streams) for c in s.nested}
        self._run: RunRecord | None = None
        self._trials: list[dict[str, Any]] = []
        self._tasks: set[str] = set()
        # Subject label -> (key, raw id or None): grows with participants, not with trials.
        self._participants: dict[str, tuple[str, str | None]] = {}
        self.runs = 0

    def begin_run(self, run: RunRecord) -> None:
        self._run, self._trials = run, []

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        self._trials.extend(trials)

    def end_run(self) -> None:
        run = self._run
        assert run is not None
        sub = self._labels.subject(run.participant_key)
        ses = self._labels.session(sub, run.run_session_id)
        task = bids_labels.task(run.task_type)
        self._tasks.add(task)
        stem = f"sub-{sub}_ses-{ses}_task-{task}"
        folder = self._staging / f"sub-{sub}" / f"ses-{ses}" / "beh"
        folder.mkdir(parents=True, exist_ok=True)
        trials, streams = self._split(run.run_session_id, self._trials)
        types = {str(t.get("component_type")) for t in trials}
        names, rows = beh_table(trials)
        # Only objects at the top: the legacy validator reads every key as a column description.
        presentation = _stimulus_presentation(run.result_payload, trials)
        meta = {"StimulusPresentation": presentation}
        self._table(folder / f"{stem}_beh", names, rows, "trials", types, meta)
        names, rows = events(trials)
        if rows:
            self._table(folder / f"{stem}_events", names, rows, "events", types, meta)
        source = self._staging / "sourcedata" / f"sub-{sub}" / f"ses-{ses}" / "beh"
        for stream, stream_rows in streams.values():
            spec = stream.bids_physio
            if spec is not None and _physio_fits(spec, presentation):
                data, described = physio(spec, stream_rows, event_origin(trials))
                name = f"{stem}_recording-{spec.recording}_physio"
                self._add(folder / f"{name}.tsv.gz", data)
                self._add(folder / f"{name}.json", _json_bytes(described))
            else:
                source.mkdir(parents=True, exist_ok=True)
                first = stream_first_fields(stream, self._parents)
                names = _columns(stream_rows, first)
                cells = [[tsv_cell(r.get(c)) for c in names] for r in stream_rows]
                self._table(source / f"{stem}_{stream.table}", names, cells, stream.table, set())
        self._add_session(sub, ses, run)
        self._participants.setdefault(
            sub, (run.participant_key, run.participant_external_id if self._ids else None)
        )
        self._run, self._trials = None, []
        self.runs += 1

    def _split(
        self, run_id: str, trials: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, tuple[Stream, list[dict[str, Any]]]]]:
        fields = self._splitter.fields
        streams: dict[str, tuple[Stream, list[dict[str, Any]]]] = {}
        kept = []
        for t in trials:
            if t.keys().isdisjoint(fields):
                kept.append(t)
                continue
            row, found = self._splitter.split(run_id, t)
            kept.append(row)
            for stream, rows in found:
                streams.setdefault(stream.table, (stream, []))[1].extend(rows)
        return kept, {k: v for k, v in streams.items() if v[1]}

    def _table(
        self,
        stem: Path,
        names: list[str],
        rows: list[list[str]],
        table: str,
        trial_types: set[str],
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._add(stem.with_suffix(".tsv"), tsv_bytes(names, rows))
        described = {**(extra or {}), **sidecar(names, table, trial_types, rows)}
        self._add(stem.with_suffix(".json"), _json_bytes(described))

    def _add_session(self, sub: str, ses: str, run: RunRecord) -> None:
        """Append the run to its participant's sessions.tsv (files grow, memory does not)."""
        path = self._staging / f"sub-{sub}" / f"sub-{sub}_sessions.tsv"
        cells = [
            f"ses-{ses}",
            bids_time(run.started_at),
            run.run_session_id,
            run.status,
            run.interrupted,
            bids_time(run.completed_at),
            run.config_version_label,
            run.trial_count,
        ]
        new = not path.exists()
        with open(path, "a", encoding="utf-8", newline="") as fh:
            if new:
                fh.write("\t".join(SESSION_COLUMNS) + "\n")
            fh.write("\t".join(map(tsv_cell, cells)) + "\n")

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
        for path in sorted(self._staging.glob("sub-*/sub-*_sessions.tsv")):
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
            size, sha = file_sha256(path)
            self._manifest.add(WrittenFile(path.relative_to(self._staging).as_posix(), size, sha))
            self._add(path.with_suffix(".json"), _json_bytes(_sessions_sidecar()))
        description = {
            "Name": self._name,
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "License": "Not specified by the exporter: set the study's licence before sharing.",
            "GeneratedBy": [
                {
                    "Name": "CogFlow Desktop",
                    "Version": __version__,
                    "Description": f"Export of CogFlow study {self._slug}.",
                }
            ],
        }
        self._add(self._staging / "dataset_description.json", _json_bytes(description))
        head = ["participant_id", "participant_key"]
        if self._ids:
            head.append(PARTICIPANT_ID_COLUMN)
        lines = []
        for sub, (key, raw) in sorted(self._participants.items()):
            lines.append([f"sub-{sub}", key] + ([tsv_cell(raw)] if self._ids else []))
        self._add(self._staging / "participants.tsv", tsv_bytes(head, lines))
        self._add(
            self._staging / "participants.json",
            _json_bytes(
                {
                    "participant_id": {"Description": "BIDS subject label (see README.md)."},
                    **{c: {"Description": MEANINGS.get(c, c)} for c in head[1:]},
                }
            ),
        )
        self._add(self._staging / "README.md", self._readme().encode("utf-8"))
        today = datetime.now(UTC).date().isoformat()
        changes = f"1.0.0 {today}\n  - Exported by CogFlow Desktop {__version__}.\n"
        self._add(self._staging / "CHANGES", changes.encode("utf-8"))
        self._add(self._staging / ".bidsignore", f"{MANIFEST_NAME}\nsourcedata/\n".encode())

    def _readme(self) -> str:
        return (
            f"# {self._name}\n\n"
            f"Behavioural data of CogFlow study `{self._slug}`, exported by CogFlow Desktop "
            f"{__version__} as a BIDS dataset (datatype `beh`).\n\n"
            "- Each participant is `sub-<first 16 characters of the participant key>` (a salted "
            "SHA-256 of the participant id, the same in every export of this installation).\n"
            "- Each CogFlow run session is a BIDS session, `ses-<first 8 hex digits of the "
            "run_session_id>`; `sub-*/sub-*_sessions.tsv` maps labels back to the full "
            "run_session_id with the run's status and times.\n"
            "- `*_beh.tsv` holds every trial of the run with every recorded field; "
            "`*_events.tsv` holds the trials with a time as events (onset and duration in "
            "seconds from the run's first stimulus, trial_type = component type, response_time "
            "in seconds).\n"
            "- Continuous streams (one row per frame or sample, joined to the trials by "
            "run_session_id + trial_index) are under `sourcedata/`.\n"
            "- `manifest.json` lists the SHA-256 of every other file.\n"
            "- Missing values are `n/a`; tabs and line breaks inside text are spaces here (the "
            "CSV and JSON exports keep them).\n"
        )

    def abort(self) -> None:
        self._manifest.discard()
        shutil.rmtree(self._staging, ignore_errors=True)


def _sessions_sidecar() -> dict[str, Any]:
    return {
        c: {"Description": _SESSION_MEANINGS.get(c) or MEANINGS.get(c, c)}
        for c in SESSION_COLUMNS[1:]
    }


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
