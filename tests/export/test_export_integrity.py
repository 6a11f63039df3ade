"""The fast read path keeps every check: each trial is authenticated against its own row (a
ciphertext swapped or moved between rows stops the export, leaving nothing), and values orjson
refuses (NaN, huge integers) are still read, by the json module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from export_helpers import read_csv
from sqlalchemy import select, update

from cogflow_desktop.export import ExportOptions, export_study
from cogflow_desktop.security import envelopes
from cogflow_desktop.services import results, runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.services.errors import Corrupted
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import TrialRecord

USER, PASSWORD = "exporter", "export password long enough"
SLUG = "integrity"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    ctx = open_context(Settings.from_env(tmp_path / "data"))
    users.create_user(ctx, USER, PASSWORD)
    studies.publish(
        ctx,
        studies.PublishRequest(
            SLUG, "Integrity", "v1", {"experiment_type": "trial-based", "timeline": []}
        ),
        actor="test",
        client=None,
    )
    yield ctx
    ctx.close()


def submit(ctx: Context, participant: str, trials: list[dict[str, Any]]) -> str:
    run_id = runs.start_run(ctx, SLUG, participant, actor="test", client=None)["run_session_id"]
    runs.submit(
        ctx,
        runs.SubmitRequest(run_id, "completed", len(trials), {}, {}, trials),
        actor="test",
        client=None,
    )
    return str(run_id)


def key(ctx: Context) -> X25519PrivateKey:
    return users.unlock_with_password(ctx, USER, PASSWORD)


def trials(n: int) -> list[dict[str, Any]]:
    return [{"trial_index": i, "rt_ms": 400.5 + i, "response": "x"} for i in range(n)]


def test_values_orjson_refuses_are_read_by_the_json_module(ctx: Context, tmp_path: Path) -> None:
    odd = [
        {"trial_index": 0, "rt_ms": float("nan"), "big": 2**80},
        {"trial_index": 1, "rt_ms": float("-inf"), "big": -(2**70)},
        {"trial_index": 2, "rt_ms": 1.5, "big": 3},
    ]
    run_id = submit(ctx, "P1", odd)
    out = tmp_path / "odd.csv"
    export_study(ctx, key(ctx), ExportOptions(SLUG, "csv", out), actor=USER)
    _header, rows, _raw = read_csv(out)
    assert [r["rt_ms"] for r in rows] == ["nan", "-inf", "1.5"]
    assert [r["big"] for r in rows] == [str(2**80), str(-(2**70)), "3"]
    with ctx.read() as s:  # the public reader agrees
        got = list(results.iter_trials(s, results.RunKeys(s, key(ctx), run_id), run_id))
    assert got[0]["big"] == 2**80 and got[2] == odd[2]


def test_huge_integers_alone_keep_every_digit(ctx: Context, tmp_path: Path) -> None:
    # orjson reads an integer beyond 64 bits as a float without complaint; a trial holding one
    # and nothing orjson refuses must still come back as the integer that was stored.
    big = [
        {"trial_index": 0, "rt_ms": 1.5, "big": 2**80},
        {"trial_index": 1, "rt_ms": 2.5, "big": -(2**70), "note": "x" * 20},
    ]
    run_id = submit(ctx, "P2", big)
    out = tmp_path / "big.csv"
    export_study(ctx, key(ctx), ExportOptions(SLUG, "csv", out), actor=USER)
    _header, rows, _raw = read_csv(out)
    assert [r["big"] for r in rows] == [str(2**80), str(-(2**70))]
    with ctx.read() as s:
        got = list(results.iter_trials(s, results.RunKeys(s, key(ctx), run_id), run_id))
    assert got == big and isinstance(got[0]["big"], int)


def _swap(ctx: Context, a: tuple[str, int], b: tuple[str, int]) -> None:
    def where(at: tuple[str, int]) -> Any:
        return (TrialRecord.run_id == at[0]) & (TrialRecord.trial_index == at[1])

    with ctx.write() as s:
        blob_a = s.scalar(select(TrialRecord.ciphertext).where(where(a)))
        blob_b = s.scalar(select(TrialRecord.ciphertext).where(where(b)))
        s.execute(update(TrialRecord).where(where(a)).values(ciphertext=blob_b))
        s.execute(update(TrialRecord).where(where(b)).values(ciphertext=blob_a))


@pytest.mark.parametrize("moved", ["within a run", "between runs"])
def test_a_ciphertext_on_another_row_stops_the_export(
    ctx: Context, tmp_path: Path, moved: str
) -> None:
    first = submit(ctx, "P1", trials(1500))  # more than one page of trials
    second = submit(ctx, "P2", trials(3))
    out = tmp_path / "t.csv"
    export_study(ctx, key(ctx), ExportOptions(SLUG, "csv", out), actor=USER)
    assert len(read_csv(out)[1]) == 1503
    if moved == "within a run":
        _swap(ctx, (first, 3), (first, 1200))
    else:
        _swap(ctx, (first, 2), (second, 2))
    out.unlink()
    with pytest.raises(Corrupted, match="integrity check"):
        export_study(ctx, key(ctx), ExportOptions(SLUG, "csv", out), actor=USER)
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]  # no file, no temporaries
    with ctx.read() as s, pytest.raises(envelopes.DecryptionError):
        list(results.iter_trials(s, results.RunKeys(s, key(ctx), first), first))


def test_cipher_matches_decrypt_and_keeps_its_checks() -> None:
    key_bytes = envelopes.new_key()
    blob = envelopes.encrypt(key_bytes, b"trial", b"row-1")
    cipher = envelopes.Cipher(key_bytes)
    assert cipher.decrypt(blob, b"row-1") == envelopes.decrypt(key_bytes, blob, b"row-1")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad_blob, aad in ((blob, b"row-2"), (tampered, b"row-1"), (b"\x02" + blob[1:], b"row-1")):
        with pytest.raises(envelopes.DecryptionError):
            cipher.decrypt(bad_blob, aad)
    with pytest.raises(envelopes.DecryptionError):
        envelopes.Cipher(envelopes.new_key()).decrypt(blob, b"row-1")


def test_writes_during_an_export_are_not_in_it(ctx: Context, tmp_path: Path) -> None:
    # The trials are read on the read transaction's own connection: one snapshot throughout.
    submit(ctx, "P1", trials(3))
    live = runs.start_run(ctx, SLUG, "P2", actor="test", client=None)["run_session_id"]

    def checkpoint(first: int, n: int) -> None:
        req = runs.CheckpointRequest(live, "cp", first, first + n, {}, trials(first + n)[first:])
        runs.checkpoint(ctx, req, actor="test", client=None)

    checkpoint(0, 3)
    wrote: list[str] = []

    def progress(p: Any) -> None:
        if p.runs_done == 1 and not wrote:  # mid-export: more trials, and a new run
            checkpoint(3, 2)
            wrote.append(submit(ctx, "P3", trials(4)))

    out = tmp_path / "snap.csv"
    result = export_study(
        ctx, key(ctx), ExportOptions(SLUG, "csv", out), actor=USER, progress=progress
    )
    assert wrote and result.runs == 2 and result.trials == 6
    _header, rows, _raw = read_csv(out)
    assert [r["trial_index"] for r in rows if r["run_session_id"] == live] == ["0", "1", "2"]
    export_study(ctx, key(ctx), ExportOptions(SLUG, "csv", out), actor=USER)
    assert len(read_csv(out)[1]) == 3 + 5 + 4  # a new export sees them
