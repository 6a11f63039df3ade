"""A real HTTP server on a loopback port that behaves like the central CogFlow server (the
reference Django + DRF app) where sync depends on it and where our desktop server differs:

- session login with a CSRF token that rotates at login (`X-CSRFToken` on unsafe requests of a
  logged-in session, else `403 {"detail": "CSRF Failed: ..."}`), HTTP Basic, `auth/me`;
- publish without login makes a study with no owner ("legacy public": listed for everyone, its
  runs and reports answer 403); the first logged-in publisher of such a slug becomes its owner;
  a logged-in publish to a slug owned by someone else lands on `<slug>-<username>`; same label
  and task type overwrite a version, a different task type gets `<label>__<task_type>`; the
  answer names the slug, label, version id and `owner_username(s)` actually used;
- `runs/start` without a launch token picks a version per participant across every version of
  the study (a permutation seeded by the participant id); with a token from
  `studies/<slug>/participant-links` and `task_order_strict`, only the versions in its
  `task_order` (unknown ids are dropped from the order silently); the answer names the version
  by `config_version_id` and lists labels only in `configs[]`, as the reference does;
- `started_at`/`completed_at` stamped with this server's clock; checkpoint and submit upsert
  trials by `trial_index`; checkpoint on a finished run answers `stored: false`;
- bodies over 2.5 MiB get an HTML 400 page;
- `studies/analysis/report`: the report job's averaging, every numeric field of every trial
  row (nested objects flattened with dots, booleans as 0/1) averaged across rows.

The facts come from the contract notes (docs/ of the project, and the reference server's
public source). Two switches make it misbehave on purpose: `participant_links=False` (a
server without the endpoint) and `honour_task_order=False` (a server that ignores the link's
version). State lives in memory; tests read it directly (`studies`, `runs`, `requests`).
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

LIMIT = int(2.5 * 1024 * 1024)
SALT = "central-test-salt"


@dataclass
class Version:
    id: int
    label: str
    task_type: str | None
    config: dict[str, Any]


@dataclass
class Study:
    id: int
    slug: str
    name: str
    owner: str | None
    shared: set[str] = field(default_factory=set)
    versions: list[Version] = field(default_factory=list)

    def owners(self) -> list[str]:
        names = [self.owner] if self.owner else []
        return names + sorted(self.shared - set(names))

    def can_manage(self, user: str | None) -> bool:
        return user is not None and (user == self.owner or user in self.shared)


@dataclass
class Run:
    id: str
    study_slug: str
    version_id: int
    participant_key: str
    started_at: datetime
    status: str = "started"
    completed_at: datetime | None = None
    payload: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    trials: dict[int, dict[str, Any]] = field(default_factory=dict)


def flatten_numeric(value: Any, prefix: str = "") -> dict[str, float]:
    """The report job's view of a trial row: numeric leaves by dotted path."""
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for key, item in value.items():
            out.update(flatten_numeric(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, bool):
        return {prefix: 1.0 if value else 0.0}
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return {prefix: 1.0 if value.strip().lower() == "true" else 0.0}
    if isinstance(value, int | float) and math.isfinite(value):
        return {prefix: float(value)}
    return {}


class _Quiet(WSGIRequestHandler):
    def log_request(self, *_args: object, **_kwargs: object) -> None:
        pass


class CentralServer:
    def __init__(
        self,
        users: dict[str, str],
        *,
        participant_links: bool = True,
        honour_task_order: bool = True,
    ) -> None:
        self.users = dict(users)
        self.participant_links = participant_links
        self.honour_task_order = honour_task_order
        self.studies: dict[str, Study] = {}
        self.runs: dict[str, Run] = {}
        self.requests: Counter[str] = Counter()
        self._sessions: dict[str, str] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._ids = iter(range(1, 10**9))
        self._lock = threading.RLock()
        self.app = self._make_app()
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # --- life ---------------------------------------------------------------------------

    def __enter__(self) -> CentralServer:
        self._server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    # --- helpers for tests --------------------------------------------------------------

    def runs_of(self, slug: str) -> list[Run]:
        with self._lock:
            return [r for r in self.runs.values() if r.study_slug == slug]

    def version(self, slug: str, version_id: int) -> Version:
        return next(v for v in self.studies[slug].versions if v.id == version_id)

    def choose_unpinned(self, slug: str, participant: str) -> Version:
        """The version a start without a token gives this participant."""
        return self._counterbalanced(self.studies[slug].versions, participant)

    # --- behaviour ----------------------------------------------------------------------

    @staticmethod
    def _counterbalanced(versions: list[Version], participant: str) -> Version:
        n = len(versions)
        if n == 1:
            return versions[0]
        index = int(hashlib.sha256(participant.encode()).hexdigest(), 16) % math.factorial(n)
        return versions[index // math.factorial(n - 1)]  # first of the index-th permutation

    def _user(self) -> str | None:
        return g.get("user")

    def _make_app(self) -> Flask:
        app = Flask("central-test-server")

        def error(status: int, message: str, key: str = "error") -> tuple[Response, int]:
            return jsonify({key: message}), status

        @app.before_request
        def authenticate():  # type: ignore[no-untyped-def]
            self.requests[f"{request.method} {request.path}"] += 1
            if (request.content_length or 0) > LIMIT:
                return Response("<h1>Bad Request (400)</h1>", 400, mimetype="text/html")
            g.user = None
            g.basic = False
            header = request.headers.get("Authorization", "")
            if header.startswith("Basic "):
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if self.users.get(name) != password:
                    return error(401, "Invalid username/password.", "detail")
                g.user, g.basic = name, True
            else:
                g.user = self._sessions.get(request.cookies.get("sessionid", ""))
            if request.method == "POST" and g.user and not g.basic:
                token = request.cookies.get("csrftoken")
                if not token or request.headers.get("X-CSRFToken") != token:
                    return error(403, "CSRF Failed: CSRF token missing or incorrect.", "detail")
            return None

        def body() -> dict[str, Any]:
            data = request.get_json(silent=True)
            return data if isinstance(data, dict) else {}

        @app.get("/healthz")
        def healthz():  # type: ignore[no-untyped-def]
            return jsonify({"ok": True})

        @app.get("/api/v1/auth/csrf")
        def csrf():  # type: ignore[no-untyped-def]
            token = request.cookies.get("csrftoken") or secrets.token_hex(16)
            resp = jsonify({"csrfToken": token})
            resp.set_cookie("csrftoken", token)
            return resp

        @app.post("/api/v1/auth/login")
        def login():  # type: ignore[no-untyped-def]
            data = body()
            name = str(data.get("username") or "")
            if self.users.get(name) != data.get("password"):
                return error(401, "Invalid credentials")
            sid = secrets.token_hex(16)
            self._sessions[sid] = name
            resp = jsonify({"ok": True, "username": name, "mfa_enabled": False})
            resp.set_cookie("sessionid", sid)
            resp.set_cookie("csrftoken", secrets.token_hex(16))  # rotated at login
            return resp

        @app.get("/api/v1/auth/me")
        def me():  # type: ignore[no-untyped-def]
            user = self._user()
            if user is None:
                return jsonify({"authenticated": False}), 401
            return jsonify(
                {"authenticated": True, "username": user, "public_name": user, "email": "",
                 "role": "researcher", "mfa_enabled": False, "mfa_verified_at": None}
            )  # fmt: skip

        @app.post("/api/v1/configs/publish")
        def publish():  # type: ignore[no-untyped-def]
            data = body()
            user = self._user()
            slug = str(data.get("study_slug") or "")
            label = str(data.get("config_version_label") or "")
            config = data.get("config")
            if not slug or not label or not isinstance(config, dict):
                return jsonify({"study_slug": ["This field is required."]}), 400
            with self._lock:
                study = self.studies.get(slug)
                adjusted = False
                if study is not None and user and study.owner and not study.can_manage(user):
                    slug, adjusted, study = f"{slug}-{user}", True, None
                    study = self.studies.get(slug)
                if study is None:
                    study = Study(next(self._ids), slug, str(data.get("study_name") or slug), None)
                    self.studies[slug] = study
                if user and not study.owner:
                    study.owner = user
                task_type = config.get("task_type")
                same = next((v for v in study.versions if v.label == label), None)
                label_adjusted = False
                if same is not None and (same.task_type == task_type or same.config == config):
                    same.config = config
                    version = same
                else:
                    if same is not None:
                        label, label_adjusted = f"{label}__{task_type or 'task'}", True
                    version = Version(next(self._ids), label, task_type, config)
                    study.versions.append(version)
                owners = study.owners() or ["unknown"]  # the reference names "unknown"
                return jsonify(
                    {"study_id": study.id, "config_version_id": version.id,
                     "config_version_label": version.label,
                     "requested_config_version_label": data.get("config_version_label"),
                     "config_version_label_adjusted": label_adjusted,
                     "requested_study_slug": data.get("study_slug"),
                     "study_slug_adjusted": adjusted, "study_slug": study.slug,
                     "owner_username": owners[0], "owner_usernames": owners,
                     "dashboard_url": f"/portal/studies/{study.slug}"}
                ), 201  # fmt: skip

        @app.post("/api/v1/studies/<slug>/participant-links")
        def participant_links(slug: str):  # type: ignore[no-untyped-def]
            if not self.participant_links:
                return Response("<h1>Not Found</h1>", 404, mimetype="text/html")
            user = self._user()
            if user is None:
                return error(401, "Authentication required")
            data = body()
            with self._lock:
                study = self.studies.get(slug)
                if study is None:
                    return error(404, "Study not found")
                if study.owner and not study.can_manage(user):
                    return error(403, "Study is not owned by the current researcher")
                known = {str(v.id) for v in study.versions}
                order = [str(v) for v in data.get("task_order") or [] if str(v) in known]
                token = secrets.token_urlsafe(24)
                strict = bool(data.get("task_order_strict", False))
                balanced = bool(data.get("counterbalance_enabled", True))
                expires = datetime.now(UTC) + timedelta(hours=int(data.get("expires_in_hours", 72)))
                self._tokens[token] = {
                    "study_slug": slug,
                    "participant_external_id": data.get("participant_external_id") or "",
                    "task_order": order,
                    "task_order_strict": strict,
                    "counterbalance_enabled": balanced,
                    "expires_at": expires,
                }
                return jsonify(
                    {"study_slug": slug, "launch_token": token,
                     "launch_url": f"/interpreter/index.html?launch={token}",
                     "task_order": order, "task_order_strict": strict,
                     "counterbalance_enabled": balanced,
                     "expires_at": expires.isoformat(), "owner_username": study.owner or user,
                     "owner_usernames": study.owners()}
                ), 201  # fmt: skip

        @app.post("/api/v1/runs/start")
        def start():  # type: ignore[no-untyped-def]
            data = body()
            token = str(data.get("launch_token") or "")
            link: dict[str, Any] = {}
            with self._lock:
                if token:
                    link = self._tokens.get(token) or {}
                    if not link:
                        return error(400, "Launch token invalid")
                    if datetime.now(UTC) >= link["expires_at"]:
                        return error(410, "Launch token expired")
                    slug = link["study_slug"]
                else:
                    slug = str(data.get("study_slug") or "")
                study = self.studies.get(slug)
                if study is None:
                    return error(404, "Study not found")
                if not study.versions:
                    return error(400, "No published config version")
                participant = str(
                    data.get("participant_external_id") or link.get("participant_external_id") or ""
                ) or f"anonymous-{uuid.uuid4().hex}"
                versions = study.versions
                if not self.honour_task_order:  # misbehaving: as if started without the link
                    link = {}
                order = link.get("task_order") or []
                if link.get("task_order_strict") and order:
                    by_id = {str(v.id): v for v in versions}
                    versions = [by_id[i] for i in order]
                if link and not link.get("counterbalance_enabled", True):
                    version = versions[0]
                else:
                    version = self._counterbalanced(versions, participant)
                run = Run(
                    str(uuid.uuid4()),
                    slug,
                    version.id,
                    hashlib.sha256(f"{SALT}:{participant}".encode()).hexdigest(),
                    datetime.now(UTC),
                )
                self.runs[run.id] = run
                return jsonify(
                    {"run_session_id": run.id, "study_slug": slug,
                     "config_version_id": version.id, "config": version.config,
                     "configs": [{"config_version_id": v.id, "config_version_label": v.label,
                                  "task_type": v.task_type, "config": v.config} for v in versions],
                     "participant_key": run.participant_key, "owner_username": study.owner}
                ), 201  # fmt: skip

        def store_trials(run: Run, trials: Any) -> tuple[Response, int] | None:
            if not isinstance(trials, list) or not all(
                isinstance(t, dict) and isinstance(t.get("trial_index"), int) for t in trials
            ):
                return error(400, "trials must be objects with a trial_index")
            for t in trials:
                run.trials[t["trial_index"]] = t
            return None

        @app.post("/api/v1/results/checkpoint")
        def checkpoint():  # type: ignore[no-untyped-def]
            data = body()
            with self._lock:
                run = self.runs.get(str(data.get("run_session_id")))
                if run is None:
                    return error(404, "Run session not found")
                if run.status != "started":
                    return jsonify({"stored": False, "reason": "run_already_terminal"})
                bad = store_trials(run, data.get("trials", []))
                if bad:
                    return bad
                return jsonify({"stored": True, "run_session_id": run.id})

        @app.post("/api/v1/results/submit")
        def submit():  # type: ignore[no-untyped-def]
            data = body()
            with self._lock:
                run = self.runs.get(str(data.get("run_session_id")))
                if run is None:
                    return error(404, "Run session not found")
                payload = data.get("result_payload")
                status = data.get("status")
                if not isinstance(payload, dict) or status not in ("completed", "failed"):
                    return jsonify({"result_payload": ["Must be an object."]}), 400
                bad = store_trials(run, data.get("trials", []))
                if bad:
                    return bad
                run.payload = {**payload, "_summary": data.get("result_summary") or {}}
                run.status = str(status)
                if run.status == "completed":
                    run.completed_at = datetime.now(UTC)
                return jsonify(
                    {"run_session_id": run.id, "status": run.status, "stored": True,
                     "result_envelope_id": run.id}
                ), 201  # fmt: skip

        def readable(slug: str) -> tuple[Study | None, tuple[Response, int] | None]:
            user = self._user()
            if user is None:
                return None, error(401, "Authentication required")
            study = self.studies.get(slug)
            if study is None:
                return None, error(404, "Study not found")
            if not study.can_manage(user):  # ownerless ("legacy public") studies too
                return None, error(403, "Study is not shared with the current researcher")
            return study, None

        @app.get("/api/v1/studies/<slug>/runs")
        def study_runs(slug: str):  # type: ignore[no-untyped-def]
            with self._lock:
                study, refused = readable(slug)
                if refused:
                    return refused
                runs = sorted(self.runs_of(slug), key=lambda r: r.started_at, reverse=True)
                labels = {v.id: v.label for v in study.versions} if study else {}
                return jsonify(
                    {"runs": [{"run_session_id": r.id, "status": r.status,
                               "started_at": r.started_at.isoformat(),
                               "completed_at": r.completed_at and r.completed_at.isoformat(),
                               "config_version_id": r.version_id,
                               "config_version_label": labels.get(r.version_id),
                               "has_result": r.payload is not None,
                               "trial_count": len(r.trials)} for r in runs],
                     "total_run_count": len(runs)}
                )  # fmt: skip

        @app.post("/api/v1/studies/analysis/report")
        def report():  # type: ignore[no-untyped-def]
            with self._lock:
                study, refused = readable(str(body().get("study_slug") or ""))
                if refused:
                    return refused
                assert study is not None
                values: dict[str, list[float]] = {}
                for run in self.runs_of(study.slug):
                    if run.status != "completed":
                        continue
                    for _, row in sorted(run.trials.items()):
                        if str(row.get("plugin_type") or "").lower() == "checkpoint":
                            continue
                        for name, value in flatten_numeric(row).items():
                            values.setdefault(name, []).append(value)
                summary = [
                    {"field": k, "n": len(v), "mean": sum(v) / len(v)}
                    for k, v in sorted(values.items())
                ]
                return jsonify({"study_slug": study.slug, "numeric_summary": summary})

        return app
