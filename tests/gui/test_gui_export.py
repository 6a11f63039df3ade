"""#12.8: export defaults to a folder that exists, keeps its dialog open on a path error, and a
failed export is audited as failed (not as a denied one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import FLANKER, PASSWORD, RESEARCHER, WAIT_MS, Researcher, record_run
from PySide6.QtWidgets import QDialogButtonBox
from sqlalchemy import select

from cogflow_desktop.export import ExportOptions
from cogflow_desktop.gui.export_flow import documents_folder
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.services.errors import ServiceError
from cogflow_desktop.store.models import AuditEvent

pytestmark = pytest.mark.gui


def test_export_dialog_default_path_errors_and_audit(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:
    assert documents_folder().is_dir()
    slug = window.studies.import_file(FLANKER)
    assert slug
    record_run(window.state.runtime, slug, "P1", 3, submit="completed")
    session = window.state.session
    session.sign_in(RESEARCHER, PASSWORD)
    session.verify_code(researcher.next_code())

    window.exports.start(slug, [])
    dialog = window.exports.dialog
    assert dialog is not None and dialog.isVisible()
    assert Path(dialog.target.text()).parent.is_dir()  # the default folder exists
    dialog.target.setText(str(tmp_path / "no-such-folder" / "out.csv"))
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    ok.click()
    assert dialog.isVisible() and "does not exist" in dialog.error.text()
    assert window.exports.job is None
    good = tmp_path / "out.csv"
    dialog.target.setText(str(good))
    ok.click()
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: window.exports.job is None, timeout=WAIT_MS)
    assert good.is_file() and window.exports.last_result is not None

    # A path the service cannot use is a failure in the audit log, not a denial.
    with pytest.raises(ServiceError, match="does not exist"):
        session.export(ExportOptions(slug, "csv", tmp_path / "missing" / "x.csv"))
    with window.state.ctx.read() as s:
        last = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "results.export")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert last is not None and last.outcome == "failed"
