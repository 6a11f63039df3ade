"""What the About box lists (no Qt widgets here): versions of the app and what it runs on, and
the licence of every package the app ships."""

from __future__ import annotations

import json
import platform
import re
import sqlite3
from importlib import metadata
from pathlib import Path

from cogflow_desktop import __version__

DIST = "cogflow-desktop"
_NAME = re.compile(r"^[A-Za-z0-9._-]+")


def versions(resources: Path) -> list[tuple[str, str]]:
    import PySide6
    from PySide6 import QtCore
    from PySide6.QtWebEngineCore import qWebEngineChromiumVersion

    rows = [
        ("CogFlow Desktop", __version__),
        ("Python", platform.python_version()),
        ("Qt / PySide6", f"{QtCore.qVersion()} / {PySide6.__version__}"),
        ("Chromium (QtWebEngine)", qWebEngineChromiumVersion()),
        ("SQLite", sqlite3.sqlite_version),
        ("Operating system", f"{platform.system()} {platform.release()}"),
    ]
    try:
        pinned = json.loads((resources / "vendor" / "versions.json").read_text(encoding="utf-8"))
        for name, spec in pinned.get("packages", {}).items():
            rows.append((f"{name} (web apps)", str(spec.get("version", "?"))))
    except (OSError, ValueError):
        pass
    return rows


def licence_of(dist: str) -> str:
    try:
        meta = metadata.metadata(dist)
    except metadata.PackageNotFoundError:
        return "not installed"
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]  # fmt: skip
    if classifiers:
        return ", ".join(classifiers)
    text = (meta.get("License") or "").strip().splitlines()
    return text[0][:60] if text else "see the package"


def licences() -> list[tuple[str, str, str]]:
    """(package, version, licence) for each runtime dependency of the app."""
    try:
        required = metadata.requires(DIST) or []
    except metadata.PackageNotFoundError:
        required = []
    rows = []
    for req in required:
        if "extra ==" in req:
            continue
        match = _NAME.match(req)
        if not match:
            continue
        name = match.group(0)
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "?"
        rows.append((name, version, licence_of(name)))
    rows.append(("jsPsych (vendored)", "", "MIT"))
    rows.append(("Qt, QtWebEngine (Chromium)", "", "LGPL-3.0, Chromium's BSD-style licences"))
    return sorted(rows, key=lambda r: r[0].lower())
