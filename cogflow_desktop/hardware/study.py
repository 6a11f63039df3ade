"""What a study's config asks of the lab hardware, and which study a run belongs to.

Config fields (resources/schema/cogflow-config.schema.json):
    "lsl":      {"enabled": true, "stream_name": "CogFlow-flanker"}      (name optional)
    "triggers": {"enabled": true, "codes": {"flanker-trial": 10, "drt-stimulus": 20,
                                             "response": 99}}
A code under a component type goes out at each stimulus onset of that type; `response` at each
response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from cogflow_desktop.hardware.lsl import default_stream_name
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.studies import latest_version
from cogflow_desktop.store.models import ConfigVersion, RunSession, Study

RESPONSE_CODE_KEY = "response"
_NAME_RE = re.compile(r"^[^\x00-\x1f]{1,100}$")


@dataclass(frozen=True)
class StudyHardware:
    study_slug: str
    lsl_enabled: bool = False
    stream_name: str = ""
    triggers_enabled: bool = False
    codes: dict[str, int] = field(default_factory=dict)

    @property
    def wanted(self) -> bool:
        return self.lsl_enabled or self.triggers_enabled

    @classmethod
    def from_config(cls, config: Any, study_slug: str) -> StudyHardware:
        config = config if isinstance(config, dict) else {}
        lsl = config.get("lsl") if isinstance(config.get("lsl"), dict) else {}
        trig = config.get("triggers") if isinstance(config.get("triggers"), dict) else {}
        name = lsl.get("stream_name")
        name = name.strip() if isinstance(name, str) else ""
        if not _NAME_RE.match(name):
            name = default_stream_name(study_slug)
        raw_codes = trig.get("codes") if isinstance(trig.get("codes"), dict) else {}
        codes = {
            str(k): int(v)
            for k, v in raw_codes.items()
            if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 255
        }
        return cls(
            study_slug=study_slug,
            lsl_enabled=lsl.get("enabled") is True,
            stream_name=name,
            triggers_enabled=trig.get("enabled") is True and bool(codes),
            codes=codes,
        )


def run_study(ctx: Context, run_session_id: str) -> tuple[StudyHardware, str] | None:
    """The hardware a started run's config asks for, with the run's status; None if unknown."""
    with ctx.read() as s:
        row = s.execute(
            select(Study.slug, ConfigVersion.config, RunSession.status)
            .join(Study, RunSession.study_id == Study.id)
            .join(ConfigVersion, RunSession.config_version_id == ConfigVersion.id)
            .where(RunSession.id == run_session_id)
        ).first()
    if row is None:
        return None
    slug, config, status = row
    return StudyHardware.from_config(config, slug), status


def studies_with_lsl(ctx: Context) -> list[StudyHardware]:
    """Studies whose latest published config turns LSL on (their streams open at start-up)."""
    found: list[StudyHardware] = []
    with ctx.read() as s:
        studies = s.execute(select(Study.id, Study.slug).order_by(Study.slug)).all()
        for study_id, slug in studies:
            version = latest_version(s, study_id)
            hw = StudyHardware.from_config(version.config if version else None, slug)
            if hw.lsl_enabled:
                found.append(hw)
    return found
