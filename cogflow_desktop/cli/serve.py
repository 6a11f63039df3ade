"""`cogflow-desktop serve`: the embedded server, headless, until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from cogflow_desktop.api.server import EmbeddedServer, PortInUse
from cogflow_desktop.cli.common import CliError, add_data_dir, open_ctx
from cogflow_desktop.cli.serve_hardware import add_hardware_options, start_hardware
from cogflow_desktop.services.instance_lock import DataFolderInUse, InstanceLock
from cogflow_desktop.settings import DEFAULT_HOST, DEFAULT_PORT, Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        help="run the local v1 server without a window",
        description="Serve the v1 API, the Builder and the Interpreter on "
        "loopback until interrupted (Ctrl+C or SIGTERM).",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="loopback address (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default 8000; 0 = any free)"
    )
    add_hardware_options(p)
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic narrates every start-up at INFO; a migration is announced below instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    lock = _lock(args)
    try:
        return _serve(args)
    finally:
        lock.release()


def _lock(args: argparse.Namespace) -> InstanceLock:
    """One recording process per data folder (the app or a server), taken before the database
    is opened: opening it would flag another process's live runs as interrupted."""
    try:
        data_dir = Settings.from_env(args.data_dir).data_dir
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        return InstanceLock(data_dir, "`cogflow-desktop serve`").acquire()
    except DataFolderInUse as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        reason = exc.strerror or exc
        raise CliError(f"The data folder {data_dir} cannot be used: {reason}.") from exc


def _serve(args: argparse.Namespace) -> int:
    ctx = open_ctx(args, serving=True)
    try:
        try:
            server = EmbeddedServer(ctx, host=args.host, port=args.port)
        except (PortInUse, ValueError) as exc:
            raise CliError(str(exc)) from exc

        def _stop(_signum: int, _frame: object) -> None:
            server.stop(timeout=0)

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        if ctx.migration_backup:
            print(
                f"Database migrated; backup of the previous version: {ctx.migration_backup}",
                flush=True,
            )
        print(f"CogFlow Desktop server on {server.url} (data: {ctx.settings.data_dir})", flush=True)
        start_hardware(args, ctx)
        server.serve_until_stopped()
        print("Server stopped.", file=sys.stderr, flush=True)
        return 0
    finally:
        ctx.close()
