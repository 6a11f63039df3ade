"""`serve --lsl` / `--trigger-port`: lab hardware for the headless server.

Without either flag the server sends nothing (its marker route answers 404). With them, the
saved Settings of this computer (hardware.json: baud, pulse width, onset delay) apply, and the
flags override them for this launch. A stream or port asked for that cannot open stops the
start with the reason: better than discovering after a session that nothing was recorded.
"""

from __future__ import annotations

import argparse

from cogflow_desktop.cli.common import CliError
from cogflow_desktop.hardware import lsl, machine, registry
from cogflow_desktop.hardware.host import MarkerHost
from cogflow_desktop.hardware.serial_trigger import TriggerError
from cogflow_desktop.services.context import Context


def add_hardware_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("lab hardware (see README: Lab hardware)")
    g.add_argument(
        "--lsl",
        action="store_true",
        help="send LSL event markers for studies whose config turns them on",
    )
    g.add_argument(
        "--trigger-port",
        metavar="PORT",
        help="serial port for trigger codes (COM3, /dev/ttyUSB0, or a pyserial URL)",
    )
    g.add_argument("--trigger-baud", type=int, metavar="N", help="baud rate (default 115200)")
    g.add_argument(
        "--pulse-ms", type=float, metavar="MS", help="how long a code is held (default 10)"
    )


def start_hardware(args: argparse.Namespace, ctx: Context) -> MarkerHost | None:
    if not args.lsl and not args.trigger_port:
        return None
    saved = machine.load(ctx.settings.data_dir)
    changes: dict[str, object] = {"lsl_enabled": bool(args.lsl)}
    if args.trigger_port:
        changes["trigger_port"] = args.trigger_port
    if args.trigger_baud is not None:
        changes["trigger_baud"] = args.trigger_baud
    if args.pulse_ms is not None:
        changes["pulse_ms"] = args.pulse_ms
    try:
        settings = saved.updated(**changes)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    host = MarkerHost(ctx, settings)
    if settings.lsl_enabled:
        ok, library = lsl.available()
        if not ok:
            raise CliError(library)
        opened, problems = host.open_study_streams()
        if problems:
            raise CliError(problems[0])
        names = ", ".join(f"{o.name} (source id {o.source_id})" for o in opened)
        print(f"LSL markers on ({library}); streams open: {names or 'none yet'}.", flush=True)
    if settings.triggers_configured:
        try:
            port = host.open_trigger_port()
        except TriggerError as exc:
            raise CliError(str(exc)) from exc
        print(
            f"Trigger codes on {port.port} at {port.baud} baud, pulse {port.pulse_ms:g} ms.",
            flush=True,
        )
    return registry.attach(ctx, host)
