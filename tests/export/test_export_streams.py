"""Continuous streams leave the trial rows as long tables, and BIDS labels stay collision-free.

The splitter and the CSV sink are driven directly with rows shaped like the Interpreter's
continuous RDM rows (resources/interpreter/components/rdm-continuous.js) and with a family
declared only in a test registry, as MOT, CIP or eye tracking will declare theirs.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from validators import deno_validator, run_deno

from cogflow_desktop.export.bids_format import BidsSink
from cogflow_desktop.export.bids_labels import Labels, task
from cogflow_desktop.export.csv_format import CsvSink
from cogflow_desktop.export.source import RunRecord
from cogflow_desktop.export.streams import STREAMS, BidsPhysio, Stream, StreamSplitter, _check

RUN_ID = "7a3fc9d7-0000-4000-8000-000000000001"


def continuous_row(index: int, frames: int = 3) -> dict[str, Any]:
    records = [
        {
            "frame_index": i,
            "onset_ms": 1000.0 + 250 * i,
            "coherence": 0.1 * (i + 1),
            "direction_deg": 180,
            "target_group": None,
            "correct_side": "left",
            "responses": [
                {
                    "kind": "key",
                    "key": "f",
                    "choice": "left",
                    "t_ms": 1100.0 + 250 * i,
                    "rt_ms": 100.0 + 250 * i,
                    "correct": True,
                }
            ]
            * (i % 2),
        }
        for i in range(frames)
    ]
    return {
        "trial_index": index,
        "component_type": "rdm-continuous",
        "rt_ms": None,
        "response": None,
        "correct": None,
        "stimulus_onset_ms": 1000.0,
        "ended_reason": "duration",
        "frames_count": frames,
        "records": records,
        "rdm_parameters": {"speed": 5},
    }


def run_record() -> RunRecord:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    return RunRecord(
        study_slug="s",
        config_version_label="v1",
        task_type="rdm",
        run_session_id=RUN_ID,
        participant_key="ab" * 32,
        status="completed",
        interrupted=False,
        started_at=now,
        completed_at=now,
        trial_count=2,
        result_payload={},
        result_summary={},
    )


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_continuous_row_keeps_counts_and_its_frames_become_rows() -> None:
    row = continuous_row(4)
    kept, found = StreamSplitter().split(RUN_ID, row)
    assert "records" not in kept and kept["records_count"] == 3
    assert list(kept) == [*(k if k != "records" else "records_count" for k in row)]
    by_table: dict[str, list[dict[str, Any]]] = {}
    for stream, rows in found:
        by_table.setdefault(stream.table, []).extend(rows)
    frames = by_table["rdm_frames"]
    assert [f["frame_index"] for f in frames] == [0, 1, 2]
    assert all(f["run_session_id"] == RUN_ID and f["trial_index"] == 4 for f in frames)
    assert [f["responses_count"] for f in frames] == [0, 1, 0]
    assert "responses" not in frames[0]
    (response,) = by_table["rdm_responses"]
    assert response["frame_index"] == 1 and response["sample_index"] == 0
    assert response["choice"] == "left" and response["trial_index"] == 4
    assert row["records"][1]["responses"], "the recorded row itself is never changed"


def test_only_declared_components_are_split_and_recorded_counts_are_kept() -> None:
    other = {"trial_index": 0, "component_type": "survey-response", "records": [1, 2]}
    kept, found = StreamSplitter().split(RUN_ID, other)
    assert kept == other and found == []
    own = {**continuous_row(1), "records_count": "as recorded"}
    kept, _found = StreamSplitter().split(RUN_ID, own)
    assert kept["records_count"] == "as recorded"


def test_a_new_family_plugs_in_by_declaring_its_stream(tmp_path: Path) -> None:
    """A family declared only here: plain-value samples, a sample field named like a join key."""
    gaze = Stream(
        field="gaze_samples",
        table="gaze",
        meaning="One eye-tracking sample.",
        columns={"t": "Sample time, ms."},
    )
    streams = (*STREAMS, gaze)
    out = tmp_path / "study.csv"
    sink = CsvSink(out, include_participant_ids=False, streams=streams)
    sink.begin_run(run_record())
    trial = {"trial_index": 0, "component_type": "eye-tracking", "rt_ms": None}
    samples = [{"t": 1.5, "x": 10, "y": 20, "trial_index": 99}, {"t": 2.5, "x": 11, "y": 21}]
    sink.add_trials([{**trial, "gaze_samples": samples}, continuous_row(1)])
    sink.add_trials([{**trial, "trial_index": 2, "gaze_samples": [7, 8, 9]}])
    sink.end_run()
    written = sorted(f.path for f in sink.finish())
    assert written == [
        "study.csv",
        "study_gaze.csv",
        "study_rdm_frames.csv",
        "study_rdm_responses.csv",
    ]
    trials = read(out)
    assert [r["gaze_samples_count"] for r in trials] == ["2", "", "3"]
    assert "gaze_samples" not in trials[0]
    rows = read(tmp_path / "study_gaze.csv")
    assert list(rows[0])[:3] == ["run_session_id", "trial_index", "sample_index"]
    assert [r["sample_index"] for r in rows] == ["0", "1", "0", "1", "2"]
    assert rows[0]["sample.trial_index"] == "99" and rows[0]["trial_index"] == "0"
    assert [r["value"] for r in rows[2:]] == ["7", "8", "9"]
    frames = read(tmp_path / "study_rdm_frames.csv")
    assert len(frames) == 3 and frames[1]["coherence"] == "0.2"


def test_stream_declarations_are_checked() -> None:
    dup = Stream(field="a", table="rdm_frames", meaning="x")
    with pytest.raises(ValueError, match="unique"):
        _check((*STREAMS, dup))
    with pytest.raises(ValueError, match="lower_snake_case"):
        _check((Stream(field="a", table="Bad-Name", meaning="x"),))
    child = Stream(field="c", table="child", meaning="x")
    with pytest.raises(ValueError, match="index"):
        _check((Stream(field="p", table="parent", meaning="x", nested=(child,)),))


def test_bids_labels_are_stable_and_never_collide() -> None:
    labels = Labels()
    a, b = "0123456789abcdef" + "0" * 48, "0123456789abcdef" + "1" * 48
    assert labels.subject(a) == "0123456789abcdef"
    assert labels.subject(b) == b  # same first 16 characters: the full key
    assert labels.subject(a) == "0123456789abcdef"  # stable for the first one
    run1, run2 = "7a3fc9d7-aaaa-4000-8000-000000000001", "7a3fc9d7-bbbb-4000-8000-000000000002"
    assert labels.session("s", run1) == "7a3fc9d7"
    assert labels.session("s", run2) == run2.replace("-", "")
    assert labels.session("other", run2) == "7a3fc9d7"  # sessions are per participant
    assert task("soc-dashboard") == "socdashboard" and task(None) == "cogflow"


GAZE = Stream(
    field="gaze_samples",
    table="gaze",
    meaning="One gaze sample.",
    bids_physio=BidsPhysio(
        recording="eye1",
        columns=(("timestamp", "t_ms"), ("x_coordinate", "x"), ("y_coordinate", "y")),
        sampling_frequency=30.0,
        time_field="t_ms",
        sidecar={
            "PhysioType": "eyetrack",
            "RecordedEye": "cyclopean",
            "SampleCoordinateSystem": "gaze-on-screen",
            "SampleCoordinateUnits": "pixel",
            "EnvironmentCoordinates": "top-left",
            "timestamp": {"Description": "Sample time, ms since the run started.", "Units": "ms"},
        },
    ),
)


def bids_with_gaze(target: Path, calibrated: bool) -> Path:
    run = dataclasses.replace(
        run_record(),
        result_payload={"timing": {"refresh_hz": 60.0, "screen": {"width": 1280, "height": 800}}},
    )
    sink = BidsSink(
        target, study_slug="s", study_name="S", include_ids=False, streams=(*STREAMS, GAZE)
    )
    sink.begin_run(run)
    trials: list[dict[str, Any]] = []
    if calibrated:
        trials.append(
            {
                "trial_index": 0,
                "component_type": "visual-angle-calibration",
                "trial_start_ms": 500.0,
                "px_per_cm": 37.8,
                "viewing_distance_cm": 60,
            }
        )
    samples = [{"t_ms": 1000.0 + 33.3 * i, "x": 500 + i, "y": 300 - i} for i in range(20)]
    trials.append(
        {
            "trial_index": 1,
            "component_type": "eye-tracking",
            "ended_reason": "duration",
            "trial_start_ms": 900.0,
            "gaze_samples": samples,
        }
    )
    sink.add_trials(trials)
    sink.end_run()
    sink.finish()
    return target


def test_gaze_with_screen_geometry_is_bids_physio_and_valid(tmp_path: Path) -> None:
    root = bids_with_gaze(tmp_path / "bids", calibrated=True)
    (physio,) = root.glob("sub-*/ses-*/beh/*_recording-eye1_physio.tsv.gz")
    lines = gzip.decompress(physio.read_bytes()).decode().splitlines()
    assert len(lines) == 20 and lines[0] == "1000.0\t500\t300"
    meta = json.loads(physio.with_name(physio.name.replace(".tsv.gz", ".json")).read_text())
    assert meta["Columns"] == ["timestamp", "x_coordinate", "y_coordinate"]
    assert meta["SamplingFrequency"] == 30.0 and meta["StartTime"] == pytest.approx(0.5)
    (events,) = root.glob("sub-*/ses-*/beh/*_events.json")
    shown = json.loads(events.read_text())["StimulusPresentation"]
    assert shown["ScreenDistance"] == 0.6 and shown["ScreenResolution"] == [1280, 800]
    assert not list(root.glob("sourcedata/**/*gaze*"))
    if deno_validator() is not None:
        errors = [i for i in run_deno(root) if i["severity"] == "error"]
        assert not errors, errors


def test_gaze_without_screen_geometry_stays_in_sourcedata(tmp_path: Path) -> None:
    root = bids_with_gaze(tmp_path / "bids", calibrated=False)
    assert not list(root.glob("sub-*/ses-*/beh/*_physio.tsv.gz"))
    (table,) = root.glob("sourcedata/sub-*/ses-*/beh/*_gaze.tsv")
    assert table.read_text().count("\n") == 21
    if deno_validator() is not None:
        errors = [i for i in run_deno(root) if i["severity"] == "error"]
        assert not errors, errors


def test_bids_sidecar_gives_units_only_to_columns_that_hold_numbers() -> None:
    """A Gabor row's `phase_onsets_ms` is an object; with Units the validators call every cell
    of it a wrong type (TSV_VALUE_INCORRECT_TYPE; they did on really recorded Gabor runs)."""
    from cogflow_desktop.export.bids_format import sidecar, tsv_cell

    names = ["rt_ms", "phase_onsets_ms"]
    rows = [[tsv_cell(412.5), tsv_cell({"cue": 1766.6})], [tsv_cell(None), tsv_cell(None)]]
    described = sidecar(names, "trials", set(), rows)
    assert described["rt_ms"]["Units"] == "ms"
    assert "Units" not in described["phase_onsets_ms"]
    assert described["phase_onsets_ms"]["Description"]
