"""`GET /api/schema` is valid OpenAPI 3.0.3 and the running server answers as it says.

The fuzz runs schemathesis against a real server on a loopback port, with a fixed seed and a
bounded number of examples per operation, checking: no 5xx, documented status codes only, and
bodies that match the documented schemas.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from api_helpers import TIMEOUT, sample_config
from conftest import LiveServer, publish
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from cogflow_desktop.settings import Settings

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
FUZZ_STUDY = "fuzz-study"


def test_schema_is_valid_openapi_303(live_server: LiveServer) -> None:
    resp = requests.get(f"{live_server.url}/api/schema", timeout=TIMEOUT)
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["openapi"] == "3.0.3"
    validate(doc)  # raises on any violation of the OpenAPI 3.0 specification


def test_schema_documents_every_api_route(live_server: LiveServer) -> None:
    doc = requests.get(f"{live_server.url}/api/schema", timeout=TIMEOUT).json()
    app = live_server.server._app  # the Flask app the server runs
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<slug>", "{slug}")
        if not (path.startswith("/api/") or path == "/healthz"):
            continue
        if "<" in path:  # routes of other features with their own parameters
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in /api/schema"


def _operation_labels() -> list[str]:
    """Every operation of the schema the server serves (resources/openapi.json), for ids."""
    doc = json.loads((Settings.from_env(".").resources / "openapi.json").read_text("utf-8"))
    return [
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.fixture(scope="module")
def live_schema(live_server: LiveServer) -> schemathesis.BaseSchema:
    """The schema as the running server serves it. One study exists, so generated slugs
    sometimes reach a real row."""
    publish(live_server.url, FUZZ_STUDY, sample_config())
    doc = requests.get(f"{live_server.url}/api/schema", timeout=TIMEOUT).json()
    return schemathesis.openapi.from_dict(doc)


# schemathesis' own pytest plugin (schema.parametrize / from_fixture) does not run on pytest 9
# yet, so each operation's strategy is driven by hypothesis here, one test per operation.
@pytest.mark.parametrize("label", _operation_labels())
def test_server_conforms_to_its_schema(
    live_server: LiveServer, live_schema: schemathesis.BaseSchema, label: str
) -> None:
    operation = live_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served schema"
    http = requests.Session()

    # Valid and invalid inputs alike: invalid ones must be answered with a documented 4xx.
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=live_server.url, session=http, checks=CHECKS, timeout=TIMEOUT
        )

    check()
