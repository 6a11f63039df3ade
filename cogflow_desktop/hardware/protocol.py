"""The messages the Interpreter page sends to the host, over Qt WebChannel or HTTP alike.

Every request is one JSON object with an `op`:
- `hello`    {run_session_id}: is anything to be sent for this run? Opens the study's stream.
- `clock`    {} answers `lsl_s` (the host's LSL clock) at once: one round trip of a burst;
             {run_session_id, samples: [{page_sent_ms, page_received_ms, lsl_s}, ...]} hands in
             a finished burst and answers the estimate in use.
- `markers`  {run_session_id, markers: [{seq, event, page_ms, lsl_time, live, data}, ...]}
- `summary`  {run_session_id, end}: what the run's record stores (`end` forgets the run).
Answers are JSON objects too (see host.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_MARKERS_PER_REQUEST = 1000
MAX_SAMPLES_PER_BURST = 64
MAX_FIELDS = 24

EventName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Scalar = Annotated[str, StringConstraints(max_length=200)] | int | float | bool | None


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class RoundTripIn(_Message):
    page_sent_ms: float
    page_received_ms: float
    lsl_s: float


class MarkerIn(_Message):
    seq: int = Field(ge=0, le=2**31 - 1)
    event: EventName
    page_ms: float
    lsl_time: float | None = None
    live: bool = True
    data: dict[FieldName, Scalar] = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _few_fields(cls, value: dict[str, object]) -> dict[str, object]:
        if len(value) > MAX_FIELDS:
            raise ValueError(f"a marker carries at most {MAX_FIELDS} fields")
        return value


class MarkerRequest(_Message):
    op: Literal["hello", "clock", "markers", "summary"]
    run_session_id: str | None = None
    samples: list[RoundTripIn] = Field(default_factory=list, max_length=MAX_SAMPLES_PER_BURST)
    markers: list[MarkerIn] = Field(default_factory=list, max_length=MAX_MARKERS_PER_REQUEST)
    end: bool = False

    @field_validator("run_session_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError as exc:
            raise ValueError("run_session_id must be a UUID") from exc

    @model_validator(mode="after")
    def _run_needed(self) -> MarkerRequest:
        needs_run = self.op in ("hello", "markers", "summary") or bool(self.samples)
        if needs_run and self.run_session_id is None:
            raise ValueError(f"{self.op} needs a run_session_id")
        return self
