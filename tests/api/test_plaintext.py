"""A copy of the whole data folder reveals no payload, trial, participant id or secret.

Known marker strings are sent through the real server (submit, checkpoints, participant ids,
TOTP enrolment), then every file of the data folder (database, -wal, -shm, backups) is copied
while the server runs and searched byte by byte.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import checkpoint, new_slug, sample_config, start_run, submit, submit_body
from conftest import (
    LiveServer,
    enrolled_researcher,
    publish,
    start_live_server,
    stop_live_server,
)


def _marker(kind: str) -> str:
    return f"MK{kind}{uuid.uuid4().hex}"


def _leaks(folder: Path, secrets: dict[str, str]) -> list[str]:
    """Which secrets appear in any file, in UTF-8 or UTF-16 (SQLite's text encodings)."""
    found = []
    blobs = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    assert blobs, "nothing was copied"
    for name, value in secrets.items():
        forms = (value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be"))
        if any(form in blob for blob in blobs for form in forms):
            found.append(name)
    return found


@pytest.fixture()
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path / "data")
    yield live
    stop_live_server(live)


def test_data_folder_copy_holds_no_plaintext(own_server: LiveServer, tmp_path: Path) -> None:
    live = own_server
    url = live.url
    slug = new_slug("plain")
    publish(url, slug, sample_config())
    secrets = {
        "participant id (submitted run)": _marker("pid"),
        "participant id (checkpoint-only run)": _marker("pidcp"),
        "payload": _marker("payload"),
        "summary": _marker("summary"),
        "trial value": _marker("trial"),
        "trial key": _marker("trialkey"),
        "checkpoint payload": _marker("cppayload"),
        "checkpoint trial": _marker("cptrial"),
        "checkpoint-only payload": _marker("onlypayload"),
        "checkpoint-only trial": _marker("onlytrial"),
        "recovery key": live.recovery_key,
    }

    run = start_run(url, slug, secrets["participant id (submitted run)"])["run_session_id"]
    checkpoint(
        url,
        run,
        [{"trial_index": 0, "stimulus": secrets["checkpoint trial"]}],
        payload={"partial": secrets["checkpoint payload"]},
    )
    trials = [
        {"trial_index": 0, "stimulus": secrets["checkpoint trial"]},
        {"trial_index": 1, "response": secrets["trial value"], secrets["trial key"]: 1},
    ]
    body = submit_body(
        run,
        trials,
        payload={"notes": secrets["payload"]},
        summary={"comment": secrets["summary"]},
    )
    assert submit(url, body).status_code == 201

    only = start_run(url, slug, secrets["participant id (checkpoint-only run)"])
    resp = checkpoint(
        url,
        only["run_session_id"],
        [{"trial_index": 0, "response": secrets["checkpoint-only trial"]}],
        payload={"x": secrets["checkpoint-only payload"]},
    )
    assert resp.json()["stored"] is True

    researcher = enrolled_researcher(live)
    secrets["TOTP secret"] = researcher.totp_secret
    secrets["researcher password"] = f"pw-{researcher.username}-long-enough"
    # The markers really are in the results (the search below is not vacuous).
    decrypted = researcher.decrypt(run)
    assert decrypted["result_payload"]["notes"] == secrets["payload"]
    assert decrypted["trials"][1]["response"] == secrets["trial value"]

    live_copy = tmp_path / "copy-live"
    shutil.copytree(live.data_dir, live_copy)
    assert (live_copy / "cogflow.sqlite3-wal").exists()
    assert _leaks(live_copy, secrets) == []

    stop_live_server(live)  # checkpoints the WAL into the main file
    closed_copy = tmp_path / "copy-closed"
    shutil.copytree(live.data_dir, closed_copy)
    assert _leaks(closed_copy, secrets) == []


def test_leak_search_finds_what_is_there(tmp_path: Path) -> None:
    """The search itself works: a marker written in clear into a file is found."""
    (tmp_path / "f.bin").write_bytes(b"\x00abc" + "MKvisible".encode("utf-16-le"))
    assert _leaks(tmp_path, {"a": "MKvisible", "b": "MKabsent"}) == ["a"]
