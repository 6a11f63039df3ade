"""Unattended sync: the install private key kept for sync runs that no researcher types a
password for. Off by default.

The key is split in two places so neither alone reveals it: the OS keyring (Windows Credential
Manager, macOS Keychain, Secret Service), readable only by this OS account, holds the private
key wrapped (AES-GCM) under a random key, and the data folder holds that random key. A copy of
the data folder therefore still reveals nothing, and neither does the keyring entry alone.

Unattended sync is pinned to the server it was turned on for: the server address is part of
the wrapped key's associated data, so the key opens for that address only (the pin file beside
it only says which address that is, for messages).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from types import ModuleType

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from cogflow_desktop import audit
from cogflow_desktop.security import envelopes, files
from cogflow_desktop.security import keyring as install_keyring
from cogflow_desktop.services.context import Context

SERVICE = "CogFlow Desktop unattended sync"
KEY_FILE = "unattended-sync.key"
PIN_FILE = "unattended-sync.json"
AAD = b"cogflow:install-key:unattended-sync"


def _aad(server_url: str) -> bytes:
    return AAD + b":" + server_url.encode()


class KeystoreError(Exception):
    """Unattended sync cannot be used; the message says why in one sentence."""


def _key_file(ctx: Context) -> Path:
    return ctx.settings.data_dir / KEY_FILE


def _account(ctx: Context) -> str:
    """One keyring entry per install (several data folders may share an OS account)."""
    install = ctx.install_keys()
    if install is None:
        raise KeystoreError("This installation has no keys yet: create a researcher first.")
    return "install-" + hashlib.sha256(install.public_key).hexdigest()[:32]


def _keyring() -> ModuleType:
    """The keyring package, loaded on first use: its backends take a large part of the app's
    start-up, and the first screen only asks whether unattended sync is on (a file check)."""
    import keyring
    import keyring.errors

    return keyring


def backend_available() -> bool:
    backend = _keyring().get_keyring()
    priority = getattr(backend, "priority", 0)
    name = type(backend).__module__
    return not name.startswith("keyring.backends.fail") and priority > 0


def _require_backend() -> None:
    if not backend_available():
        raise KeystoreError(
            "No OS keyring is available on this computer (such as Windows Credential Manager, "
            "macOS Keychain or a Secret Service), so unattended sync cannot be used."
        )


def is_enabled(ctx: Context) -> bool:
    return _key_file(ctx).is_file()


def pinned_server(ctx: Context) -> str | None:
    """The server unattended sync was turned on for (as the pin file says)."""
    try:
        return json.loads((ctx.settings.data_dir / PIN_FILE).read_text("utf-8"))["server"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_private(path: Path, data: bytes) -> None:
    files.write_private(path, data)  # created owner-only, never readable in between


def enable(
    ctx: Context, private_key: X25519PrivateKey, *, actor: str, server_url: str
) -> None:
    """Keep the key for unattended sync to `server_url` (normalized) and to no other."""
    install = ctx.install_keys()
    if install is None or install_keyring.public_bytes(private_key) != install.public_key:
        raise KeystoreError("That key does not belong to this installation.")
    _require_backend()
    keyring = _keyring()
    kek = envelopes.new_key()
    wrapped = install_keyring.wrap_private_key(private_key, kek, _aad(server_url))
    try:
        keyring.set_password(SERVICE, _account(ctx), base64.b64encode(wrapped).decode("ascii"))
    except keyring.errors.KeyringError as exc:
        raise KeystoreError(f"The OS keyring refused to store the key: {exc}.") from exc
    _write_private(_key_file(ctx), kek)
    _write_private(
        ctx.settings.data_dir / PIN_FILE, json.dumps({"server": server_url}).encode("utf-8")
    )
    with ctx.write() as s:
        audit.record(
            s,
            "sync.unattended",
            actor=actor,
            client="sync",
            details={"on": True, "server": server_url},
        )


def disable(ctx: Context, *, actor: str) -> None:
    """Forget both halves. Safe to repeat."""
    path = _key_file(ctx)
    if path.exists():
        path.unlink()
    (ctx.settings.data_dir / PIN_FILE).unlink(missing_ok=True)
    if backend_available():
        keyring = _keyring()
        try:
            keyring.delete_password(SERVICE, _account(ctx))
        except keyring.errors.PasswordDeleteError:
            pass  # already gone
        except keyring.errors.KeyringError as exc:
            raise KeystoreError(f"The OS keyring refused to delete the key: {exc}.") from exc
    with ctx.write() as s:
        audit.record(s, "sync.unattended", actor=actor, client="sync", details={"on": False})


def unlock(ctx: Context, server_url: str) -> X25519PrivateKey:
    """The install key for an unattended sync to `server_url`: only the server it was turned
    on for (KeystoreError otherwise)."""
    path = _key_file(ctx)
    if not path.is_file():
        raise KeystoreError(
            "Unattended sync is off: turn it on with `cogflow-desktop sync unattended on`."
        )
    _require_backend()
    keyring = _keyring()
    try:
        stored = keyring.get_password(SERVICE, _account(ctx))
    except keyring.errors.KeyringError as exc:
        raise KeystoreError(f"The OS keyring could not be read: {exc}.") from exc
    if not stored:
        raise KeystoreError(
            "The OS keyring no longer holds the unattended sync key: turn unattended sync on again."
        )
    pinned = pinned_server(ctx)
    if pinned is not None and pinned != server_url:
        raise KeystoreError(
            f"Unattended sync is pinned to {pinned}, the server it was turned on for: turn it "
            f"on again to sync to {server_url} without a password."
        )
    try:
        key = install_keyring.unwrap_private_key(
            base64.b64decode(stored), path.read_bytes(), _aad(server_url)
        )
    except (envelopes.DecryptionError, ValueError, binascii.Error) as exc:
        raise KeystoreError(
            f"The unattended sync key does not open for {server_url} (it was turned on for "
            "another server, or before servers were pinned): turn unattended sync on again."
        ) from exc
    install = ctx.install_keys()
    if install is None or install_keyring.public_bytes(key) != install.public_key:
        raise KeystoreError("The unattended sync key belongs to another installation.")
    return key
