"""`cogflow-desktop export` as a user runs it: a separate process on the data folder of a real
server that keeps running (SQLite WAL lets it read beside the server)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    LiveServer,
    Researcher,
    enrolled_researcher,
    start_live_server,
    stop_live_server,
)
from export_helpers import SeededRun, read_csv, seed_heterogeneous_study, sha256
from sqlalchemy import select

from cogflow_desktop.cli.export_cmd import ProgressBar
from cogflow_desktop.export import ExportOptions, ExportProgress, export_study
from cogflow_desktop.export.service import EXPORT_ACTION, PARTICIPANT_IDS_ACTION
from cogflow_desktop.services import users
from cogflow_desktop.store.models import AuditEvent

SECRET_ENV = ("COGFLOW_PASSWORD", "COGFLOW_TOTP_CODE", "COGFLOW_DATA_DIR")


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, list]]:
    """A server whose third run was left unfinished and then the app restarted (interrupted)."""
    data_dir = tmp_path_factory.mktemp("cli-data")
    live = start_live_server(data_dir)
    try:
        slug, runs = seed_heterogeneous_study(live.url)
    finally:
        stop_live_server(live)
    live = start_live_server(data_dir)  # restart: the unfinished run is now interrupted
    yield live, slug, runs
    stop_live_server(live)


def cli(
    live: LiveServer, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cogflow_desktop",
            "export",
            "--data-dir",
            str(live.data_dir),
            "--no-progress",
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env={**clean, **(env or {})},
    )


def password_of(researcher: Researcher) -> str:
    return f"pw-{researcher.username}-long-enough"  # as LiveServer.new_researcher_account


def next_code(researcher: Researcher) -> str:
    """The code of the next time step (this step's code was used to enrol)."""
    return pyotp.TOTP(researcher.totp_secret).at(time.time() + 30)


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in valid)


def events(live: LiveServer, slug: str, actor: str) -> list[AuditEvent]:
    with live.ctx.read() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.target == slug, AuditEvent.actor == actor)
                .order_by(AuditEvent.id)
            )
        )


