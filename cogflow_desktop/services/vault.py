"""Secrets that exist only in process memory: unwrapped keys of logged-in sessions, and the
content keys of runs being recorded. Nothing here is ever written to disk."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey


@dataclass
class SessionSecrets:
    user_id: int
    username: str
    private_key: X25519PrivateKey
    totp_key: bytes
    created_at: datetime
    last_seen_at: datetime
    mfa_verified_at: datetime | None = None
    # services.clock.elapsed() at the same moment: the window holds only while both clocks
    # agree it does, so setting the system clock back cannot extend it.
    mfa_verified_elapsed: float | None = None
    csrf_token: str = ""
    token_hash: str = ""
    # The account's session_epoch at sign-in: a later password change, lock or key rotation
    # bumps the stored one and ends this session.
    epoch: int = 0


@dataclass
class SessionVault:
    """token hash -> secrets. Logout or expiry drops the entry, and with it the key."""

    _items: dict[str, SessionSecrets] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, token_hash: str, secrets: SessionSecrets) -> None:
        with self._lock:
            self._items[token_hash] = secrets

    def get(self, token_hash: str) -> SessionSecrets | None:
        with self._lock:
            return self._items.get(token_hash)

    def drop(self, token_hash: str) -> SessionSecrets | None:
        with self._lock:
            return self._items.pop(token_hash, None)

    def drop_where(self, predicate: Callable[[SessionSecrets], bool]) -> None:
        with self._lock:
            for token_hash in [t for t, s in self._items.items() if predicate(s)]:
                del self._items[token_hash]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class RunKeyCache:
    """run id -> (key id, content key) for runs being recorded, least recently used dropped.

    A dropped or never-seen run simply gets a fresh key (sealed, stored) on its next write:
    the recording path never has to read a key back.
    """

    def __init__(self, capacity: int = 2048) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> tuple[int, bytes] | None:
        with self._lock:
            item = self._items.get(run_id)
            if item is not None:
                self._items.move_to_end(run_id)
            return item

    def put(self, run_id: str, key_id: int, key: bytes) -> None:
        with self._lock:
            self._items[run_id] = (key_id, key)
            self._items.move_to_end(run_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._items.pop(run_id, None)
