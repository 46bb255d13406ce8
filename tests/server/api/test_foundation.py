"""The wiring every route relies on: policies, problem+json, sessions, server time."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from server.app import undeclared_routes


def test_every_route_declares_a_policy(app: Flask) -> None:
    assert undeclared_routes(app) == []


def test_unknown_route_is_problem_json(client: FlaskClient) -> None:
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == 404


def test_every_response_carries_server_time(client: FlaskClient, clock) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/organisations")
    assert r.status_code == 401
    assert int(r.headers["Signage-Server-Time"]) == int(clock.now().timestamp() * 1000)


def test_session_login_then_csrf_guards_writes(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/session", json={"email": "admin@province.test", "password": "wrong password"}
    )
    assert r.status_code == 401
    r = client.post(
        "/api/v1/session",
        json={"email": "ADMIN@province.test", "password": "correct horse battery"},
    )
    assert r.status_code == 201, r.json
    csrf = r.json["csrf_token"]
    assert client.get("/api/v1/organisations").status_code == 200
    body = {"name": "New unit", "parent_id": world.city.id}
    r = client.post("/api/v1/organisations", json=body)
    assert r.status_code == 403 and "X-CSRF-Token" in r.json["detail"]
    r = client.post("/api/v1/organisations", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.json
    client.delete("/api/v1/session")
    assert client.get("/api/v1/organisations").status_code == 401


def test_device_token_is_refused_on_operator_routes(client: FlaskClient) -> None:
    r = client.get("/api/v1/organisations", headers={"Authorization": "Bearer sgd_whatever"})
    assert r.status_code == 401


def test_bad_body_names_the_field(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    h = world["admin"].headers
    r = client.post(
        "/api/v1/organisations", json={"name": "x", "parent_id": "abc", "colour": 1}, headers=h
    )
    assert r.status_code == 422
    fields = {e["field"]: e["reason"] for e in r.json["errors"]}
    assert "parent_id" in fields and fields["colour"] == "unknown field"
    r = client.post(
        "/api/v1/organisations", data="not json", headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


def test_scoping_hides_other_trees(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/organisations/{world.other.id}", headers=world["admin"].headers)
    assert r.status_code == 404
    r = client.get("/api/v1/organisations", headers=world["city_operator"].headers)
    assert {o["name"] for o in r.json["items"]} == {"City", "School"}
    r = client.get("/api/v1/organisations?sort=-name&limit=2", headers=world["admin"].headers)
    assert [o["name"] for o in r.json["items"]] == ["School", "Province"] and r.json["total"] == 3
    r = client.get("/api/v1/organisations?sort=password", headers=world["admin"].headers)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "sort"
