"""The audit chain's anchor, kept outside the database.

A hash chain shows that no row was changed, but not that the newest rows were not simply
deleted (or the tail rewritten and re-chained): the database alone cannot tell. So whenever a
researcher's key is in this process (a signed-in session, a CLI command unlocked with a
password, unattended sync), the head of the chain (row count and last hash) is written down
beside the database (`audit-anchor.json`) and, where there is one, in the OS keyring, with an
HMAC under a key derived from the install private key: only researchers can make or check one.
`audit verify` compares the chain with the newest valid anchor (cli/audit_cmd.py); each sync
sends it to the central server as a request header.

What it does not do: rows written while no researcher key was present (a kiosk running for days
with nobody signed in) are covered by the chain only until the next anchor; and whoever holds a
researcher's password can sign a new anchor, like any other researcher action.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cogflow_desktop.security import files

log = logging.getLogger(__name__)

ANCHOR_FILE = "audit-anchor.json"
KEYRING_SERVICE = "CogFlow Desktop audit anchor"
SYNC_HEADER = "X-CogFlow-Audit-Anchor"
# Busy recording with a researcher signed in: the file is rewritten at most this often (every
# sign-in, sign-out and rotation writes it at once), the keyring copy less often.
FILE_EVERY_SECONDS = 2.0
KEYRING_EVERY_SECONDS = 60.0


def anchor_key(private_key: X25519PrivateKey) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cogflow audit anchor v1"
    ).derive(private_key.private_bytes_raw())


def install_id(private_key: X25519PrivateKey) -> str:
    return hashlib.sha256(private_key.public_key().public_bytes_raw()).hexdigest()[:32]


@dataclass(frozen=True)
class Anchor:
    count: int  # rows in the chain (the last row's id)
    head: str  # the last row's hash
    signed_at: str
    install: str
    mac: str = ""

    def _body(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "mac"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: bytes) -> Anchor:
        mac = hmac.new(key, self._body(), hashlib.sha256).hexdigest()
        return Anchor(self.count, self.head, self.signed_at, self.install, mac)

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).mac, self.mac)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def parse(cls, text: str | None) -> Anchor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                int(data["count"]),
                str(data["head"]),
                str(data["signed_at"]),
                str(data["install"]),
                str(data["mac"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def _keyring() -> Any | None:
    """The keyring module when an OS keyring backend is there, else None."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:  # pragma: no cover - keyring misconfigured
        return None
    name = type(backend).__module__
    if name.startswith("keyring.backends.fail") or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def read_anchors(data_dir: Path, install: str | None) -> dict[str, Anchor | None]:
    """The anchor beside the database and the keyring's copy (None where there is none)."""
    try:
        text = (data_dir / ANCHOR_FILE).read_text("utf-8")
    except OSError:
        text = None
    found: dict[str, Anchor | None] = {"file": Anchor.parse(text), "keyring": None}
    kr = _keyring()
    if kr is not None and install:
        try:
            found["keyring"] = Anchor.parse(kr.get_password(KEYRING_SERVICE, install))
        except Exception as exc:  # a locked or broken keyring: the file still counts
            log.warning("The audit anchor in the OS keyring could not be read: %s", exc)
    return found


ChainReader = Callable[[Sequence[int]], tuple[int, dict[int, str]]]


