"""Continuous streams inside trial rows, and how they become long tables of their own.

Some components record many samples per trial (continuous RDM: one record per parameter frame;
later MOT clicks, continuous-image frames, eye-tracking or mouse samples). In the trial table
such a list would be one JSON blob in one cell. Instead each declared stream is exported as its
own long table, one row per sample, led by `run_session_id` and `trial_index` (the join keys to
the trial table) and an index column; the trial row keeps `<field>_count`, the number of samples.

A new family plugs in by adding one `Stream` to `STREAMS` below: the trial field that holds the
list, the table name, and what its columns mean. Nothing else in the export needs to change.
Samples are objects (their keys become columns); a sample that is a plain value becomes a
`value` column. A list inside a sample can be a stream of its own (`nested`): its rows also carry
the parent sample's index column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Every stream table starts with these columns (the join keys to the trial table).
JOIN_KEYS = ("run_session_id", "trial_index")
DEFAULT_INDEX = "sample_index"
VALUE_COLUMN = "value"


@dataclass(frozen=True)
class BidsPhysio:
    """Where the BIDS specification has a place for a stream (eye tracking, BIDS 1.10+): per run
    `..._recording-<recording>_physio.tsv.gz` (no header, columns in this order) + `.json`."""

    recording: str  # the recording-<label> entity, letters and digits
    columns: tuple[tuple[str, str], ...]  # (BIDS column name, sample field), in order
    sampling_frequency: float  # nominal samples per second (SamplingFrequency)
    time_field: str  # sample field with the sample's time in ms since the run started
    sidecar: Mapping[str, Any] = field(default_factory=dict)  # PhysioType, RecordedEye, ...


@dataclass(frozen=True)
class Stream:
    field: str  # the trial (or parent sample) field holding the list of samples
    table: str  # table name: lower-case letters, digits and underscores (used in file names)
    meaning: str  # one sentence: what one row of the table is
    # Component types whose rows carry this stream; empty: any row that has the field.
    components: frozenset[str] = frozenset()
    # A sample field that numbers the samples; without one the export adds `sample_index`.
    index: str | None = None
    # Meanings (and units, by the `_ms`/`_deg`/`_px` suffix rule) of the sample fields.
    columns: Mapping[str, str] = field(default_factory=dict)
    nested: tuple[Stream, ...] = ()
    # Set when BIDS has a place for the stream; otherwise BIDS exports put it in sourcedata/.
    bids_physio: BidsPhysio | None = None

    @property
    def index_column(self) -> str:
        return self.index or DEFAULT_INDEX

    @property
    def count_column(self) -> str:
        """The column the trial (or parent sample) keeps instead of the list."""
        return f"{self.field}_count"

    @property
    def label(self) -> str:
        """The table name with letters and digits only (BIDS and Psych-DS labels)."""
        return self.table.replace("_", "")


_RDM_RESPONSES = Stream(
    field="responses",
    table="rdm_responses",
    meaning="One response during a continuous RDM parameter frame.",
    columns={
        "kind": "How the response was given: key or pointer.",
        "key": "Key name pressed (keyboard responses).",
        "choice": "The side or segment the response chose.",
        "t_ms": "When the response happened, ms since the run started.",
        "rt_ms": "Response time in ms from the segment's first stimulus onset.",
        "correct": "Whether the choice matched the frame's correct side.",
        "angle_deg": "Pointer angle on the aperture, degrees (mouse responses).",
    },
)

_SOC_EVENTS = Stream(
    field="events",
    table="soc_events",
    meaning="One event of a SOC dashboard session (an onset, response, omission, window change, "
    "raw key or click) with its own time.",
    components=frozenset({"soc-dashboard"}),
    index="event_index",
    columns={
        "event_index": "Position of the event in its session (0-based).",
        "t_ms": "When it happened, ms since the dashboard's first frame (onsets: frame times).",
        "type": "What happened, e.g. sart_present, flanker_response, subtask_window_show.",
        "subtask_index": "Which sub-task window (0-based), empty for desktop-wide events.",
        "subtask_type": "The window's sub-task kind (sart-like, nback-like, flanker-like, ...).",
        "t_subtask_ms": "When it happened, ms since the sub-task started.",
        "rt_ms": "Response time in ms from the stimulus onset frame (responses).",
        "correct": "Whether the response (or withheld response) was right by the task's rule.",
    },
)

# WebGazer gaze samples; BIDS eye-tracking physio when the run knows its screen geometry.
_GAZE = Stream(
    field="gaze_samples",
    table="gaze_samples",
    meaning="One gaze sample (one per configured sampling interval) from camera eye tracking.",
    components=frozenset({"eye-tracking-samples"}),
    index="sample_index",
    columns={
        "sample_index": "Position of the sample in the run (0-based).",
        "t_ms": "Sample time, ms since the run started (the clock of every onset).",
        "x": "Estimated gaze x, CSS px from the window's left edge (empty when not valid).",
        "y": "Estimated gaze y, CSS px from the window's top edge (empty when not valid).",
        "valid": "Whether the tracker had a current estimate (a face) at that time.",
        "estimate_t_ms": "Time of the estimate the sample used, ms since the run started.",
    },
    bids_physio=BidsPhysio(
        recording="webgazer",
        columns=(("timestamp", "t_ms"), ("x_coordinate", "x"), ("y_coordinate", "y")),
        sampling_frequency=30.0,  # nominal: the default 33 ms interval (the row records its own)
        time_field="t_ms",
        sidecar={
            "PhysioType": "eyetrack",
            "RecordedEye": "cyclopean",
            "SampleCoordinateSystem": "gaze-on-screen",
            "SampleCoordinateUnits": "pixel",
            "EnvironmentCoordinates": "top-left",
            "Manufacturer": "WebGazer.js (webcam)",
            "timestamp": {"Description": "Sample time, ms since the run started.", "Units": "ms"},
        },
    ),
)

# The one place where stream fields are declared.
STREAMS: tuple[Stream, ...] = (
    Stream(
        field="records",
        table="rdm_frames",
        meaning="One parameter frame of a continuous RDM segment.",
        components=frozenset({"rdm-continuous"}),
        index="frame_index",
        columns={
            "frame_index": "Position of the parameter frame in its segment (0-based).",
            "onset_ms": "Frame time the parameters first showed, ms since the run started.",
            "coherence": "RDM motion coherence of the target group (0-1).",
            "direction_deg": "RDM motion direction of the target group, degrees.",
            "target_group": "Which dot group was the target (dot-group displays).",
            "correct_side": "The response side or segment that counted as correct.",
            "responses_count": "Number of responses during this frame (rows in rdm_responses).",
        },
        nested=(_RDM_RESPONSES,),
    ),
    # MOT, continuous images and mouse tracking (resources/schema/README.md lists the fields).
    Stream(
        field="object_positions",
        table="mot_positions",
        meaning="One object's position on one drawn frame of a MOT trial.",
        components=frozenset({"mot-trial"}),
        columns={
            "frame": "Drawn frame of the trial's motion (0 = the cue's first frame).",
            "t_ms": "Frame time, ms since the run started.",
            "phase": "cue, tracking, or probe (the frozen frame).",
            "object": "Object index (0-based).",
            "x": "Horizontal position of the object's centre, arena px from the left.",
            "y": "Vertical position of the object's centre, arena px from the top.",
        },
    ),
    Stream(
        field="mot_objects",
        table="mot_objects",
        meaning="One object of a MOT trial, as it started.",
        components=frozenset({"mot-trial"}),
        index="object",
        columns={
            "object": "Object index (0-based).",
            "is_target": "Whether the object was a target.",
            "x": "Start position, arena px from the left.",
            "y": "Start position, arena px from the top.",
            "speed_px_per_s": "The object's speed, px per second.",
            "direction_deg": "Start direction, degrees (0 = right, 90 = up).",
        },
    ),
    Stream(
        field="clicks",
        table="mot_clicks",
        meaning="One click during a MOT probe.",
        components=frozenset({"mot-trial"}),
        columns={
            "t_ms": "Click time, ms since the run started.",
            "rt_ms": "Click time from the probe display, ms.",
            "x": "Click position, arena px from the left.",
            "y": "Click position, arena px from the top.",
            "object_index": "Object under the click (empty on empty space).",
            "is_target": "Whether that object was a target.",
            "action": "select, deselect, or miss.",
        },
    ),
    Stream(
        field="recognition_trials",
        table="mot_recognition",
        meaning="One yes/no recognition probe of a MOT trial.",
        components=frozenset({"mot-trial"}),
        index="probe_ordinal",
        columns={
            "probe_ordinal": "Probe number within the trial (1-based).",
            "probe_object_index": "The probed object.",
            "probe_object_is_target": "Whether the probed object was a target.",
            "probe_onset_ms": "Frame the probe was shown, ms since the run started.",
            "response": "yes or no.",
            "response_key": "Key pressed (empty for a button).",
            "response_source": "keyboard or button.",
            "rt_ms": "Response time from the probe's onset, ms.",
            "correct": "Whether the answer was right.",
        },
    ),
    Stream(
        field="cip_frames",
        table="cip_frames",
        meaning="One drawn frame of a continuous-image trial.",
        components=frozenset({"continuous-image-presentation"}),
        index="frame",
        columns={
            "frame": "Drawn frame of the trial (0-based).",
            "t_ms": "Frame time, ms since the run started.",
            "phase": "mask_to_image, image, or image_to_mask.",
            "step": "Transition step shown (empty while the image is up).",
        },
    ),
    Stream(
        field="mouse_samples",
        table="mouse_samples",
        meaning="The pointer's position on one display frame of a trial (mouse tracking).",
        columns={
            "t_ms": "Frame time, ms since the run started.",
            "x": "Pointer position, CSS px from the window's left.",
            "y": "Pointer position, CSS px from the window's top.",
            "buttons": "Pressed buttons (bitmask: 1 primary, 2 secondary, 4 middle).",
        },
    ),
    Stream(
        field="mouse_clicks",
        table="mouse_clicks",
        meaning="One pointer press during a trial (mouse tracking).",
        columns={
            "t_ms": "Press time, ms since the run started.",
            "x": "Press position, CSS px from the window's left.",
            "y": "Press position, CSS px from the window's top.",
            "button": "Button pressed (0 primary, 1 middle, 2 secondary).",
        },
    ),
    _SOC_EVENTS,
    _GAZE,
)

_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def all_streams(streams: tuple[Stream, ...] = STREAMS) -> Iterator[Stream]:
    """Every declared stream, nested ones after their parent."""
    for stream in streams:
        yield stream
        yield from all_streams(stream.nested)


def _check(streams: tuple[Stream, ...]) -> None:
    tables = [s.table for s in all_streams(streams)]
    if len(set(tables)) != len(tables):
        raise ValueError(f"Stream table names must be unique: {tables}")
    for s in all_streams(streams):
        if not _TABLE_NAME.fullmatch(s.table):
            raise ValueError(f"Stream table name {s.table!r} is not lower_snake_case.")
        if s.nested and s.index is None:
            raise ValueError(f"Stream {s.table!r} has nested streams, so it must name its index.")


_check(STREAMS)


class StreamSplitter:
    """Takes declared streams out of trial rows: the row keeps counts, samples become rows."""

    def __init__(self, streams: tuple[Stream, ...] = STREAMS) -> None:
        self.streams = streams
        self.fields = frozenset(s.field for s in streams)

    def split(
        self, run_session_id: str, trial: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[Stream, list[dict[str, Any]]]]]:
        """The trial with each stream replaced by its count, and the stream rows by table.

        Only call this for trials that have at least one field in `self.fields`."""
        found: list[tuple[Stream, list[dict[str, Any]]]] = []
        lead = {"run_session_id": run_session_id, "trial_index": trial.get("trial_index")}
        kept = _take(trial, self.streams, lead, found, trial.get("component_type"))
        return kept, found


def _take(
    row: dict[str, Any],
    streams: tuple[Stream, ...],
    lead: dict[str, Any],
    found: list[tuple[Stream, list[dict[str, Any]]]],
    component: Any,
) -> dict[str, Any]:
    """`row` with its streams replaced by counts; the streams' rows are appended to `found`."""
    by_field = {
        s.field: s
        for s in streams
        if s.field in row
        and isinstance(row[s.field], list)
        and (not s.components or component in s.components)
    }
    if not by_field:
        return row
    kept: dict[str, Any] = {}
    for name, value in row.items():
        stream = by_field.get(name)
        if stream is None:
            kept[name] = value
            continue
        count = stream.count_column
        # A recorded field of the same name is kept as it was, never overwritten.
        if count not in row:
            kept[count] = len(value)
        found.append((stream, _rows(stream, value, lead, found, component)))
    return kept


def _rows(
    stream: Stream,
    samples: list[Any],
    lead: dict[str, Any],
    found: list[tuple[Stream, list[dict[str, Any]]]],
    component: Any,
) -> list[dict[str, Any]]:
    rows = []
    index = stream.index_column
    for position, sample in enumerate(samples):
        fields = sample if isinstance(sample, dict) else {VALUE_COLUMN: sample}
        row = dict(lead)
        if index not in fields:
            row[index] = position
        for name, value in fields.items():
            # A sample field named like a join key is kept under another name, never dropped.
            row[f"sample.{name}" if name in lead else name] = value
        if stream.nested:
            child_lead = {**lead, index: row[index]}
            row = _take(row, stream.nested, child_lead, found, component)
        rows.append(row)
    return rows
