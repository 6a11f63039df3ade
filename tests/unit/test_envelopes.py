"""AES-GCM envelopes bound to their row, and keys sealed to an X25519 public key."""

from __future__ import annotations

import pytest

from cogflow_desktop.security import envelopes, keyring
from cogflow_desktop.security.envelopes import DecryptionError
from cogflow_desktop.services.runs import participant_aad, result_aad, run_key_aad, trial_aad


def test_encrypt_round_trip_and_fresh_nonce() -> None:
    key = envelopes.new_key()
    a = envelopes.encrypt(key, b"trial data", b"row-1")
    b = envelopes.encrypt(key, b"trial data", b"row-1")
    assert a != b  # a fresh nonce each time: equal plaintexts do not show
    assert envelopes.decrypt(key, a, b"row-1") == b"trial data"
    assert b"trial data" not in a


def test_ciphertext_is_bound_to_its_row() -> None:
    key = envelopes.new_key()
    run = "6f1c1f0e-0000-4000-8000-000000000001"
    other_run = "6f1c1f0e-0000-4000-8000-000000000002"
    blob = envelopes.encrypt(key, b'{"trial_index": 1}', trial_aad(run, 1))
    # Same key, but moved to another trial, another run, or another kind of row: refused.
    for wrong in (trial_aad(run, 2), trial_aad(other_run, 1), result_aad(run, "final")):
        with pytest.raises(DecryptionError):
            envelopes.decrypt(key, blob, wrong)
    final = envelopes.encrypt(key, b"{}", result_aad(run, "final"))
    with pytest.raises(DecryptionError):
        envelopes.decrypt(key, final, result_aad(run, "checkpoint"))


def test_swapping_ciphertexts_between_rows_fails() -> None:
    key = envelopes.new_key()
    run = "6f1c1f0e-0000-4000-8000-000000000003"
    rows = {i: envelopes.encrypt(key, f"trial {i}".encode(), trial_aad(run, i)) for i in (0, 1)}
    rows[0], rows[1] = rows[1], rows[0]
    for i, blob in rows.items():
        with pytest.raises(DecryptionError):
            envelopes.decrypt(key, blob, trial_aad(run, i))


def test_aad_helpers_are_distinct() -> None:
    run = "r"
    labels = {
        trial_aad(run, 0),
        result_aad(run, "final"),
        result_aad(run, "checkpoint"),
        run_key_aad(run),
        participant_aad(run),
    }
    assert len(labels) == 5


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_tampered_bytes_are_detected(position: int) -> None:
    key = envelopes.new_key()
    blob = bytearray(envelopes.encrypt(key, b"payload bytes", b"aad"))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        envelopes.decrypt(key, bytes(blob), b"aad")


def test_wrong_key_and_short_blob_are_refused() -> None:
    blob = envelopes.encrypt(envelopes.new_key(), b"x", b"aad")
    with pytest.raises(DecryptionError):
        envelopes.decrypt(envelopes.new_key(), blob, b"aad")
    with pytest.raises(DecryptionError):
        envelopes.decrypt(envelopes.new_key(), b"\x01short", b"aad")


def test_seal_unseal_round_trip() -> None:
    private = keyring.new_install_key()
    public = keyring.public_bytes(private)
    content_key = envelopes.new_key()
    sealed = envelopes.seal(public, content_key, run_key_aad("run-1"))
    assert content_key not in sealed
    assert envelopes.seal(public, content_key, run_key_aad("run-1")) != sealed  # ephemeral key
    assert envelopes.unseal(private, sealed, run_key_aad("run-1")) == content_key


def test_unseal_needs_the_right_private_key_and_row() -> None:
    private = keyring.new_install_key()
    sealed = envelopes.seal(keyring.public_bytes(private), b"secret id", participant_aad("a"))
    with pytest.raises(DecryptionError):
        envelopes.unseal(keyring.new_install_key(), sealed, participant_aad("a"))
    with pytest.raises(DecryptionError):
        envelopes.unseal(private, sealed, participant_aad("b"))
    tampered = bytearray(sealed)
    tampered[3] ^= 0xFF  # inside the ephemeral public key
    with pytest.raises(DecryptionError):
        envelopes.unseal(private, bytes(tampered), participant_aad("a"))
