"""Routes that declare themselves: policy, request and response models, and so the OpenAPI document.

`Api.route` wraps a view so that it authenticates per its policy, parses the JSON body and the
query string into pydantic models (a bad one is a 422 naming the field), and serialises what
the view returns. The same declaration becomes the route's entry in `/api/v1/openapi.json`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, json, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from server.api.problems import validation_failed
from server.auth.policy import Audience, Policy, declare, enforce
from server.db import MAX_ID
from server.errors import BadRequest, FieldError, PayloadTooLarge, ValidationFailed

JSON = "application/json"
# Every route reads at most this much body unless it declares more (uploads, proof of play):
# a JSON request of this product is a few kilobytes at most.
MAX_JSON_BYTES = 64 * 1024
# Deeper JSON than any request model has is refused before it is parsed (a parser, or
# anything walking the value, would otherwise recurse into it).
MAX_JSON_DEPTH = 32
BodyLimit = int | Callable[[], int]


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI form: /screens/{screen_id}
    endpoint: str
    summary: str
    policy: Policy
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    list_response: bool = False
    path_params: dict[str, str] = field(default_factory=dict)  # name -> "integer" | "string"
    # status -> description: errors get the Problem body; a 2xx reuses the success body
    extra_responses: dict[int, str] = field(default_factory=dict)
    raw_body: str | None = None  # media type of a non-JSON body (uploads)
    raw_response: str | None = None  # non-JSON success body; with `response`, an alternative
    max_body: BodyLimit = MAX_JSON_BYTES


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_INT_PARAM = re.compile(r"<int:(\w+)>")


def _openapi_path(rule: str) -> tuple[str, dict[str, str]]:
    params: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        params[m.group(2)] = "integer" if m.group(1) == "int" else "string"
        return "{" + m.group(2) + "}"

    return _CONVERTER.sub(repl, rule), params


class Api:
    """A registry of declared operations under one URL prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.operations: list[Operation] = []

    def route(
        self,
        bp: Blueprint,
        rule: str,
        method: str,
        *,
        policy: Policy,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        list_response: bool = False,
        extra_responses: dict[int, str] | None = None,
        raw_body: str | None = None,
        raw_response: str | None = None,
        max_body: BodyLimit = MAX_JSON_BYTES,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        bp_prefix = bp.url_prefix or ""
        path, params = _openapi_path(self.prefix + bp_prefix + rule)

        too_big = "file" if raw_body == "multipart/form-data" else "body"

        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(
                method=method.lower(),
                path=path.removeprefix(self.prefix) if path.startswith(self.prefix) else path,
                endpoint=f"{bp.name}.{view.__name__}",
                summary=summary,
                policy=policy,
                tag=bp.name,
                body=body,
                query=query,
                response=response,
                status=status,
                list_response=list_response,
                path_params=params,
                extra_responses=dict(extra_responses or {}),
                raw_body=raw_body,
                raw_response=raw_response,
                max_body=max_body,
            )
            self.operations.append(op)

            @functools.wraps(view)
            def wrapper(**kwargs: Any) -> Any:
                limit_body(max_body() if callable(max_body) else max_body, too_big)
                enforce(policy)
                if body is not None:
                    kwargs["body"] = _parse_body(body)
                if query is not None:
                    kwargs["query"] = _parse_query(query)
                result = view(**kwargs)
                return _respond(result, status)

            declare(policy)(wrapper)
            flask_rule = _INT_PARAM.sub(rf"<int(max={MAX_ID}):\1>", rule)
            bp.add_url_rule(flask_rule, view.__name__, wrapper, methods=[method])
            return wrapper

        return register


def limit_body(limit: int, field: str = "body") -> None:
    """Refuse a body over `limit` bytes before anything reads it (a streamed body without a
    Content-Length is cut off at the limit by Werkzeug, also a 413)."""
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"the body is larger than this route's limit of {limit} bytes",
            [FieldError(field, f"at most {limit} bytes")],
        )


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in JSON bytes (brackets in strings ignored)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot nest deeper than it has brackets
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise BadRequest("send a JSON body with Content-Type: application/json")
    if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        raise BadRequest(
            f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
            [FieldError("body", f"nested deeper than {MAX_JSON_DEPTH}")],
        )
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("the body is not valid JSON")
    _storable(data, "")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc, "body") from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    raw: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    _storable(raw, "")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_failed(exc, "query") from None


