"""The OpenAPI document is valid 3.1 and describes every route under /api/v1, fully."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient

# The OpenAPI 3.1 meta-schema, as schemathesis ships it (no network in tests).
from schemathesis.specs.openapi.definitions import OPENAPI_31

from server.api.registry import API_PREFIX

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
CONVERTER = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    r = client.get(f"{API_PREFIX}/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc: dict[str, Any] = r.json
    return doc


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [
        f"{e.instance_path}: {e.message}"
        for e in jsonschema_rs.Draft202012Validator(OPENAPI_31).iter_errors(document)
    ]
    assert errors == []
    # Every schema in the document is itself a valid JSON Schema 2020-12.
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    dangling: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.removeprefix("#/components/schemas/")
                if not ref.startswith("#/components/schemas/") or name not in schemas:
                    dangling.append(f"{where}: {ref}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(document, "#")
    assert dangling == []


def test_every_route_is_documented(app: Flask, document: dict[str, Any]) -> None:
    documented = {(m, p) for m, p, _ in operations(document)}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/") or rule.rule == f"{API_PREFIX}/openapi.json":
            continue
        path = CONVERTER.sub(r"{\1}", rule.rule.removeprefix(API_PREFIX))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method.lower(), path) not in documented:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "declare these routes with api.route(...) so they are documented"
    assert len(documented) >= 40


def test_bodies_and_responses_have_schemas(document: dict[str, Any]) -> None:
    gaps = []
    for method, path, op in operations(document):
        where = f"{method.upper()} {path}"
        body = op.get("requestBody", {}).get("content", {})
        for media_type, content in body.items():
            if media_type.endswith("json") and "schema" not in content:
                gaps.append(f"{where}: request {media_type} without a schema")
        for code, response in op["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if media_type.endswith("json") and "schema" not in content:
                    gaps.append(f"{where}: {code} {media_type} without a schema")
            if code.startswith("2") and code != "204" and "content" in response:
                assert response["content"], f"{where}: {code} has empty content"
        params = [p["name"] for p in op.get("parameters", [])]
        declared = set(re.findall(r"{(\w+)}", path))
        if declared - set(params):
            gaps.append(f"{where}: path parameters {declared - set(params)} undeclared")
        if not any(code.startswith("2") for code in op["responses"]):
            gaps.append(f"{where}: no success response")
        if "security" in op and "401" not in op["responses"]:
            gaps.append(f"{where}: authenticated but no 401 documented")
    assert gaps == []


def test_json_success_bodies_are_described(document: dict[str, Any]) -> None:
    """A 2xx JSON body has a real schema (a named model, or a list of one), not `{}`."""
    loose = []
    for method, path, op in operations(document):
        for code, response in op["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if not code.startswith("2") or not media_type.endswith("json"):
                    continue
                schema = content.get("schema") or {}
                target = schema.get("items", {}) if schema.get("type") == "array" else schema
                if "$ref" not in target:
                    loose.append(f"{method.upper()} {path} {code} {media_type}")
    assert loose == [], "declare the response model: api.route(..., response=Model)"