class Anchorer:
    """Writes anchors while a researcher's key is present (armed).

    Arming first checks the chain against the anchors already written: a log that was cut or
    rewritten since is never anchored anew (that would bless the change); the anchorer stays
    frozen and `audit verify` reports the mismatch."""

    def __init__(self, data_dir: Path, chain: ChainReader) -> None:
        self._data_dir = data_dir
        self._chain = chain  # ids -> (row count, {id: hash})
        self._lock = threading.Lock()
        self._key: bytes | None = None
        self._install: str | None = None
        self._pending: tuple[int, str] | None = None
        self._file_at = 0.0
        self._keyring_at = 0.0
        self.frozen: str | None = None

    @property
    def armed(self) -> bool:
        return self._key is not None

    def arm(self, private_key: X25519PrivateKey) -> None:
        key, install = anchor_key(private_key), install_id(private_key)
        anchors = [a for a in read_anchors(self._data_dir, install).values() if a is not None]
        rows, hashes = self._chain([a.count for a in anchors])
        problem = _mismatch(anchors, key, rows, hashes)
        with self._lock:
            if problem is not None:
                if self.frozen is None:
                    log.error("The audit log does not match its anchor: %s", problem)
                self.frozen = problem
                return
            self._key, self._install = key, install
            self._file_at = self._keyring_at = 0.0  # write both at the next commit
            if rows:
                self._pending = (rows, hashes.get(rows) or self._chain([rows])[1][rows])

    def rekey(self, private_key: X25519PrivateKey) -> None:
        """The install key was rotated: sign the current head with the new key at once (the
        old anchors cannot be checked with it), and drop the old keyring entry."""
        with self._lock:
            if self._key is None or self.frozen is not None:
                return
            old_install = self._install
            self._key, self._install = anchor_key(private_key), install_id(private_key)
            self._flush(force=True)
            kr = _keyring()
            if kr is not None and old_install and old_install != self._install:
                # Already gone, or the keyring refuses: nothing to undo either way.
                with contextlib.suppress(Exception):
                    kr.delete_password(KEYRING_SERVICE, old_install)

    def disarm(self) -> None:
        with self._lock:
            self._flush(force=True)
            self._key = None
            self._install = None

    def advance(self, count: int, head: str, *, force: bool = False) -> None:
        """The chain now ends at row `count` with `head` (called after each commit)."""
        with self._lock:
            if self._key is None or self.frozen is not None:
                return
            if self._pending is None or count >= self._pending[0]:
                self._pending = (count, head)
            self._flush(force)

    def _flush(self, force: bool) -> None:
        if self._key is None or self._pending is None or self._install is None or self.frozen:
            return
        now = time.monotonic()
        write_file = force or now - self._file_at >= FILE_EVERY_SECONDS
        write_keyring = force or now - self._keyring_at >= KEYRING_EVERY_SECONDS
        if not (write_file or write_keyring):
            return
        count, head = self._pending
        anchor = Anchor(count, head, datetime.now(UTC).isoformat(), self._install).signed(
            self._key
        )
        try:
            if write_file:
                files.write_private(self._data_dir / ANCHOR_FILE, anchor.to_json().encode())
                self._file_at = now
            if write_keyring:
                kr = _keyring()
                if kr is not None:
                    kr.set_password(KEYRING_SERVICE, self._install, anchor.to_json())
                self._keyring_at = now
        except Exception as exc:  # an anchor that cannot be written must not stop the work
            log.warning("The audit anchor could not be written: %s", exc)


def sync_header(data_dir: Path) -> dict[str, str]:
    """The anchor as a request header for the central server (nothing when there is none)."""
    anchor = read_anchors(data_dir, None)["file"]
    return {SYNC_HEADER: anchor.to_json().replace("\n", "")} if anchor else {}


def _mismatch(anchors: list[Anchor], key: bytes, rows: int, hashes: dict[int, str]) -> str | None:
    for anchor in anchors:
        if not anchor.valid(key):
            return "an anchor is not signed by this installation's key"
        if rows < anchor.count:
            return f"the log has {rows} rows, anchored at {anchor.count}"
        if hashes.get(anchor.count) != anchor.head:
            return f"row {anchor.count} differs from the anchored one"
    return None


@dataclass(frozen=True)
class AnchorReport:
    problem: str | None  # one sentence, or None
    summary: str  # what was checked, one sentence


def check(
    data_dir: Path, rows: int, hash_at: dict[int, str], private_key: X25519PrivateKey | None
) -> AnchorReport:
    """Compare the chain (its row count, and the hash of the anchored rows) with the anchors.

    With the install private key the anchors' HMACs are checked too; without it an anchor is
    taken at its word (and the summary says so)."""
    key = anchor_key(private_key) if private_key is not None else None
    install = install_id(private_key) if private_key is not None else None
    if install is None:
        file_anchor = read_anchors(data_dir, None)["file"]
        install = file_anchor.install if file_anchor else None
    found = read_anchors(data_dir, install)
    anchors = {where: a for where, a in found.items() if a is not None}
    if key is not None:
        forged = [where for where, a in anchors.items() if not a.valid(key)]
        if forged:
            where = " and ".join(forged)
            return AnchorReport(
                f"The audit anchor in the {where} is not signed by this installation's key: it "
                "was forged or belongs to another installation",
                "",
            )
    if not anchors:
        return AnchorReport(
            None, "No audit anchor yet (one is written whenever a researcher signs in)."
        )
    newest = max(anchors.values(), key=lambda a: a.count)
    if rows < newest.count:
        return AnchorReport(
            f"The audit log has {rows} rows but was anchored at {newest.count} rows on "
            f"{newest.signed_at}: the newest {newest.count - rows} rows were deleted",
            "",
        )
    for where, anchor in anchors.items():
        if hash_at.get(anchor.count) != anchor.head:
            return AnchorReport(
                f"Row {anchor.count} is not the row anchored on {anchor.signed_at} (in the "
                f"{where}): the log was rewritten up to there and chained anew",
                "",
            )
    checked = "signature checked" if key is not None else "signature not checked (use --user)"
    extra = f"; {rows - newest.count} rows since" if rows > newest.count else ""
    return AnchorReport(
        None,
        f"Anchored at row {newest.count} on {newest.signed_at} ({checked}{extra}).",
    )
