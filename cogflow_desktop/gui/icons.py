"""The navigation's icons: small line drawings as SVG, rendered in the theme's text colour at
the screen's pixel ratio, so they are sharp on HiDPI screens and fit light and dark themes."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

# 24×24 viewBox, stroked paths (drawn for this app).
PATHS = {
    "studies": "M4 5h16M4 12h16M4 19h16M4 5v0M8 5v14",
    "builder": "M4 20h4L19 9l-4-4L4 16v4zM13 7l4 4",
    "results": "M4 20V10M10 20V4M16 20v-7M22 20H2",
    "sync": "M20 12a8 8 0 0 1-14 5.3M4 12a8 8 0 0 1 14-5.3M18 2v5h-5M6 22v-5h5",
    "audit": "M12 2l8 3v6c0 5-3.5 9-8 11-4.5-2-8-6-8-11V5l8-3zM8.5 12l2.5 2.5 4.5-5",
    "settings": "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .3-1.4-1.4.3-2-3-1-1 2"
    "h-2l-1-2-3 1 .3 2L5.3 7.3 3.3 7l-1 3 2 1v2l-2 1 1 3 2-.3 1.4 1.4-.3 2 3 1 1-2h2l1 2 3-1"
    "-.3-2 1.4-1.4 2 .3 1-3-2-1z",
    "researchers": "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21c0-4 3-6 7-6s7 2 7 6M17 11a3 3 0 1 0"
    " 0-6M19 15c2 .7 3 2.5 3 5",
    "page": "M6 2h9l5 5v15H6zM14 2v6h6",
}


def svg(name: str, colour: str) -> bytes:
    path = PATHS.get(name, PATHS["page"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
        f'stroke="{colour}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">'
        f'<path d="{path}"/></svg>'
    ).encode()


def icon(name: str, colour: QColor | str, size: int = 20, ratio: float = 2.0) -> QIcon:
    """An icon drawn at `ratio` × size pixels (2× covers HiDPI screens)."""
    hex_colour = QColor(colour).name()
    renderer = QSvgRenderer(QByteArray(svg(name, hex_colour)))
    result = QIcon()
    for scale in (1.0, ratio):
        px = round(size * scale)
        pixmap = QPixmap(QSize(px, px))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, px, px))
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        result.addPixmap(pixmap)
    return result
