"""The app's export dialog offers every export format, folder formats as new folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogflow_desktop.export import FORMATS
from cogflow_desktop.export.options import FOLDER_FORMATS
from cogflow_desktop.gui.dialogs.export import ExportDialog

pytestmark = pytest.mark.gui


def test_every_format_can_be_chosen(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = ExportDialog("flanker", [], tmp_path)
    qtbot.addWidget(dialog)
    for fmt in FORMATS:
        dialog.format.setCurrentIndex(dialog.format.findData(fmt))
        options = dialog.options()
        assert options.format == fmt
        assert (options.out.suffix == "") == (fmt in FOLDER_FORMATS), options.out
