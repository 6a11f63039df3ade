"""Start-up loads only what it needs: no Alembic for a current database, no command modules
for the desktop app, and nothing but Qt and the window's frame before the window shows (the
database and server layers load beside it; bench/bench_startup.py measures the time, this
checks the behaviour)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.migrate import current_revision, head_revision, script_head

PROBE = """
import json, sys
from pathlib import Path
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
ctx = open_context(Settings.from_env(Path(sys.argv[1])))
ctx.close()
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "alembic")))
"""


def _alembic_modules_after_open(data_dir: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGFLOW_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def test_the_scripts_head_is_alembics_head() -> None:
    assert script_head() == head_revision()


def test_alembic_is_loaded_only_to_migrate(tmp_path: Path) -> None:
    assert _alembic_modules_after_open(tmp_path), "a new database is migrated by Alembic"
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        assert current_revision(ctx.engine) == head_revision()
    finally:
        ctx.close()
    assert _alembic_modules_after_open(tmp_path) == []


def test_the_desktop_app_path_does_not_import_the_commands() -> None:
    probe = (
        "import sys, cogflow_desktop.cli as cli; "
        "print(sorted(m for m in sys.modules if m.startswith('cogflow_desktop.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_desktop_app_loads_export_sync_and_keyring_on_first_use() -> None:
    """The first screen needs none of them (they are imported when a researcher exports,
    syncs or stores a password)."""
    probe = (
        "import sys, json, cogflow_desktop.gui.app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keyring', 'requests', 'alembic', 'pyarrow') or m in "
        "('cogflow_desktop.export.service', 'cogflow_desktop.sync.engine'))))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def test_the_window_shows_before_the_database_and_server_layers_load() -> None:
    """gui.app (and the main window's frame) import Qt only: SQLAlchemy, Flask, pydantic, the
    models and the pages load on the worker thread or once the data folder is open."""
    probe = (
        "import sys, json, cogflow_desktop.gui.app; "
        "heavy = ('sqlalchemy', 'flask', 'werkzeug', 'jinja2', 'pydantic', 'alembic'); "
        "ours = ('cogflow_desktop.store', 'cogflow_desktop.api', 'cogflow_desktop.services', "
        "'cogflow_desktop.gui.pages', 'cogflow_desktop.gui.runtime', 'PySide6.QtCharts'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy "
        "or m.startswith(ours))))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
