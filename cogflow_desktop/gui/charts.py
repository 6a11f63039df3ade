"""Charts of decrypted results (QtCharts, part of PySide6 Addons), each savable as PNG or SVG.

The numbers come from analysis.py; this module only draws them, in the app's light or dark
palette."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cogflow_desktop.gui import analysis

# Colour-blind-safe (Okabe-Ito) series colours.
BLUE, ORANGE, VERMILLION, GREEN = "#0072B2", "#E69F00", "#D55E00", "#009E73"


def _dark() -> bool:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def new_chart(title: str) -> QChart:
    chart = QChart()
    theme = QChart.ChartTheme
    chart.setTheme(theme.ChartThemeDark if _dark() else theme.ChartThemeLight)
    chart.setBackgroundRoundness(0)
    chart.setMargins(QMargins(6, 6, 6, 6))
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    return chart


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick interval (1, 2, 2.5, 5 × 10^k) giving about `ticks` intervals."""
    raw = max(span, 1e-9) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def value_axis(title: str, low: float, high: float, fmt: str = "%d") -> QValueAxis:
    """Round ticks; counts (`%d`) tick at whole numbers only, so no label repeats."""
    axis = QValueAxis()
    axis.setTitleText(title)
    axis.setLabelFormat(fmt)
    step = nice_step(high - low if high > low else 1.0)
    if fmt == "%d":
        step = max(1.0, math.ceil(step))
    start = math.floor(low / step) * step
    end = max(math.ceil(high / step) * step, start + step)
    axis.setRange(start, end)
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(start)
    axis.setTickInterval(step)
    return axis


def empty_chart(title: str, why: str) -> QChart:
    chart = new_chart(f"{title}: {why}")
    chart.legend().hide()
    return chart


def rt_distribution(values: Sequence[float], scope: str) -> QChart:
    title = f"Response times ({scope})"
    bins = analysis.histogram(values)
    if not bins:
        return empty_chart(title, "no responses yet")
    counts = QBarSet("Trials")
    counts.setColor(QColor(BLUE))
    counts.append([float(n) for _lo, _hi, n in bins])
    series = QBarSeries()
    series.append(counts)
    series.setBarWidth(0.95)
    chart = new_chart(f"{title}: {len(values)} responses")
    chart.addSeries(series)
    x = QBarCategoryAxis()
    x.append([f"{lo:g}" for lo, _hi, _n in bins])
    x.setTitleText("RT (ms), bin start")
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x)
    y = value_axis("Trials", 0, max(n for *_r, n in bins))
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(y)
    chart.legend().hide()
    return chart


def by_condition(levels: Sequence[analysis.Level], field: str, scope: str) -> QChart:
    title = f"Accuracy and RT by {field} ({scope})"
    if not levels:
        return empty_chart(title, "no trials carry this field")
    accuracy = QBarSet("Accuracy (%)")
    accuracy.setColor(QColor(GREEN))
    accuracy.append([100 * (lv.accuracy or 0.0) for lv in levels])
    bars = QBarSeries()
    bars.append(accuracy)
    rt = QLineSeries()
    rt.setName("Mean RT (ms)")
    rt.setPen(QPen(QColor(ORANGE), 3))
    rt.setPointsVisible(True)
    for i, lv in enumerate(levels):
        if lv.mean_rt_ms is not None:
            rt.append(float(i), lv.mean_rt_ms)
    chart = new_chart(title)
    chart.addSeries(bars)
    chart.addSeries(rt)
    x = QBarCategoryAxis()
    x.append([f"{lv.value} (n={lv.trials})" for lv in levels])
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    bars.attachAxis(x)
    rt.attachAxis(x)
    y = value_axis("Accuracy (%)", 0, 100)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(y)
    times = [lv.mean_rt_ms for lv in levels if lv.mean_rt_ms is not None]
    y2 = value_axis("Mean RT (ms)", 0, max(times) * 1.1 if times else 1)
    chart.addAxis(y2, Qt.AlignmentFlag.AlignRight)
    rt.attachAxis(y2)
    return chart


