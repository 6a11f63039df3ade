#!/usr/bin/env python3
"""Refresh the vendored browser packages in resources/vendor/ from the npm registry.

Versions and the files to copy live in one place: resources/vendor/versions.json.
For each package this runs `npm pack <name>@<version>` in a temporary directory, unpacks
the tarball, copies the listed dist files and the package's licence, and records the
tarball integrity in resources/vendor/MANIFEST.json. The vendored files are committed, so
running the app or the tests never needs npm or a network.

Usage: python scripts/refresh_vendor.py [--check]
  --check  only verify that every listed file exists (no network)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "resources" / "vendor"
VERSIONS = VENDOR / "versions.json"
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license", "license.md")

# Standard MIT text, used only when a tarball ships no licence file of its own but its
# package.json declares MIT (jspsych and @cfworker/json-schema do this).
MIT_TEXT = """MIT License

Copyright (c) {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# Source-map comments point at CDN URLs; browsers with devtools open would fetch them.
SOURCEMAP_RE = re.compile(rb"\n?//# sourceMappingURL=\S+\s*$")


def npm_pack(name: str, version: str, workdir: Path) -> tuple[Path, dict]:
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
        shell=sys.platform == "win32",  # npm is npm.cmd on Windows
    )
    info = json.loads(out.stdout)[0]
    tarball = workdir / info["filename"]
    unpack = workdir / ("x_" + info["filename"])
    with tarfile.open(tarball) as tar:
        tar.extractall(unpack, filter="data")
    return unpack / "package", info


def write_licence(pkg_dir: Path, dest: Path, meta: dict) -> None:
    for cand in LICENCE_NAMES:
        if (pkg_dir / cand).is_file():
            shutil.copyfile(pkg_dir / cand, dest / "LICENSE")
            return
    declared = meta.get("license")
    if declared != "MIT":
        raise SystemExit(f"{meta['name']}: no licence file and licence {declared!r} is not MIT")
    author = meta.get("author")
    holder = author.get("name") if isinstance(author, dict) else str(author or meta["name"])
    holder = re.sub(r"\s*<[^>]*>", "", holder)
    note = (
        f"# {meta['name']} {meta['version']}\n# The npm tarball ships no licence file; "
        f'its package.json declares "license": "MIT" (author: {holder}).\n'
        f"# Source: {json.dumps(meta.get('repository'))}\n\n"
    )
    (dest / "LICENSE").write_text(note + MIT_TEXT.format(holder=holder), encoding="utf-8")


def refresh(name: str, spec: dict, workdir: Path) -> dict:
    pkg_dir, info = npm_pack(name, spec["version"], workdir)
    meta = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
    dest = VENDOR / spec["dest"]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for src, target in spec["files"].items():
        data = (pkg_dir / src).read_bytes()
        if target.endswith(".js"):
            data = SOURCEMAP_RE.sub(b"\n", data)
        (dest / target).write_bytes(data)
    if any(src.startswith("dist/esm/") for src in spec["files"]):
        # Lets node's test runner import the ES modules as ESM.
        (dest / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    write_licence(pkg_dir, dest, meta)
    return {
        "version": meta["version"],
        "integrity": info.get("integrity"),
        "license": meta.get("license"),
        "dest": spec["dest"],
    }


def check(versions: dict) -> int:
    missing = [
        f"{spec['dest']}/{t}"
        for spec in versions["packages"].values()
        for t in [*spec["files"].values(), "LICENSE"]
        if not (VENDOR / spec["dest"] / t).is_file()
    ]
    for m in missing:
        print("missing:", m)
    return 1 if missing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    versions = json.loads(VERSIONS.read_text(encoding="utf-8"))
    if args.check:
        return check(versions)
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in versions["packages"].items():
            manifest[name] = refresh(name, spec, Path(tmp))
            print(f"vendored {name}@{manifest[name]['version']} -> resources/vendor/{spec['dest']}")
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
