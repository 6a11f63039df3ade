"""#12.10: `scripts/dev.py run -- <command>` reaches `cogflow-desktop` as the README says."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEV = Path(__file__).resolve().parents[2] / "scripts" / "dev.py"


def test_run_passes_arguments_after_a_double_dash() -> None:
    spec = importlib.util.spec_from_file_location("cogflow_dev_script", DEV)
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    assert dev.app_args(["--", "users", "list"]) == ["users", "list"]
    assert dev.app_args(["users", "list"]) == ["users", "list"]
    assert dev.app_args([]) == []
    assert dev.app_args(["--"]) == []
