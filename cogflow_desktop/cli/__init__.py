"""Entry point `cogflow-desktop`: one module per command group."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from cogflow_desktop import __version__

# Imported only when a command line is parsed: the desktop app (no command) starts without
# loading the export, sync and audit code its first screen does not need.
COMMAND_MODULE_NAMES = ["serve", "users", "totp_cmd", "audit_cmd", "export_cmd", "sync_cmd"]


def command_modules() -> list[ModuleType]:
    return [importlib.import_module(f"cogflow_desktop.cli.{n}") for n in COMMAND_MODULE_NAMES]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message[0].upper()}{message[1:]}.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cogflow-desktop", description="CogFlow Desktop: run cognitive experiments offline."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in command_modules():
        module.register(sub)
    # --version on every command, as promised in --help.
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for child in getattr(action, "choices", {}).values():
            _add_version(child)
    return parser


def _add_version(p: argparse.ArgumentParser) -> None:
    if "--version" not in p._option_string_actions:
        p.add_argument("--version", action="version", version=f"cogflow-desktop {__version__}")
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_version(child)


def main(argv: Sequence[str] | None = None) -> int:
    if not (sys.argv[1:] if argv is None else argv):
        return _default(None)  # the desktop app: no parser, no command modules
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        return _default(parser)
    from cogflow_desktop.cli.common import CliError
    from cogflow_desktop.services.errors import ServiceError

    try:
        return int(args.func(args) or 0)
    except (CliError, ServiceError) as exc:
        print(f"cogflow-desktop: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cogflow-desktop: Interrupted.", file=sys.stderr)
        return 130


def _default(parser: argparse.ArgumentParser | None) -> int:
    """No command: open the desktop app when it is available, else show the commands."""
    try:
        from cogflow_desktop.gui.app import run_gui
    except ImportError:
        (parser or build_parser()).print_help()
        return 0
    return run_gui()


if __name__ == "__main__":
    sys.exit(main())
