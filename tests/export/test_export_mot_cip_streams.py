"""MOT, continuous-image and mouse-tracking lists leave the trial table as long tables of their
own (declared in cogflow_desktop/export/streams.py), with the trial keeping their counts."""

from __future__ import annotations

from cogflow_desktop.export.streams import StreamSplitter


def test_mot_cip_and_mouse_lists_become_long_tables() -> None:
    mot = {
        "trial_index": 3,
        "component_type": "mot-trial",
        "object_positions": [
            {"frame": f, "t_ms": 100.0 + 16.7 * f, "phase": "cue", "object": o, "x": 1.0, "y": 2.0}
            for f in range(3)
            for o in range(2)
        ],
        "mot_objects": [{"object": 0, "is_target": True}, {"object": 1, "is_target": False}],
        "clicks": [{"t_ms": 900.0, "object_index": 0, "action": "select"}],
        "recognition_trials": [],
        "mouse_samples": [{"t_ms": 100.0, "x": 5.0, "y": 6.0, "buttons": 0}],
        "mouse_clicks": [{"t_ms": 900.0, "x": 5.0, "y": 6.0, "button": 0}],
        "target_indices": [0],
    }
    kept, found = StreamSplitter().split("run-1", mot)
    tables = {stream.table: rows for stream, rows in found}
    assert set(tables) == {
        "mot_positions",
        "mot_objects",
        "mot_clicks",
        "mot_recognition",
        "mouse_samples",
        "mouse_clicks",
    }
    assert len(tables["mot_positions"]) == 6 and tables["mot_positions"][5]["sample_index"] == 5
    assert tables["mot_clicks"][0] == {
        "run_session_id": "run-1",
        "trial_index": 3,
        "sample_index": 0,
        "t_ms": 900.0,
        "object_index": 0,
        "action": "select",
    }
    assert kept["object_positions_count"] == 6 and kept["recognition_trials_count"] == 0
    assert kept["target_indices"] == [0], "lists of plain values stay in the trial"
    cip = {
        "trial_index": 4,
        "component_type": "continuous-image-presentation",
        "cip_frames": [{"frame": 0, "t_ms": 1.0, "phase": "mask_to_image", "step": 0}],
    }
    kept, found = StreamSplitter().split("run-1", cip)
    assert [(s.table, rows[0]["frame"]) for s, rows in found] == [("cip_frames", 0)]
    other = {"trial_index": 5, "component_type": "flanker-trial", "clicks": [{"x": 1}]}
    kept, found = StreamSplitter().split("run-1", other)
    assert found == [] and kept["clicks"] == [{"x": 1}], "clicks are a MOT stream only"
