"""The CSV sink's bytes equal what the csv module writes for the same table, value for value,
whatever the cells hold (quotes, commas, line breaks, nested values, odd floats) and however
late a new field appears. The reference below is built independently with csv.writer."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cogflow_desktop.export.csv_format import CsvSink
from cogflow_desktop.export.source import RunRecord

META = [
    "study_slug",
    "config_version_label",
    "run_session_id",
    "participant_key",
    "status",
    "interrupted",
    "started_at",
    "completed_at",
]
VOCAB = [
    "trial_index",
    "component_type",
    "rt_ms",
    "response",
    "correct",
    "stimulus_onset_ms",
    "ended_reason",
]
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def run_record(i: int, *, label: str = "v1", completed: bool = True) -> RunRecord:
    return RunRecord(
        study_slug="s-1",
        config_version_label=label,
        task_type="flanker",
        run_session_id=f"00000000-0000-4000-8000-{i:012d}",
        participant_key=f"{i:064x}",
        status="completed" if completed else "started",
        interrupted=not completed,
        started_at=T0 + timedelta(minutes=i),
        completed_at=T0 + timedelta(minutes=i, seconds=30) if completed else None,
        trial_count=0,
        result_payload={},
        result_summary={},
    )


def reference(runs: list[tuple[RunRecord, list[dict[str, Any]]]]) -> bytes:
    fields = list(VOCAB)
    for _run, trials in runs:
        for t in trials:
            fields += [k for k in t if k not in fields]

    def cell(v: Any) -> Any:
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        return "" if v is None else v

    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow([*META, *(f"trial.{f}" if f in META else f for f in fields)])
    for run, trials in runs:
        meta = [
            run.study_slug,
            run.config_version_label,
            run.run_session_id,
            run.participant_key,
            run.status,
            run.interrupted,
            run.started_at.isoformat(),
            run.completed_at.isoformat() if run.completed_at else "",
        ]
        for t in trials:
            w.writerow([*meta, *(cell(t.get(f)) for f in fields)])
    return buf.getvalue().encode("utf-8")


def export(tmp_path: Path, runs: list[tuple[RunRecord, list[dict[str, Any]]]]) -> bytes:
    out = tmp_path / "out.csv"
    sink = CsvSink(out, include_participant_ids=False)
    for run, trials in runs:
        sink.begin_run(run)
        for at in range(0, len(trials), 7):  # pages that split runs at odd places
            sink.add_trials([dict(t) for t in trials[at : at + 7]])
        sink.end_run()
    (written,) = sink.finish()
    data = out.read_bytes()
    assert written.bytes == len(data)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no spill left behind
    return data


def plain(i: int) -> dict[str, Any]:
    return {
        "trial_index": i,
        "component_type": "flanker-trial",
        "rt_ms": 350.0 + i / 8,
        "response": "arrowleft" if i % 2 else "arrowright",
        "correct": i % 3 != 0,
        "stimulus_onset_ms": 1000.0 * i + 0.1,
        "ended_reason": "response",
        "block_index": i // 10,
    }


ODD_VALUES: list[Any] = [
    'say "hi"',
    "a,b",
    "line\nbreak",
    "carriage\rreturn",
    "crlf\r\nend",
    "tab\tand ünïcödé ✓",
    "",
    " leading space",
    "{braces} and {0}",
    "None",
    None,
    True,
    False,
    0,
    -7,
    2**70,
    1e16,
    1e-05,
    -0.0,
    0.1 + 0.2,
    math.inf,
    math.nan,
    {"mood": 'Ça va, "très" bien', "n": [1, 2.5, None]},
    [],
    ["a", "b"],
]


def test_odd_cells_are_written_as_the_csv_module_writes_them(tmp_path: Path) -> None:
    trials = []
    for i, value in enumerate(ODD_VALUES):
        trial = plain(i)
        trial["response"] = value
        trial["extra"] = value
        if i % 4 == 0:
            del trial["correct"]  # absent, not None
        trials.append(trial)
    runs = [(run_record(1), trials), (run_record(2, label='v "2", final'), trials[::-1])]
    assert export(tmp_path, runs) == reference(runs)


@pytest.mark.parametrize("late_value", ["plain", "with\r\nbreak"])
@pytest.mark.parametrize("early_value", ["plain", "with\r\nbreak", 'q"uote'])
def test_late_new_fields_pad_earlier_rows_exactly(
    tmp_path: Path, early_value: str, late_value: str
) -> None:
    # Earlier rows spill in several chunks (well over the 1 MiB chunk size) before a field
    # first appears in the last run, so every earlier chunk is padded on assembly.
    runs = []
    for r in range(20):
        trials = [{**plain(i), "note": early_value * 40} for i in range(240)]
        runs.append((run_record(r), trials))
    last = [{**plain(i), "late": late_value, "later": i} for i in range(5)]
    runs.append((run_record(99, completed=False), last))
    data = export(tmp_path, runs)
    assert len(data) > 2 * 2**20
    assert data == reference(runs)


def test_fields_in_a_different_order_and_types_per_row(tmp_path: Path) -> None:
    a = plain(1)
    b = dict(reversed(list(plain(2).items())))  # same fields, other order
    c = {**plain(3), "rt_ms": None, "stimulus_onset_ms": 12}  # other types
    d = {"status": "own", "trial_index": 4, "duration": 3.5}  # names of export columns
    runs = [(run_record(1), [a, b, c, d, a, b])]
    data = export(tmp_path, runs)
    assert data == reference(runs)
    assert data.splitlines()[0].decode().endswith("block_index,trial.status,duration")


def test_float_columns_of_whole_pages_are_written_as_repr(tmp_path: Path) -> None:
    # Pages whose rows all have one shape take the page path (float columns turned to text in
    # one go); every float there must still be exactly its repr(), as csv.writer writes it.
    rng = random.Random(15)
    edge = [0.0, -0.0, 1e16, 9999999999999998.0, 1e-4, 9.999999999999999e-05, 2.9e-05, 1e-09]
    edge += [5e-324, 1.7976931348623157e308, math.inf, -math.inf, math.nan, 0.1 + 0.2, 2.0**53]
    bits = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    values = edge + bits + [rng.uniform(0, 5000) for _ in range(1000)]
    trials = [{**plain(i), "x": x, "y": -x / 3} for i, x in enumerate(values)]
    runs = [(run_record(1), trials[:2000]), (run_record(2), trials[2000:])]
    assert export(tmp_path, runs) == reference(runs)
