"""The official BIDS validators, run as a researcher would, and the Psych-DS rules.

- `bids-validator-deno` (PyPI, pinned in the test extra): the current validator, a binary in
  the virtual environment's bin folder.
- npm `bids-validator` 1.15 (the legacy Node validator): installed on first use into a cache
  folder outside the repository (`$COGFLOW_TEST_CACHE`, default `~/.cache/cogflow-desktop-tests`)
  with `npm install` from the npm registry; later runs reuse it. No npm, or no registry: the
  tests that need it are skipped with the reason.
- Psych-DS has no validator on PyPI or npm (its CLI is published neither there), so
  `psychds_problems` checks the specification's rules the validator applies: the required
  files and metadata fields, the keyword file-name pattern, JSON-LD with schema.org, and every
  CSV column listed in variableMeasured.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

NPM_VALIDATOR = "bids-validator@1.15.0"
TIMEOUT = 600


def _cache() -> Path:
    base = os.environ.get("COGFLOW_TEST_CACHE") or Path.home() / ".cache" / "cogflow-desktop-tests"
    return Path(base)


def deno_validator() -> Path | None:
    name = "bids-validator-deno" + (".exe" if os.name == "nt" else "")
    found = Path(sys.executable).parent / name
    return found if found.exists() else (Path(p) if (p := shutil.which(name)) else None)


def run_deno(dataset: Path) -> list[dict[str, Any]]:
    """Every issue the current validator reports (all rows of every TSV are checked)."""
    exe = deno_validator()
    assert exe is not None
    proc = subprocess.run(
        [str(exe), "--format", "json", "--max-rows", "-1", str(dataset)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=dataset.parent,
    )
    report = json.loads(proc.stdout)
    return list(report["issues"]["issues"])


def npm_validator() -> tuple[Path | None, str]:
    """The legacy validator's entry script, installing it once; or None and why not."""
    folder = _cache() / NPM_VALIDATOR.replace("@", "-")
    script = folder / "node_modules" / "bids-validator" / "bin" / "bids-validator"
    if script.exists():
        return script, ""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return None, "node and npm are not installed"
    staging = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(staging), NPM_VALIDATOR],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        return None, f"npm install {NPM_VALIDATOR} failed: {proc.stderr.strip()[-500:]}"
    try:
        staging.rename(folder)
    except OSError:  # another test process installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return (script, "") if script.exists() else (None, "the npm package has no CLI script")


def run_npm(script: Path, dataset: Path) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node is not None
    proc = subprocess.run(
        [node, str(script), "--json", str(dataset)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    report = json.loads(proc.stdout)
    return report["issues"]


# Psych-DS (the rules of the specification's schema, as its validator applies them).
KEYWORDS = frozenset(
    ["study", "site", "subject", "session", "task", "condition", "trial", "stimulus", "description"]
)
DATAFILE = re.compile(r"([a-z]+-[a-zA-Z0-9]+)(_[a-z]+-[a-zA-Z0-9]+)*_data\.csv")
SCHEMA_ORG = {
    "https://schema.org/",
    "https://schema.org",
    "http://schema.org/",
    "http://schema.org",
}
REQUIRED = ("name", "description", "variableMeasured")
# schema.org properties of Dataset (and its CreativeWork/Thing ancestors) used by Psych-DS.
DATASET_PROPERTIES = frozenset(
    [
        "name",
        "description",
        "variableMeasured",
        "schemaVersion",
        "dateCreated",
        "keywords",
        "author",
        "citation",
        "license",
        "funder",
        "url",
        "identifier",
        "creator",
        "datePublished",
        "version",
    ]
)


def psychds_problems(root: Path) -> list[str]:
    """Errors by the Psych-DS rules; an empty list means the dataset is valid."""
    problems: list[str] = []
    desc_path = root / "dataset_description.json"
    if not desc_path.is_file():
        return ["MISSING_DATASET_DESCRIPTION"]
    try:
        desc = json.loads(desc_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"JSON_INVALID: {exc}"]
    if desc.get("@context") not in SCHEMA_ORG:
        problems.append(f"INVALID_JSONLD_FORMATTING: @context {desc.get('@context')!r}")
    if desc.get("@type") != "Dataset":
        problems.append("INCORRECT_DATASET_TYPE")
    for key in REQUIRED:
        if not desc.get(key):
            problems.append(f"JSON_KEY_REQUIRED: {key}")
    unknown = [k for k in desc if not k.startswith("@") and k not in DATASET_PROPERTIES]
    if unknown:
        problems.append(f"INVALID_SCHEMAORG_PROPERTY: {unknown}")
    names = set()
    for entry in desc.get("variableMeasured") or []:
        if isinstance(entry, str):
            names.add(entry)
        elif isinstance(entry, dict):
            if entry.get("@type") != "PropertyValue":
                problems.append(f"OBJECT_TYPE_MISSING: {entry}")
            names.add(entry.get("name"))
    data = root / "data"
    if not data.is_dir():
        return [*problems, "MISSING_DATA_DIRECTORY"]
    datafiles = [p for p in data.rglob("*.csv")]
    if not datafiles:
        problems.append("MISSING_DATAFILE")
    for path in datafiles:
        rel = path.relative_to(root).as_posix()
        if not DATAFILE.fullmatch(path.name):
            problems.append(f"FILENAME_KEYWORD_FORMATTING_ERROR: {rel}")
            continue
        keys = {part.split("-", 1)[0] for part in path.name[: -len("_data.csv")].split("_")}
        if not keys <= KEYWORDS:
            problems.append(f"FILENAME_UNOFFICIAL_KEYWORD: {rel} {sorted(keys - KEYWORDS)}")
        problems.extend(_csv_problems(path, rel, names))
    return problems


def _csv_problems(path: Path, rel: str, names: set[Any]) -> list[str]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, strict=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [f"CSV_FORMATTING_ERROR: {rel}: {exc}"]
    if not rows or not rows[0]:
        return [f"CSV_HEADER_MISSING: {rel}"]
    header = rows[0]
    found = []
    if any(len(r) != len(header) for r in rows[1:]):
        found.append(f"CSV_HEADER_LENGTH_MISMATCH: {rel}")
    missing = [h for h in header if h not in names]
    if missing:
        found.append(f"CSV_COLUMN_MISSING_FROM_METADATA: {rel}: {missing}")
    if "row_id" in header:
        at = header.index("row_id")
        ids = [r[at] for r in rows[1:]]
        if len(set(ids)) != len(ids):
            found.append(f"ROWID_VALUES_NOT_UNIQUE: {rel}")
    return found
