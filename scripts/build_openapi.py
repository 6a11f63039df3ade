"""Write resources/openapi.json: the v1 contract plus this server's extensions.

Run after changing the contract copy or the extensions:
    python scripts/build_openapi.py [path/to/openapi-v1.yaml]
The contract is read from ../shared/contract/openapi-v1.yaml beside the repository by default.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTRACT = ROOT.parent / "shared" / "contract" / "openapi-v1.yaml"

ERR = {"$ref": "#/components/schemas/ErrorMessage"}
DETAIL = {"$ref": "#/components/schemas/FrameworkError"}
VALIDATION = {"$ref": "#/components/schemas/ValidationError"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _common_unsafe() -> dict[str, Any]:
    """Answers any unsafe endpoint can give besides its own."""
    return {
        "403": _json(
            {"anyOf": [ERR, DETAIL]}, "Foreign Origin, missing app token, or CSRF failure"
        ),
        "413": _json(DETAIL, "Request body larger than 64 MiB"),
        "415": _json(DETAIL, "Body is not JSON"),
    }


def extend(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["info"]["title"] = "CogFlow Desktop local API"
    doc["info"]["version"] = "1.0.0-desktop.1"
    doc["info"]["description"] = (
        "The CogFlow v1 contract as served on localhost by CogFlow Desktop, with the "
        "endpoints the central server also serves (checkpoint, auth/me, auth/csrf, "
        "latest-config, study runs) and this server's documented answers."
    )
    doc["servers"] = [{"url": "/", "description": "This server"}]
    schemas = doc["components"]["schemas"]
    schemas["FrameworkError"] = {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    }
    schemas["PublishConfigResponse"]["properties"].update(
        {
            "config_version_label": {"type": "string"},
            "requested_config_version_label": {"type": "string"},
            "config_version_label_adjusted": {"type": "boolean"},
            "requested_study_slug": {"type": "string"},
            "study_slug_adjusted": {"type": "boolean"},
            "content_hash": {"type": "string"},
        }
    )
    schemas["StartRunResponse"]["properties"].update(
        {
            "config_version_label": {"type": "string"},
            "task_type": {"type": "string", "nullable": True},
        }
    )
    schemas["SubmitResultResponse"]["properties"]["result_envelope_id"] = {
        "type": "integer",
        "nullable": True,
    }
    schemas["DecryptResultResponse"]["properties"].update(
        {
            "interrupted": {"type": "boolean"},
            "config_version_label": {"type": "string"},
            "participant_key": {"type": "string"},
            "trial_count": {"type": "integer"},
        }
    )
    schemas["CheckpointRequest"] = {
        "type": "object",
        "required": ["run_session_id"],
        "properties": {
            "run_session_id": {"type": "string", "format": "uuid"},
            "checkpoint_label": {"type": "string", "maxLength": 255},
            "checkpoint_index": {"type": "integer", "minimum": 0},
            "trial_count": {"type": "integer", "minimum": 0},
            "result_payload": {"type": "object", "additionalProperties": True},
            "trials": {"type": "array", "items": {"$ref": "#/components/schemas/TrialPayload"}},
        },
    }
    schemas["CheckpointResponse"] = {
        "type": "object",
        "required": ["run_session_id", "stored"],
        "properties": {
            "run_session_id": {"type": "string", "format": "uuid"},
            "stored": {"type": "boolean"},
            "reason": {"type": "string"},
            "status": {"type": "string"},
            "checkpoint_index": {"type": "integer"},
            "trial_records_stored": {"type": "integer"},
        },
    }
    schemas["MeResponse"] = {
        "type": "object",
        "required": ["authenticated"],
        "properties": {
            "authenticated": {"type": "boolean"},
            "username": {"type": "string"},
            "public_name": {"type": "string"},
            "email": {"type": "string"},
            "role": {"type": "string"},
            "mfa_enabled": {"type": "boolean"},
            "mfa_verified_at": {"type": "string", "format": "date-time", "nullable": True},
            "mfa_fresh_until": {"type": "string", "format": "date-time", "nullable": True},
        },
    }
    schemas["ConfigVersionItem"] = {
        "type": "object",
        "required": ["config_version_id", "config_version_label", "config"],
        "properties": {
            "config_version_id": {"type": "integer"},
            "config_version_label": {"type": "string"},
            "task_type": {"type": "string", "nullable": True},
            "builder_version": {"type": "string", "nullable": True},
            "content_hash": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
            "config": {"type": "object", "additionalProperties": True},
        },
    }
    schemas["LatestConfigResponse"] = {
        "type": "object",
        "required": ["config", "configs", "study_properties"],
        "properties": {
            "config": {"type": "object", "additionalProperties": True},
            "config_version_id": {"type": "integer"},
            "config_version_label": {"type": "string"},
            "configs": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ConfigVersionItem"},
            },
            "study_properties": {"type": "object", "additionalProperties": True},
        },
    }
    schemas["RunListItem"] = {
        "type": "object",
        "required": [
            "run_session_id",
            "status",
            "started_at",
            "participant_key_preview",
            "has_result",
            "trial_count",
        ],
        "properties": {
            "run_session_id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["started", "completed", "failed"]},
            "interrupted": {"type": "boolean"},
            "started_at": {"type": "string", "format": "date-time"},
            "completed_at": {"type": "string", "format": "date-time", "nullable": True},
            "participant_key_preview": {"type": "string"},
            "task_type": {"type": "string", "nullable": True},
            "config_version_id": {"type": "integer"},
            "config_version_label": {"type": "string"},
            "has_result": {"type": "boolean"},
            "trial_count": {"type": "integer"},
            "result_created_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    }
    schemas["StudyRunsResponse"] = {
        "type": "object",
        "required": ["runs", "total_run_count", "runs_returned", "runs_limit"],
        "properties": {
            "runs": {"type": "array", "items": {"$ref": "#/components/schemas/RunListItem"}},
            "total_run_count": {"type": "integer"},
            "runs_returned": {"type": "integer"},
            "runs_limit": {"type": "integer"},
        },
    }

    paths = doc["paths"]
    slug_param = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[a-zA-Z0-9_-]+$"},
    }
    paths["/api/schema"] = {
        "get": {
            "tags": ["Ops"],
            "summary": "This server's OpenAPI document",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.0.3 document")},
        }
    }
    paths["/api/v1/auth/me"] = {
        "get": {
            "tags": ["Auth"],
            "summary": "The logged-in user",
            "responses": {
                "200": _json({"$ref": "#/components/schemas/MeResponse"}, "Logged in"),
                "401": _json({"$ref": "#/components/schemas/MeResponse"}, "Anonymous"),
            },
        }
    }
    paths["/api/v1/auth/csrf"] = {
        "get": {
            "tags": ["Auth"],
            "summary": "Set the csrftoken cookie",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"csrfToken": {"type": "string"}},
                        "required": ["csrfToken"],
                    },
                    "Token set",
                )
            },
        }
    }
    paths["/api/v1/results/checkpoint"] = {
        "post": {
            "tags": ["Interpreter"],
            "summary": "Store a partial result (trials upserted by index)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/CheckpointRequest"}
                    }
                },
            },
            "responses": {
                "200": _json(
                    {"$ref": "#/components/schemas/CheckpointResponse"},
                    "Stored, or refused for a finished run (stored: false)",
                ),
                "400": _json({"anyOf": [VALIDATION, DETAIL, ERR]}, "Validation error"),
                "404": _json(ERR, "Run session not found"),
            },
        }
    }
    paths["/api/v1/studies/{slug}/latest-config"] = {
        "get": {
            "tags": ["Studies"],
            "summary": "A study's latest config and all its versions",
            "parameters": [slug_param],
            "responses": {
                "200": _json({"$ref": "#/components/schemas/LatestConfigResponse"}, "Found"),
                "404": _json(ERR, "Study or config not found"),
            },
        }
    }
    paths["/api/v1/studies/{slug}/runs"] = {
        "get": {
            "tags": ["Studies"],
            "summary": "A study's runs, newest first",
            "parameters": [
                slug_param,
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
            ],
            "responses": {
                "200": _json({"$ref": "#/components/schemas/StudyRunsResponse"}, "Runs"),
                "400": _json(VALIDATION, "Bad limit"),
                "401": _json(ERR, "Authentication required"),
                "404": _json(ERR, "Study not found"),
            },
        }
    }

    schemas["MediaAsset"] = {
        "type": "object",
        "properties": {
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "url": {"type": "string", "description": "Relative URL /media/<sha256>.<ext>"},
            "filename": {"type": "string"},
            "content_type": {
                "type": "string",
                "enum": ["image/png", "image/jpeg", "image/gif", "image/webp"],
            },
            "size": {"type": "integer"},
        },
        "required": ["sha256", "url", "filename", "content_type", "size"],
    }
    media_ref = {"$ref": "#/components/schemas/MediaAsset"}
    paths["/api/v1/media"] = {
        "post": {
            "tags": ["Builder"],
            "summary": "Add an image (PNG, JPEG, GIF, WebP; at most 20 MiB), stored by SHA-256",
            "description": "Multipart form with field `file`, or the raw bytes as the body with "
            "`?filename=`. The type is read from the bytes; SVG is refused. Idempotent by content.",
            "parameters": [
                {"name": "filename", "in": "query", "required": False, "schema": {"type": "string"}}
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }
                    },
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "responses": {
                "201": _json(media_ref, "Stored (or already stored)"),
                "400": _json(ERR, "Empty, not an image, or an unsupported type"),
                "413": _json({"anyOf": [ERR, DETAIL]}, "Larger than 20 MiB"),
            },
        },
        "get": {
            "tags": ["Builder"],
            "summary": "The stored images, newest first",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"media": {"type": "array", "items": media_ref}},
                        "required": ["media"],
                    },
                    "Images",
                )
            },
        },
    }
    paths["/media/{name}"] = {
        "get": {
            "tags": ["Builder"],
            "summary": "A stored image (immutable, cached)",
            "parameters": [
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}\\.(png|jpg|gif|webp)$"},
                }
            ],
            "responses": {
                "200": {
                    "description": "The image",
                    "content": {
                        f"image/{t}": {"schema": {"type": "string", "format": "binary"}}
                        for t in ("png", "jpeg", "gif", "webp")
                    },
                },
                "404": _json({"anyOf": [ERR, DETAIL]}, "No such image"),
            },
        }
    }

    # Lab hardware (README: Lab hardware: LSL and triggers): the Interpreter's events for the
    # marker host of `cogflow-desktop serve --lsl` (cogflow_desktop/hardware/protocol.py).
    number = {"type": "number"}
    scalar = {"anyOf": [{"type": "string", "maxLength": 200}, number, {"type": "boolean"}]}
    schemas["MarkerRequest"] = {
        "type": "object",
        "properties": {
            "op": {"type": "string", "enum": ["hello", "clock", "markers", "summary"]},
            "run_session_id": {"type": "string", "format": "uuid", "nullable": True},
            "samples": {
                "type": "array",
                "maxItems": 64,
                "items": {
                    "type": "object",
                    "properties": {
                        "page_sent_ms": number,
                        "page_received_ms": number,
                        "lsl_s": number,
                    },
                    "required": ["page_sent_ms", "page_received_ms", "lsl_s"],
                },
            },
            "markers": {
                "type": "array",
                "maxItems": 1000,
                "items": {
                    "type": "object",
                    "properties": {
                        "seq": {"type": "integer", "minimum": 0},
                        "event": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                        "page_ms": number,
                        "lsl_time": {"type": "number", "nullable": True},
                        "live": {"type": "boolean"},
                        "data": {
                            "type": "object",
                            "maxProperties": 24,
                            "additionalProperties": {**scalar, "nullable": True},
                        },
                    },
                    "required": ["seq", "event", "page_ms"],
                },
            },
            "end": {"type": "boolean"},
        },
        "required": ["op"],
    }
    paths["/api/hardware/markers"] = {
        "post": {
            "tags": ["Interpreter"],
            "summary": "Lab hardware: LSL markers, clock round trips and trigger codes of a run",
            "description": "Answers only when the server runs with `serve --lsl` or "
            "`--trigger-port` (else 404). `hello` says whether markers go anywhere for the run, "
            "`clock` answers the LSL clock (one round trip) or takes a finished burst, "
            "`markers` pushes events, `summary` answers the run's record.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/MarkerRequest"}}
                },
            },
            "responses": {
                "200": _json({"type": "object"}, "The host's answer"),
                "400": _json({"anyOf": [VALIDATION, DETAIL, ERR]}, "Invalid request"),
                "404": _json(ERR, "Lab hardware off on this server, or an unknown run"),
            },
        }
    }

    # Answers the contract leaves out but this server gives, documented so clients can rely on them.
    resp = lambda path, method: paths[path][method]["responses"]  # noqa: E731
    resp("/api/v1/auth/login", "post").update(
        {
            "400": _json({"anyOf": [VALIDATION, DETAIL]}, "Validation error"),
            "429": _json(DETAIL, "Too many failed logins"),
        }
    )
    resp("/api/v1/auth/logout", "post")["200"] = _json(
        {"type": "object", "properties": {"ok": {"type": "boolean"}}}, "Logout succeeded"
    )
    resp("/api/v1/auth/mfa/setup", "post").update(
        {
            "400": _json({"anyOf": [VALIDATION, DETAIL]}, "Validation error"),
            "403": _json({"anyOf": [ERR, DETAIL]}, "Regenerating needs a fresh TOTP verification"),
            "409": _json(ERR, "Already enrolled: the secret is never shown again"),
        }
    )
    resp("/api/v1/auth/mfa/verify", "post").update(
        {
            "400": _json(
                {"anyOf": [VALIDATION, DETAIL, ERR]}, "Validation error or TOTP not set up"
            ),
            "429": _json(DETAIL, "Too many failed codes"),
        }
    )
    resp("/api/v1/configs/publish", "post")["400"] = _json(
        {"anyOf": [VALIDATION, DETAIL]}, "Validation error"
    )
    resp("/api/v1/runs/start", "post")["400"] = _json(
        {"anyOf": [VALIDATION, DETAIL, ERR]}, "Validation error or no published config"
    )
    resp("/api/v1/results/submit", "post").update(
        {
            "400": _json({"anyOf": [VALIDATION, DETAIL]}, "Validation error"),
            "409": _json(ERR, "A different result for a finished run"),
        }
    )
    resp("/api/v1/results/decrypt", "post")["400"] = _json(
        {"anyOf": [VALIDATION, DETAIL]}, "Validation error"
    )
    _security_extensions(doc)
    for _path, item in paths.items():
        for method, op in item.items():
            if method == "post":
                for code, answer in _common_unsafe().items():
                    op["responses"].setdefault(code, answer)
    return doc


def _security_extensions(doc: dict[str, Any]) -> None:
    """Issue 11: sealed page buffers, run integrity, integrity errors (README, Security)."""
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    resp = lambda path, method: paths[path][method]["responses"]  # noqa: E731
    schemas["StartRunResponse"]["properties"]["seal_public_key"] = {
        "type": "string",
        "description": "The install's X25519 public key (base64): the Interpreter seals what it "
        "must keep locally to it (this server only).",
    }
    schemas["DecryptResultResponse"]["properties"]["integrity"] = {
        "type": "string",
        "description": "'verified' (checked against the run's sealed manifest) or "
        "'unverified: recorded before run binding'.",
    }
    integrity = _json(ERR, "Stored data failed its integrity check (audited)")
    for path in ("/api/v1/results/decrypt", "/api/v1/auth/login", "/api/v1/auth/mfa/verify"):
        resp(path, "post")["409"] = integrity
    schemas["SealedTrial"] = {
        "type": "object",
        "required": ["trial_index", "ciphertext"],
        "properties": {
            "trial_index": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            "ciphertext": {"type": "string", "format": "byte"},
        },
    }
    schemas["RecoverSealedRequest"] = {
        "type": "object",
        "required": ["run_session_id", "sealed_key", "key_fingerprint"],
        "properties": {
            "run_session_id": {"type": "string", "format": "uuid"},
            "sealed_key": {"type": "string", "format": "byte", "maxLength": 200},
            "key_fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "trial_count": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            "trials": {"type": "array", "items": {"$ref": "#/components/schemas/SealedTrial"}},
            "result_payload_sealed": {"type": "string", "format": "byte", "nullable": True},
        },
    }
    paths["/api/v1/results/recover"] = {
        "post": {
            "tags": ["Interpreter"],
            "summary": "Hand over a page's sealed local buffer (stored still sealed)",
            "description": "What an earlier Interpreter page could not deliver, sealed to the "
            "install key in the page: a content key of its own, trials encrypted under it, "
            "optionally the result payload. Trials already stored are kept as they are.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/RecoverSealedRequest"}
                    }
                },
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "run_session_id": {"type": "string"},
                            "stored": {"type": "boolean"},
                            "trial_records_stored": {"type": "integer"},
                            "reason": {"type": "string"},
                        },
                    },
                    "Stored (or nothing to store, or the run already finished)",
                ),
                "400": _json({"anyOf": [VALIDATION, DETAIL, ERR]}, "Validation error"),
                "404": _json(ERR, "Run session not found"),
                **_common_unsafe(),
            },
        }
    }


def main() -> None:
    contract = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CONTRACT
    doc = extend(yaml.safe_load(contract.read_text(encoding="utf-8")))
    out = ROOT / "resources" / "openapi.json"
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
