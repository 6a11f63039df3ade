"""`cogflow-desktop users ...`: researcher accounts and their lifecycle.

Changing anyone's access (adding, locking, unlocking, removing a researcher, rotating the
install key) needs an acting researcher's password and a current TOTP code, like the app's
Settings page; every change is audited. Secrets come from stdin (--password-stdin, one per
line in the order the command asks), else environment variables, else a prompt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from cogflow_desktop.cli.common import CliError, StdinLines, add_data_dir, open_ctx, read_secret
from cogflow_desktop.services import auth, researchers, users
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import AccountLocked, AuthRequired
from cogflow_desktop.services.vault import SessionSecrets

CLIENT = "cli"
TOTP_ENV = "COGFLOW_TOTP_CODE"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "users",
        help="researcher accounts",
        description="Create, list, lock, unlock and remove researcher accounts, change a "
        "password, rotate the install key.",
    )
    usub = p.add_subparsers(dest="users_command", required=True, metavar="COMMAND")

    c = usub.add_parser(
        "create",
        help="create a researcher account",
        description="Create a researcher account. The first one also creates the install's "
        "keys and prints the recovery key once. Later accounts need an existing researcher's "
        "password (--unlock-user, on the next stdin line or in COGFLOW_UNLOCK_PASSWORD) and a "
        f"current TOTP code of theirs (--totp-code or ${TOTP_ENV}), or the recovery key when "
        "every password is lost (--recovery-key, the key on the next stdin line or in "
        "COGFLOW_RECOVERY_KEY).",
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
        help="an existing researcher whose password and TOTP code authorize the new account",
    )
    _add_totp(c)
    c.add_argument(
        "--recovery-key",
        action="store_true",
        help="unlock the install key with the recovery key shown at setup",
    )
    add_data_dir(c)
    c.set_defaults(func=create)

    ls = usub.add_parser(
        "list", help="list researcher accounts", description="List researcher accounts."
    )
    add_data_dir(ls)
    ls.set_defaults(func=list_users)

    pw = usub.add_parser(
        "passwd",
        help="change your password",
        description="Change a researcher's own password: the current one (stdin line 1 or "
        "COGFLOW_PASSWORD), the new one (stdin line 2 or COGFLOW_NEW_PASSWORD), and a current "
        "TOTP code when the account has an authenticator. The account's other sessions end.",
    )
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read both passwords from stdin")
    _add_totp(pw)
    add_data_dir(pw)
    pw.set_defaults(func=passwd)

    for name, helptext, action in (
        ("lock", "lock an account (its sessions end at once)", researchers.lock),
        ("unlock", "unlock a locked account", researchers.unlock),
        ("remove", "remove an account and its copy of the install key", researchers.remove),
    ):
        cmd = usub.add_parser(
            name,
            help=helptext,
            description=f"{helptext[0].upper()}{helptext[1:]}. Needs an acting researcher's "
            "password (stdin or COGFLOW_PASSWORD) and current TOTP code (--totp-code or "
            f"${TOTP_ENV}).",
        )
        cmd.add_argument("username")
        _add_acting(cmd)
        cmd.set_defaults(func=_target_command(action, name))

    rk = usub.add_parser(
        "rotate-key",
        help="rotate the install key pair",
        description="Make a new install key pair: every run key and participant id is "
        "re-sealed to it, every account gets a copy, the old key's copies are destroyed, and a "
        "new recovery key is printed once (the old one stops working). Unattended sync is "
        "turned off (turn it on again). Every session ends. Needs an acting researcher's "
        f"password and current TOTP code (--totp-code or ${TOTP_ENV}).",
    )
    _add_acting(rk)
    rk.set_defaults(func=rotate_key)


def _add_totp(p: argparse.ArgumentParser) -> None:
    p.add_argument("--totp-code", metavar="CODE", help=f"a current TOTP code (or ${TOTP_ENV})")


def _add_acting(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--as", dest="acting", required=True, metavar="NAME", help="the acting researcher"
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _add_totp(p)
    add_data_dir(p)


def _totp_code(args: argparse.Namespace, whose: str) -> str:
    code = args.totp_code or os.environ.get(TOTP_ENV)
    if not code and sys.stdin is not None and sys.stdin.isatty() and not args.password_stdin:
        code = getpass.getpass(f"Current TOTP code of {whose}: ")
    if not code:
        raise CliError(
            f"This needs a current TOTP code of {whose}: pass --totp-code or set {TOTP_ENV}."
        )
    return code.strip()


def _with_acting(
    ctx: Context,
    args: argparse.Namespace,
    username: str,
    password: str,
    work: Callable[[SessionSecrets], int],
) -> int:
    """Sign `username` in (throttled, audited), prove a fresh TOTP code, do the work, sign
    out: the same proof the app's Settings page asks for."""
    login = _login(ctx, username, password)
    try:
        auth.verify_code(ctx, login.secrets, _totp_code(args, username), CLIENT)
        return work(login.secrets)
    finally:
        auth.logout(ctx, login.token, CLIENT)


