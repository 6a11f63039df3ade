"""Helpers of the fault tests: a participant's requests, and what a researcher reads back."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

TIMEOUT = 60


def instructions_study(screens: int) -> dict[str, Any]:
    """A study of `screens` instruction screens, each answered with F: a kiosk run whose every
    screen is one checkpointed trial."""
    return {
        "experiment_type": "trial-based",
        "task_type": "flanker",
        "timeline": [
            {"type": "instructions", "stimulus": f"Press F ({n + 1} of {screens}).",
             "choices": "ALL_KEYS"}
            for n in range(screens)
        ],
    }  # fmt: skip


def trial(index: int, filler: int = 0) -> dict[str, Any]:
    return {"trial_index": index, "rt_ms": 300 + index, "response": "left", "note": "x" * filler}


def publish_and_start(url: str, headers: dict[str, str] | None = None) -> str:
    slug = f"faults-{uuid.uuid4().hex[:8]}"
    config = {"experiment_type": "trial-based", "task_type": "rdm", "timeline": []}
    resp = requests.post(
        f"{url}/api/v1/configs/publish",
        json={"study_slug": slug, "study_name": slug, "config_version_label": "v1",
              "config": config},
        headers=headers, timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    resp = requests.post(
        f"{url}/api/v1/runs/start", json={"study_slug": slug, "participant_external_id": "P1"},
        headers=headers, timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    return str(resp.json()["run_session_id"])


def checkpoint(
    url: str,
    run_id: str,
    trials: list[dict[str, Any]],
    index: int,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/results/checkpoint",
        json={
            "run_session_id": run_id,
            "checkpoint_label": f"trial-{trials[-1]['trial_index']}",
            "checkpoint_index": index,
            "trial_count": trials[-1]["trial_index"] + 1,
            "result_payload": {"format": "cogflow-result-v1"},
            "trials": trials,
        },
        headers=headers,
        timeout=TIMEOUT,
    )


def submit(url: str, run_id: str, trials: list[dict[str, Any]]) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/results/submit",
        json={
            "run_session_id": run_id,
            "status": "completed",
            "trial_count": len(trials),
            "result_summary": {},
            "result_payload": {"format": "cogflow-result-v1"},
            "trials": trials,
        },
        timeout=TIMEOUT,
    )


def assert_one_sentence(resp: requests.Response, status: int, *words: str) -> str:
    """The answer has the status, a Retry-After, and one plain sentence naming the cause."""
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".")
    assert detail.count(". ") == 0, detail  # one sentence
    for word in words:
        assert word in detail.lower(), detail
    assert int(resp.headers["Retry-After"]) > 0
    return detail


@contextmanager
def small_filesystem(where: Path, size: str = "6m") -> Iterator[Path]:
    """A real, small filesystem (tmpfs) mounted at `where`; skipped where mounting is not
    permitted (not root, no CAP_SYS_ADMIN, not Linux)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a small filesystem is mounted with Linux's tmpfs; not on this platform")
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here ({exc}); the disk-full test needs root")
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({done.stderr.strip()}); "
            "the disk-full test needs root or CAP_SYS_ADMIN"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def fill_disk(folder: Path) -> Path:
    """Write a file until the filesystem has no byte left."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError:
            pass
        try:
            while True:
                out.write(b"\0" * 512)
        except OSError:
            pass
    return filler
