"""Exports of really recorded runs of every compat config family pass the field's validators,
and their tables load with the right types.

The runs were recorded by the Interpreter in Chromium (tests/export/record_compat_runs.py) and
are replayed here through the real HTTP API into one study: one config version per family,
three participants, plus a run that never finished. That study is exported once in every
format; the official BIDS validators (bids-validator-deno from PyPI, and the npm
bids-validator 1.15) must report no error, the Psych-DS rules must hold, continuous streams
must come out as long tables, and every CSV must load in pandas with the README's one-liner.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_PASSWORD, ADMIN_USER, COMPAT_DIR, REPO_ROOT, LiveServer, publish
from export_helpers import new_slug, post, read_tsv
from validators import (
    deno_validator,
    npm_validator,
    psychds_problems,
    run_deno,
    run_npm,
)

from cogflow_desktop.export import ExportOptions, export_study
from cogflow_desktop.services import users

RECORDED = REPO_ROOT / "tests" / "fixtures" / "recorded"
FAMILIES = sorted(p.stem for p in RECORDED.glob("*.json"))
PARTICIPANTS = ("P-ada", "P-bo", "P-cy")
VOCAB = (
    "trial_index",
    "component_type",
    "rt_ms",
    "response",
    "correct",
    "stimulus_onset_ms",
    "ended_reason",
)
# What the README's pandas one-liner must give the vocabulary columns.
VOCAB_DTYPES = {
    "trial_index": "Int64",
    "component_type": "string",
    "rt_ms": "Float64",
    "response": "string",
    "correct": "boolean",
    "stimulus_onset_ms": "Float64",
    "ended_reason": "string",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def study(live_server: LiveServer) -> tuple[str, list[dict[str, Any]]]:
    slug = new_slug("std")
    runs = []
    for i, name in enumerate(FAMILIES):
        rec = load(name)
        config = json.loads((COMPAT_DIR / rec["config"]).read_text(encoding="utf-8"))
        publish(live_server.url, slug, config, label=f"v{i + 1}", name=f"Standards {slug}")
        who = PARTICIPANTS[i % len(PARTICIPANTS)]
        started = post(
            live_server.url,
            "/api/v1/runs/start",
            {"study_slug": slug, "participant_external_id": who},
        )
        body = {
            "run_session_id": started["run_session_id"],
            "trial_count": len(rec["trials"]),
            "result_payload": rec["result_payload"],
            "trials": rec["trials"],
        }
        if i == 0:  # this participant's first run never finished: checkpointed trials only
            post(
                live_server.url,
                "/api/v1/results/checkpoint",
                {**body, "checkpoint_label": "mid-run", "checkpoint_index": 0},
            )
        else:
            post(
                live_server.url,
                "/api/v1/results/submit",
                {**body, "status": "completed", "result_summary": rec["result_summary"]},
            )
        runs.append({"name": name, "run_session_id": started["run_session_id"], **rec})
    return slug, runs


@pytest.fixture(scope="module")
def exports(
    live_server: LiveServer, study: tuple[str, list[dict[str, Any]]], tmp_path_factory: Any
) -> dict[str, Path]:
    slug, _runs = study
    folder = tmp_path_factory.mktemp("standards")
    key = users.unlock_with_password(live_server.ctx, ADMIN_USER, ADMIN_PASSWORD)
    out = {
        "bids": folder / "bids",
        "psychds": folder / "psychds",
        "csv": folder / "study.csv",
        "zip": folder / "study.zip",
    }
    for fmt, target in out.items():
        options = ExportOptions(slug, fmt, target, parquet=fmt in ("csv", "zip"))
        export_study(live_server.ctx, key, options, actor=ADMIN_USER, client="test")
    return out


def test_every_compat_config_that_runs_has_a_recording() -> None:
    """The recordings are not stale: each config that the Interpreter runs has one (refused
    configs are recorded as absent by record_compat_runs.py and listed here)."""
    configs = {p.stem for p in (COMPAT_DIR / "configs").glob("*.json")}
    missing = sorted(configs - set(FAMILIES))
    assert not missing, f"run tests/export/record_compat_runs.py for {missing}"
    tasks = {load(n)["task_type"] for n in FAMILIES}
    for family in ("flanker", "sart", "stroop", "simon", "pvt", "nback", "rdm"):
        assert family in tasks, family
    assert any(t["component_type"] == "rdm-continuous" for n in FAMILIES for t in load(n)["trials"])


def test_bids_current_validator_reports_no_error(exports: dict[str, Path]) -> None:
    if deno_validator() is None:
        pytest.fail(
            "bids-validator-deno is missing: install the test extra (pip install -e .[test])"
        )
    issues = run_deno(exports["bids"])
    errors = [i for i in issues if i["severity"] == "error"]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    assert any(i["severity"] == "warning" for i in issues), "the validator really ran"


def test_bids_legacy_npm_validator_reports_no_error(exports: dict[str, Path]) -> None:
    script, why = npm_validator()
    if script is None:
        pytest.skip(why)
    issues = run_npm(script, exports["bids"])
    assert not issues["errors"], json.dumps(issues["errors"], indent=1)[:4000]


def test_bids_layout_and_labels(
    exports: dict[str, Path], study: tuple[str, list[dict[str, Any]]]
) -> None:
    root = exports["bids"]
    _slug, runs = study
    _h, participants = read_tsv(root / "participants.tsv")
    assert len(participants) == len(PARTICIPANTS)
    for run in runs:
        ses = f"ses-{run['run_session_id'].replace('-', '')[:8]}"
        (beh,) = root.glob(f"sub-*/{ses}/beh/sub-*_{ses}_task-*_beh.tsv")
        assert re.fullmatch(
            r"sub-[0-9a-f]{16}_ses-[0-9a-f]{8}_task-[A-Za-z0-9]+_beh\.tsv", beh.name
        )
        header, rows = read_tsv(beh)
        assert len(rows) == len(run["trials"])
        sidecar = json.loads(beh.with_suffix(".json").read_text())
        assert set(header) <= set(sidecar)
        assert not any(h == "records" for h in header)


def test_psychds_dataset_follows_the_rules(exports: dict[str, Path]) -> None:
    root = exports["psychds"]
    assert psychds_problems(root) == []
    names = sorted(p.name for p in (root / "data").iterdir())
    assert names[0].startswith("study-") and any("_description-rdmframes_" in n for n in names)
    assert (root / "README.md").exists() and (root / "CHANGES.md").exists()
    assert "manifest.json" in (root / ".psychdsignore").read_text().split()


def test_psychds_rules_catch_mistakes(exports: dict[str, Path], tmp_path: Path) -> None:
    """The checker fails on what the Psych-DS validator rejects (so its pass means something)."""
    broken = tmp_path / "broken"
    shutil.copytree(exports["psychds"], broken)
    (data,) = [p for p in (broken / "data").iterdir() if "_description-" not in p.name]
    data.rename(data.with_name("trials data.csv"))
    desc = json.loads((broken / "dataset_description.json").read_text())
    desc["variableMeasured"] = [
        v for v in desc["variableMeasured"] if v["name"] != "run_session_id"
    ]
    del desc["description"]
    (broken / "dataset_description.json").write_text(json.dumps(desc))
    found = " ".join(psychds_problems(broken))
    assert "FILENAME_KEYWORD_FORMATTING_ERROR" in found
    assert "JSON_KEY_REQUIRED: description" in found
    assert "CSV_COLUMN_MISSING_FROM_METADATA" in found


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_continuous_streams_are_long_tables(
    exports: dict[str, Path], study: tuple[str, list[dict[str, Any]]]
) -> None:
    _slug, runs = study
    continuous = [
        (run["run_session_id"], t)
        for run in runs
        for t in run["trials"]
        if t["component_type"] == "rdm-continuous"
    ]
    assert continuous
    trials = _csv_rows(exports["csv"])
    assert "records" not in trials[0] and "records_count" in trials[0]
    frames = _csv_rows(exports["csv"].with_name("study_rdm_frames.csv"))
    assert len(frames) == sum(len(t["records"]) for _r, t in continuous)
    keys = {(r["run_session_id"], r["trial_index"]) for r in trials}
    assert {(f["run_session_id"], f["trial_index"]) for f in frames} <= keys
    for run_id, t in continuous:
        (row,) = [
            r
            for r in trials
            if r["run_session_id"] == run_id and r["trial_index"] == str(t["trial_index"])
        ]
        assert int(row["records_count"]) == len(t["records"])
        key = (run_id, str(t["trial_index"]))
        mine = [f for f in frames if (f["run_session_id"], f["trial_index"]) == key]
        for frame, record in zip(mine, t["records"], strict=True):
            assert int(frame["frame_index"]) == record["frame_index"]
            assert float(frame["coherence"]) == pytest.approx(record["coherence"])
            assert int(frame["responses_count"]) == len(record["responses"])
    responses = sum(len(r["responses"]) for _r, t in continuous for r in t["records"])
    path = exports["csv"].with_name("study_rdm_responses.csv")
    assert (len(_csv_rows(path)) if path.exists() else 0) == responses
    sourcedata = list(exports["bids"].glob("sourcedata/sub-*/ses-*/beh/*_rdm_frames.tsv"))
    assert len(sourcedata) == len({r for r, _t in continuous})
    with zipfile.ZipFile(exports["zip"]) as zf:
        names = set(zf.namelist())
    slug = _slug
    assert {f"{slug}_rdm_frames.csv", f"{slug}_rdm_frames.parquet"} <= names


def readme_line(prefix: str) -> str:
    """A one-liner from the README's "Exporting results" section (so the README is tested)."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith(prefix)]
    return line


