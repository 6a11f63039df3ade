"""What every command shares: the data folder, passwords from non-interactive sources, errors."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.backups import DatabaseDamaged


class CliError(Exception):
    """Ends the command with this one sentence on stderr and exit status 1."""


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder holding the database and media (default: $COGFLOW_DATA_DIR, else the "
        "platform's user data folder)",
    )


def open_ctx(args: argparse.Namespace, *, serving: bool = False, **overrides: object) -> Context:
    """The data folder's context. Only `serve` records runs, so only it flags interrupted ones."""
    try:
        settings = Settings.from_env(getattr(args, "data_dir", None), **overrides)
    except ValueError as exc:  # a malformed environment override
        raise CliError(str(exc)) from exc
    try:
        return open_context(settings, flag_interrupted_runs=serving)
    except DatabaseDamaged as exc:  # one sentence naming the backup to restore
        raise CliError(str(exc)) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CliError(f"The data folder {settings.data_dir} cannot be used: {reason}.") from exc
    except SQLAlchemyError as exc:
        raise CliError(
            f"The database in {settings.data_dir} cannot be opened: it is damaged, locked, "
            "or not a CogFlow Desktop database."
        ) from exc


def open_ctx_or_salvage(args: argparse.Namespace, command: str, what_salvage_does: str) -> Context:
    """The data folder's context, or with --salvage a private copy of its damaged database
    (`command` names the command in its refusals; `what_salvage_does` ends the sentence that
    suggests --salvage when the database is damaged)."""
    if args.salvage:
        from cogflow_desktop.export.salvage_source import open_salvage_copy
        from cogflow_desktop.services.errors import ServiceError

        try:
            return open_salvage_copy(Settings.from_env(args.data_dir), command=command)
        except (ValueError, ServiceError) as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(
                f"The damaged database could not be copied aside: {exc.strerror or exc}."
            ) from exc
    try:
        return open_ctx(args)
    except CliError as exc:
        if not isinstance(exc.__cause__, DatabaseDamaged):
            raise
        raise CliError(
            f"{str(exc).rstrip('.')}; {what_salvage_does}, run this {command} again with --salvage."
        ) from exc


@dataclass
class StdinLines:
    """Secrets piped on stdin, one per line, handed out in the order they are asked for."""

    stream: TextIO = field(default_factory=lambda: sys.stdin)
    _lines: list[str] | None = None

    def next(self, what: str) -> str:
        if self._lines is None:
            self._lines = [line.rstrip("\r\n") for line in self.stream.readlines()]
        if not self._lines:
            raise CliError(f"Expected the {what} on standard input, but there was none.")
        return self._lines.pop(0)


def read_secret(
    *, what: str, from_stdin: bool, stdin: StdinLines, env_var: str, confirm: bool = False
) -> str:
    """A secret from stdin, else an environment variable, else a prompt on a terminal."""
    if from_stdin:
        return stdin.next(what)
    value = os.environ.get(env_var)
    if value:
        return value
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(f"{what.capitalize()}: ")
        if confirm and getpass.getpass(f"Repeat the {what}: ") != first:
            raise CliError(f"The two entries of the {what} differ.")
        return first
    raise CliError(f"No {what} given: pipe it with --password-stdin or set {env_var}.")
