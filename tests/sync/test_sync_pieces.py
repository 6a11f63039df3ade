"""Cutting trials into pieces: deterministic, within budget, no trial lost or repeated."""

from __future__ import annotations

import json

import pytest
from sync_helpers import make_trials

from cogflow_desktop.sync.pieces import TrialTooLarge, cut


def test_pieces_cover_every_trial_once_within_budget() -> None:
    trials = make_trials(3000, pad=200)
    pieces = cut(trials, budget=64 * 1024)
    assert len(pieces) > 5
    flat = [t for p in pieces for t in p.trials]
    assert flat == trials
    for piece in pieces:
        assert len(json.dumps(piece.trials, separators=(",", ":")).encode()) <= 64 * 1024
        assert piece.size <= 64 * 1024
    assert [p.index for p in pieces] == list(range(len(pieces)))


def test_same_trials_give_the_same_pieces() -> None:
    trials = make_trials(1000, pad=50)
    first = cut(trials, budget=20_000)
    again = cut([dict(t) for t in trials], budget=20_000)
    assert [(p.first_index, p.last_index, p.size) for p in first] == [
        (p.first_index, p.last_index, p.size) for p in again
    ]


def test_no_trials_no_pieces() -> None:
    assert cut([]) == []


def test_a_trial_too_large_for_any_request_is_refused_plainly() -> None:
    big = {"trial_index": 7, "blob": "x" * (3 * 1024 * 1024)}
    with pytest.raises(TrialTooLarge, match="Trial 7 is"):
        cut([big])
