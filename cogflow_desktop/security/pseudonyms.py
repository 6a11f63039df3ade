"""Participant pseudonyms, computed exactly as the central server does."""

from __future__ import annotations

import hashlib
import secrets


def new_salt() -> str:
    return secrets.token_hex(32)


def participant_key(salt: str, participant_external_id: str) -> str:
    return hashlib.sha256(f"{salt}:{participant_external_id}".encode()).hexdigest()
