"""The approval desk page: what an approver sees and does; what nobody else may do."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.actors import actor_for_user
from server.auth.models import AuditEvent
from server.campaigns import workflow
from server.campaigns.models import Campaign, CampaignStatus
from server.clock import SettableClock
from server.errors import Conflict, Forbidden, ValidationFailed
from tests.server.campaigns.pages_scenario import API, build, step
from tests.server.web.conftest import sign_in

APPROVE_BUTTON = re.compile(
    r'name="action" value="approve"><input type="hidden" name="campaign_id" value="(\d+)"'
)


def status_of(session: Session, campaign_id: int) -> CampaignStatus:
    session.rollback()
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    return campaign.status


def events(session: Session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count(AuditEvent.id))) or 0)


def post(client: FlaskClient, csrf: str, action: str, campaign_id: int, **form: str) -> Any:
    data = {"csrf_token": csrf, "action": action, "campaign_id": str(campaign_id), **form}
    return client.post("/desk", data=data)


# -- the service: sending back with a comment --------------------------------------------


def test_send_back_needs_an_approver_a_comment_and_a_reviewed_campaign(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    week = build(client, session, world)
    campaign = session.get(Campaign, week.city_campaign)
    assert campaign is not None
    approver = actor_for_user(session.merge(world["approver"].user))
    operator = actor_for_user(session.merge(world["city_operator"].user))
    with pytest.raises(Forbidden):
        workflow.send_back(session, campaign, operator, clock.now(), "no")
    with pytest.raises(ValidationFailed, match="say why"):
        workflow.send_back(session, campaign, approver, clock.now(), "   \n ")
    with pytest.raises(ValidationFailed, match="300"):
        workflow.send_back(session, campaign, approver, clock.now(), "x" * 301)
    assert campaign.status is CampaignStatus.SUBMITTED
    workflow.send_back(session, campaign, approver, clock.now(), "  Use the\n bank's logo ")
    session.commit()
    assert campaign.status is CampaignStatus.DRAFT
    assert campaign.draft_reason == "Use the bank's logo"
    assert campaign.submitted_by_id is None and campaign.approved_snapshot is None
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "send_back").order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.actor == "approver@province.test"
    assert event.summary["after"] == {"status": "draft", "reason": "Use the bank's logo"}
    with pytest.raises(Conflict):  # a draft has nothing to send back
        workflow.send_back(session, campaign, approver, clock.now(), "again")


# -- the page ----------------------------------------------------------------------------


def test_an_approver_sees_the_waiting_campaign_approves_and_publishes_it(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    week = build(client, session, world)
    csrf = sign_in(client, "approver@province.test")
    page = client.get("/desk")
    assert page.status_code == 200
    text = page.text
    assert '<strong id="count-waiting">1</strong>' in text
    assert 'id="nav-desk-waiting"' in text  # the navigation says one is waiting
    assert "Branch week" in text and "op@city.test" in text and "City" in text
    assert "never: everything below is new" in text
    assert "playlist Branch slogans" in text and "diff-add" in text  # the diff
    assert "/api/v1/assets/" in text and "/thumbnail?v=" in text  # the posters
    assert "No conflicts with what is published." in text
    assert APPROVE_BUTTON.findall(text) == [str(week.city_campaign)]

    r = post(client, csrf, "approve", week.city_campaign)
    assert r.status_code == 302
    assert status_of(session, week.city_campaign) is CampaignStatus.APPROVED
    page = client.get(r.headers["Location"])
    assert "Approved. It can now be published." in page.text
    # Before confirming, the page says when publishing now would take effect.
    settings = client.application.config["SIGNAGE"]
    effective = workflow.effective_instant(settings, clock.now())
    shown = effective.astimezone(ZoneInfo("Asia/Shanghai"))
    confirm = client.get(f"/desk?confirm={week.city_campaign}")
    assert "Publishing now" in confirm.text
    assert f"takes effect at {shown:%H:%M:%S} on {shown:%Y-%m-%d}" in confirm.text
    assert "Confirm: publish" in confirm.text
    r = post(client, csrf, "publish", week.city_campaign)
    assert r.status_code == 302
    assert status_of(session, week.city_campaign) is CampaignStatus.PUBLISHED
    done = client.get(r.headers["Location"])
    assert f"Published: takes effect at {shown:%H:%M:%S} on {shown:%Y-%m-%d}" in done.text
    assert '<strong id="count-waiting">0</strong>' in done.text


def test_nobody_approves_their_own_submission_even_by_a_forged_post(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = build(client, session, world, submit_city=False)
    assert step(client, week.city_campaign, "submit", world["approver"]) == 200
    csrf = sign_in(client, "approver@province.test")
    page = client.get("/desk")
    assert "You submitted this campaign: another approver must approve it." in page.text
    assert APPROVE_BUTTON.findall(page.text) == []
    assert 'id="nav-desk-waiting"' not in page.text  # one's own does not count as waiting
    before = events(session)
    r = post(client, csrf, "approve", week.city_campaign)
    assert r.status_code == 403
    assert "nobody approves their own submission" in r.text
    assert status_of(session, week.city_campaign) is CampaignStatus.SUBMITTED
    assert events(session) == before


def test_a_viewer_and_an_operator_see_no_buttons_and_their_posts_are_refused(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = build(client, session, world)
    for email in ("viewer@province.test", "op@city.test"):
        csrf = sign_in(client, email)
        page = client.get("/desk")
        assert page.status_code == 200
        assert 'action="/desk"' not in page.text and "Approve</button>" not in page.text
        assert "Nothing is waiting for your approval." in page.text
        before = events(session)
        r = post(client, csrf, "approve", week.city_campaign)
        assert r.status_code == 403 and "needs the approver role" in r.text
        r = post(client, "forged", "approve", week.city_campaign)
        assert r.status_code == 403
        assert status_of(session, week.city_campaign) is CampaignStatus.SUBMITTED
        assert events(session) == before


def test_bad_posts_say_why_and_change_nothing(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = build(client, session, world)
    csrf = sign_in(client, "approver@province.test")
    before = events(session)
    r = post(client, csrf, "send_back", week.city_campaign, comment="  ")
    assert r.status_code == 422 and "say why the campaign goes back to draft" in r.text
    r = post(client, csrf, "publish", week.city_campaign)  # not approved yet
    assert r.status_code == 409 and "cannot publish a campaign that is submitted" in r.text
    r = client.post("/desk", data={"csrf_token": csrf, "action": "explode", "campaign_id": "1"})
    assert r.status_code == 422 and "Choose a campaign and a step." in r.text
    r = post(client, csrf, "approve", 999_999)
    assert r.status_code == 404
    assert status_of(session, week.city_campaign) is CampaignStatus.SUBMITTED
    assert events(session) == before


def test_send_back_with_a_comment_shows_in_sent_back_to_draft(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = build(client, session, world)
    csrf = sign_in(client, "approver@province.test")
    r = post(client, csrf, "send_back", week.city_campaign, comment="Use the <b>bank</b> logo")
    assert r.status_code == 302
    assert status_of(session, week.city_campaign) is CampaignStatus.DRAFT
    page = client.get(r.headers["Location"])
    assert "Sent back to draft with your comment." in page.text
    returned = page.text.split('id="returned"', 1)[1]
    assert "Branch week" in returned
    assert "Sent back by approver@province.test:" in returned
    assert "Use the &lt;b&gt;bank&lt;/b&gt; logo" in returned  # escaped, never markup
    # The operator who submitted it reads the same reason on their desk.
    sign_in(client, "op@city.test")
    assert "Use the &lt;b&gt;bank&lt;/b&gt; logo" in client.get("/desk").text


def test_an_edited_playlist_sends_an_approved_campaign_back_and_the_desk_says_why(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = build(client, session, world)
    assert step(client, week.city_campaign, "approve", world["approver"]) == 200
    r = client.put(
        f"{API}/playlists/{week.city_playlist}/items",
        json={"items": []},
        headers=world["city_operator"].headers,
    )
    assert r.status_code == 200, r.json
    assert status_of(session, week.city_campaign) is CampaignStatus.DRAFT
    sign_in(client, "approver@province.test")
    page = client.get("/desk")
    assert '<strong id="count-approved">0</strong>' in page.text
    returned = page.text.split('id="returned"', 1)[1]
    assert "Branch week" in returned
    assert "Its playlist “Branch slogans” was edited by op@city.test after review." in returned
    assert "draft" in returned
