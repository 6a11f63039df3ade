"""Sync credentials in the OS keyring (Windows Credential Locker, macOS Keychain, Secret
Service on Linux), never in the data folder. No Qt here."""

from __future__ import annotations

SERVICE_PREFIX = "CogFlow Desktop sync"


class CredentialError(Exception):
    """The keyring could not be used; the message says so in one sentence."""


def _service(server_url: str) -> str:
    return f"{SERVICE_PREFIX} {server_url.rstrip('/')}"


def save_password(server_url: str, username: str, password: str) -> None:
    import keyring  # on use: loading its backends is a large part of start-up

    try:
        keyring.set_password(_service(server_url), username, password)
    # Backends fail in their own ways (D-Bus, a locked Keychain...): each means the same here.
    except Exception as exc:
        raise CredentialError(
            "The password could not be stored: this computer has no usable keyring (see "
            "\"Keyring problems\" in the README). Type it each time you sync instead."
        ) from exc


def load_password(server_url: str, username: str) -> str | None:
    if not server_url or not username:
        return None
    import keyring

    try:
        return keyring.get_password(_service(server_url), username)
    except Exception:  # no usable keyring: the password is typed instead
        return None
