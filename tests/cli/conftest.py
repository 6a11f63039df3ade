"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture()
def central_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sync` always logs in to the central server as a researcher there (it refuses to run
    without one), so tests about the local side give it an account from the environment."""
    monkeypatch.setenv("COGFLOW_REMOTE_USER", "alice-central")
    monkeypatch.setenv("COGFLOW_REMOTE_PASSWORD", "central password")
