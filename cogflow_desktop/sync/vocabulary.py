"""The trial rows as the central server's tools read them (only on what is synced; the local
vocabulary stays as recorded).

The central analysis report averages every numeric field across all rows of a study and sorts
rows by `plugin_type`; its exports and portal key on the reference Interpreter's names. So each
synced row gets, beside our own fields (which stay the primary vocabulary):

- `plugin_type` (= `component_type`), `experiment_type` (the config's), `response_key` (the key
  name when a key gave the response), `end_reason` (ours, with `deadline` for `timeout`), and
  `accuracy`/`correctness` (our `correct`, but null on a timeout, the reference's rule);
- its RT under the name the reference uses for that kind of row: `rt_ms` on task rows only,
  `rt` on screens, surveys and other non-task rows, `drt_rt_ms` (with `drt_correct`,
  `drt_responded`) on detection-response-task stimuli, so the report's mean `rt_ms` is the task's;
- the bookkeeping numbers (`block_seed`, `sequence_seed`, `trial_start_ms`, `trial_end_ms`) in
  one nested `meta` object instead of beside the measures.

The mapping is a pure function of the row: a resent piece or submit is byte-identical.
resources/schema/README.md ("What sync sends") is the table researchers read.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any


class RowKind(Enum):
    TASK = "task"  # a trial of the task itself: its RT is `rt_ms`
    DRT = "drt"  # a detection-response-task stimulus (a secondary task): `drt_rt_ms`
    OTHER = "other"  # instructions, buttons, surveys, calibration, markers: `rt`


# Every component type that is not a trial of the measured task. Anything else (every task
# component, including ones added later) counts as a task row.
NON_TASK_TYPES = frozenset(
    {
        "instructions",
        "html-keyboard-response",
        "html-button-response",
        "image-keyboard-response",
        "survey-response",
        "mw-probe",
        "visual-angle-calibration",
        "detection-response-task-start",
        "detection-response-task-stop",
        "unsupported",
    }
)
DRT_STIMULUS = "drt-stimulus"

# Components whose `response` is a pointer choice or an answer object, never a key.
_POINTER_RESPONSES = frozenset(
    {"html-button-response", "survey-response", "mw-probe", "visual-angle-calibration"}
)
# Bookkeeping numbers moved under `meta` (positions such as block_index stay: analyses group
# by them).
META_FIELDS = ("block_seed", "sequence_seed", "trial_start_ms", "trial_end_ms")
META_KEY = "meta"
END_REASONS = {"timeout": "deadline"}


def row_kind(component_type: Any) -> RowKind:
    """The one place that decides which rows are task rows."""
    if component_type == DRT_STIMULUS:
        return RowKind.DRT
    if component_type in NON_TASK_TYPES:
        return RowKind.OTHER
    return RowKind.TASK


def response_key(row: dict[str, Any]) -> str | None:
    """The key name when a key press gave the row's response, else None."""
    response = row.get("response")
    ctype = str(row.get("component_type") or "")
    if not isinstance(response, str) or ctype in _POINTER_RESPONSES:
        return None
    if row.get("response_source") == "mouse" or "response_angle_deg" in row:
        return None  # PVT click, RDM aperture segment
    if row.get("response_device") in ("mouse", "touch") and not ctype.startswith("rdm"):
        return None  # Stroop/Simon by mouse (RDM takes keys beside the mouse)
    return response


def central_row(row: dict[str, Any], experiment_type: str | None) -> dict[str, Any]:
    """One row with the central vocabulary added; nothing recorded is dropped."""
    out = dict(row)
    kind = row_kind(row.get("component_type"))
    ended = row.get("ended_reason")
    correct = row.get("correct")
    timed_out = ended == "timeout"

    rt_name = "drt_rt_ms" if kind is RowKind.DRT else "rt"
    if kind is not RowKind.TASK and "rt_ms" in out and rt_name not in out:
        out[rt_name] = out.pop("rt_ms")
    if kind is RowKind.DRT:
        out.setdefault("drt_correct", correct)
        out.setdefault("drt_responded", out.get("drt_rt_ms") is not None)

    scored = None if timed_out or kind is RowKind.DRT else correct
    added = {
        "plugin_type": row.get("component_type"),
        "experiment_type": experiment_type,
        "response_key": response_key(row),
        "end_reason": END_REASONS.get(ended, ended) if isinstance(ended, str) else ended,
        "accuracy": scored,
        "correctness": scored,
    }
    for name, value in added.items():
        out.setdefault(name, value)  # a component that records the name itself knows better

    meta = out.get(META_KEY)
    if meta is None or isinstance(meta, dict):
        nested = dict(meta or {})
        for name in META_FIELDS:
            if name in out and name not in nested:
                nested[name] = out.pop(name)
        if nested:
            out[META_KEY] = nested
    return out


def central_rows(
    rows: Iterable[dict[str, Any]], experiment_type: str | None
) -> list[dict[str, Any]]:
    return [central_row(r, experiment_type) for r in rows]


def central_payload(payload: dict[str, Any], experiment_type: str | None) -> dict[str, Any]:
    """The result payload with its copy of the trials (the portal's CSV export reads it)
    mapped the same way."""
    trials = payload.get("trials")
    if not isinstance(trials, list) or not all(isinstance(t, dict) for t in trials):
        return dict(payload)
    return {**payload, "trials": central_rows(trials, experiment_type)}
