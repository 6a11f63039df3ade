"""Screenshots of the desktop app for the README and for review: docs/screenshots/app-*.png.

Runs the real app on a throwaway data folder with sample studies and runs (seeded through the
same services the Interpreter's requests reach, and a real sync to a second local server), then
shows every page at 1280×720 and 1920×1080 in the light and the dark theme:

    docs/screenshots/app-<page>-<width>x<height>-<theme>.png
    docs/screenshots/app-<dialog>-<theme>.png          (wizard, unlock, authenticator, about)
    docs/screenshots/app-kiosk.png

Needs a display; on a headless Linux machine it starts itself under Xvfb
(`apt-get install xvfb xauth`, with sudo where you are not root).

    python scripts/screenshots.py [--only studies,results]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CONFIGS = ROOT / "tests" / "fixtures" / "compat" / "configs"
SIZES = ((1280, 720), (1920, 1080))
THEMES = ("light", "dark")
SCREEN = (1920, 1080)
PASSWORD = "a long lab password"


def _ensure_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        if os.environ.get("COGFLOW_UNDER_XVFB") or not shutil.which("xvfb-run"):
            raise SystemExit("No display: install Xvfb (apt-get install xvfb) or set DISPLAY.")
        env = {**os.environ, "COGFLOW_UNDER_XVFB": "1"}
        screen = f"{SCREEN[0]}x{SCREEN[1]}x24"
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, *sys.argv]
        raise SystemExit(subprocess.call(cmd, env=env))


def _central_server(data_dir: Path) -> Any:
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


def _flanker_trials(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"trial_index": 0, "component_type": "instructions", "rt_ms": 2400.0, "response": "f",
         "ended_reason": "response", "stimulus_onset_ms": 16.7},
    ]  # fmt: skip
    for t in range(1, n + 1):
        congruency = rng.choice(["congruent", "incongruent", "neutral"])
        timeout = rng.random() < 0.06
        base = {"congruent": 420, "neutral": 445, "incongruent": 495}[congruency]
        rt = None if timeout else round(rng.lognormvariate(0, 0.18) * base, 1)
        p_correct = 0.82 if congruency == "incongruent" else 0.95
        correct = None if timeout else rng.random() < p_correct
        rows.append(
            {
                "trial_index": t,
                "component_type": "flanker-trial",
                "rt_ms": rt,
                "response": None if timeout else rng.choice(["arrowleft", "arrowright"]),
                "correct": correct,
                "stimulus_onset_ms": 2500.0 * t + 16.7,
                "ended_reason": "timeout" if timeout else "response",
                "congruency": congruency,
                "block": 1 + (t - 1) // 20,
            }
        )
    return rows


def _timing(rng: random.Random) -> dict[str, Any]:
    return {
        "refresh_hz": round(rng.gauss(59.94, 0.02), 2),
        "frame_ms_sd": round(abs(rng.gauss(0.35, 0.1)), 2),
        "dropped_frames": rng.choice([0, 0, 1, 2, 5]),
        "device_pixel_ratio": 1,
        "screen": {"width": 1920, "height": 1080},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated page names to shoot")
    only = {p for p in parser.parse_args().only.split(",") if p}
    _ensure_display()
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    os.environ["COGFLOW_PORT"] = "0"
    import pyotp
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from cogflow_desktop.gui.app import make_application
    from cogflow_desktop.gui.dialogs.authenticator import AuthenticatorDialog
    from cogflow_desktop.gui.dialogs.unlock import UnlockDialog
    from cogflow_desktop.gui.logs import setup_logging
    from cogflow_desktop.gui.main_window import MainWindow
    from cogflow_desktop.gui.pages.base import select_row
    from cogflow_desktop.gui.researcher import ResearcherSession
    from cogflow_desktop.gui.runtime import start_runtime
    from cogflow_desktop.services import runs
    from cogflow_desktop.services.context import open_context

    app = make_application([sys.argv[0]])  # noqa: F841 - kept alive for the whole run
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(12)

    def pump(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(cond: Callable[[], bool], ms: int = 30000) -> None:
        deadline = time.monotonic() + ms / 1000
        while not cond() and time.monotonic() < deadline:
            pump(100)

    def shot(widget: QWidget, name: str) -> None:
        pump(500)
        widget.raise_()
        pump(100)
        path = OUT / f"app-{name}.png"
        widget.grab().save(str(path))
        print(f"wrote {path.relative_to(ROOT)}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        setup_logging(data)
        rt = start_runtime(data, port=0)
        window = MainWindow(rt)
        window.apply_theme("light")
        window.resize(*SIZES[0])
        window.move(0, 0)
        window.show()

        # The first-run wizard: the recovery key, then the authenticator.
        wizard = window.start_first_run()
        wizard.account_page.username.setText("dr.rivera")
        wizard.account_page.password.setText(PASSWORD)
        wizard.account_page.repeat.setText(PASSWORD)
        wizard.next()
        shot(wizard, "wizard-recovery-light")
        wizard.recovery_page.saved.setChecked(True)
        wizard.next()
        secret = wizard.totp_page.secret_value
        shot(wizard, "wizard-totp-light")
        window.apply_theme("dark")
        shot(wizard, "wizard-totp-dark")
        window.apply_theme("light")
        totp = pyotp.TOTP(secret)
        wizard.totp_page.code.setText(totp.now())
        wizard.accept()
        wait_for(lambda: window.wizard is None)

        # Sample studies and runs over the last days; one cut short (the app "crashed").
        for name in ("ABC1234-flanker-01", "sample_stroop_01", "sample_pvt_01"):
            window.studies.import_file(CONFIGS / f"{name}.json")
        slug = "ABC1234-flanker-01"
        for i in range(9):
            participant = f"P-{i + 1:03d}"
            run_id = runs.start_run(rt.ctx, slug, participant, actor="demo", client="demo")[
                "run_session_id"
            ]
            trials = _flanker_trials(rng, 60 if i != 8 else 17)
            n = len(trials)
            runs.checkpoint(
                rt.ctx,
                runs.CheckpointRequest(run_id, "t", n, n, {"timing": _timing(rng)}, trials),
                actor="demo",
                client="demo",
            )
            if i != 8:
                status = "failed" if i == 5 else "completed"
                runs.submit(
                    rt.ctx,
                    runs.SubmitRequest(run_id, status, n, {}, {"timing": _timing(rng)}, trials),
                    actor="demo",
                    client="demo",
                )
            # Spread the runs over the past days, as a week of lab sessions would be.
            with rt.ctx.engine.begin() as conn:
                from sqlalchemy import text

                conn.execute(
                    text(
                        "UPDATE run_sessions SET started_at = datetime(started_at, :shift) "
                        "WHERE id = :id"
                    ),
                    {"shift": f"-{(8 - i) // 2} days", "id": run_id},
                )
        open_context(rt.ctx.settings).close()  # as after a restart: the open run is flagged

        # A real sync of the finished runs to a second local server standing in for the lab's.
        central = _central_server(data / "central")
        window.sync.server_url.setText(central.url)
        window.sync.username.setText("lab-sync")
        window.sync.password.setText(PASSWORD)
        window.sync.sync_now()
        wait_for(lambda: window.sync.job is None, 90000)
        central.stop()

        # Decrypt everything once (the code is fresh from the wizard).
        window.open_results(slug)
        window.results.decrypt_all()
        wait_for(lambda: window.results.job is None, 60000)
        select_row(window.results.runs, 1)

        window.open_builder(None)
        if window.builder.view is not None:
            ready = {"v": False}

            def _poll() -> bool:
                window.builder.view.page().runJavaScript(
                    "document.body && document.body.dataset.ready === 'true'", 0,
                    lambda r: ready.__setitem__("v", bool(r)))  # fmt: skip
                return ready["v"]

            wait_for(_poll, 30000)

        pages: dict[str, Callable[[], None]] = {
            "studies": lambda: (window.show_page(window.studies), window.studies.select_slug(slug)),
            "builder": lambda: window.show_page(window.builder),
            "results": lambda: (window.show_page(window.results),
                                window.results.tabs.setCurrentIndex(0)),
            "results-charts": lambda: (window.show_page(window.results),
                                       window.results.tabs.setCurrentWidget(window.results.charts),
                                       window.results.charts.which.setCurrentIndex(1)),
            "results-timeline": lambda: (window.show_page(window.results),
                                         window.results.tabs.setCurrentWidget(window.results.charts),
                                         window.results.charts.scope.setCurrentIndex(1),
                                         window.results.charts.which.setCurrentIndex(2)),
            "sync": lambda: window.show_page(window.sync),
            "audit": lambda: window.show_page(window.audit),
            "settings": lambda: window.show_page(window.settings_page),
        }  # fmt: skip
        themes = window.settings_page.theme
        for name_theme in THEMES:
            themes.setCurrentIndex(themes.findData(name_theme))  # as the researcher would
            for w, h in SIZES:
                window.resize(w, h)
                for page, show in pages.items():
                    if only and page not in only:
                        continue
                    show()
                    if page.startswith("results"):
                        window.results.charts.redraw()  # charts take the theme's colours
                    shot(window, f"{page}-{w}x{h}-{name_theme}")

            # Dialogs in this theme.
            session = ResearcherSession(rt.ctx)
            dialog = UnlockDialog(session, ["dr.rivera"], parent=window)
            dialog.show()
            shot(dialog, f"unlock-{name_theme}")
            dialog.close()
            session.sign_in("dr.rivera", PASSWORD)
            auth = AuthenticatorDialog(session, ["dr.rivera"], parent=window)
            auth.show()
            shot(auth, f"authenticator-{name_theme}")
            auth.close()
            session.sign_out()
            about = window.show_about()
            shot(about, f"about-{name_theme}")
            about.close()

        # The kiosk: the Interpreter full-screen.
        window.apply_theme("light")
        kiosk = window.open_kiosk(slug, "P-010")
        wait_for(lambda: kiosk.page_state == "running", 30000)
        pump(3000)
        shot(kiosk, "kiosk")
        kiosk.force_close()

        window.close()
        window.shutdown()
        rt.stop()
        QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
