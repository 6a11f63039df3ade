"""An export that stops part-way (an error, or a cancel) leaves nothing under the target name
and no temporary files, and an older file under that name is left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, ADMIN_USER, LiveServer
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from export_helpers import SeededRun, seed_heterogeneous_study
from sqlalchemy import select

from cogflow_desktop.export import (
    ExportCancelled,
    ExportOptions,
    ExportProgress,
    export_study,
)
from cogflow_desktop.export.service import EXPORT_ACTION
from cogflow_desktop.services import users
from cogflow_desktop.services.errors import BadRequest
from cogflow_desktop.store.models import AuditEvent

TARGETS = {"csv": "out.csv", "json": "out.json", "bids": "out_bids", "zip": "out.zip"}


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> tuple[str, list[SeededRun]]:
    return seed_heterogeneous_study(live_server.url)


@pytest.fixture(scope="module")
def key(live_server: LiveServer) -> X25519PrivateKey:
    return users.unlock_with_password(live_server.ctx, ADMIN_USER, ADMIN_PASSWORD)


class Boom(Exception):
    pass


def _last_outcome(live: LiveServer, slug: str) -> tuple[str, str]:
    with live.ctx.read() as s:
        event = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == EXPORT_ACTION, AuditEvent.target == slug)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    assert event is not None
    return event.outcome, event.details["reason"]


@pytest.mark.parametrize("fmt", sorted(TARGETS))
def test_failure_mid_way_leaves_nothing_behind(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
    fmt: str,
) -> None:
    slug, _runs = seeded
    target = tmp_path / TARGETS[fmt]
    if fmt != "bids":
        target.write_bytes(b"an older export")
    calls: list[ExportProgress] = []

    def explode_after_first_run(p: ExportProgress) -> None:
        calls.append(p)
        if p.runs_done == 1:
            raise Boom("disk unplugged")

    with pytest.raises(Boom):
        export_study(
            live_server.ctx,
            key,
            ExportOptions(slug, fmt, target),
            actor=ADMIN_USER,
            client="test",
            progress=explode_after_first_run,
        )
    assert calls[-1].runs_done == 1 and calls[-1].runs_total == 3  # it really was mid-way
    expected = [] if fmt == "bids" else [target.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    if fmt != "bids":
        assert target.read_bytes() == b"an older export"
    assert _last_outcome(live_server, slug) == ("failed", "disk unplugged")


@pytest.mark.parametrize("fmt", ["csv", "zip"])
def test_cancel_stops_cleanly_and_is_audited(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
    fmt: str,
) -> None:
    slug, _runs = seeded
    checks = iter([False, False, True])

    with pytest.raises(ExportCancelled):
        export_study(
            live_server.ctx,
            key,
            ExportOptions(slug, fmt, tmp_path / TARGETS[fmt]),
            actor=ADMIN_USER,
            client="test",
            cancelled=lambda: next(checks),
        )
    assert list(tmp_path.iterdir()) == []
    assert _last_outcome(live_server, slug) == ("cancelled", "The export was cancelled.")


def test_bids_refuses_an_existing_folder(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, _runs = seeded
    (tmp_path / "bids").mkdir()
    (tmp_path / "bids" / "keep.txt").write_text("mine")
    with pytest.raises(BadRequest, match="already exists"):
        export_study(
            live_server.ctx,
            key,
            ExportOptions(slug, "bids", tmp_path / "bids"),
            actor=ADMIN_USER,
            client="test",
        )
    assert [p.name for p in (tmp_path / "bids").iterdir()] == ["keep.txt"]
    outcome, reason = _last_outcome(live_server, slug)
    assert outcome == "failed" and "already exists" in reason