def _login(ctx: Context, username: str, password: str) -> auth.LoginResult:
    try:
        return auth.login(ctx, username, password, CLIENT)
    except AccountLocked:
        raise
    except AuthRequired as exc:
        raise CliError("The username or password is not correct.") from exc


def create(args: argparse.Namespace) -> int:
    if args.unlock_user and args.recovery_key:
        raise CliError("Give either --unlock-user or --recovery-key, not both.")
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
        if args.unlock_user:
            unlock_pw = read_secret(
                what=f"password of {args.unlock_user}",
                from_stdin=args.password_stdin,
                stdin=stdin,
                env_var="COGFLOW_UNLOCK_PASSWORD",
            )

            def add(acting: SessionSecrets) -> int:
                _report_created(
                    researchers.add(ctx, acting, args.username, password, client=CLIENT)
                )
                return 0

            return _with_acting(ctx, args, args.unlock_user, unlock_pw, add)
        unlocked = None
        if args.recovery_key:
            recovery = read_secret(
                what="recovery key",
                from_stdin=args.password_stdin,
                stdin=stdin,
                env_var="COGFLOW_RECOVERY_KEY",
            )
            unlocked = users.unlock_with_recovery_key(ctx, recovery)
        created = users.create_user(
            ctx,
            args.username,
            password,
            unlocked_key=unlocked,
            actor="recovery-key" if args.recovery_key else "cli",
        )
        _report_created(created)
        return 0
    finally:
        ctx.close()


def _report_created(created: users.CreatedUser) -> None:
    print(f"Created researcher {created.username!r}.")
    if created.recovery_key:
        print(
            "This installation's recovery key (shown once; store it somewhere safe, away "
            "from this computer):"
        )
        print(f"  {created.recovery_key}")


def list_users(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        for r in researchers.list_researchers(ctx):
            mfa = "TOTP on" if r.mfa_enabled else "TOTP not set up"
            state = f"locked by {r.locked_by}" if r.locked else "active"
            seen = (
                f"last sign-in {r.last_login_at:%Y-%m-%d}" if r.last_login_at else "never signed in"
            )
            print(f"{r.username}\t{state}\t{mfa}\tcreated {r.created_at:%Y-%m-%d}\t{seen}")
        return 0
    finally:
        ctx.close()


def passwd(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        stdin = StdinLines()
        current = read_secret(
            what=f"current password of {args.username}",
            from_stdin=args.password_stdin,
            stdin=stdin,
            env_var="COGFLOW_PASSWORD",
        )
        new = read_secret(
            what="new password",
            from_stdin=args.password_stdin,
            stdin=stdin,
            env_var="COGFLOW_NEW_PASSWORD",
            confirm=True,
        )
        users.check_new_password(new)
        login = _login(ctx, args.username, current)
        try:
            if auth.mfa_enabled(ctx, login.secrets.user_id):
                auth.verify_code(ctx, login.secrets, _totp_code(args, args.username), CLIENT)
            researchers.change_password(ctx, login.secrets, current, new, client=CLIENT)
        finally:
            auth.logout(ctx, login.token, CLIENT)
        print(f"The password of {args.username} is changed; its other sessions have ended.")
        return 0
    finally:
        ctx.close()


def _target_command(action: Callable[..., None], verb: str) -> Callable[[argparse.Namespace], int]:
    done = {"lock": "is locked", "unlock": "is unlocked", "remove": "is removed"}[verb]

    def command(args: argparse.Namespace) -> int:
        ctx = open_ctx(args)
        try:
            password = _acting_password(args)

            def work(acting: SessionSecrets) -> int:
                action(ctx, acting, args.username, client=CLIENT)
                print(f"{args.username} {done}.")
                return 0

            return _with_acting(ctx, args, args.acting, password, work)
        finally:
            ctx.close()

    return command


def _acting_password(args: argparse.Namespace) -> str:
    return read_secret(
        what=f"password of {args.acting}",
        from_stdin=args.password_stdin,
        stdin=StdinLines(),
        env_var="COGFLOW_PASSWORD",
    )


def rotate_key(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        password = _acting_password(args)

        def work(acting: SessionSecrets) -> int:
            done = researchers.rotate_install_key(ctx, acting, client=CLIENT)
            print(
                f"The install key is rotated: {done.run_keys} run key(s) and "
                f"{done.participant_ids} participant id(s) re-sealed, {done.accounts} "
                "account(s) given the new key; every session has ended."
            )
            if done.unattended_sync_turned_off:
                print("Unattended sync was turned off (it held the old key): turn it on again.")
            print(
                "The new recovery key (shown once; the old one no longer works; store it "
                "somewhere safe, away from this computer):"
            )
            print(f"  {done.recovery_key}")
            return 0

        return _with_acting(ctx, args, args.acting, password, work)
    finally:
        ctx.close()
