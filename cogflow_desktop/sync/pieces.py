"""Cutting a run's trials into checkpoint pieces that each fit under the request size limit.

The cut depends only on the trial list (in trial_index order) and the budget, so a resumed sync
cuts the same pieces and can skip the ones the server already acknowledged. Resending a piece
is harmless anyway: the server upserts trial rows by trial_index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cogflow_desktop.sync.client import MAX_REQUEST_BYTES, encode

# Trials per piece stay well under the limit, leaving room for the envelope fields.
DEFAULT_PIECE_BYTES = 1024 * 1024
ENVELOPE_ALLOWANCE = 4096
# A last piece up to this size is sent inside the submit instead of its own checkpoint.
REMAINDER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Piece:
    index: int
    trials: list[dict[str, Any]]
    size: int  # bytes of the trials' JSON, the bulk of the request

    @property
    def first_index(self) -> int:
        return int(self.trials[0]["trial_index"])

    @property
    def last_index(self) -> int:
        return int(self.trials[-1]["trial_index"])


class TrialTooLarge(ValueError):
    pass


def cut(trials: Iterable[dict[str, Any]], budget: int = DEFAULT_PIECE_BYTES) -> list[Piece]:
    """Consecutive trials, greedily packed so each piece's JSON stays within `budget` bytes.
    A trial that alone cannot fit in one request is refused with a plain reason."""
    trials = list(trials)
    if not trials:
        return []
    # Most runs fit in one piece: measure the whole list once before measuring each trial.
    whole = len(encode(trials))
    if whole <= budget:
        return [Piece(0, trials, whole)]
    pieces: list[Piece] = []
    current: list[dict[str, Any]] = []
    size = 2  # the brackets of the list
    for trial in trials:
        n = len(encode(trial)) + 1
        if n + ENVELOPE_ALLOWANCE > MAX_REQUEST_BYTES:
            raise TrialTooLarge(
                f"Trial {trial.get('trial_index')} is {n} bytes, more than one request to the "
                "server may carry (2.5 MiB)."
            )
        if current and size + n > budget:
            pieces.append(Piece(len(pieces), current, size))
            current, size = [], 2
        current.append(trial)
        size += n
    if current:
        pieces.append(Piece(len(pieces), current, size))
    return pieces
