"""Fixtures for the sync tests: a receiving server in its own process, and a lab install."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_helpers import LAB_PASSWORD, LAB_USER, ServerProcess, lab_context

from cogflow_desktop.services import users
from cogflow_desktop.services.context import Context


@pytest.fixture()
def remote(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "remote") as server:
        yield server


@pytest.fixture(scope="module")
def shared_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """For tests that do not count what arrived."""
    with ServerProcess(tmp_path_factory.mktemp("remote")) as server:
        yield server


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[Context]:
    ctx = lab_context(tmp_path / "lab")
    yield ctx
    ctx.close()


@pytest.fixture()
def lab_key(lab: Context):  # type: ignore[no-untyped-def]
    return users.unlock_with_password(lab, LAB_USER, LAB_PASSWORD)
