"""Importing a Builder config file as a study (no Qt): the same publish the Builder does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cogflow_desktop.services import studies
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import BadRequest
from cogflow_desktop.store.models import ConfigVersion, Study

_NOT_SLUG = re.compile(r"[^A-Za-z0-9_-]+")
MAX_CONFIG_BYTES = 32 * 1024 * 1024


def slug_from_name(name: str) -> str:
    slug = _NOT_SLUG.sub("-", name).strip("-_")[:50]
    return slug or "study"


def next_label(ctx: Context, slug: str) -> str:
    with ctx.read() as s:
        count = s.scalar(
            select(func.count(ConfigVersion.id))
            .join(Study, Study.id == ConfigVersion.study_id)
            .where(Study.slug == slug)
        )
    return f"v{int(count or 0) + 1}"


def read_config(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise BadRequest(f"{path.name} is too large to be a study config.")
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadRequest(f"{path.name} could not be read: {exc.strerror or exc}.") from exc
    except ValueError as exc:
        raise BadRequest(f"{path.name} is not valid JSON.") from exc
    if not isinstance(config, dict) or not isinstance(config.get("timeline"), list):
        raise BadRequest(f"{path.name} is not a CogFlow Builder config (it has no timeline).")
    problem = studies.empty_timeline_problem(config)
    if problem:
        raise BadRequest(f"{path.name} cannot be imported. {problem}")
    return config


def import_config_file(
    ctx: Context, path: Path, *, actor: str, slug: str | None = None
) -> dict[str, Any]:
    """Publish the file as the next version of the study named after it."""
    config = read_config(path)
    slug = slug or slug_from_name(path.stem)
    return studies.publish(
        ctx,
        studies.PublishRequest(
            study_slug=slug,
            study_name=path.stem,
            config_version_label=next_label(ctx, slug),
            config=config,
            builder_version=str(config.get("builder_version") or "") or None,
        ),
        actor=actor,
        client="desktop-app",
    )
