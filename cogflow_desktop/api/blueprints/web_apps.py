"""The web apps (Builder, Interpreter), their shared schema and vendored libraries, and the
portal pages that `dashboard_url` points at."""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Response, abort, redirect, send_from_directory

from cogflow_desktop.api.web import ctx
from cogflow_desktop.services import studies

bp = Blueprint("web_apps", __name__)

STATIC_ROOTS = {
    "interpreter": "interpreter",
    "builder": "builder",
    "vendor": "vendor",
    "schema": "schema",
}


def _serve(folder: str, path: str) -> Response:
    root: Path = ctx().settings.resources / folder
    if not root.is_dir():
        abort(404)
    return send_from_directory(root, path or "index.html", max_age=0)


@bp.get("/interpreter/selftest")
def interpreter_selftest() -> Response:
    """The timing self-test page (resources/interpreter/selftest.html)."""
    return _serve("interpreter", "selftest.html")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return redirect("/portal/", code=302)


for _name, _folder in STATIC_ROOTS.items():

    def _make(folder: str):  # type: ignore[no-untyped-def]
        def view(path: str = "") -> Response:
            return _serve(folder, path)

        return view

    _view = _make(_folder)
    bp.add_url_rule(f"/{_name}/", f"{_name}_index", _view)
    bp.add_url_rule(f"/{_name}/<path:path>", f"{_name}_file", _view)
    bp.add_url_rule(f"/{_name}", f"{_name}_bare", lambda n=_name: redirect(f"/{n}/", code=301))


def _page(title: str, body: str) -> Response:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
        "margin:2rem;max-width:60rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, mimetype="text/html")


@bp.get("/portal/")
def portal():  # type: ignore[no-untyped-def]
    rows = "".join(
        f"<tr><td><a href='{escape(s['dashboard_url'])}'>{escape(s['study_slug'])}</a></td>"
        f"<td>{escape(s['study_name'])}</td><td>{escape(s['latest_config_version'] or '-')}</td>"
        f"<td>{s['run_count']}</td></tr>"
        for s in studies.list_studies(ctx())
    )
    return _page(
        "Studies",
        "<table><tr><th>Slug</th><th>Name</th><th>Latest version</th>"
        f"<th>Runs</th></tr>{rows}</table>",
    )


@bp.get("/portal/studies/<slug>")
def study_dashboard(slug: str):  # type: ignore[no-untyped-def]
    info = studies.latest_config(ctx(), slug)
    props = info["study_properties"]
    versions = "".join(
        f"<li>{escape(v['config_version_label'])} ({escape(str(v['task_type']))}), "
        f"published {escape(v['published_at'] or '')}</li>"
        for v in info["configs"]
    )
    run_url = f"/interpreter/?study={escape(slug)}"
    return _page(
        props["study_name"],
        f"<p>Slug: <code>{escape(slug)}</code></p><h2>Versions</h2><ul>{versions}</ul>"
        f"<p><a href='{run_url}'>Open in the Interpreter</a></p>",
    )
