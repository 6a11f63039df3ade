"""#12.6 and the pictures: the Results page fits 1280×720 after a decrypt, its summary is a
readable panel with the participant's own id, "Decrypt all" says what it decrypted, and the
charts (RT distribution, by condition, timeline, timing) draw the decrypted data and save as
PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import FLANKER, PASSWORD, RESEARCHER, WAIT_MS, Researcher
from PySide6.QtCharts import QBarSeries, QScatterSeries
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from cogflow_desktop.gui import analysis
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.pages.base import table_model
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.services import runs

pytestmark = pytest.mark.gui

TIMING = {"refresh_hz": 59.94, "dropped_frames": 3, "frame_ms_sd": 0.41,
          "screen": {"width": 1920, "height": 1080}}  # fmt: skip


def _trials(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        timeout = i % 7 == 6
        rows.append(
            {
                "trial_index": i,
                "component_type": "flanker-trial",
                "rt_ms": None if timeout else 350.0 + 25 * (i % 5) + (40 if i % 2 else 0),
                "response": None if timeout else "f",
                "correct": None if timeout else i % 3 != 0,
                "ended_reason": "timeout" if timeout else "response",
                "congruency": "incongruent" if i % 2 else "congruent",
                "stimulus_onset_ms": 1000.0 * i,
                "note": f"free text {i}",  # one value per trial: not a condition
            }
        )
    return rows


def _run(runtime: AppRuntime, slug: str, participant: str, n: int) -> str:
    run_id = runs.start_run(runtime.ctx, slug, participant, actor="anonymous", client="t")[
        "run_session_id"
    ]
    rows = _trials(n)
    runs.submit(
        runtime.ctx,
        runs.SubmitRequest(run_id, "completed", n, {"task": {}}, {"timing": TIMING}, rows),
        actor="anonymous",
        client="t",
    )
    return run_id


def test_analysis_finds_conditions_timeouts_and_timing() -> None:
    rows = _trials(14)
    assert analysis.condition_fields(rows) == ["congruency"]
    levels = {lv.value: lv for lv in analysis.by_condition(rows, "congruency")}
    assert levels["congruent"].trials == 7 and levels["incongruent"].trials == 7
    assert levels["incongruent"].mean_rt_ms > levels["congruent"].mean_rt_ms
    kinds = [p.kind for p in analysis.timeline(rows)]
    assert kinds.count("timeout") == 2 and kinds.count("response") == 12
    assert sum(n for *_edges, n in analysis.histogram(analysis.rts(rows))) == 12
    fp = analysis.fingerprint("r1", {"timing": TIMING})
    assert (fp.refresh_hz, fp.dropped_frames, fp.screen) == (59.94, 3, "1920×1080")


def test_results_fit_1280x720_summary_participant_and_charts(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:
    slug = window.studies.import_file(FLANKER)
    assert slug
    rt = window.state.runtime
    ids = [_run(rt, slug, f"P-{k:03d}", 14) for k in range(3)]
    window.resize(1280, 720)
    page = window.results
    window.open_results(slug)
    session = window.state.session
    session.sign_in(RESEARCHER, PASSWORD)
    session.verify_code(researcher.next_code())
    assert page.decrypt_all() is not None
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    QApplication.processEvents()
    # Decrypt all says what it decrypted, and the table marks it.
    assert page.decrypted_label.text().startswith("Decrypted 3 run(s) with 42 trial(s)")
    rows = table_model(page.runs).rows
    assert all(r["decrypted"] for r in rows)
    # The participant's own id is shown once decrypted (it is behind the same code).
    assert sorted(r["participant"] for r in rows) == ["P-000", "P-001", "P-002"]
    # The window did not grow past the screen it was given.
    assert window.width() <= 1280 and window.height() <= 720
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720
    # The summary is a readable panel, not raw JSON.
    text = page.summary.toPlainText()
    assert "Accuracy" in text and "Participant\tP-" in text.replace("\n", "\t")
    assert "{" not in text and "59.94 Hz" in text and "Dropped frames" in text

    charts = page.charts
    page.tabs.setCurrentWidget(charts)
    charts.scope.setCurrentText("All decrypted runs")
    charts.which.setCurrentIndex(0)
    bars = [s for s in charts.panel.chart.series() if isinstance(s, QBarSeries)]
    assert sum(sum(b.at(i) for i in range(b.count())) for b in bars[0].barSets()) == 36
    charts.which.setCurrentIndex(1)
    assert charts.field.currentText() == "congruency"
    assert "by congruency" in charts.panel.chart.title()
    charts.which.setCurrentIndex(2)
    names = [s.name() for s in charts.panel.chart.series() if isinstance(s, QScatterSeries)]
    assert any(n.startswith("Timeout") and n.endswith(": 6") for n in names)
    charts.which.setCurrentIndex(3)
    assert "3 run(s)" in charts.panel.chart.title()
    png = charts.panel.save(tmp_path / "timing.png")
    svg = charts.panel.save(tmp_path / "timing.svg", QSize(800, 500))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text(encoding="utf-8")
    assert ids
