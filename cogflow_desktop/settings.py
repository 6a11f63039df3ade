"""Where things live and which knobs the environment may turn."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "CogFlowDesktop"
APP_AUTHOR = "CogFlow"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# No other web origin is trusted unless COGFLOW_ALLOWED_ORIGINS lists it (e.g. a web app's dev
# server); even then it never reaches results, auth or researcher endpoints (api/guards.py).
MAX_BODY_BYTES = 64 * 1024 * 1024


def default_data_dir() -> Path:
    env = os.environ.get("COGFLOW_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def resources_dir() -> Path:
    """The web apps, schema and vendored JS: beside the package in a checkout, or in the bundle."""
    env = os.environ.get("COGFLOW_RESOURCES_DIR")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen app
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}.") from exc


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    mfa_reauth_seconds: int = 900
    session_idle_seconds: int = 8 * 3600
    extra_origins: tuple[str, ...] = ()
    # Failed logins / TOTP codes allowed per window, per account and per client.
    throttle_limit: int = 10
    throttle_window_seconds: int = 60
    max_body_bytes: int = MAX_BODY_BYTES
    # Set by the Qt shell: writes then need this per-launch token in a header.
    app_token: str | None = None
    resources: Path = field(default_factory=resources_dir)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "cogflow.sqlite3"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @classmethod
    def from_env(cls, data_dir: Path | str | None = None, **overrides: object) -> Settings:
        origins_env = os.environ.get("COGFLOW_ALLOWED_ORIGINS")
        origins = (
            tuple(o.strip().rstrip("/") for o in origins_env.split(",") if o.strip())
            if origins_env is not None
            else ()
        )
        values: dict[str, object] = {
            "data_dir": Path(data_dir).expanduser() if data_dir else default_data_dir(),
            "mfa_reauth_seconds": _env_int("MFA_REAUTH_SECONDS", 900),
            "extra_origins": origins,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