def _storable(value: Any, path: str) -> None:
    """Refuse text no database can store: NUL characters (PostgreSQL) and lone surrogates."""
    if isinstance(value, dict):
        for key, item in value.items():
            _storable(key, path or "body")
            _storable(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _storable(item, f"{path}[{i}]")
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            reason = "not valid Unicode (a lone surrogate)"
        else:
            if "\x00" not in value:
                return
            reason = "contains a NUL character"
        field = path or "body"
        raise ValidationFailed(f"{field}: {reason}", [FieldError(field, reason)])


def _respond(result: Any, status: int) -> Any:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status=204 if status == 200 else status)
    if isinstance(result, BaseModel):
        payload: Any = result.model_dump(mode="json")
    elif isinstance(result, list):
        payload = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]
    else:
        payload = result
    return Response(json.dumps(payload), status=status, mimetype=JSON)


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}
COMMON_ERRORS = {
    400: "Malformed request",
    404: "Not found (or outside your organisations)",
    405: "Method not allowed",
    409: "Conflicts with the current state (a name in use, an object still referenced)",
    413: "Request too large",
    422: "Invalid input; `errors` names each field",
    503: "Overloaded or the database is unavailable; see Retry-After",
}


def openapi_document(api: Api, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every declared operation."""
    models: set[type[BaseModel]] = set()
    for op in api.operations:
        models.update(m for m in (op.body, op.response) if m is not None)
    _, top = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        item = paths.setdefault(op.path, {})
        item[op.method] = _operation(op)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": api.prefix}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API token (sgt_…) or device token (sgd_…)",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }
    return doc


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": [op.tag],
        "description": f"Access: {op.policy.describe()}.",
    }
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(kind)}
        for name, kind in op.path_params.items()
    ]
    if op.query is not None:
        params.extend(_query_parameters(op.query))
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(op.body)}}}
    elif op.raw_body is not None:
        out["requestBody"] = {"required": True, "content": {op.raw_body: {"schema": {}}}}

    ok: dict[str, Any] = {"description": "Success"}
    if op.response is not None:
        body: dict[str, Any] = _ref(op.response)
        if op.list_response:
            body = {"type": "array", "items": body}
        ok["content"] = {JSON: {"schema": body}}
    if op.raw_response is not None:  # with a model too: an alternative representation
        ok.setdefault("content", {})[op.raw_response] = {"schema": {}}
    responses: dict[str, Any] = {str(op.status if op.status != 200 or op.response else 200): ok}
    if op.response is None and op.raw_response is None and op.status == 200:
        responses = {"204": {"description": "Done"}}
    problem_content = {"application/problem+json": {"schema": PROBLEM_REF}}
    errors = dict(COMMON_ERRORS)
    if op.policy.audience is not Audience.PUBLIC:
        errors[401] = "Missing or invalid credentials"
        errors[403] = "Not allowed for your role"
        out["security"] = [{"bearer": []}] + (
            [{"session": []}] if op.policy.audience is Audience.OPERATOR else []
        )
    for code, text in sorted(op.extra_responses.items()):
        if 200 <= code < 300:  # another success, with the same body (e.g. 200: already there)
            responses.setdefault(str(code), {**ok, "description": text})
        else:
            errors[code] = text
    for code, text in sorted(errors.items()):
        responses.setdefault(str(code), {"description": text, "content": problem_content})
    out["responses"] = responses
    return out


def _path_schema(kind: str) -> dict[str, Any]:
    if kind == "integer":
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return {"type": kind}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One query parameter per field; enums inlined, `X | None` said as an optional X."""
    full = model.model_json_schema()
    defs = full.get("$defs", {})
    required = set(full.get("required", []))
    params = []
    for name, info in full["properties"].items():
        schema = _optional(_inline(info, defs))
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in schema:
            param["description"] = schema.pop("description")
        param["schema"] = schema
        params.append(param)
    return params


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Replace the model's local `#/$defs/...` references (query parameters have no $defs)."""
    if isinstance(schema, list):
        return [_inline(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        target = dict(defs[ref.removeprefix("#/$defs/")])
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _inline({**target, **rest}, defs)
    return {k: _inline(v, defs) for k, v in schema.items() if k != "title"}


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch and a null default."""
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        rest = [b for b in branches if b != {"type": "null"}]
        if len(rest) == 1 and len(rest) < len(branches):
            outer = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = {**rest[0], **outer}
    if "default" in schema and schema["default"] is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def openapi_json(api: Api, title: str, version: str) -> Response:
    return Response(json.dumps(openapi_document(api, title, version)), mimetype=JSON)
