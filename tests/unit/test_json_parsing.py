"""Request bodies parse to the same value, or fail with the same message, on the fast path
(orjson) as on the careful path (json with number hooks)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogflow_desktop.api.validation import FrameworkError, _careful_loads, _loads


def _outcome(parse: Any, raw: bytes) -> tuple[str, Any]:
    try:
        value = parse(raw)
    except FrameworkError as exc:
        return ("error", exc.message)
    return ("value", json.dumps(value, sort_keys=True))  # also tells 1 from 1.0


EDGE_CASES = [
    b'{"a": 9007199254740993}',  # beyond double precision: refused
    b'{"a": 18446744073709551616}',  # beyond 64 bits: orjson would make it a float
    b'{"a": 123456789012345678901234567890}',
    b'{"a": 9007199254740992}',
    b'{"a": 1e400}',
    b'{"a": -1E+309}',
    b'{"a": 1' + b"0" * 400 + b".5}",
    b'{"a": 0.30000000000000004, "b": 523.3999999761581}',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": "\\ud800"}',
    b'{"a": "\xed\xa0\x80"}',
    b'{"a": "\\ud83d\\ude00"}',
    b'\xef\xbb\xbf{"a": 1}',
    b'{"a": 1, "a": 2}',
    b'{"a": [1, 2,]}',
    b'[' * 5000 + b']' * 5000,
    '{"a": "ü"}'.encode("utf-16"),
    b'{"a": "\xff"}',
    b'{"a": -0, "b": -0.0, "c": 1E5}',
    b'{"a": 1e300, "b": 1e-400, "c": 12345678901234567e2, "d": 0.12345678901234567890}',
    b'{"a": "4e-0000 1234567890123456789", "b": -12345678901234567890}',
    b"12345678901234567890",
]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_edge_cases_agree(raw: bytes) -> None:
    assert _outcome(_loads, raw) == _outcome(_careful_loads, raw)


_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _numbers, st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_values, st.booleans())
def test_any_json_agrees(value: Any, ascii_only: bool) -> None:
    raw = json.dumps({"v": value}, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert _outcome(_loads, raw) == _outcome(_careful_loads, raw)
