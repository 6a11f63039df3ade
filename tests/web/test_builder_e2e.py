"""The Builder in a real browser engine (Debian's Chromium via Playwright) against the real
embedded server on a loopback port: a flanker study with two blocks is built from an empty
Builder by clicks and keys, published, and started in the Interpreter; every compat config
goes through the file chooser and comes back out of a download unchanged; nesting, drafts,
validation at fields, server errors, images and re-opening a published study all work.
"""

from __future__ import annotations

import json
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from chromium import CHROMIUM, CHROMIUM_ARGS
from conftest import (  # tests/conftest.py, importable by pytest's rootdir-based sys.path
    ADMIN_PASSWORD,
    ADMIN_USER,
    COMPAT_CONFIGS,
    LiveServer,
    start_live_server,
    stop_live_server,
)
from sqlalchemy import select

from cogflow_desktop.store.models import RunSession, Study

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")

VIEWPORT = {"width": 1280, "height": 800}
# The public configs and the ones authored for features without a public sample.
COMPAT = sorted(COMPAT_CONFIGS.glob("*.json")) + sorted(
    (COMPAT_CONFIGS.parent / "configs-authored").glob("*.json")
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="cogflow-builder-e2e-") as tmp:
        server = start_live_server(Path(tmp))
        yield server
        stop_live_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def fresh_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A fresh profile (empty localStorage), the Builder loaded and ready."""
    # bypass_csp: wait_for_function predicates are evaluated strings, which the pages' CSP
    # refuses; tests/web/test_security_csp.py checks the policy itself.
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, bypass_csp=True)
    context.set_default_timeout(15000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    open_builder(pg, live)
    yield pg
    context.close()
    assert errors == [], f"uncaught errors in the Builder: {errors}"


@pytest.fixture()
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    yield from fresh_page(browser, live)


@pytest.fixture(scope="module")
def shared_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """One page for the compat round trips: each import replaces the whole study."""
    yield from fresh_page(browser, live)


def open_builder(pg: Any, live: LiveServer) -> None:
    pg.goto(f"{live.url}/builder/")
    pg.wait_for_selector('body[data-ready="true"]')


def status(pg: Any) -> Any:
    return pg.locator("#status")


def tree_row(pg: Any, text: str) -> Any:
    return pg.get_by_role("treeitem").filter(has_text=text)


def export_config(pg: Any) -> dict[str, Any]:
    with pg.expect_download() as info:
        pg.get_by_role("button", name="Export", exact=True).click()
    path = info.value.path()
    return json.loads(Path(path).read_text(encoding="utf-8"))


def import_file(pg: Any, path: Path) -> None:
    with pg.expect_file_chooser() as chooser:
        pg.get_by_role("button", name="Import…").click()
    chooser.value.set_files(str(path))
    sync_api.expect(status(pg)).to_contain_text(f"Imported {path.name}")


def latest_config(live: LiveServer, slug: str) -> dict[str, Any]:
    resp = requests.get(f"{live.url}/api/v1/studies/{slug}/latest-config", timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def set_block(pg: Any, *, trials: str, seed: str, congruency: str, iti: tuple[str, str]) -> None:
    pg.get_by_label("Trials", exact=True).fill(trials)
    pg.get_by_label("Seed", exact=True).fill(seed)
    pg.get_by_label("How to set Congruency").select_option("list")
    pg.get_by_label("Congruency values, comma-separated").fill(congruency)
    pg.get_by_label("How to set Inter-trial interval").select_option("window")
    pg.get_by_label("Inter-trial interval minimum").fill(iti[0])
    pg.get_by_label("Inter-trial interval maximum").fill(iti[1])


def test_build_flanker_study_publish_and_start_a_run(page: Any, live: LiveServer) -> None:
    pg = page
    sync_api.expect(pg.get_by_role("treeitem")).to_have_count(1)  # only the study row
    pg.get_by_label("Study name").fill("Flanker E2E")
    sync_api.expect(pg.get_by_label("Study slug")).to_have_value("flanker-e2e")
    pg.get_by_label("Task type").select_option("flanker")

    pg.get_by_role("button", name="Add Instructions").click()
    pg.get_by_label("Stimulus HTML").fill("<p>Press F for left and J for right.</p>")

    # The first block from the keyboard: focus the library entry and press Enter.
    pg.get_by_role("button", name="Add Block").focus()
    pg.keyboard.press("Enter")
    sync_api.expect(tree_row(pg, "Block: 10 × Flanker trial")).to_have_attribute(
        "aria-selected", "true"
    )
    set_block(pg, trials="4", seed="11", congruency="congruent, incongruent", iti=("300", "700"))

    # The second block: duplicate the first with Ctrl+D in the tree, then edit it.
    tree_row(pg, "Block: 4").click()
    pg.keyboard.press("Control+d")
    sync_api.expect(tree_row(pg, "Block: 4")).to_have_count(2)
    sync_api.expect(pg.get_by_role("treeitem").nth(3)).to_have_attribute("aria-selected", "true")
    pg.get_by_label("Trials", exact=True).fill("6")
    pg.get_by_label("Seed", exact=True).fill("22")
    pg.get_by_label("How to set Target direction").select_option("list")  # left, right
    pg.get_by_label("How to set Inter-trial interval").select_option("fixed")
    pg.get_by_label("Inter-trial interval value").fill("450")

    # Reorder with the keyboard and back: the 6-trial block goes up, then down again.
    tree_row(pg, "Block: 6").focus()
    pg.keyboard.press("Alt+ArrowUp")
    sync_api.expect(pg.get_by_role("treeitem").nth(2)).to_contain_text("Block: 6")
    pg.keyboard.press("Alt+ArrowDown")
    sync_api.expect(pg.get_by_role("treeitem").nth(3)).to_contain_text("Block: 6")

    pg.get_by_role("button", name="Publish", exact=True).click()
    sync_api.expect(status(pg)).to_contain_text("Published flanker-e2e, version v1")

    stored = latest_config(live, "flanker-e2e")
    assert stored["study_properties"]["study_name"] == "Flanker E2E"
    assert stored["config_version_label"] == "v1"
    assert stored["config"] == {
        "schema_version": "1.0",
        "experiment_type": "trial-based",
        "task_type": "flanker",
        # The reference Builder's top-level defaults (issue #13, fix 3).
        "data_collection": {
            "reaction-time": True,
            "accuracy": True,
            "correctness": True,
            "eye-tracking": False,
        },
        "ui_settings": {"theme": "dark"},
        "reward_settings": {"enabled": False},
        "frame_rate": 60,
        "duration": 30,
        "update_interval": 1000,
        "default_iti": 1000,
        "randomize_order": False,
        "timeline": [
            {"type": "instructions", "stimulus": "<p>Press F for left and J for right.</p>"},
            {
                "type": "block",
                "component_type": "flanker-trial",
                "length": 4,
                "sampling_mode": "per-trial",
                "parameter_values": {"congruency": ["congruent", "incongruent"]},
                "parameter_windows": {"iti_ms": {"min": 300, "max": 700}},
                "seed": 11,
            },
            {
                "type": "block",
                "component_type": "flanker-trial",
                "length": 6,
                "sampling_mode": "per-trial",
                "parameter_values": {
                    "congruency": ["congruent", "incongruent"],
                    "target_direction": ["left", "right"],
                    "iti_ms": 450,
                },
                "parameter_windows": {},
                "seed": 22,
            },
        ],
    }

    # The published study runs in the Interpreter: a run session starts for it.
    run_page = pg.context.new_page()
    run_page.goto(f"{live.url}/interpreter/?study=flanker-e2e&participant=P-e2e-1")
    run_page.wait_for_function(
        "() => ['running', 'done'].includes(document.getElementById('cogflow-root')"
        ".dataset.cogflowState)",
        timeout=30000,
    )
    with live.ctx.read() as s:
        runs = s.scalars(
            select(RunSession)
            .join(Study, Study.id == RunSession.study_id)
            .where(Study.slug == "flanker-e2e")
        ).all()
    assert len(runs) == 1
    assert runs[0].config_version_id == stored["config_version_id"]
    run_page.close()


@pytest.mark.parametrize("path", COMPAT, ids=[f"{p.parent.name}/{p.stem}" for p in COMPAT])
def test_compat_config_imports_and_exports_unchanged(shared_page: Any, path: Path) -> None:
    page = shared_page
    original = json.loads(path.read_text(encoding="utf-8"))
    import_file(page, path)
    assert export_config(page) == original
    # Looking at every item's form changes nothing either.
    rows = page.get_by_role("treeitem")
    for i in range(rows.count()):
        rows.nth(i).click()
    assert export_config(page) == original


def test_nesting_by_keys_buttons_and_drag(page: Any) -> None:
    pg = page
    pg.get_by_label("Show other tasks").check()  # the study is a flanker study
    for name in ("Add SART trial", "Add PVT trial", "Add Simon trial"):
        pg.get_by_role("button", name=name).click()
    # Put the PVT trial in a loop (toolbar button), then move the Simon trial into it (Alt+→).
    tree_row(pg, "PVT trial").click()
    pg.get_by_role("button", name="Loop", exact=True).click()
    tree_row(pg, "Simon trial").click()
    pg.keyboard.press("Alt+ArrowRight")
    sync_api.expect(tree_row(pg, "Simon trial")).to_have_attribute("aria-level", "3")
    # Drag the SART trial onto the middle of the loop row: it goes inside, first.
    tree_row(pg, "SART trial").drag_to(tree_row(pg, "Loop loop_1"))
    config = export_config(pg)
    assert [i["type"] for i in config["timeline"]] == ["loop"]
    assert [i["type"] for i in config["timeline"][0]["items"]] == [
        "sart-trial",
        "pvt-trial",
        "simon-trial",
    ]
    # Randomize the loop's last two items, then take the Simon trial out to the top level.
    tree_row(pg, "PVT trial").click()
    pg.get_by_role("button", name="Randomize", exact=True).click()
    tree_row(pg, "Simon trial").focus()
    pg.keyboard.press("Alt+ArrowRight")  # into the randomized group above it
    sync_api.expect(tree_row(pg, "Simon trial")).to_have_attribute("aria-level", "4")
    pg.keyboard.press("Alt+ArrowLeft")
    pg.keyboard.press("Alt+ArrowLeft")
    sync_api.expect(tree_row(pg, "Simon trial")).to_have_attribute("aria-level", "2")
    config = export_config(pg)
    loop = config["timeline"][0]
    assert loop["type"] == "loop" and loop["iterations"] == 2
    assert [i["type"] for i in loop["items"]] == ["sart-trial", "randomize-group"]
    assert loop["items"][1]["items"] == [{"type": "pvt-trial"}]
    assert config["timeline"][1] == {"type": "simon-trial"}
    # Delete, then undo.
    tree_row(pg, "Simon trial").focus()
    pg.keyboard.press("Delete")
    sync_api.expect(tree_row(pg, "Simon trial")).to_have_count(0)
    pg.keyboard.press("Control+z")
    sync_api.expect(tree_row(pg, "Simon trial")).to_have_count(1)


def test_validation_messages_sit_at_their_fields(page: Any, live: LiveServer) -> None:
    pg = page
    pg.get_by_role("button", name="Publish", exact=True).click()
    sync_api.expect(status(pg)).to_contain_text("before publishing")
    name = pg.get_by_label("Study name")
    sync_api.expect(name).to_have_attribute("aria-invalid", "true")
    pg.get_by_label("Study slug").fill("not a slug!")
    pg.get_by_role("button", name="Add Block").click()
    pg.get_by_label("Trials", exact=True).fill("-2")
    pg.get_by_role("button", name="Preview", exact=True).click()
    sync_api.expect(status(pg)).to_contain_text("before previewing")
    trials = pg.get_by_label("Trials", exact=True)
    sync_api.expect(trials).to_have_attribute("aria-invalid", "true")
    error_id = trials.get_attribute("aria-describedby").split()[-1]
    sync_api.expect(pg.locator(f"#{error_id}")).to_contain_text("less than 0")
    sync_api.expect(tree_row(pg, "Block: -2")).to_contain_text("⚠ 1")
    assert pg.locator("#preview-panel").is_hidden()
    # A problem in the list takes you to its field.
    pg.get_by_role("button", name="Study › Study slug: Use letters, digits").click()
    sync_api.expect(pg.get_by_label("Study slug")).to_be_focused()
    sync_api.expect(pg.get_by_label("Study slug")).to_have_attribute("aria-invalid", "true")


def test_server_error_text_is_shown(page: Any, live: LiveServer) -> None:
    pg = page
    # Log in inside the page, then drop the csrftoken cookie: the server refuses the publish
    # with its own {"detail"} text, which the Builder shows as it is.
    resp = pg.request.post(
        f"{live.url}/api/v1/auth/login",
        data={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
    )
    assert resp.status == 200
    cookies = [c for c in pg.context.cookies() if c["name"] != "csrftoken"]
    pg.context.clear_cookies()
    pg.context.add_cookies(cookies)
    pg.get_by_label("Study name").fill("Refused study")
    pg.get_by_role("button", name="Add Instructions").click()
    pg.get_by_role("button", name="Publish", exact=True).click()
    sync_api.expect(status(pg)).to_have_text("Publishing failed: CSRF Failed: CSRF token missing.")
    assert requests.get(f"{live.url}/api/v1/studies/refused-study/latest-config").status_code == 404


def test_draft_survives_reload_and_a_closed_window(page: Any, live: LiveServer) -> None:
    pg = page
    pg.get_by_label("Study name").fill("Draft study")
    pg.get_by_label("Task type").select_option("stroop")
    pg.get_by_role("button", name="Add Stroop trial").click()
    pg.get_by_label("Word", exact=True).fill("RED")
    sync_api.expect(pg.locator("#draft-state")).to_contain_text("Draft saved")
    pg.reload()
    pg.wait_for_selector('body[data-ready="true"]')
    sync_api.expect(status(pg)).to_contain_text("Restored your draft")
    sync_api.expect(pg.get_by_label("Word", exact=True)).to_have_value("RED")
    # A window closed right after typing (no time for the debounce) still keeps the text.
    pg.get_by_label("Word", exact=True).fill("BLUE")
    context = pg.context
    pg.close(run_before_unload=True)
    again = context.new_page()
    open_builder(again, live)
    tree_row(again, "Stroop").click()
    sync_api.expect(again.get_by_label("Word", exact=True)).to_have_value("BLUE")
    sync_api.expect(tree_row(again, "Study: Draft study")).to_have_count(1)


def tiny_png(pixel: bytes = b"\x10\x80\xf0") -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress((b"\x00" + pixel * 2) * 2))
        + chunk(b"IEND", b"")
    )


def test_image_from_disk_is_stored_and_referenced(
    page: Any, live: LiveServer, tmp_path: Path
) -> None:
    pg = page
    image = tmp_path / "cue.png"
    image.write_bytes(tiny_png())
    pg.get_by_role("button", name="Add Image with key response").click()
    with pg.expect_file_chooser() as chooser:
        pg.get_by_role("button", name="Choose an image for Image URL from this computer").click()
    chooser.value.set_files(str(image))
    sync_api.expect(status(pg)).to_contain_text("Added cue.png")
    url = pg.get_by_label("Image URL", exact=True).input_value()
    assert url.startswith("/media/") and url.endswith(".png")
    assert requests.get(f"{live.url}{url}", timeout=30).content == image.read_bytes()
    sync_api.expect(pg.locator("img.thumb").first).to_be_visible()
    # A block of image trials picks from several images added at once.
    second = tmp_path / "target.png"
    second.write_bytes(tiny_png(bytes([200, 10, 10])))
    pg.get_by_role("button", name="Add Block").click()
    pg.get_by_label("Component type", exact=True).select_option("image-keyboard-response")
    pg.get_by_label("How to set Image URL", exact=True).select_option("list")
    with pg.expect_file_chooser() as chooser:
        pg.get_by_role("button", name="Add images to Image URL from this computer").click()
    chooser.value.set_files([str(image), str(second)])
    sync_api.expect(status(pg)).to_contain_text("Added cue.png, target.png")
    config = export_config(pg)
    assert config["timeline"][0] == {"type": "image-keyboard-response", "stimulus": url}
    urls = config["timeline"][1]["parameter_values"]["stimulus"]
    assert len(urls) == 2 and urls[0] == url and urls[1] != url
    assert requests.get(f"{live.url}{urls[1]}", timeout=30).content == second.read_bytes()
    # Published, the study shows the stored image in the Interpreter, from this server alone.
    pg.get_by_role("treeitem").first.click()
    pg.get_by_label("Study name").fill("Images study")
    pg.get_by_role("button", name="Publish", exact=True).click()
    sync_api.expect(status(pg)).to_contain_text("Published images-study")
    run = pg.context.new_page()
    run.goto(f"{live.url}/interpreter/?study=images-study&participant=P-img")
    shown = run.locator(f'img[src$="{url.rsplit("/", 1)[1]}"]')
    sync_api.expect(shown).to_be_visible(timeout=30000)
    loaded = "(img) => img.complete && img.naturalWidth === 2"
    run.wait_for_function(loaded, arg=shown.element_handle())
    run.close()


def test_open_a_published_study_again(page: Any, live: LiveServer) -> None:
    source = COMPAT_CONFIGS / "sample_stroop_01.json"
    config = json.loads(source.read_text(encoding="utf-8"))
    resp = requests.post(
        f"{live.url}/api/v1/configs/publish",
        json={
            "study_slug": "reopen-me",
            "study_name": "Reopen me",
            "config_version_label": "v7",
            "config": config,
        },
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    page.get_by_role("button", name="Open published…").click()
    page.get_by_role("button", name="Reopen me reopen-me").click()
    sync_api.expect(status(page)).to_contain_text("Opened reopen-me, version v7")
    sync_api.expect(page.locator("#study-summary")).to_have_text("reopen-me · v7")
    assert export_config(page) == config


def test_study_named_in_the_address_opens_directly(page: Any, live: LiveServer) -> None:
    """The desktop app's "Open in Builder" links to /builder/?study=<slug>."""
    config = json.loads((COMPAT_CONFIGS / "sample_simon_01.json").read_text(encoding="utf-8"))
    resp = requests.post(
        f"{live.url}/api/v1/configs/publish",
        json={
            "study_slug": "linked-study",
            "study_name": "Linked study",
            "config_version_label": "v2",
            "config": config,
        },
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    page.goto(f"{live.url}/builder/?study=linked-study")
    page.wait_for_selector('body[data-ready="true"]')
    sync_api.expect(page.locator("#study-summary")).to_have_text("linked-study · v2")
    assert export_config(page) == config


def test_survey_questions_are_edited_as_sub_forms(page: Any) -> None:
    pg = page
    pg.get_by_role("button", name="Add Survey").click()
    pg.get_by_role("button", name="Add question").click()
    pg.get_by_role("button", name="Add question").click()
    second = pg.get_by_role("group", name="Question 2 — q2")
    second.get_by_label("Prompt").fill("How awake are you?")
    second.get_by_label("Options").fill("low, medium, high")
    second.get_by_label("Required").select_option("Yes")
    pg.get_by_role("button", name="Move Question 2 up").click()
    pg.get_by_role("button", name="Remove Question 2").click()
    assert export_config(pg)["timeline"] == [
        {
            "type": "survey-response",
            "questions": [
                {
                    "id": "q2",
                    "type": "likert",
                    "prompt": "How awake are you?",
                    "options": ["low", "medium", "high"],
                    "required": True,
                }
            ],
        }
    ]


UNLABELLED = """() => {
  const name = (c) => (c.labels && c.labels.length ? c.labels[0].textContent : '')
    || c.getAttribute('aria-label')
    || (c.getAttribute('aria-labelledby') || '').split(' ')
        .map((id) => document.getElementById(id)?.textContent || '').join('')
    || (c.tagName === 'BUTTON' || c.getAttribute('role') === 'treeitem' ? c.textContent : '');
  return [...document.querySelectorAll('input, select, textarea, button, [role="treeitem"]')]
    .filter((c) => c.offsetParent !== null || c.type === 'file')
    .filter((c) => !(name(c) || '').trim())
    .map((c) => c.outerHTML.slice(0, 120));
}"""


OPEN_ALL = "document.querySelectorAll('#inspector details').forEach((d) => { d.open = true; })"


def test_every_control_is_labelled_and_fits_1280x800(page: Any) -> None:
    pg = page
    import_file(pg, COMPAT_CONFIGS / "sample_stroop_01.json")
    rows = pg.get_by_role("treeitem")
    for i in range(rows.count()):
        rows.nth(i).click()
        pg.evaluate(OPEN_ALL)
        assert pg.evaluate(UNLABELLED) == [], f"unlabelled controls on row {i}"
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"the page scrolls sideways ({width}px) on row {i}"
    pg.get_by_role("button", name="Add Survey").click()
    pg.get_by_role("button", name="Add question").click()
    assert pg.evaluate(UNLABELLED) == []
