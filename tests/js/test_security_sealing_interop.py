"""What the Interpreter seals in the browser (resources/interpreter/sealing.js) opens with the
server's own code (security/envelopes.py) and the install private key, and with nothing else:
the page's local buffer is readable only like every other result. Runs the page's module in
Node (the same WebCrypto API as the browser)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cogflow_desktop.security import envelopes, keyring
from cogflow_desktop.services import manifest
from cogflow_desktop.services.runs import page_key_aad, result_aad, trial_aad

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import { SealedStore } from './resources/interpreter/sealing.js';
class Mem { constructor() { this.m = new Map(); } setItem(k, v) { this.m.set(k, v); }
  getItem(k) { return this.m.get(k) ?? null; } removeItem(k) { this.m.delete(k); } }
const store = new Mem();
const s = new SealedStore(store, 'k', 'RUN-ID', process.argv[1]);
await s.putTrial({ trial_index: 7, response: 'typed \\u00e9 \\ud83d\\ude00' }, 8);
await s.putPayload({ status: 'completed', n: 8 });
process.stdout.write(store.getItem('k'));
"""


def test_page_sealed_buffer_opens_with_the_install_key_only(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    install = keyring.new_install_key()
    public = base64.b64encode(keyring.public_bytes(install)).decode()
    done = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT, public],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = json.loads(done.stdout)
    sealed_key = base64.b64decode(saved["sealed_key"])
    key = envelopes.unseal(install, sealed_key, page_key_aad("RUN-ID"))
    assert manifest.fingerprint(key) == saved["key_fingerprint"]
    trial = json.loads(
        envelopes.decrypt(key, base64.b64decode(saved["trials"]["7"]), trial_aad("RUN-ID", 7))
    )
    assert trial == {"trial_index": 7, "response": "typed é 😀"}
    payload = json.loads(
        envelopes.decrypt(
            key, base64.b64decode(saved["payload"]), result_aad("RUN-ID", "checkpoint")
        )
    )
    assert payload == {"result_payload": {"status": "completed", "n": 8}}
    # Another installation's key, or the key of another run, opens nothing.
    with pytest.raises(envelopes.DecryptionError):
        envelopes.unseal(keyring.new_install_key(), sealed_key, page_key_aad("RUN-ID"))
    with pytest.raises(envelopes.DecryptionError):
        envelopes.unseal(install, sealed_key, page_key_aad("OTHER-RUN"))
    assert "typed" not in done.stdout
