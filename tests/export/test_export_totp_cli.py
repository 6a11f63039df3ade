"""Scripted enrolment: `users totp-setup` then `export`, all from the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pyotp
from conftest import start_live_server, stop_live_server
from export_helpers import read_csv, seed_heterogeneous_study

SECRET_ENV = ("COGFLOW_PASSWORD", "COGFLOW_TOTP_CODE", "COGFLOW_DATA_DIR")


def cli(data_dir: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    return subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_enrol_then_export_from_the_command_line(tmp_path: Path) -> None:
    live = start_live_server(tmp_path / "data")
    try:
        slug, runs = seed_heterogeneous_study(live.url)
        name, password = live.new_researcher_account("scripted")
        pw = password + "\n"

        first = cli(live.data_dir, "users", "totp-setup", name, "--password-stdin", stdin=pw)
        assert first.returncode == 0, first.stderr
        assert "Not active yet" in first.stdout
        secret = re.search(r"TOTP secret for \S+: (\S+)", first.stdout).group(1)  # type: ignore[union-attr]
        assert "otpauth://totp/" in first.stdout

        code = pyotp.TOTP(secret).now()
        second = cli(
            live.data_dir,
            "users",
            "totp-setup",
            name,
            "--password-stdin",
            "--code",
            code,
            stdin=pw,
        )
        assert second.returncode == 0, second.stderr
        assert f"TOTP secret for {name}: {secret}" in second.stdout  # same pending secret
        assert f"TOTP is on for {name}." in second.stdout

        again = cli(live.data_dir, "users", "totp-setup", name, "--password-stdin", stdin=pw)
        assert again.returncode == 1 and secret not in again.stdout + again.stderr

        out = tmp_path / "scripted.csv"
        export = cli(
            live.data_dir,
            "export",
            "--study",
            slug,
            "--format",
            "csv",
            "--out",
            str(out),
            "--user",
            name,
            "--password-stdin",
            "--no-progress",
            "--totp-code",
            pyotp.TOTP(secret).at(time.time() + 30),
            stdin=pw,
        )
        assert export.returncode == 0, export.stderr
        _header, rows, _raw = read_csv(out)
        assert len(rows) == sum(len(r.trials) for r in runs)
    finally:
        stop_live_server(live)