def trial_timeline(points: Sequence[analysis.TimelinePoint], scope: str) -> QChart:
    title = f"Trials in order ({scope})"
    if not points:
        return empty_chart(title, "no task trials yet")
    top = max((p.rt_ms for p in points if p.rt_ms is not None), default=1000.0) * 1.08
    shape = QScatterSeries.MarkerShape
    styles = {
        "response": ("Response", BLUE, shape.MarkerShapeCircle),
        "timeout": ("Timeout (drawn at the top)", VERMILLION, shape.MarkerShapeRectangle),
        "false_start": ("False start", ORANGE, shape.MarkerShapeTriangle),
    }
    chart = new_chart(title)
    indices = [p.trial_index for p in points]
    x = value_axis("Trial index", min(indices), max(indices))
    y = value_axis("RT (ms)", 0, top)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    for kind, (name, colour, marker) in styles.items():
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        series = QScatterSeries()
        series.setName(f"{name}: {len(chosen)}")
        series.setColor(QColor(colour))
        series.setBorderColor(QColor(colour))
        series.setMarkerShape(marker)
        series.setMarkerSize(8.0)
        for p in chosen:
            series.append(float(p.trial_index), p.rt_ms if kind == "response" else top * 0.97)
        chart.addSeries(series)
        series.attachAxis(x)
        series.attachAxis(y)
    return chart


def timing_fingerprint(prints: Sequence[analysis.Fingerprint], scope: str) -> QChart:
    title = f"Timing fingerprint ({scope})"
    known = [f for f in prints if f.refresh_hz is not None or f.dropped_frames is not None]
    if not known:
        return empty_chart(title, "the runs recorded no timing data")
    dropped = QBarSet("Dropped frames")
    dropped.setColor(QColor(VERMILLION))
    dropped.append([float(f.dropped_frames or 0) for f in known])
    bars = QBarSeries()
    bars.append(dropped)
    refresh = QLineSeries()
    refresh.setName("Measured refresh (Hz)")
    refresh.setPen(QPen(QColor(BLUE), 3))
    refresh.setPointsVisible(True)
    for i, f in enumerate(known):
        if f.refresh_hz is not None:
            refresh.append(float(i), f.refresh_hz)
    chart = new_chart(title)
    chart.addSeries(bars)
    chart.addSeries(refresh)
    x = QBarCategoryAxis()
    x.append([f.run_label for f in known])
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    bars.attachAxis(x)
    refresh.attachAxis(x)
    y = value_axis("Dropped frames", 0, max(f.dropped_frames or 0 for f in known))
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(y)
    hz = [f.refresh_hz for f in known if f.refresh_hz is not None]
    y2 = value_axis("Refresh (Hz)", 0, max(hz) * 1.15 if hz else 1)
    chart.addAxis(y2, Qt.AlignmentFlag.AlignRight)
    refresh.attachAxis(y2)
    return chart


class ChartPanel(QWidget):
    """One chart, with buttons that save it as PNG or SVG."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.view = QChartView()
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumSize(QSize(320, 200))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("chartNote")
        self.png = QPushButton("Save PNG…")
        self.png.setObjectName("savePng")
        self.png.clicked.connect(lambda: self._ask("png"))
        self.svg = QPushButton("Save SVG…")
        self.svg.setObjectName("saveSvg")
        self.svg.clicked.connect(lambda: self._ask("svg"))
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.png)
        row.addWidget(self.svg)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)

    def set_chart(self, chart: QChart) -> None:
        old = self.view.chart()
        self.view.setChart(chart)
        if old is not None and old is not chart:
            old.deleteLater()

    @property
    def chart(self) -> QChart:
        return self.view.chart()

    def _ask(self, kind: str) -> None:
        name = self.chart.title().split(":")[0].strip().replace(" ", "-").lower() or "chart"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save chart", f"{name}.{kind}", f"{kind.upper()} (*.{kind})"
        )
        if path:
            self.save(Path(path))

    def save(self, path: Path, size: QSize | None = None) -> Path:
        """PNG (at the screen's pixel ratio, so it is sharp) or SVG, by the file's suffix."""
        size = size or self.view.size()
        if path.suffix.lower() == ".svg":
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(size)
            generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
            generator.setTitle(self.chart.title())
            painter = QPainter(generator)
            self.view.render(painter)
            painter.end()
        else:
            if not self.view.grab().save(str(path), "PNG"):
                raise OSError(f"The chart could not be written to {path}.")
        return path
