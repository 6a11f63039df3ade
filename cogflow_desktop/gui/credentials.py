"""Sync credentials in the OS keyring (Windows Credential Locker, macOS Keychain, Secret
Service on Linux), never in the data folder. No Qt here."""

from __future__ import annotations

import keyring
from keyring.errors import KeyringError

SERVICE_PREFIX = "CogFlow Desktop sync"


class CredentialError(Exception):
    """The keyring could not be used; the message says so in one sentence."""


def _service(server_url: str) -> str:
    return f"{SERVICE_PREFIX} {server_url.rstrip('/')}"


def save_password(server_url: str, username: str, password: str) -> None:
    try:
        keyring.set_password(_service(server_url), username, password)
    except (KeyringError, RuntimeError) as exc:
        raise CredentialError(
            "The password could not be stored in this computer's keyring; "
            "no usable keyring was found."
        ) from exc


def load_password(server_url: str, username: str) -> str | None:
    if not server_url or not username:
        return None
    try:
        return keyring.get_password(_service(server_url), username)
    except (KeyringError, RuntimeError):
        return None