def _pandas_load(line: str, path: Path) -> Any:
    import pandas as pd

    code = re.sub(r'read_csv\("[^"]+"', f"read_csv({str(path)!r}", line)
    scope: dict[str, Any] = {"pd": pd}
    exec(code, scope)
    return scope[line.split("=", 1)[0].strip()]


def test_every_csv_loads_in_pandas_with_the_readme_types(exports: dict[str, Path]) -> None:
    pytest.importorskip("pandas")
    trials_line = readme_line("trials = pd.read_csv(")
    stream_line = readme_line("frames = pd.read_csv(")
    beh_line = readme_line("beh = pd.read_csv(")
    data = sorted((exports["psychds"] / "data").glob("*.csv"))
    trial_tables = [exports["csv"], *(p for p in data if "_description-" not in p.name)]
    stream_tables = [
        *sorted(exports["csv"].parent.glob("study_*.csv")),
        *(p for p in data if "_description-" in p.name),
    ]
    tables = [(p, True) for p in trial_tables] + [(p, False) for p in stream_tables]
    checked = 0
    for path, is_trials in tables:
        frame = _pandas_load(trials_line if is_trials else stream_line, path)
        with open(path, encoding="utf-8", newline="") as fh:
            assert len(frame) == sum(1 for _ in csv.reader(fh)) - 1
        want = VOCAB_DTYPES if is_trials else {"trial_index": "Int64"}
        for column, dtype in want.items():
            assert str(frame[column].dtype) == dtype, (path.name, column, frame[column].dtype)
        assert str(frame["run_session_id"].dtype) == "string"
        if is_trials:
            assert str(frame["started_at"].dtype).startswith("datetime64")
            assert frame["correct"].isin([True, False]).any()
        checked += 1
    assert checked >= 4
    for path in sorted(exports["bids"].glob("sub-*/ses-*/beh/*_beh.tsv"))[:5]:
        frame = _pandas_load(beh_line, path)
        for column, dtype in VOCAB_DTYPES.items():
            assert str(frame[column].dtype) == dtype, (path.name, column)


def test_parquet_has_typed_columns_and_the_codebook(exports: dict[str, Path]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    table = pq.read_table(exports["csv"].with_suffix(".parquet"))
    types = {f.name: f.type for f in table.schema}
    assert types["trial_index"] == pa.int64() and types["rt_ms"] == pa.float64()
    assert types["correct"] == pa.bool_() and types["component_type"] == pa.string()
    assert types["started_at"] == pa.timestamp("us", tz="UTC")
    assert types["records_count"] == pa.int64()
    meta = table.schema.field("rt_ms").metadata
    assert meta[b"units"] == b"ms" and meta[b"description"]
    codebook = json.loads(table.schema.metadata[b"cogflow.codebook"])
    assert [c["name"] for c in codebook] == table.column_names
    rows = _csv_rows(exports["csv"])
    assert table.num_rows == len(rows)
    got = table.column("trial_index").to_pylist()
    assert got == [int(r["trial_index"]) for r in rows]
    frames = pq.read_table(exports["csv"].with_name("study_rdm_frames.parquet"))
    assert frames.schema.field("coherence").type == pa.float64()
