"""Rules and channels over the API: admins only, bad input named field by field."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_rules_and_channels_refuse_what_could_never_work(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    admin = world["admin"].headers
    school = world.school.id
    r = client.post("/api/v1/alerts/rules", json={"organisation_id": school, "kind": "offline",
                                                  "minutes": 15}, headers=admin)
    assert r.status_code == 201 and r.json["organisation"] == "School", r.json
    again = client.post("/api/v1/alerts/rules", json={"organisation_id": school, "kind": "offline"},
                        headers=admin)
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "kind"
    r = client.patch(f"/api/v1/alerts/rules/{r.json['id']}", json={"minutes": -1}, headers=admin)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "minutes"

    r = client.post(
        "/api/v1/alerts/channels",
        json={"organisation_id": school, "name": "hook", "kind": "webhook",
              "target": "ftp://example.test/x", "secret": "short"},
        headers=admin,
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"target", "secret"}
    r = client.post(
        "/api/v1/alerts/channels",
        json={"organisation_id": school, "name": "hook", "kind": "webhook",
              "target": "https://example.test/x", "secret": "sixteen chars or more"},
        headers=admin,
    )
    assert r.status_code == 201 and r.json["secret_set"] is True and "secret" not in r.json
    r = client.post(
        "/api/v1/alerts/channels",
        json={"organisation_id": school, "name": "mail", "kind": "email", "target": "nobody"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "target"
    r = client.get("/api/v1/alerts/channels", headers=world["operator"].headers)
    assert r.status_code == 403
