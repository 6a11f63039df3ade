"""The Builder's issue-#13 features in a real browser (Chromium via Playwright) against the real
embedded server: every task's defaults can be opened, new studies carry the reference's
top-level defaults, what the Interpreter refuses is flagged (in the Interpreter's own words)
before publishing, the library is grouped/filtered/searchable, templates and examples load and
run, parts of a study preview beside the editor, the conditions table round-trips to the
block, the widgets write what they show, the JSON view copies the config, images are reused
from the asset library, and the page needs no inline script or style (a strict CSP).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from chromium import CHROMIUM
from conftest import COMPAT_DIR, REPO_ROOT, LiveServer, start_live_server, stop_live_server

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")
expect = sync_api.expect

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
NODE = shutil.which("node")
SCHEMA = json.loads(
    (REPO_ROOT / "resources" / "schema" / "cogflow-config.schema.json").read_text("utf-8")
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]

# The CSP the security engineer puts on the Builder: no inline script or style, same-origin
# fetches, images from the server, data: and media.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'"
)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="cogflow-builder-studio-") as tmp:
        server = start_live_server(Path(tmp))
        yield server
        stop_live_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser: Any, live: LiveServer, viewport: dict[str, int] | None = None) -> Any:
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800}, accept_downloads=True
    )
    context.set_default_timeout(15000)
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    # Serve the Builder under a strict CSP and record any violation.
    def with_csp(route: Any) -> None:
        resp = route.fetch()
        headers = {**resp.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=resp, headers=headers)

    pg.route(f"{live.url}/builder/", with_csp)
    pg.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));"
    )
    pg.goto(f"{live.url}/builder/")
    pg.wait_for_selector('body[data-ready="true"]')
    return pg


@pytest.fixture()
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    pg = open_page(browser, live)
    yield pg
    violations = pg.evaluate("window.__csp")
    errors = pg.errors
    pg.context.close()
    assert errors == [], f"uncaught errors in the Builder: {errors}"
    assert violations == [], f"CSP violations: {violations}"


def export_config(pg: Any) -> dict[str, Any]:
    with pg.expect_download() as info:
        pg.get_by_role("button", name="Export", exact=True).click()
    return json.loads(Path(info.value.path()).read_text(encoding="utf-8"))


def import_config(pg: Any, config: dict[str, Any], tmp_path: Path, name: str = "c.json") -> None:
    path = tmp_path / name
    path.write_text(json.dumps(config), encoding="utf-8")
    with pg.expect_file_chooser() as chooser:
        pg.get_by_role("button", name="Import…").click()
    chooser.value.set_files(str(path))
    expect(pg.locator("#status")).to_contain_text(f"Imported {name}")


def node_refusals(config: dict[str, Any]) -> list[str]:
    """The Interpreter's own refusal sentences for a config (its checker, run by node)."""
    script = (
        "import('./resources/interpreter/support.js').then(({findUnsupported}) => {"
        " let s=''; process.stdin.on('data', (d) => { s += d; }); process.stdin.on('end', () => {"
        " const r = findUnsupported(JSON.parse(s));"
        " console.log(JSON.stringify(r.map((u) => u.message))); }); });"
    )
    out = subprocess.run(
        [NODE or "node", "--input-type=module", "-e", script],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    return json.loads(out.stdout)


def settings_keys() -> list[tuple[str, str, str]]:
    """(task_type, settings key, title) for every task whose defaults the schema describes."""
    out = []
    for task in SCHEMA["properties"]["task_type"]["enum"]:
        key = f"{task.replace('-', '_')}_settings"
        if key in SCHEMA["properties"]:
            out.append((task, key, SCHEMA["properties"][key]["title"]))
    return out


# ---- fix 1: task defaults --------------------------------------------------------------------


def test_every_tasks_defaults_can_be_opened_and_edited(page: Any) -> None:
    """Failed before the fix: the *_settings sections are $refs and were never shown."""
    pg = page
    tasks = settings_keys()
    assert len(tasks) >= 8
    for task, key, title in tasks:
        pg.get_by_role("treeitem").first.click()
        pg.get_by_label("Task type", exact=True).select_option(task)
        section = pg.locator(f'#inspector details[data-group="{key}"]')
        expect(section).to_have_count(1)
        expect(section).to_have_attribute("open", "")
        expect(section.locator("> summary")).to_have_text(title)
        # The first number field of the defaults takes a value that lands in the config.
        field = section.locator('input[type="number"]:visible').first
        field.fill("123")
        config = export_config(pg)
        assert 123 in config[key].values(), f"{key}: {config.get(key)}"


def test_imported_stroop_defaults_are_shown(page: Any, tmp_path: Path) -> None:
    config = json.loads((COMPAT_DIR / "configs" / "sample_stroop_01.json").read_text("utf-8"))
    import_config(page, config, tmp_path, "stroop.json")
    section = page.locator('#inspector details[data-group="stroop_settings"]')
    expect(section).to_have_attribute("open", "")
    font = config["stroop_settings"]["stimulus_font_size_px"]
    expect(section.get_by_label("Font size (px)", exact=True)).to_have_value(str(font))
    assert export_config(page) == config


# ---- fix 3: reference defaults -------------------------------------------------------------


def test_new_studies_write_the_reference_top_level_defaults(page: Any) -> None:
    """Failed before the fix: a new study had only schema_version, types and the timeline."""
    pg = page
    pg.get_by_role("button", name="Add Instructions").click()
    config = export_config(pg)
    assert config["data_collection"] == {
        "reaction-time": True,
        "accuracy": True,
        "correctness": True,
        "eye-tracking": False,
    }
    assert config["ui_settings"] == {"theme": "dark"}
    assert config["reward_settings"] == {"enabled": False}
    assert (config["frame_rate"], config["duration"], config["update_interval"]) == (60, 30, 1000)
    assert config["default_iti"] == 1000 and config["randomize_order"] is False
    # A switch is a labelled check box; switched off, the config says so.
    pg.get_by_role("treeitem").first.click()
    pg.get_by_label("Record reaction times").uncheck()
    assert export_config(pg)["data_collection"]["reaction-time"] is False
    # A continuous study gains the continuous defaults.
    pg.get_by_label("Experiment type", exact=True).select_option("continuous")
    assert export_config(pg)["transition_settings"] == {"duration_ms": 0, "type": "both"}


# ---- fix 2: what will not run ----------------------------------------------------------------


def test_what_will_not_run_is_flagged_before_publish(
    page: Any, live: LiveServer, tmp_path: Path
) -> None:
    pg = page
    config = {
        "schema_version": "1.0",
        "experiment_type": "trial-based",
        "task_type": "flanker",
        "timeline": [
            {"type": "instructions", "stimulus": "<p>Hi</p>"},
            {"type": "made-up-component", "speed": 3},
        ],
    }
    expected = node_refusals(config)
    assert expected, "the checker refuses an unknown component"
    import_config(pg, config, tmp_path, "refused.json")
    problems = pg.locator("#problem-list")
    for message in expected:
        expect(problems).to_contain_text(f"Will not run: {message}")
    # At the item: the same sentence, and the tree row carries a badge.
    pg.get_by_role("treeitem").nth(2).click()
    expect(pg.locator(".item-errors")).to_contain_text(expected[-1])
    expect(pg.get_by_role("treeitem").nth(2)).to_contain_text("⚠")
    # Publish asks first; cancel publishes nothing, "Publish anyway" publishes.
    pg.get_by_role("treeitem").first.click()
    pg.get_by_label("Study name").fill("Refused here")
    pg.get_by_role("button", name="Publish", exact=True).click()
    dialog = pg.locator("#refusal-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(expected[-1])
    pg.get_by_role("button", name="Cancel and fix it").click()
    assert requests.get(f"{live.url}/api/v1/studies/refused-here/latest-config").status_code == 404
    pg.get_by_role("button", name="Publish", exact=True).click()
    pg.get_by_role("button", name="Publish anyway").click()
    expect(pg.locator("#status")).to_contain_text("Published refused-here")


def test_empty_survey_continuous_without_duration_and_empty_timeline_are_problems(
    page: Any,
) -> None:
    pg = page
    problems = pg.locator("#problem-list")
    expect(problems).to_contain_text("The timeline is empty")
    pg.get_by_role("button", name="Add Survey").click()
    expect(problems).to_contain_text("This survey has no questions")
    expect(problems).not_to_contain_text("The timeline is empty")
    pg.get_by_role("treeitem").first.click()
    pg.get_by_label("Experiment type", exact=True).select_option("continuous")
    pg.get_by_label("Duration (s)", exact=True).fill("")
    expect(problems).to_contain_text("A continuous study needs a duration")
    pg.get_by_role("button", name="Preview", exact=True).click()
    expect(pg.locator("#status")).to_contain_text("before previewing")
    assert pg.locator("#preview-panel").is_hidden()


# ---- library, labels -------------------------------------------------------------------------


def test_library_is_grouped_filtered_and_searchable(page: Any) -> None:
    pg = page
    lib = pg.locator("#library-list")
    expect(lib.locator('[data-section="task"] h3')).to_have_text("Flanker task")
    expect(lib.get_by_role("button", name="Add Flanker block")).to_be_visible()
    expect(lib.get_by_role("button", name="Add SART trial")).to_have_count(0)
    assert lib.locator("button.lib svg.icon").count() == lib.locator("button.lib").count()
    # Search looks through every task family.
    pg.get_by_label("Search the library").fill("sart")
    expect(lib.get_by_role("button", name="Add SART trial")).to_be_visible()
    pg.get_by_label("Search the library").fill("")
    # The study's task type picks the task section, by its readable name.
    task = pg.get_by_label("Task type", exact=True)
    assert "Random dot motion (RDM)" in task.inner_text()
    task.select_option("rdm")
    expect(lib.locator('[data-section="task"] h3')).to_have_text("Random dot motion (RDM) task")
    expect(lib.get_by_role("button", name="Add Adaptive RDM (QUEST / staircase)")).to_be_visible()
    # Other tasks on request; in a continuous study, those it does not offer are marked.
    pg.get_by_label("Experiment type", exact=True).select_option("continuous")
    pg.get_by_label("Show other tasks").check()
    expect(lib.locator('[data-section="family-flanker"] h3')).to_contain_text(
        "not offered for continuous studies"
    )
    # No raw codes in the library or the data switches.
    texts = lib.locator("button.lib").all_inner_texts()
    assert not [t for t in texts if "-" in t.split()[0] and t.split()[0].islower()], texts
    expect(pg.locator("#inspector")).not_to_contain_text("reaction_time")


# ---- templates, examples ---------------------------------------------------------------------


def test_templates_and_examples_load_validate_and_run(page: Any, live: LiveServer) -> None:
    pg = page
    pg.get_by_role("button", name="New…").click()
    cards = pg.locator("#start-dialog button.card")
    count = cards.count()
    assert count >= 10
    for i in range(count):
        pg.get_by_role("button", name="New…").click() if i else None
        card = pg.locator("#start-dialog button.card").nth(i)
        title = card.locator(".card-title").inner_text()
        refused = card.locator(".card-warn").count()
        card.click()
        expect(pg.locator("#status")).to_contain_text(title)
        pg.get_by_role("button", name="Validate").click()
        expect(pg.locator("#status")).to_contain_text("valid and ready to publish")
        if not refused:
            expect(pg.locator("#problems-title")).to_have_text("No problems found")
        config = export_config(pg)
        types = [i["type"] for i in config["timeline"]]
        assert "instructions" in types and config["data_collection"]["reaction-time"] is True
    # The last template-built study previews in the Interpreter.
    pg.get_by_role("button", name="Preview", exact=True).click()
    frame = pg.frame_locator("#preview-frame")
    expect(frame.locator('#cogflow-root[data-cogflow-state="running"]')).to_have_count(
        1, timeout=30000
    )


# ---- preview of a part, layout -----------------------------------------------------------------


def test_preview_item_and_from_here_keep_the_layout_usable(page: Any) -> None:
    pg = page
    pg.get_by_role("button", name="Add Instructions").click()
    pg.get_by_label("Stimulus HTML").fill("<p>first screen</p>")
    pg.get_by_role("button", name="Add Flanker block").click()
    pg.get_by_role("button", name="Add Survey").click()
    pg.get_by_role("button", name="Add question").click()
    pg.get_by_role("treeitem").nth(2).click()  # the block
    pg.get_by_role("button", name="Preview this item").click()
    expect(pg.locator("#preview-panel")).to_be_visible()
    expect(pg.locator("#preview-title")).to_contain_text("Preview: Block")
    sent = pg.evaluate("JSON.parse(sessionStorage.getItem('cogflow.preview.config'))")
    assert [i["type"] for i in sent["timeline"]] == ["block"]
    assert sent["data_collection"]["accuracy"] is True
    frame = pg.frame_locator("#preview-frame")
    expect(frame.locator('#cogflow-root[data-cogflow-state="running"]')).to_have_count(
        1, timeout=30000
    )
    pg.get_by_role("button", name="Preview from here").click()
    sent = pg.evaluate("JSON.parse(sessionStorage.getItem('cogflow.preview.config'))")
    assert [i["type"] for i in sent["timeline"]] == ["block", "survey-response"]
    # While the preview is open: the library is there, nothing scrolls sideways.
    expect(pg.get_by_role("button", name="Add Survey")).to_be_visible()
    for sel in ("document.documentElement", "document.getElementById('inspector')"):
        assert pg.evaluate(f"{sel}.scrollWidth <= {sel}.clientWidth + 1"), sel


# ---- conditions table ------------------------------------------------------------------------


def test_conditions_table_round_trips_to_the_block(page: Any, tmp_path: Path) -> None:
    pg = page
    pg.get_by_role("button", name="Add Flanker block").click()
    table = pg.locator('#inspector details[data-group="conditions"]')
    table.locator("summary").click()
    table.get_by_label("Add a column for a parameter").select_option("congruency")
    table.get_by_label("Congruency, row 1").fill("congruent")
    table.get_by_label("Congruency, row 1").press("Enter")
    expect(table.get_by_label("Congruency, row 2")).to_be_focused()
    table.get_by_label("Congruency, row 2").fill("incongruent")
    table.get_by_label("Congruency, row 2").press("Tab")
    block = export_config(pg)["timeline"][0]
    assert block["parameter_values"]["congruency"] == ["congruent", "incongruent"]
    # The parameter row shows the same list (one source of truth).
    expect(pg.get_by_label("Congruency values, comma-separated")).to_have_value(
        "congruent, incongruent"
    )
    # Paste two columns from a spreadsheet into a new column pair.
    table.get_by_label("Add a column for a parameter").select_option("target_direction")
    table.get_by_label("Add a column for a parameter").select_option("iti_ms")
    cell = table.get_by_label("Target direction, row 1")
    pg.evaluate(
        """(el) => { const dt = new DataTransfer();
           dt.setData('text/plain', 'left\\t300\\nright\\t500\\n');
           const init = { clipboardData: dt, bubbles: true, cancelable: true };
           el.dispatchEvent(new ClipboardEvent('paste', init)); }""",
        cell.element_handle(),
    )
    expect(pg.locator("#status")).to_contain_text("Pasted 2 row(s)")
    values = export_config(pg)["timeline"][0]["parameter_values"]
    assert values["target_direction"] == ["left", "right"] and values["iti_ms"] == [300, 500]
    # These rows are a full crossing? No (2 x 2 x 2 needs 8): the table says so.
    expect(table.locator(".note")).to_contain_text("not every combination")
    # A CSV with an unknown column is refused and changes nothing.
    bad = tmp_path / "bad.csv"
    bad.write_text("congruency,colour\ncongruent,red\n", encoding="utf-8")
    with pg.expect_file_chooser() as chooser:
        table.get_by_role("button", name="Import CSV/TSV…").click()
    chooser.value.set_files(str(bad))
    expect(table.get_by_role("status")).to_contain_text('"colour" is not a parameter')
    assert export_config(pg)["timeline"][0]["parameter_values"] == values
    good = tmp_path / "good.tsv"
    good.write_text("Congruency\tTarget direction\ncongruent\tleft\nincongruent\tright\n", "utf-8")
    with pg.expect_file_chooser() as chooser:
        table.get_by_role("button", name="Import CSV/TSV…").click()
    chooser.value.set_files(str(good))
    expect(pg.locator("#status")).to_contain_text("Imported good.tsv")
    # Rows as written: a randomized group with one trial per row and repetition.
    pg.get_by_role("button", name="Run rows as written").click()
    group = export_config(pg)["timeline"][0]
    assert group["type"] == "randomize-group"
    assert {(t["congruency"], t["target_direction"]) for t in group["items"]} == {
        ("congruent", "left"),
        ("incongruent", "right"),
    }


# ---- widgets ---------------------------------------------------------------------------------


def test_widgets_fit_the_value(page: Any) -> None:
    pg = page
    pg.get_by_role("button", name="Add Flanker trial").click()
    # Key capture: the next key pressed is the key's name.
    pg.get_by_role("button", name="Press the key for Left key").click()
    pg.keyboard.press("ArrowLeft")
    expect(pg.get_by_label("Left key", exact=True)).to_have_value("ArrowLeft")
    pg.get_by_role("button", name="Press the key for Right key").click()
    pg.keyboard.press(" ")
    expect(pg.get_by_label("Right key", exact=True)).to_have_value("space")
    item = export_config(pg)["timeline"][0]
    assert (item["left_key"], item["right_key"]) == ("ArrowLeft", "space")
    # Long forms are in collapsible sections.
    assert pg.locator('#inspector details[data-section="timing"]').count() == 1
    # Colour picker (Stroop ink colour), written as hex.
    pg.get_by_label("Search the library").fill("simon")
    pg.get_by_role("button", name="Add Simon trial").click()
    pg.get_by_label("Search the library").fill("")
    swatches = pg.locator('#inspector input[type="color"]')
    assert swatches.count() >= 1
    swatches.first.evaluate(
        "(el) => { el.value = '#336699'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    assert "#336699" in json.dumps(export_config(pg)["timeline"][1])
    # HTML editor: toolbar and a live, sandboxed preview.
    pg.get_by_role("button", name="Add Instructions").click()
    pg.get_by_label("Stimulus HTML").fill("Welcome")
    pg.get_by_label("Stimulus HTML").select_text()
    pg.get_by_role("button", name="Bold", exact=True).click()
    expect(pg.get_by_label("Stimulus HTML")).to_have_value("<b>Welcome</b>")
    preview = pg.locator("iframe.html-preview")
    assert preview.get_attribute("sandbox") == ""
    expect(pg.frame_locator("iframe.html-preview").locator("b")).to_have_text("Welcome")


def test_survey_questions_by_type_and_visible_if(page: Any) -> None:
    pg = page
    pg.get_by_role("button", name="Add Survey").click()
    pg.get_by_role("button", name="Add question").click()
    first = pg.get_by_role("group", name="Question 1 — q1")
    first.get_by_label("Options").fill("yes, no")
    expect(first.get_by_label("Placeholder")).to_have_count(0)  # likert has no placeholder
    pg.get_by_role("button", name="Add question").click()
    second = pg.get_by_role("group", name="Question 2 — q2")
    second.get_by_label("Question type").select_option("text")
    second = pg.get_by_role("group", name="Question 2 — q2")
    expect(second.get_by_label("Placeholder")).to_have_count(1)
    expect(second.get_by_label("Options")).to_have_count(0)
    second.get_by_label("Show this question only when the answer to").select_option("q1")
    second.get_by_label("Equals the answer").select_option(label="no")
    q2 = export_config(pg)["timeline"][0]["questions"][1]
    assert q2["type"] == "text" and q2["visible_if"] == {"question_id": "q1", "equals": "no"}


# ---- JSON, duration, assets ------------------------------------------------------------------


def test_live_json_copy_and_duration(page: Any) -> None:
    pg = page
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pg.get_by_role("button", name="Add Flanker block").click()
    expect(pg.locator("#duration")).to_contain_text("about")
    pg.get_by_role("button", name="JSON").click()
    text = pg.locator("pre.json-text")
    assert json.loads(text.inner_text()) == export_config(pg)
    pg.get_by_label("Trials", exact=True).fill("40")
    expect(text).to_contain_text('"length": 40')
    pg.get_by_role("button", name="Copy").click()
    expect(pg.locator(".json-head [role=status]")).to_have_text("Copied.")
    assert json.loads(pg.evaluate("navigator.clipboard.readText()")) == export_config(pg)


def test_images_are_reused_from_the_asset_library(page: Any, tmp_path: Path) -> None:
    from test_builder_e2e import tiny_png

    pg = page
    image = tmp_path / "face.png"
    image.write_bytes(tiny_png())
    pg.get_by_label("Search the library").fill("image")
    pg.get_by_role("button", name="Add Image with key response").click()
    with pg.expect_file_chooser() as chooser:
        pg.get_by_role("button", name="Choose an image for Image URL from this computer").click()
    chooser.value.set_files(str(image))
    expect(pg.locator("#status")).to_contain_text("Added face.png")
    url = pg.get_by_label("Image URL", exact=True).input_value()
    assert url.startswith("/media/")
    # A second item takes the same image from the library: no second upload.
    pg.get_by_role("button", name="Add Image with key response").click()
    pg.get_by_role("button", name="Choose an image for Image URL from the study's images").click()
    assets = pg.locator("#asset-grid button.asset")
    expect(assets).to_have_count(1)
    expect(assets.first).to_have_attribute("aria-label", "face.png, used 1 time(s) in this study")
    assets.first.click()
    timeline = export_config(pg)["timeline"]
    assert [i["stimulus"] for i in timeline] == [url, url]
