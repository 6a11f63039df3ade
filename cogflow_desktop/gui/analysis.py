"""What the Results page draws, computed from decrypted runs (no Qt here): RT distribution,
accuracy and RT by whatever condition fields the trials carry, the trial timeline with its
timeouts and false starts, and each run's timing fingerprint."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Rows that are not trials of the task (their RTs would blur the distribution).
NON_TASK = {
    "instructions",
    "html-keyboard-response",
    "html-button-response",
    "image-keyboard-response",
    "survey-response",
    "mw-probe",
    "visual-angle-calibration",
    "detection-response-task-start",
    "detection-response-task-stop",
    "drt-stimulus",
    "unsupported",
}
# The shared vocabulary and bookkeeping: never a condition.
NOT_CONDITIONS = {
    "trial_index",
    "component_type",
    "rt_ms",
    "response",
    "correct",
    "stimulus_onset_ms",
    "stimulus_offset_ms",
    "ended_reason",
    "trial_start_ms",
    "trial_end_ms",
    "time_elapsed",
    "plugin_type",
    "task_type",
    "experiment_type",
    "stimulus",
    "false_start",
    "lapse",
}
# Fields known to be conditions come first, in this order.
KNOWN_CONDITIONS = (
    "congruency",
    "condition",
    "trial_type",
    "switch_type",
    "block",
    "block_index",
    "set_size",
    "n_back",
    "coherence",
    "direction",
    "word",
    "ink_color",
)
MAX_LEVELS = 12


@dataclass(frozen=True)
class Level:
    value: str
    trials: int
    accuracy: float | None  # 0..1, over trials scored correct/incorrect
    mean_rt_ms: float | None


def task_trials(trials: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in trials if t.get("component_type") not in NON_TASK]


def _rt(trial: dict[str, Any]) -> float | None:
    rt = trial.get("rt_ms")
    if isinstance(rt, bool) or not isinstance(rt, (int, float)) or not math.isfinite(rt):
        return None
    return float(rt)


def rts(trials: Iterable[dict[str, Any]]) -> list[float]:
    return [rt for t in task_trials(trials) if (rt := _rt(t)) is not None]


def histogram(values: Sequence[float], bins: int = 20) -> list[tuple[float, float, int]]:
    """(low, high, count) per bin, with round bin edges; empty for no values."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [(low, low, len(values))]
    raw = (high - low) / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    width = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / width) * width
    count = max(1, math.ceil((high - start) / width + 1e-9))
    counts = [0] * count
    for v in values:
        counts[min(count - 1, int((v - start) // width))] += 1
    return [(start + i * width, start + (i + 1) * width, n) for i, n in enumerate(counts)]


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, bool)) and not (isinstance(value, str) and len(value) > 40)


def condition_fields(trials: Sequence[dict[str, Any]]) -> list[str]:
    """Fields of the task's trials that split them into a few groups (2..MAX_LEVELS values)."""
    levels: dict[str, set[Any]] = {}
    not_categorical: set[str] = set()
    for t in task_trials(trials):
        for key, value in t.items():
            if value is None or key in NOT_CONDITIONS or key.endswith(("_ms", "_at", "_id")):
                continue
            if not _hashable(value):
                not_categorical.add(key)
            elif len(seen := levels.setdefault(key, set())) <= MAX_LEVELS:
                seen.add(value)
    found = [
        k for k, v in levels.items() if k not in not_categorical and 2 <= len(v) <= MAX_LEVELS
    ]
    known = [k for k in KNOWN_CONDITIONS if k in found]
    return known + sorted(k for k in found if k not in known)


def by_condition(trials: Sequence[dict[str, Any]], field: str) -> list[Level]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for t in task_trials(trials):
        if field in t and t[field] is not None and _hashable(t[field]):
            groups.setdefault(str(t[field]), []).append(t)
    out = []
    for value in sorted(groups, key=_natural):
        rows = groups[value]
        scored = [t["correct"] for t in rows if isinstance(t.get("correct"), bool)]
        times = [rt for t in rows if (rt := _rt(t)) is not None]
        out.append(
            Level(
                value,
                len(rows),
                sum(scored) / len(scored) if scored else None,
                statistics.fmean(times) if times else None,
            )
        )
    return out


def _natural(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


@dataclass(frozen=True)
class TimelinePoint:
    trial_index: int
    rt_ms: float | None
    kind: str  # "response", "timeout", "false_start", "other"


def timeline(trials: Sequence[dict[str, Any]]) -> list[TimelinePoint]:
    points = []
    for i, t in enumerate(task_trials(trials)):
        index = t.get("trial_index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else i
        reason = t.get("ended_reason")
        if t.get("false_start") or reason == "false_start":
            kind = "false_start"
        elif reason == "timeout":
            kind = "timeout"
        elif _rt(t) is not None:
            kind = "response"
        else:
            kind = "other"
        points.append(TimelinePoint(index, _rt(t), kind))
    return points


@dataclass(frozen=True)
class Fingerprint:
    run_label: str
    refresh_hz: float | None
    dropped_frames: int | None
    frame_ms_sd: float | None
    screen: str


def fingerprint(run_label: str, payload: dict[str, Any]) -> Fingerprint:
    timing = payload.get("timing") if isinstance(payload, dict) else None
    timing = timing if isinstance(timing, dict) else {}

    def num(key: str) -> float | None:
        v = timing.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    dropped = num("dropped_frames")
    screen = timing.get("screen") if isinstance(timing.get("screen"), dict) else {}
    size = (
        f"{screen.get('width')}×{screen.get('height')}"
        if screen.get("width") and screen.get("height")
        else ""
    )
    sd = num("frame_ms_sd") if num("frame_ms_sd") is not None else num("run_frame_ms_sd")
    return Fingerprint(
        run_label, num("refresh_hz"), int(dropped) if dropped is not None else None, sd, size
    )


@dataclass(frozen=True)
class RunSummary:
    trials: int
    task_trials: int
    accuracy: float | None
    mean_rt_ms: float | None
    median_rt_ms: float | None
    timeouts: int
    false_starts: int


def summarise(trials: Sequence[dict[str, Any]]) -> RunSummary:
    rows = task_trials(trials)
    scored = [t["correct"] for t in rows if isinstance(t.get("correct"), bool)]
    times = rts(trials)
    points = timeline(trials)
    return RunSummary(
        trials=len(trials),
        task_trials=len(rows),
        accuracy=sum(scored) / len(scored) if scored else None,
        mean_rt_ms=statistics.fmean(times) if times else None,
        median_rt_ms=statistics.median(times) if times else None,
        timeouts=sum(1 for p in points if p.kind == "timeout"),
        false_starts=sum(1 for p in points if p.kind == "false_start"),
    )