def test_cli_csv_equals_the_service_export(
    cli_server: tuple[LiveServer, str, list[SeededRun]], tmp_path: Path
) -> None:
    live, slug, runs = cli_server
    who = enrolled_researcher(live)
    out = tmp_path / "cli.csv"
    done = cli(
        live,
        "--study",
        slug,
        "--format",
        "csv",
        "--out",
        str(out),
        "--user",
        who.username,
        "--password-stdin",
        "--totp-code",
        next_code(who),
        stdin=password_of(who) + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert "Exported 3 runs (9 trials)" in done.stdout
    assert f"sha256 {sha256(out.read_bytes())}  cli.csv" in done.stdout

    key = users.unlock_with_password(live.ctx, ADMIN_USER, ADMIN_PASSWORD)
    export_study(live.ctx, key, ExportOptions(slug, "csv", tmp_path / "svc.csv"), actor="t")
    assert out.read_bytes() == (tmp_path / "svc.csv").read_bytes()

    _header, rows, _raw = read_csv(out)
    last = [r for r in rows if r["run_session_id"] == runs[2].run_session_id]
    assert len(last) == len(runs[2].trials)
    assert {(r["status"], r["interrupted"]) for r in last} == {("started", "True")}
    ok = [e for e in events(live, slug, who.username) if e.action == EXPORT_ACTION]
    assert [(e.outcome, e.client, e.details["trials"]) for e in ok] == [("ok", "cli", 9)]


def test_cli_json_with_environment_secrets(
    cli_server: tuple[LiveServer, str, list[SeededRun]], tmp_path: Path
) -> None:
    live, slug, runs = cli_server
    who = enrolled_researcher(live)
    out = tmp_path / "r.json"
    done = cli(
        live,
        "--study",
        slug,
        "--format",
        "json",
        "--out",
        str(out),
        "--user",
        who.username,
        env={"COGFLOW_PASSWORD": password_of(who), "COGFLOW_TOTP_CODE": next_code(who)},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["trials"] for r in doc["runs"]] == [r.trials for r in runs]
    assert [r["interrupted"] for r in doc["runs"]] == [False, False, True]
    assert doc["runs"][2]["result_payload"] == runs[2].result_payload  # from the checkpoint


def test_cli_refuses_without_totp_and_audits_it(
    cli_server: tuple[LiveServer, str, list[SeededRun]], tmp_path: Path
) -> None:
    live, slug, _runs = cli_server
    who = enrolled_researcher(live)
    out = tmp_path / "no.csv"
    done = cli(
        live,
        "--study",
        slug,
        "--format",
        "csv",
        "--out",
        str(out),
        "--user",
        who.username,
        "--password-stdin",
        stdin=password_of(who) + "\n",
    )
    assert done.returncode == 1
    assert done.stderr == (
        "cogflow-desktop: An export needs a current TOTP code: pass --totp-code or set "
        "COGFLOW_TOTP_CODE.\n"
    )
    assert list(tmp_path.iterdir()) == []
    (denied,) = [e for e in events(live, slug, who.username) if e.action == EXPORT_ACTION]
    assert denied.outcome == "denied" and denied.details["reason"] == "no TOTP code given"


def test_cli_refuses_a_wrong_code_and_a_wrong_password(
    cli_server: tuple[LiveServer, str, list[SeededRun]], tmp_path: Path
) -> None:
    live, slug, _runs = cli_server
    who = enrolled_researcher(live)
    out = tmp_path / "no.csv"
    base = ("--study", slug, "--format", "csv", "--out", str(out), "--user", who.username)
    bad_code = cli(
        live,
        *base,
        "--password-stdin",
        "--totp-code",
        wrong_code(who.totp_secret),
        stdin=password_of(who) + "\n",
    )
    assert bad_code.returncode == 1
    assert bad_code.stderr == "cogflow-desktop: Invalid TOTP code.\n"
    bad_password = cli(
        live, *base, "--password-stdin", "--totp-code", next_code(who), stdin="not it\n"
    )
    assert bad_password.returncode == 1
    assert bad_password.stderr == "cogflow-desktop: The username or password is not correct.\n"
    assert list(tmp_path.iterdir()) == []
    refusals = [e for e in events(live, slug, who.username) if e.action == EXPORT_ACTION]
    assert [(e.outcome, e.details["reason"]) for e in refusals] == [
        ("denied", "Invalid TOTP code."),
        ("denied", "Invalid credentials."),
    ]


def test_cli_raw_ids_on_request_are_audited_apart(
    cli_server: tuple[LiveServer, str, list[SeededRun]], tmp_path: Path
) -> None:
    live, slug, runs = cli_server
    who = enrolled_researcher(live)
    out = tmp_path / "ids.zip"
    done = cli(
        live,
        "--study",
        slug,
        "--format",
        "zip",
        "--out",
        str(out),
        "--user",
        who.username,
        "--password-stdin",
        "--totp-code",
        next_code(who),
        "--include-participant-ids",
        stdin=password_of(who) + "\n",
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        text = zf.read(f"{slug}_trials.csv").decode("utf-8")
    assert all(r.participant in text for r in runs)
    actions = [e.action for e in events(live, slug, who.username)]
    assert actions == [PARTICIPANT_IDS_ACTION, EXPORT_ACTION]


def test_progress_bar_draws_in_place() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(ExportProgress(0, 2, 0, 480))
    bar(ExportProgress(1, 2, 240, 480))
    bar(ExportProgress(1, 2, 240, 480))  # unchanged: not redrawn
    bar(ExportProgress(2, 2, 480, 480))
    bar.close()
    frames = stream.getvalue().split("\r")[1:]
    assert len(frames) == 3
    assert frames[1] == f"Exporting [{'#' * 15}{'.' * 15}] 1/2 runs, 240/480 trials"
    assert frames[2] == f"Exporting [{'#' * 30}] 2/2 runs, 480/480 trials\n"


def test_cli_parquet_beside_csv_and_refused_for_a_folder_format(
    cli_server: tuple[LiveServer, str, list[SeededRun]], tmp_path: Path
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    live, slug, _runs = cli_server
    who = enrolled_researcher(live)
    out = tmp_path / "typed.csv"
    common = ["--study", slug, "--user", who.username, "--password-stdin"]
    done = cli(
        live,
        *common,
        "--format",
        "csv",
        "--parquet",
        "--out",
        str(out),
        "--totp-code",
        next_code(who),
        stdin=password_of(who) + "\n",
    )
    assert done.returncode == 0, done.stderr
    parquet = out.with_suffix(".parquet")
    assert f"sha256 {sha256(parquet.read_bytes())}  typed.parquet" in done.stdout
    table = pq.read_table(parquet)
    _header, rows, _raw = read_csv(out)
    assert table.num_rows == len(rows) == 9
    assert str(table.schema.field("trial_index").type) == "int64"

    other = enrolled_researcher(live)  # a TOTP step is accepted once per account
    refused = cli(
        live,
        "--study",
        slug,
        "--user",
        other.username,
        "--password-stdin",
        "--format",
        "bids",
        "--parquet",
        "--out",
        str(tmp_path / "bids"),
        "--totp-code",
        next_code(other),
        stdin=password_of(other) + "\n",
    )
    assert refused.returncode != 0
    assert "--parquet needs the csv or zip format, not bids" in refused.stderr
    assert not (tmp_path / "bids").exists()
