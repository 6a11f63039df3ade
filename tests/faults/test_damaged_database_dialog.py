"""The app meets a damaged database at start: a window says what is wrong in one sentence and
offers to restore the newest good backup (the damaged files are moved aside byte for byte,
then the app starts on the restored data), to export what can still be read (the salvage
export, behind the password and a TOTP code), or to quit."""

from __future__ import annotations

import csv
import os
import stat
import time
from pathlib import Path

import pyotp
import pytest
from damage_helpers import PASSWORD, SECRET, TRIALS, damaged_folder, digest, folder_digests
from PySide6.QtCore import QTimer

# QtWebEngine must be imported before the QApplication exists (pytest-qt makes it lazily).
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: F401
from PySide6.QtWidgets import QApplication

from cogflow_desktop.export import ExportOptions, export_study
from cogflow_desktop.gui.app import _start as app_start
from cogflow_desktop.gui.damaged_database import DamagedDatabaseDialog
from cogflow_desktop.gui.runtime import start_runtime
from cogflow_desktop.services import auth
from cogflow_desktop.services.instance_lock import InstanceLock
from cogflow_desktop.store.backups import DatabaseDamaged, check_database

SHOTS = os.environ.get("COGFLOW_SCREENSHOTS")  # a folder: the dialog's picture lands there


def _damage(settings) -> DatabaseDamaged:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseDamaged) as found:
        check_database(settings.db_path, settings.backup_dir)
    return found.value


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / name))


def test_restore_moves_the_damaged_files_aside_and_the_app_starts_on_the_backup(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = damaged_folder(tmp_path / "data")
    settings = data.settings
    seen: dict[str, object] = {}

    def click_restore() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, DamagedDatabaseDialog):
            QTimer.singleShot(50, click_restore)
            return
        seen["headline"] = dialog.headline.text()
        seen["button"] = dialog.restore_button.text()
        _shot(dialog, "damaged-database-dialog.png")
        dialog.restore_button.click()

    QTimer.singleShot(0, click_restore)
    runtime = app_start(settings.data_dir, lambda: start_runtime(settings.data_dir, port=0))
    assert runtime is not None
    try:
        headline = str(seen["headline"])
        assert headline.startswith(f"The database {settings.db_path} is damaged (")
        assert headline.endswith("will not write to it.") and headline.count(". ") == 0
        assert "made " in str(seen["button"])

        # The damaged files are kept, owner-only, byte for byte as the damage left them.
        aside = [p for p in (settings.data_dir / "damaged").iterdir() if p.is_dir()]
        assert len(aside) == 1
        kept = {p.name: digest(p) for p in aside[0].iterdir()}
        assert kept == data.digests
        if os.name == "posix":
            assert stat.S_IMODE(aside[0].stat().st_mode) == 0o700

        # The app runs on the restored data: the run from before the backup reads back whole.
        ctx = runtime.ctx
        login = auth.login(ctx, "alice", PASSWORD, "test")
        out = tmp_path / "restored.csv"
        export_study(
            ctx,
            login.secrets.private_key,
            ExportOptions("s", "csv", out, run_ids=(data.before_backup,)),
            actor="alice",
        )
        with out.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert sorted(int(r["trial_index"]) for r in rows) == list(range(TRIALS))
        assert all(r["response"] == f"{SECRET}-0-{r['trial_index']}" for r in rows)
    finally:
        runtime.stop()


def test_salvage_export_from_the_dialog_writes_the_export_and_its_report(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = damaged_folder(tmp_path / "data")
    settings = data.settings
    folder_before = folder_digests(settings.data_dir)
    dialog = DamagedDatabaseDialog(settings, _damage(settings))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.salvage_button.click()
    form = dialog.salvage_dialog
    assert form is not None and form.study.currentText() == "s"
    out = tmp_path / "salvaged.csv"
    form.target.setText(str(out))
    form.username.setText("alice")
    form.password.setText("not the password")
    form.code.setText(pyotp.TOTP(data.totp_secret).at(time.time() + 30))
    form.export_button.click()
    qtbot.waitUntil(lambda: "password is not correct" in form.error.text())
    assert form.isEnabled() and not out.exists()

    form.password.setText(PASSWORD)
    form.code.setText(pyotp.TOTP(data.totp_secret).at(time.time() + 30))
    _shot(form, "salvage-export-form.png")
    form.export_button.click()
    qtbot.waitUntil(lambda: dialog.salvaged is not None)
    result = dialog.salvaged
    assert result is not None
    assert dialog.status.text() == result.sentence()
    _shot(dialog, "damaged-database-dialog-after-salvage.png")

    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_run: dict[str, set[int]] = {}
    for row in rows:
        by_run.setdefault(row["run_session_id"], set()).add(int(row["trial_index"]))
    assert by_run[data.after_backup] == set(range(TRIALS))  # only in the damaged file
    assert 5 not in by_run.get(data.before_backup, set())
    report = out.with_name(out.name + ".salvage-report.txt")
    assert data.before_backup in report.read_text(encoding="utf-8")
    # Nothing in the data folder was created or changed, the private copy is gone.
    assert folder_digests(settings.data_dir) == folder_before
    assert not dialog.isHidden() and dialog.restored is None


def test_without_a_good_backup_restore_is_disabled_with_the_reason(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = damaged_folder(tmp_path / "data", with_backup=False)
    dialog = DamagedDatabaseDialog(data.settings, _damage(data.settings))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.restore_button.isEnabled()
    assert "no backup that passes the integrity check" in dialog.restore_button.toolTip()
    assert dialog.backup_info.text() == dialog.restore_button.toolTip()
    _shot(dialog, "damaged-database-dialog-no-backup.png")
    dialog.quit_button.click()
    assert dialog.result() == 0 and dialog.restored is None


def test_restore_is_refused_while_another_process_holds_the_data_folder(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = damaged_folder(tmp_path / "data")
    settings = data.settings
    dialog = DamagedDatabaseDialog(settings, _damage(settings))
    qtbot.addWidget(dialog)
    dialog.show()
    held = InstanceLock(settings.data_dir, "`cogflow-desktop serve`").acquire()
    try:
        dialog.restore_button.click()
    finally:
        held.release()
    assert "already in use by `cogflow-desktop serve`" in dialog.status.text()
    assert dialog.restored is None and not (settings.data_dir / "damaged").exists()
    db = settings.db_path
    assert {p: digest(db.with_name(p)) for p in data.digests} == data.digests
