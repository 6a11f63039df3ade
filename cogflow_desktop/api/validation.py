"""Request bodies: strict JSON parsing and typed models, with DRF-shaped field errors."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from typing import Any, Literal, TypeVar

import orjson
from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cogflow_desktop.json_numbers import may_hold_long_integer
from cogflow_desktop.services.errors import ServiceError, ValidationFailed

M = TypeVar("M", bound=BaseModel)
SLUG_RE = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_TRIAL_INDEX = 2**31 - 1


class FrameworkError(ServiceError):
    """Errors the reference server's framework answers as {"detail": "..."}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _NotPortable(ValueError):
    """Parsed, but not data every client can hold (the message names the problem)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotPortable(f"the number {text[:20]} is too large to store")
    return value


def _exact_int(text: str) -> int:
    # Beyond double precision a number would change silently in JavaScript (and 1e309-sized
    # ones cannot be held at all): refuse rather than store something no reader agrees on.
    if len(text) > 310:
        raise _NotPortable("a number has too many digits to store")
    value = int(text)
    if abs(value) > _MAX_EXACT and float(value) != value:
        raise _NotPortable(f"the number {text[:20]} cannot be stored exactly")
    return value


_MAX_EXACT = 2**53
# A lone surrogate can come only from a \u escape of D800-DFFF or from ED A0..BF bytes (which
# json.loads decodes with surrogatepass): only bodies with either are walked.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _maybe_surrogate(raw: bytes) -> bool:
    # Substring searches first (memchr speed): the regex scan alone costs as much as parsing.
    return (b"\\u" in raw or b"\xed" in raw) and _MAYBE_SURROGATE.search(raw) is not None


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# orjson parses a body several times faster than json with the hooks above, and agrees with it
# on everything except integers beyond 64 bits (see json_numbers): it is used only for bodies
# that cannot hold one; any other body, and any body orjson refuses (a number too large for a
# double among them), goes the careful way, which gives the same value or the same error as
# always.


def _careful_loads(raw: bytes) -> Any:
    try:
        return json.loads(
            raw, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_exact_int
        )
    except _NotPortable as exc:
        raise FrameworkError(400, f"JSON parse error - {exc}.") from exc
    except (ValueError, RecursionError) as exc:
        raise FrameworkError(400, "JSON parse error - the request body is not valid JSON.") from exc


def _loads(raw: bytes) -> Any:
    if not may_hold_long_integer(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the careful path says what is wrong, in its own words
    return _careful_loads(raw)


def json_body(required: bool = True) -> Any:
    raw = request.get_data(cache=False)
    if not raw.strip():
        if required:
            raise FrameworkError(400, "JSON parse error - the request body is empty.")
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise FrameworkError(415, f'Unsupported media type "{mimetype}" in request.')
    data = _loads(raw)
    if _maybe_surrogate(raw) and _has_lone_surrogate(data):
        raise FrameworkError(
            400, "JSON parse error - a string holds a lone surrogate, which is not text."
        )
    return data


def parse(model: type[M], required: bool = True) -> M:
    data = json_body(required)
    if not isinstance(data, dict):
        raise ValidationFailed({"non_field_errors": ["Invalid data. Expected a JSON object."]})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = err["loc"]
            name = str(loc[0]) if loc else "non_field_errors"
            msg = err["msg"].removeprefix("Value error, ")
            if len(loc) > 1:
                msg = f"{'.'.join(str(p) for p in loc[1:])}: {msg}"
            fields.setdefault(name, []).append(msg)
        raise ValidationFailed(fields) from exc


class _Body(BaseModel):
    # Strict: "3" is not an integer and "yes" is not a boolean (the contract's types, as sent).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False, strict=True)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ValueError("Must be a valid UUID.") from exc


def _check_trials(trials: list[Any]) -> list[dict[str, Any]]:
    seen: set[int] = set()
    for pos, trial in enumerate(trials):
        if not isinstance(trial, dict):
            raise ValueError(f"Trial {pos} must be a JSON object.")
        idx = trial.get("trial_index")
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx <= MAX_TRIAL_INDEX:
            raise ValueError(f"Trial {pos} needs a trial_index that is a whole number >= 0.")
        if idx in seen:
            raise ValueError(f"trial_index {idx} appears more than once.")
        seen.add(idx)
    return trials


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class TotpSetupBody(_Body):
    regenerate: bool = False


class TotpVerifyBody(_Body):
    code: str = Field(min_length=1, max_length=16)


class PublishBody(_Body):
    study_slug: str = Field(min_length=1, max_length=50)
    study_name: str = Field(min_length=1, max_length=255)
    config_version_label: str = Field(min_length=1, max_length=50)
    builder_version: str | None = Field(default=None, max_length=50)
    runtime_mode: Literal["django", "jatos", "hybrid", "home_gear_lsl"] | None = None
    config: dict[str, Any]

    @field_validator("study_slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError("Use letters, digits, '-' and '_' only.")
        return v

    @field_validator("study_name", "config_version_label")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("This field may not be blank.")
        return v


class StartBody(_Body):
    study_slug: str = Field(min_length=1, max_length=255)
    participant_external_id: str | None = Field(default=None, max_length=255)


class _ResultBody(_Body):
    run_session_id: str
    trial_count: int = Field(ge=0, le=MAX_TRIAL_INDEX)
    result_payload: dict[str, Any]
    trials: list[Any] = Field(default_factory=list)

    _run_id = field_validator("run_session_id")(_uuid)
    _trials = field_validator("trials")(_check_trials)


class SubmitBody(_ResultBody):
    status: Literal["completed", "failed"]
    result_summary: dict[str, Any] = Field(default_factory=dict)


class CheckpointBody(_ResultBody):
    checkpoint_label: str = Field(default="", max_length=255)
    checkpoint_index: int = Field(default=0, ge=0, le=MAX_TRIAL_INDEX)
    result_payload: dict[str, Any] = Field(default_factory=dict)
    trial_count: int = Field(default=0, ge=0, le=MAX_TRIAL_INDEX)


class DecryptBody(_Body):
    run_session_id: str
    include_trials: bool = False

    _run_id = field_validator("run_session_id")(_uuid)


_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _base64(value: str, what: str, limit: int) -> bytes:
    if len(value) > limit or not _B64.match(value) or len(value) % 4:
        raise ValueError(f"{what} must be base64 (at most {limit} characters).")
    return base64.b64decode(value)


class SealedTrial(_Body):
    trial_index: int = Field(ge=0, le=MAX_TRIAL_INDEX)
    ciphertext: str = Field(min_length=1)


class RecoverBody(_Body):
    """A page's sealed local buffer (results/recover): only base64 blobs and indices."""

    run_session_id: str
    sealed_key: str = Field(min_length=1, max_length=200)
    key_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    trial_count: int = Field(default=0, ge=0, le=MAX_TRIAL_INDEX)
    trials: list[SealedTrial] = Field(default_factory=list, max_length=200_000)
    result_payload_sealed: str | None = None

    _run_id = field_validator("run_session_id")(_uuid)

    @field_validator("trials")
    @classmethod
    def _unique(cls, trials: list[SealedTrial]) -> list[SealedTrial]:
        if len({t.trial_index for t in trials}) != len(trials):
            raise ValueError("A trial_index appears more than once.")
        return trials

    def blobs(self) -> tuple[bytes, list[tuple[int, bytes]], bytes | None]:
        """The decoded key, trials and payload (ValidationFailed on bad base64)."""
        try:
            key = _base64(self.sealed_key, "sealed_key", 200)
            trials = [
                (t.trial_index, _base64(t.ciphertext, "ciphertext", 64 * 1024 * 1024))
                for t in self.trials
            ]
            payload = (
                None
                if self.result_payload_sealed is None
                else _base64(self.result_payload_sealed, "result_payload_sealed", 64 * 1024 * 1024)
            )
        except (ValueError, binascii.Error) as exc:
            raise ValidationFailed({"non_field_errors": [str(exc)]}) from exc
        return key, trials, payload
