"""SOC dashboard events and eye-tracking gaze samples leave their trial rows as long tables
(soc_events, gaze_samples); gaze is BIDS eye-tracking physio when the run knows its screen.
Rows are shaped exactly as the Interpreter records them (components/soc-dashboard.js,
eye-tracking.js); tests/web/test_soc_e2e.py and test_eye_tracking_e2e.py check the recording."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

from test_export_streams import RUN_ID, read, run_record

from cogflow_desktop.export.bids_format import BidsSink
from cogflow_desktop.export.csv_format import CsvSink


def soc_row(index: int) -> dict[str, Any]:
    events = [
        {"event_index": 0, "t_ms": 0.0, "type": "session_start", "session_ms": 11000},
        {
            "event_index": 1,
            "t_ms": 916.7,
            "type": "sart_present",
            "subtask_index": 0,
            "subtask_title": "Login monitor",
            "subtask_type": "sart-like",
            "t_subtask_ms": 0.0,
            "entry_id": "LOG-1-0001",
            "entry_class": "benign",
        },
        {
            "event_index": 2,
            "t_ms": 1301.2,
            "type": "sart_response",
            "subtask_index": 0,
            "subtask_type": "sart-like",
            "rt_ms": 384.5,
            "correct": True,
        },
        {"event_index": 3, "t_ms": 1402.0, "type": "key", "key": "x"},
    ]
    return {
        "trial_index": index,
        "component_type": "soc-dashboard",
        "rt_ms": None,
        "response": None,
        "correct": None,
        "stimulus_onset_ms": 2000.0,
        "ended_reason": "duration",
        "subtasks_summary": {"sart_like": [{"subtask_index": 0, "presented": 1}]},
        "events": events,
    }


def gaze_row(index: int, start_ms: float, n: int) -> dict[str, Any]:
    samples = [
        {
            "sample_index": i,
            "t_ms": start_ms + 33 * i,
            "x": None if i % 4 == 3 else 600.5 + i,
            "y": None if i % 4 == 3 else 400.0 - i,
            "valid": i % 4 != 3,
            "estimate_t_ms": start_ms + 33 * i - 5,
        }
        for i in range(n)
    ]
    return {
        "trial_index": index,
        "component_type": "eye-tracking-samples",
        "rt_ms": None,
        "response": None,
        "correct": None,
        "stimulus_onset_ms": None,
        "ended_reason": "duration",
        "trial_start_ms": start_ms,
        "gaze_sample_interval_ms": 33,
        "gaze_samples_valid": sum(s["valid"] for s in samples),
        "gaze_samples": samples,
    }


def test_soc_events_and_gaze_become_long_tables(tmp_path: Path) -> None:
    out = tmp_path / "soc.csv"
    sink = CsvSink(out, include_participant_ids=False)
    sink.begin_run(run_record())
    sink.add_trials([soc_row(0), gaze_row(1, 900.0, 8)])
    sink.end_run()
    written = sorted(f.path for f in sink.finish())
    assert written == ["soc.csv", "soc_gaze_samples.csv", "soc_soc_events.csv"]
    trials = read(out)
    assert [t["events_count"] for t in trials] == ["4", ""]
    assert [t["gaze_samples_count"] for t in trials] == ["", "8"]
    assert "events" not in trials[0] and "gaze_samples" not in trials[1]
    events = read(tmp_path / "soc_soc_events.csv")
    assert list(events[0])[:3] == ["run_session_id", "trial_index", "event_index"]
    assert [e["type"] for e in events] == ["session_start", "sart_present", "sart_response", "key"]
    assert events[2]["rt_ms"] == "384.5" and events[2]["correct"] == "True"
    assert all(e["run_session_id"] == RUN_ID and e["trial_index"] == "0" for e in events)
    gaze = read(tmp_path / "soc_gaze_samples.csv")
    assert list(gaze[0])[:3] == ["run_session_id", "trial_index", "sample_index"]
    assert [g["valid"] for g in gaze[:4]] == ["True", "True", "True", "False"]
    assert gaze[3]["x"] == "" and gaze[0]["x"] == "600.5"


def test_gaze_is_bids_eyetrack_physio_with_screen_geometry(tmp_path: Path) -> None:
    run = dataclasses.replace(
        run_record(),
        task_type="rdm",
        result_payload={"timing": {"refresh_hz": 60.0, "screen": {"width": 1280, "height": 800}}},
    )
    sink = BidsSink(tmp_path / "bids", study_slug="s", study_name="S", include_ids=False)
    sink.begin_run(run)
    calibration = {
        "trial_index": 0,
        "component_type": "visual-angle-calibration",
        "trial_start_ms": 500.0,
        "px_per_cm": 37.8,
        "viewing_distance_cm": 60,
    }
    sink.add_trials([calibration, gaze_row(1, 900.0, 12), gaze_row(2, 1296.0, 12)])
    sink.end_run()
    sink.finish()
    (physio,) = (tmp_path / "bids").glob("sub-*/ses-*/beh/*_recording-webgazer_physio.tsv.gz")
    lines = gzip.decompress(physio.read_bytes()).decode().splitlines()
    assert len(lines) == 24 and lines[0] == "900.0\t600.5\t400.0"
    assert lines[3] == "999.0\tn/a\tn/a"  # no estimate at that sample
    meta = json.loads(physio.with_name(physio.name.replace(".tsv.gz", ".json")).read_text())
    assert meta["PhysioType"] == "eyetrack" and meta["SampleCoordinateSystem"] == "gaze-on-screen"
    assert meta["Columns"] == ["timestamp", "x_coordinate", "y_coordinate"]
