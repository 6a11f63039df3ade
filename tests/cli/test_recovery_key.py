"""The recovery key shown at setup re-opens the installation when every password is lost."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import cli_env, create_admin, run_cli


def test_recovery_key_adds_a_researcher(tmp_path: Path) -> None:
    recovery_key = create_admin(tmp_path)
    data = ["--data-dir", str(tmp_path)]

    wrong = run_cli(
        "users",
        "create",
        "carol",
        "--password-stdin",
        "--recovery-key",
        *data,
        stdin="carol's long passphrase\nAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH\n",
    )
    assert wrong.returncode == 1
    assert "recovery key" in wrong.stderr and "Traceback" not in wrong.stderr

    # From stdin, typed loosely (lower case, spaces): accepted.
    typed = recovery_key.lower().replace("-", " ")
    done = run_cli(
        "users",
        "create",
        "carol",
        "--password-stdin",
        "--recovery-key",
        *data,
        stdin=f"carol's long passphrase\n{typed}\n",
    )
    assert done.returncode == 0, done.stderr
    assert "recovery key" not in done.stdout.lower()  # no new recovery key is printed

    # From the environment, for scripts.
    env = cli_env(COGFLOW_PASSWORD="dave's long passphrase", COGFLOW_RECOVERY_KEY=recovery_key)
    done = run_cli("users", "create", "dave", "--recovery-key", *data, env=env)
    assert done.returncode == 0, done.stderr

    listed = run_cli("users", "list", *data)
    assert {line.split("\t")[0] for line in listed.stdout.splitlines()} >= {"carol", "dave"}

    both = run_cli(
        "users",
        "create",
        "erin",
        "--password-stdin",
        "--recovery-key",
        "--unlock-user",
        "carol",
        *data,
        stdin="erin's long passphrase\n",
    )
    assert both.returncode == 1 and "not both" in both.stderr
