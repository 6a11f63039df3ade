"""A damaged database, read around: `export --salvage` opens a private copy of it, needs the
researcher's password and TOTP code like every export, keeps every run and trial whose
ciphertext still authenticates, names the rest in a report, and leaves the damaged file as it
was, byte for byte."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
import time
from pathlib import Path

import pyotp
import pytest
from damage_helpers import researcher_and_study

from cogflow_desktop.cli import main as cli_main
from cogflow_desktop.services import runs
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings

PASSWORD = "alice's long passphrase"
TRIALS = 30
SECRET = "participant-answer-5c1d"  # plaintext that must not appear outside the export


def _record(settings: Settings) -> tuple[list[str], str]:
    """Four runs of TRIALS trials each, through the services; returns their ids and a TOTP
    secret of the researcher."""
    ctx = open_context(settings)
    try:
        secret = researcher_and_study(ctx, PASSWORD)
        ids = []
        for n in range(4):
            run_id = runs.start_run(ctx, "s", f"P-{n}", actor="t", client="t")["run_session_id"]
            rows = [
                {
                    "trial_index": i,
                    "response": f"{SECRET}-{n}-{i}",
                    "pad": "y" * 600,
                    "big": 2**70 + i,
                }
                for i in range(TRIALS)
            ]
            runs.checkpoint(
                ctx,
                runs.CheckpointRequest(run_id, "t", 0, TRIALS, {"p": n}, rows),
                actor="t",
                client="t",
            )
            ids.append(str(run_id))
    finally:
        ctx.close()
    return ids, secret


def _ciphertext(db: Path, run_id: str, index: int) -> bytes:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT ciphertext FROM trial_records WHERE run_id = ? AND trial_index = ?",
            (run_id, index),
        ).fetchone()
        return bytes(row[0])


def _page_size(db: Path) -> int:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _folder(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): _digest(p) for p in data_dir.rglob("*") if p.is_file()}


def _export(
    settings: Settings, out: Path, code: str, *extra: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    return cli_main(
        ["export", "--study", "s", "--format", "csv", "--out", str(out), "--user", "alice",
         "--password-stdin", "--totp-code", code, "--no-progress",
         "--data-dir", str(settings.data_dir), *extra]
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COGFLOW_DATA_DIR", "COGFLOW_PASSWORD", "COGFLOW_TOTP_CODE"):
        monkeypatch.delenv(name, raising=False)


def test_salvage_export_keeps_what_authenticates_and_names_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(tmp_path / "data")
    ids, secret = _record(settings)
    db = settings.db_path
    assert not db.with_name(db.name + "-wal").exists()  # everything is in the main file
    data = db.read_bytes()
    page = _page_size(db)

    # A bad sector: the page holding trial 15 of the second run becomes garbage.
    lost_at = data.index(_ciphertext(db, ids[1], 15))
    lost_page = lost_at - lost_at % page
    # A flipped bit inside a ciphertext: the page still reads, the trial does not authenticate.
    flipped_at = data.index(_ciphertext(db, ids[2], 5)) + 40
    assert flipped_at // page != lost_page // page
    with db.open("r+b") as f:
        f.seek(lost_page)
        f.write(os.urandom(page))
        f.seek(flipped_at)
        f.write(bytes([data[flipped_at] ^ 0x01]))
    before = _digest(db)
    out = tmp_path / "exports" / "salvaged.csv"
    out.parent.mkdir()
    code = pyotp.TOTP(secret).at(time.time() + 30)

    # Without --salvage the damaged database is refused, and the refusal says what to do.
    assert _export(settings, out, code, monkeypatch=monkeypatch) == 1
    err = capsys.readouterr().err
    assert "is damaged" in err and "--salvage" in err
    assert not out.exists()

    # A wrong password is refused in salvage mode as everywhere.
    monkeypatch.setattr("sys.stdin", io.StringIO("not the password\n"))
    refused = cli_main(
        ["export", "--salvage", "--study", "s", "--format", "csv", "--out", str(out),
         "--user", "alice", "--password-stdin", "--totp-code", code, "--no-progress",
         "--data-dir", str(settings.data_dir)]
    )  # fmt: skip
    assert refused == 1 and not out.exists()
    capsys.readouterr()

    folder_before = _folder(settings.data_dir)
    status = _export(settings, out, code, "--salvage", monkeypatch=monkeypatch)
    _, err = capsys.readouterr()
    assert status == 3, err  # written, but not everything could be read
    assert _digest(db) == before, "the damaged database must not be written to"
    assert _folder(settings.data_dir) == folder_before  # no companion file made or changed

    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_run: dict[str, dict[int, str]] = {}
    for row in rows:
        by_run.setdefault(row["run_session_id"], {})[int(row["trial_index"])] = row["response"]
    for n in (0, 3):  # the intact runs, complete
        assert by_run[ids[n]] == {i: f"{SECRET}-{n}-{i}" for i in range(TRIALS)}
    # Integers beyond 64 bits keep every digit (orjson alone would read them as floats).
    assert {r["big"] for r in rows if r["run_session_id"] == ids[0]} == {
        str(2**70 + i) for i in range(TRIALS)
    }
    damaged = by_run.get(ids[1], {})
    assert 15 not in damaged and len(damaged) < TRIALS
    assert all(value == f"{SECRET}-1-{i}" for i, value in damaged.items())
    assert by_run[ids[2]] == {i: f"{SECRET}-2-{i}" for i in range(TRIALS) if i != 5}

    report = out.with_name(out.name + ".salvage-report.txt")
    text = report.read_text(encoding="utf-8")
    assert SECRET not in text
    assert ids[0] not in text and ids[3] not in text
    assert ids[1] in text and "could not be read" in text
    assert ids[2] in text and "trial 5" in text and "did not authenticate" in text
    assert err.count("\n") == 1 and str(report) in err  # one sentence on stderr
    assert ids[1] in err and ids[2] in err


def test_salvage_is_only_for_a_damaged_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(tmp_path / "data")
    _, secret = _record(settings)
    out = tmp_path / "out.csv"
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert _export(settings, out, code, "--salvage", monkeypatch=monkeypatch) == 1
    err = capsys.readouterr().err
    assert "passed its integrity check" in err and "without --salvage" in err
    assert not out.exists()
