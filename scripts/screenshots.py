"""Screenshots of the desktop app's main pages, for the README: docs/screenshots/app-*.png.

Runs the real app on a throwaway data folder with a few sample studies and runs. Needs a
display; on a headless Linux machine it starts itself under Xvfb (`apt-get install xvfb`).

    python scripts/screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CONFIGS = ROOT.parent / "shared" / "compat" / "configs"
SIZE = (1280, 800)
PASSWORD = "a long lab password"


def _ensure_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        if os.environ.get("COGFLOW_UNDER_XVFB") or not shutil.which("xvfb-run"):
            raise SystemExit("No display: install Xvfb (apt-get install xvfb) or set DISPLAY.")
        env = {**os.environ, "COGFLOW_UNDER_XVFB": "1"}
        screen = f"{SIZE[0]}x{SIZE[1]}x24"
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, *sys.argv]
        raise SystemExit(subprocess.call(cmd, env=env))


def _central_server(data_dir: Path):  # type: ignore[no-untyped-def]
    from cogflow_desktop.api.server import EmbeddedServer
    from cogflow_desktop.services import users
    from cogflow_desktop.services.context import open_context
    from cogflow_desktop.settings import Settings

    ctx = open_context(Settings.from_env(data_dir, extra_origins=()))
    users.create_user(ctx, "lab-sync", PASSWORD)
    server = EmbeddedServer(ctx, port=0).start()

    class Central:
        url = server.url

        @staticmethod
        def stop() -> None:
            server.stop()
            ctx.close()

    return Central()


def main() -> int:
    _ensure_display()
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    os.environ["COGFLOW_PORT"] = "0"
    import pyotp
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication

    from cogflow_desktop.gui.app import make_application
    from cogflow_desktop.gui.logs import setup_logging
    from cogflow_desktop.gui.main_window import MainWindow
    from cogflow_desktop.gui.pages.base import select_row
    from cogflow_desktop.gui.researcher import ResearcherSession
    from cogflow_desktop.gui.runtime import start_runtime
    from cogflow_desktop.services import runs

    app = make_application([sys.argv[0]])
    app.setStyle("Fusion")
    OUT.mkdir(parents=True, exist_ok=True)

    def pump(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(cond: Callable[[], bool], ms: int = 30000) -> None:
        deadline = time.monotonic() + ms / 1000
        while not cond() and time.monotonic() < deadline:
            pump(100)

    def shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
        pump(400)
        widget.raise_()
        geo = widget.frameGeometry()
        screen = QGuiApplication.primaryScreen()
        image = screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
        path = OUT / f"app-{name}.png"
        image.save(str(path))
        print(f"wrote {path.relative_to(ROOT)}")

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        setup_logging(data)
        rt = start_runtime(data, port=0)
        window = MainWindow(rt)
        window.resize(*SIZE)
        window.move(0, 0)
        window.show()

        # The first-run wizard, on its TOTP page.
        wizard = window.start_first_run()
        wizard.account_page.username.setText("dr.rivera")
        wizard.account_page.password.setText(PASSWORD)
        wizard.account_page.repeat.setText(PASSWORD)
        wizard.next()
        shot(wizard, "wizard-recovery")
        wizard.recovery_page.saved.setChecked(True)
        wizard.next()
        secret = wizard.totp_page.secret_value
        shot(wizard, "wizard-totp")
        wizard.totp_page.code.setText(pyotp.TOTP(secret).now())
        wizard.accept()
        wait_for(lambda: window.wizard is None)

        # Sample studies and runs: two finished, one cut short (the app "crashed").
        for name in ("ABC1234-flanker-01", "sample_stroop_01", "sample_pvt_01"):
            window.studies.import_file(CONFIGS / f"{name}.json")
        slug = "ABC1234-flanker-01"
        for i, status in enumerate(("completed", "completed", None)):
            run_id = runs.start_run(rt.ctx, slug, f"P-00{i + 1}", actor="demo", client="demo")[
                "run_session_id"
            ]
            trials = [
                {
                    "trial_index": t,
                    "rt_ms": 412 + 17 * t,
                    "response": "f" if t % 2 else "j",
                    "correct": t % 3 != 0,
                    "stimulus_onset_ms": 1500.0 + 2000 * t,
                    "ended_reason": "response",
                    "congruency": ["congruent", "incongruent", "neutral"][t % 3],
                }
                for t in range(12 if status else 5)
            ]
            n = len(trials)
            runs.checkpoint(
                rt.ctx,
                runs.CheckpointRequest(run_id, "t", n, n, {}, trials),
                actor="demo",
                client="demo",
            )
            if status:
                runs.submit(
                    rt.ctx,
                    runs.SubmitRequest(run_id, status, n, {"accuracy": 0.67}, {}, trials),
                    actor="demo",
                    client="demo",
                )
        from cogflow_desktop.services.context import open_context

        open_context(rt.ctx.settings).close()  # as after a restart: the open run is flagged

        window.open_results(slug)
        select_row(window.results.runs, 1)
        window.results.decrypt_selected()
        wait_for(lambda: window.results.job is None)
        shot(window, "results")

        # A real sync of the finished runs to a second local server standing in for the lab's.
        central = _central_server(data / "central")
        window.show_page(window.sync)
        window.sync.server_url.setText(central.url)
        window.sync.username.setText("lab-sync")
        window.sync.password.setText(PASSWORD)
        window.sync.sync_now()
        wait_for(lambda: window.sync.job is None, 60000)
        shot(window, "sync")
        central.stop()

        window.show_page(window.studies)
        window.studies.select_slug(slug)
        shot(window, "studies")

        window.show_page(window.audit)
        shot(window, "audit")

        window.show_page(window.settings_page)
        shot(window, "settings")

        window.open_builder(None)
        if window.builder.view is not None:
            wait_for(lambda: window.builder.view.page().isLoading() is False, 30000)
            # The Builder marks itself ready once its schema is loaded and the library drawn.
            ready = {"v": False}

            def _poll() -> bool:
                window.builder.view.page().runJavaScript(
                    "document.body && document.body.dataset.ready === 'true'", 0,
                    lambda r: ready.__setitem__("v", bool(r)))
                return ready["v"]

            wait_for(_poll, 30000)
            pump(500)
        shot(window, "builder")

        # The unlock dialog, as Results shows it once the code has expired.
        from cogflow_desktop.gui.dialogs.unlock import UnlockDialog

        dialog = UnlockDialog(ResearcherSession(rt.ctx), ["dr.rivera"], parent=window)
        dialog.show()
        shot(dialog, "unlock")
        dialog.close()

        # The kiosk: the Interpreter full-screen.
        kiosk = window.open_kiosk(slug, "P-004")
        wait_for(lambda: False, 4000)
        shot(kiosk, "kiosk")
        kiosk.force_close()

        window.close()
        rt.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
