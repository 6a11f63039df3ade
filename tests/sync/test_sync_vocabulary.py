"""The central vocabulary as a pure mapping: which rows are task rows, the key rule, nothing
recorded is lost, and the same row always maps to the same bytes (resends stay identical)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cogflow_desktop.sync.client import encode
from cogflow_desktop.sync.vocabulary import (
    META_FIELDS,
    RowKind,
    central_payload,
    central_row,
    row_kind,
)


def test_task_rows_are_decided_by_component_type() -> None:
    screens = ["instructions", "survey-response", "mw-probe", "html-button-response"]
    screens += ["visual-angle-calibration", "detection-response-task-stop", "unsupported"]
    for ctype in screens:
        assert row_kind(ctype) is RowKind.OTHER, ctype
    assert row_kind("drt-stimulus") is RowKind.DRT
    # Every task component counts, also ones this version does not know yet.
    for ctype in ("flanker-trial", "rdm-continuous", "gabor-trial", "mot-trial", None):
        assert row_kind(ctype) is RowKind.TASK, ctype


def test_values_the_row_already_has_under_a_central_name_are_kept() -> None:
    row = {
        "component_type": "instructions", "rt_ms": 900.0, "rt": "own", "accuracy": 0.75,
        "ended_reason": "timeout", "meta": {"block_seed": 1}, "block_seed": 2,
        "trial_start_ms": 3.0,
    }  # fmt: skip
    out = central_row(row, "trial-based")
    assert out["rt"] == "own" and out["rt_ms"] == 900.0  # no overwrite, no loss
    assert out["accuracy"] == 0.75 and out["correctness"] is None
    assert out["meta"] == {"block_seed": 1, "trial_start_ms": 3.0}
    assert out["block_seed"] == 2  # it could not move without overwriting: it stays
    assert out["end_reason"] == "deadline"


def test_a_meta_that_is_not_an_object_is_left_alone() -> None:
    row = {"component_type": "flanker-trial", "meta": "note", "block_seed": 5}
    out = central_row(row, None)
    assert out["meta"] == "note" and out["block_seed"] == 5


def test_payload_without_a_trial_list_is_unchanged() -> None:
    payload = {"format": "cogflow-result-v1", "trials": "not a list"}
    assert central_payload(payload, "trial-based") == payload
    assert central_payload({"a": 1}, None) == {"a": 1}


json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8)
fields = st.sampled_from(
    ["rt_ms", "response", "correct", "ended_reason", "response_device", "response_source",
     "response_angle_deg", "block_seed", "sequence_seed", "trial_start_ms", "trial_end_ms",
     "stimulus_onset_ms", "label", "x"]
)  # fmt: skip
component_types = st.sampled_from(
    ["instructions", "flanker-trial", "drt-stimulus", "survey-response", "rdm-trial", "new-task"]
)


@settings(max_examples=200, deadline=None)
@given(
    ctype=component_types,
    extra=st.dictionaries(fields, json_scalars, max_size=10),
    ended=st.sampled_from(["response", "timeout", "duration", "aborted", None]),
)
def test_nothing_recorded_is_lost_and_the_mapping_is_stable(
    ctype: str, extra: dict[str, Any], ended: str | None
) -> None:
    row = {"trial_index": 1, "component_type": ctype, **extra}
    if ended is not None:
        row["ended_reason"] = ended
    out = central_row(row, "trial-based")
    assert encode(out) == encode(central_row(dict(row), "trial-based"))
    for name, value in row.items():
        if name in out and out[name] == value:
            continue
        if name == "rt_ms":
            renamed = "drt_rt_ms" if ctype == "drt-stimulus" else "rt"
            assert out[renamed] == value
            assert ctype != "flanker-trial"
        else:
            assert name in META_FIELDS and out["meta"][name] == value, name
    assert "rt_ms" not in out or row_kind(ctype) is RowKind.TASK or "rt" in row
    for name in ("plugin_type", "experiment_type", "response_key", "end_reason", "accuracy",
                 "correctness"):  # fmt: skip
        assert name in out
    if ended == "timeout":
        assert out["end_reason"] == "deadline" and out["accuracy"] is None
