"""`cogflow-desktop audit verify`: check the audit hash chain and its anchor."""

from __future__ import annotations

import argparse

from cogflow_desktop import audit, audit_anchor
from cogflow_desktop.cli.common import CliError, StdinLines, add_data_dir, open_ctx, read_secret
from cogflow_desktop.services import users


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="the audit log", description="Work with the audit log.")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    v = asub.add_parser(
        "verify",
        help="verify the audit hash chain and its anchor",
        description="Check every audit row against the hash chain (naming the first broken "
        "row), then the chain against its anchor, kept beside the database and in the OS "
        "keyring (rows deleted at the end, or the end rewritten and chained anew). With --user "
        "the anchor's signature is checked too (the researcher's password on stdin with "
        "--password-stdin, or in COGFLOW_PASSWORD).",
    )
    v.add_argument("--user", metavar="NAME", help="check the anchor's signature with this key")
    v.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_data_dir(v)
    v.set_defaults(func=verify)


def verify(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        with ctx.read() as s:
            report = audit.verify_chain(s)
        if not report.ok:
            raise CliError(
                f"The audit chain is broken at row {report.first_broken_id}: {report.problem}."
            )
        key = None
        if args.user:
            password = read_secret(
                what=f"password of {args.user}",
                from_stdin=args.password_stdin,
                stdin=StdinLines(),
                env_var="COGFLOW_PASSWORD",
            )
            # Unlocking is itself audited; it never anchors a log that no longer matches.
            key = users.unlock_with_password(ctx, args.user, password)
        anchors = audit_anchor.read_anchors(ctx.settings.data_dir, None)
        counts = [a.count for a in anchors.values() if a is not None]
        rows, hashes = ctx.chain_state(counts)
        if key is not None:  # the keyring copy is found by the installation's id
            counts += [a.count for a in audit_anchor.read_anchors(
                ctx.settings.data_dir, audit_anchor.install_id(key)
            ).values() if a is not None]  # fmt: skip
            rows, hashes = ctx.chain_state(counts)
        anchored = audit_anchor.check(ctx.settings.data_dir, rows, hashes, key)
    finally:
        ctx.close()
    if anchored.problem:
        raise CliError(f"{anchored.problem}.")
    print(f"Audit chain intact: {report.rows_checked} rows verified.")
    print(anchored.summary)
    return 0
