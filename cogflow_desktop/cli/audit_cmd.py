"""`cogflow-desktop audit verify`: check the audit hash chain."""

from __future__ import annotations

import argparse

from cogflow_desktop import audit
from cogflow_desktop.cli.common import CliError, add_data_dir, open_ctx


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="the audit log", description="Work with the audit log.")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    v = asub.add_parser(
        "verify",
        help="verify the audit hash chain",
        description="Check every audit row against the hash chain; name the "
        "first broken row if any.",
    )
    add_data_dir(v)
    v.set_defaults(func=verify)


def verify(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        with ctx.read() as s:
            report = audit.verify_chain(s)
    finally:
        ctx.close()
    if not report.ok:
        raise CliError(
            f"The audit chain is broken at row {report.first_broken_id}: {report.problem}."
        )
    print(f"Audit chain intact: {report.rows_checked} rows verified.")
    return 0
