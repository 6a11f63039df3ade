"""`cogflow-desktop users ...`: researcher accounts."""

from __future__ import annotations

import argparse

from cogflow_desktop.cli.common import CliError, StdinLines, add_data_dir, open_ctx, read_secret
from cogflow_desktop.services import users


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "users", help="researcher accounts", description="Create and list researcher accounts."
    )
    usub = p.add_subparsers(dest="users_command", required=True, metavar="COMMAND")

    c = usub.add_parser(
        "create",
        help="create a researcher account",
        description="Create a researcher account. The first one also creates the install's "
        "keys and prints the recovery key once. Later accounts need an existing researcher "
        "(--unlock-user, password on the next stdin line or in COGFLOW_UNLOCK_PASSWORD), or the "
        "recovery key when every password is lost (--recovery-key, the key on the next stdin "
        "line or in COGFLOW_RECOVERY_KEY).",
    )
    c.add_argument("username")
    c.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password (then the unlocking password) from stdin",
    )
    c.add_argument(
        "--unlock-user",
        metavar="NAME",
        help="an existing researcher whose password unlocks the install key",
    )
    c.add_argument(
        "--recovery-key",
        action="store_true",
        help="unlock the install key with the recovery key shown at setup",
    )
    add_data_dir(c)
    c.set_defaults(func=create)

    ls = usub.add_parser("list", help="list researcher accounts", description="List accounts.")
    add_data_dir(ls)
    ls.set_defaults(func=list_users)


def create(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        stdin = StdinLines()
        password = read_secret(
            what="new password",
            from_stdin=args.password_stdin,
            stdin=stdin,
            env_var="COGFLOW_PASSWORD",
            confirm=True,
        )
        unlocked = None
        if args.unlock_user and args.recovery_key:
            raise CliError("Give either --unlock-user or --recovery-key, not both.")
        if args.recovery_key:
            recovery = read_secret(
                what="recovery key",
                from_stdin=args.password_stdin,
                stdin=stdin,
                env_var="COGFLOW_RECOVERY_KEY",
            )
            unlocked = users.unlock_with_recovery_key(ctx, recovery)
        elif args.unlock_user:
            unlock_pw = read_secret(
                what=f"password of {args.unlock_user}",
                from_stdin=args.password_stdin,
                stdin=stdin,
                env_var="COGFLOW_UNLOCK_PASSWORD",
            )
            unlocked = users.unlock_with_password(ctx, args.unlock_user, unlock_pw)
        created = users.create_user(
            ctx,
            args.username,
            password,
            unlocked_key=unlocked,
            actor=args.unlock_user or ("recovery-key" if args.recovery_key else "cli"),
        )
        print(f"Created researcher {created.username!r}.")
        if created.recovery_key:
            print(
                "This installation's recovery key (shown once; store it somewhere safe, away "
                "from this computer):"
            )
            print(f"  {created.recovery_key}")
        return 0
    finally:
        ctx.close()


def list_users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from cogflow_desktop.store.models import User

    ctx = open_ctx(args)
    try:
        with ctx.read() as s:
            for user in s.scalars(select(User).order_by(User.username)):
                mfa = "TOTP on" if user.mfa_enabled else "TOTP not set up"
                print(f"{user.username}\t{mfa}\tcreated {user.created_at:%Y-%m-%d}")
        return 0
    finally:
        ctx.close()
