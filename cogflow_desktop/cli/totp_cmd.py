"""`cogflow-desktop users totp-setup`: enrol a researcher's authenticator from the command line,
so decrypting commands (export) can be used on a machine without the app's window."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from cogflow_desktop.cli.common import StdinLines, add_data_dir, open_ctx, read_secret
from cogflow_desktop.services import auth

CLIENT = "cli"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    # A subcommand of `users` (registered before this module in COMMAND_MODULE_NAMES).
    users_parser = sub.choices["users"]
    usub = next(a for a in users_parser._actions if isinstance(a, argparse._SubParsersAction))
    p = usub.add_parser(
        "totp-setup",
        help="enrol an authenticator app (TOTP)",
        description="Show the account's TOTP secret (and otpauth:// URI for a QR code), then "
        "activate it with a code from the authenticator (--code, $COGFLOW_TOTP_CODE, or a "
        "prompt). Until a code is verified, running this again shows the same secret. An "
        "active enrolment's secret is never shown again.",
    )
    p.add_argument("username")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--code", metavar="CODE", help="a current code, to activate the enrolment")
    add_data_dir(p)
    p.set_defaults(func=setup)


def _code(args: argparse.Namespace) -> str | None:
    code = args.code or os.environ.get("COGFLOW_TOTP_CODE")
    if not code and sys.stdin is not None and sys.stdin.isatty() and not args.password_stdin:
        code = getpass.getpass("Code from the authenticator (empty to skip): ")
    return code.strip() if code else None


def setup(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        password = read_secret(
            what=f"password of {args.username}",
            from_stdin=args.password_stdin,
            stdin=StdinLines(),
            env_var="COGFLOW_PASSWORD",
        )
        login = auth.login(ctx, args.username, password, client=CLIENT)
        try:
            enrol = auth.mfa_setup(ctx, login.secrets, regenerate=False, client=CLIENT)
            print(f"TOTP secret for {enrol.username}: {enrol.secret}")
            print(f"otpauth URI: {enrol.otpauth_uri}")
            code = _code(args)
            if not code:
                print("Not active yet: run again with --code and a code from the authenticator.")
                return 0
            auth.verify_code(ctx, login.secrets, code, client=CLIENT)
            print(f"TOTP is on for {enrol.username}.")
            return 0
        finally:
            auth.logout(ctx, login.token, client=CLIENT)
    finally:
        ctx.close()
