"""The campaign pages through Flask's test client: the list, a campaign's page, its editor and
the campaign-file upload; refusals are 4xx with the reason and change nothing; a viewer gets
no write control and a forged post is refused; an edit of approved content sends the
campaign back to draft and its page says why."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.campaigns import workflow
from server.campaigns.models import Campaign, CampaignStatus, ScheduleEntry
from server.clock import SettableClock
from server.playlists.models import Playlist
from tests.factories import make_campaign
from tests.server.api import objects
from tests.server.web.conftest import sign_in
from tests.server.web.test_translations import pseudo_catalogue, untranslated


def week(session: Session, world: Any, clock: SettableClock, name: str = "Week") -> Campaign:
    """A draft of City: playlist "week" (three posters) played all week."""
    now = clock.now()
    posters = [objects.asset(session, world.city, f"poster-{n}", now) for n in ("a", "b", "c")]
    row = make_campaign(
        session,
        world.city,
        name,
        now,
        playlists={"week": [(p, 10_000) for p in posters]},
        entries=[{"playlist": "week", "priority": 5, "windows": [["07:30", "09:00"]]}],
        start=date(2026, 1, 5),
        end=date(2026, 1, 11),
    )
    session.commit()
    return row


def approved(session: Session, world: Any, clock: SettableClock) -> Campaign:
    """The week, submitted by the operator and approved by the approver."""
    row = week(session, world, clock)
    workflow.submit(session, row, actor_of(session, world, "operator"), clock.now())
    workflow.approve(session, row, actor_of(session, world, "approver"), clock.now())
    session.commit()
    return row


def actor_of(session: Session, world: Any, who: str) -> Any:
    from server.auth.actors import actor_for_user  # noqa: PLC0415 - test helper only

    return actor_for_user(world[who].user)


def playlist_of(session: Session, campaign: Campaign) -> Playlist:
    session.rollback()
    found = session.scalar(select(Playlist).where(Playlist.campaign_id == campaign.id))
    assert found is not None
    return found


def items_form(playlist: Playlist, token: str, op: str = "save", **extra: Any) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "op": op,
        "asset_id": [str(i.asset_id) for i in playlist.items],
        "duration_s": [str(i.duration_ms // 1000) for i in playlist.items],
        "fit": [i.fit for i in playlist.items],
        "transition": [i.transition for i in playlist.items],
        **extra,
    }


def status_of(session: Session, campaign_id: int) -> CampaignStatus:
    """The status the app committed (read afresh, not from the session's objects)."""
    session.rollback()
    found = session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    assert found is not None
    return found


def audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


# --- the list and a campaign's page ----------------------------------------------------


def test_the_list_shows_campaigns_in_scope_and_filters_by_status(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    sign_in(client, "op@city.test")
    page = client.get("/campaigns")
    assert page.status_code == 200
    assert "Week" in page.text and "City" in page.text and "2026-01-05" in page.text
    assert f'href="/campaigns/{row.id}"' in page.text
    assert "Upload a campaign file" in page.text and "New campaign" in page.text
    assert "Week" not in client.get("/campaigns?status=approved").text
    assert "Week" in client.get("/campaigns?status=draft").text


def test_an_outsider_neither_lists_nor_opens_the_campaign(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    sign_in(client, "admin@other.test")
    assert "Week" not in client.get("/campaigns").text
    assert client.get(f"/campaigns/{row.id}").status_code == 404
    assert client.get(f"/campaigns/{row.id}/edit").status_code == 404


def test_the_campaign_page_shows_playlists_and_entries_in_words(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    sign_in(client, "op@city.test")
    page = client.get(f"/campaigns/{row.id}")
    assert page.status_code == 200
    text = page.text
    assert "Asia/Shanghai" in text and "2026-01-05 – 2026-01-11" in text
    assert text.count("/thumbnail?v=") == 3 and "poster-b" in text
    assert "07:30–09:00" in text and "Every day" in text and "The campaign's targets" in text
    assert "Submit for approval" in text and "Export YAML" in text
    assert f"/campaigns/{row.id}/edit" in text


def test_a_viewer_gets_no_write_control_and_a_forged_post_is_refused(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    pl = playlist_of(session, row)
    token = sign_in(client, "viewer@province.test")
    for url in ("/campaigns", f"/campaigns/{row.id}", f"/campaigns/{row.id}/edit"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert (
            'method="post"' not in page.text.replace('action="/logout"', "").split("</header>")[1]
        ), url
        assert "Upload a campaign file" not in page.text and "Submit for approval" not in page.text
    assert client.get("/campaigns/upload").status_code == 403
    before = audit_count(session)
    forged = [
        (f"/campaigns/{row.id}/submit", {"csrf_token": token}),
        (f"/campaigns/{row.id}/playlists/{pl.id}", items_form(pl, token, "up:1")),
        (f"/campaigns/{row.id}/edit", {"csrf_token": token, "name": "X"}),
    ]
    for url, data in forged:
        assert client.post(url, data=data).status_code == 403, url
    assert status_of(session, row.id) is CampaignStatus.DRAFT
    assert audit_count(session) == before


def test_a_post_without_the_csrf_token_is_refused(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    sign_in(client, "op@city.test")
    assert client.post(f"/campaigns/{row.id}/submit").status_code == 403
    assert status_of(session, row.id) is CampaignStatus.DRAFT


def test_submit_from_the_campaign_page(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    token = sign_in(client, "op@city.test")
    r = client.post(f"/campaigns/{row.id}/submit", data={"csrf_token": token})
    assert r.status_code == 302
    assert status_of(session, row.id) is CampaignStatus.SUBMITTED
    page = client.get(r.headers["Location"])
    assert "Submitted for approval." in page.text and "Submit for approval" not in page.text
    again = client.post(f"/campaigns/{row.id}/submit", data={"csrf_token": token})
    assert again.status_code == 409 and "cannot submit a campaign that is submitted" in again.text


def test_export_downloads_the_campaign_file(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    sign_in(client, "viewer@province.test")
    r = client.get(f"/campaigns/{row.id}/export.yaml")
    assert r.status_code == 200 and r.mimetype == "application/yaml"
    assert "attachment" in r.headers["Content-Disposition"]
    assert "campaign: Week" in r.text and "week:" in r.text


# --- approved content stays approved ---------------------------------------------------


def test_editing_an_approved_campaigns_playlist_sends_it_back_to_draft_and_says_why(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = approved(session, world, clock)
    pl = playlist_of(session, row)
    assert status_of(session, row.id) is CampaignStatus.APPROVED
    token = sign_in(client, "op@city.test")
    editor = client.get(f"/campaigns/{row.id}/edit")
    assert "Saving any change sends it back to draft" in editor.text
    r = client.post(f"/campaigns/{row.id}/playlists/{pl.id}", data=items_form(pl, token, "up:2"))
    assert r.status_code == 302, r.text
    assert status_of(session, row.id) is CampaignStatus.DRAFT
    order = [i.asset.title for i in playlist_of(session, row).items]
    assert order == ["poster-a", "poster-c", "poster-b"]
    page = client.get(f"/campaigns/{row.id}").text
    assert "Back to draft" in page
    assert (
        "op@city.test changed the items of the playlist “week” after the campaign was submitted"
        in page
    )
    assert "must be submitted and approved again" in page
    # The desk says it too, to the approver who approved it.
    sign_in(client, world["approver"].user.email)
    desk = client.get("/desk").text
    assert "Its playlist “week” was edited by op@city.test after review." in desk
    token = sign_in(client, "op@city.test")
    client.post("/me/language", data={"csrf_token": token, "language": "zh_CN"})
    sign_in(client, "op@city.test", lang="zh_CN")
    chinese = client.get(f"/campaigns/{row.id}", headers={"Accept-Language": "zh-CN"}).text
    assert "“week”" in chinese and "op@city.test" in chinese
    assert "退回草稿" in chinese


def test_editing_an_approved_campaigns_entry_sends_it_back_to_draft(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = approved(session, world, clock)
    entry = row.entries[0]
    token = sign_in(client, "op@city.test")
    r = client.post(
        f"/campaigns/{row.id}/entries/{entry.id}",
        data={"csrf_token": token, "playlist_id": entry.playlist_id, "priority": "9",
              "layer": "normal", "target_kind": "campaign"},
    )  # fmt: skip
    assert r.status_code == 302, r.text
    assert status_of(session, row.id) is CampaignStatus.DRAFT
    page = client.get(f"/campaigns/{row.id}").text
    assert "op@city.test edited the campaign after it was submitted" in page


def test_sent_back_by_an_approver_the_page_quotes_the_comment_and_names_them(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = approved(session, world, clock)
    approver = world["approver"].user.email
    token = sign_in(client, approver)
    comment = "Poster <b> is last year's"
    r = client.post(
        "/desk",
        data={"csrf_token": token, "action": "send_back", "campaign_id": row.id,
              "comment": comment},
    )  # fmt: skip
    assert r.status_code in (200, 302, 303), r.text
    assert status_of(session, row.id) is CampaignStatus.DRAFT
    page = client.get(f"/campaigns/{row.id}").text
    assert f"{approver} sent the campaign back with this comment:" in page
    assert "Poster &lt;b&gt; is last year&#39;s" in page


# --- the editor ------------------------------------------------------------------------


def test_header_refusal_shows_the_field_and_changes_nothing(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    token = sign_in(client, "op@city.test")
    before = audit_count(session)
    r = client.post(
        f"/campaigns/{row.id}/edit",
        data={"csrf_token": token, "name": "Renamed", "start_date": "2026-01-09",
              "end_date": "2026-01-06", "timezone": "Mars/Olympus"},
    )  # fmt: skip
    assert r.status_code == 422
    assert "end_date: is before start_date" in r.text and "timezone:" in r.text
    assert 'value="Renamed"' in r.text  # what was typed stays in the form
    session.rollback()
    assert session.get(Campaign, row.id).name == "Week"  # type: ignore[union-attr]
    assert audit_count(session) == before
    ok = client.post(
        f"/campaigns/{row.id}/edit",
        data={"csrf_token": token, "name": "Renamed", "start_date": "2026-01-05",
              "end_date": "2026-01-10", "timezone": "Asia/Shanghai"},
    )  # fmt: skip
    assert ok.status_code == 302
    session.rollback()
    assert session.get(Campaign, row.id).end_date == date(2026, 1, 10)  # type: ignore[union-attr]


def test_playlist_edits_move_add_time_remove_and_refuse_a_bad_duration(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    pl = playlist_of(session, row)
    extra = objects.asset(session, world.province, "from-above", clock.now())
    token = sign_in(client, "op@city.test")
    url = f"/campaigns/{row.id}/playlists/{pl.id}"
    assert "from-above" in client.get(f"/campaigns/{row.id}/edit").text  # in the library
    bad = items_form(pl, token)
    bad["duration_s"] = ["10", "0", "10"]
    r = client.post(url, data=bad)
    assert r.status_code == 422 and "items[1].duration_s" in r.text
    assert [i.duration_ms for i in playlist_of(session, row).items] == [10_000] * 3
    r = client.post(
        url, data=items_form(pl, token, "add", add_asset_id=extra.id, add_duration_s="2.5")
    )
    assert r.status_code == 302
    pl = playlist_of(session, row)
    assert [(i.asset.title, i.duration_ms) for i in pl.items][-1] == ("from-above", 2500)
    assert client.post(url, data=items_form(pl, token, "down:0")).status_code == 302
    pl = playlist_of(session, row)
    assert [i.asset.title for i in pl.items][:2] == ["poster-b", "poster-a"]
    assert client.post(url, data=items_form(pl, token, "remove:3")).status_code == 302
    assert len(playlist_of(session, row).items) == 3
    other = objects.asset(session, world.other, "elsewhere", clock.now())
    r = client.post(
        url, data=items_form(pl, token, "add", add_asset_id=other.id, add_duration_s="5")
    )
    assert r.status_code == 422 and "asset_id" in r.text
    assert len(playlist_of(session, row).items) == 3


def test_schedule_entries_add_edit_delete_and_a_refusal_names_the_field(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock)
    pl = playlist_of(session, row)
    token = sign_in(client, "op@city.test")
    new = {"csrf_token": token, "playlist_id": pl.id, "first_date": "2026-01-07",
           "last_date": "2026-01-07", "weekdays": ["0", "2"], "windows": "12:00-13:00, 18:00-19:30",
           "priority": "10", "layer": "takeover", "target_kind": "chosen", "tags": "lobby, campus",
           "organisations": [str(world.school.id)]}  # fmt: skip
    r = client.post(f"/campaigns/{row.id}/entries", data=new)
    assert r.status_code == 302, r.text
    session.rollback()
    entries = session.scalars(
        select(ScheduleEntry).where(ScheduleEntry.campaign_id == row.id).order_by(ScheduleEntry.id)
    ).all()
    added = entries[-1]
    added_id = added.id
    assert added.weekdays == [0, 2] and added.windows == [["12:00", "13:00"], ["18:00", "19:30"]]
    assert added.layer == "takeover" and added.priority == 10
    assert added.targets["tags"] == ["campus", "lobby"]
    assert added.targets["organisations"] == [world.school.id]
    page = client.get(f"/campaigns/{row.id}").text
    assert "12:00–13:00, 18:00–19:30" in page and "Mon, Wed" in page and "takeover" in page
    outside = dict(new, first_date="2026-02-01", last_date="2026-02-01")
    r = client.post(f"/campaigns/{row.id}/entries/{added.id}", data=outside)
    assert r.status_code == 422 and "first_date: outside the campaign" in r.text
    bad_window = dict(new, windows="25:00-26:00")
    r = client.post(f"/campaigns/{row.id}/entries", data=bad_window)
    assert r.status_code == 422 and "windows:" in r.text
    session.rollback()
    assert session.get(ScheduleEntry, added.id).first_date == date(2026, 1, 7)  # type: ignore[union-attr]
    r = client.post(f"/campaigns/{row.id}/entries/{added_id}/delete", data={"csrf_token": token})
    assert r.status_code == 302
    session.rollback()
    assert session.scalar(select(ScheduleEntry.id).where(ScheduleEntry.id == added_id)) is None


def test_a_new_campaign_and_a_refused_one(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    token = sign_in(client, "op@city.test")
    assert client.get("/campaigns/new").status_code == 200
    data = {
        "csrf_token": token,
        "organisation_id": world.city.id,
        "name": "Spring",
        "start_date": "2026-03-01",
        "end_date": "2026-02-01",
        "timezone": "Asia/Shanghai",
    }
    r = client.post("/campaigns/new", data=data)
    assert r.status_code == 422 and "end_date" in r.text
    assert session.scalar(select(Campaign).where(Campaign.name == "Spring")) is None
    r = client.post("/campaigns/new", data=dict(data, end_date="2026-03-31"))
    assert r.status_code == 302
    session.rollback()
    made = session.scalar(select(Campaign).where(Campaign.name == "Spring"))
    assert made is not None and r.headers["Location"].endswith(f"/campaigns/{made.id}/edit")


# --- the campaign-file upload ----------------------------------------------------------

GOOD = """campaign: Spring week
organisation: City
timezone: Asia/Shanghai
dates: 2026-01-05 .. 2026-01-11
playlists:
  week:
    - poster: sha256:{sha}
      duration: 10s
schedule:
  - play: week
"""


def upload(client: FlaskClient, token: str, text: str, **extra: Any) -> Any:
    data = {"csrf_token": token, "file": (io.BytesIO(text.encode()), "spring.yaml"), **extra}
    return client.post("/campaigns/upload", data=data, content_type="multipart/form-data")


def test_upload_check_plan_apply(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    poster = objects.asset(session, world.city, "spring", clock.now())
    token = sign_in(client, "op@city.test")
    assert client.get("/campaigns/upload").status_code == 200
    broken = GOOD.format(sha=poster.sha256).replace("duration: 10s", "duration: 10 parsecs")
    broken = broken.replace("play: week", "play: nowhere")
    before = audit_count(session)
    r = upload(client, token, broken)
    assert r.status_code == 422
    assert 'href="#line-8"' in r.text and 'href="#line-10"' in r.text
    assert re.search(r'<li id="line-8" value="8" class="bad">', r.text)
    assert re.search(r'<li id="line-10" value="10" class="bad">', r.text)
    assert 'id="line-7" value="7" class="">' in r.text
    assert audit_count(session) == before
    r = upload(client, token, GOOD.format(sha=poster.sha256))
    assert r.status_code == 200, r.text
    assert (
        "playlist week item 1" in r.text
        and "Apply as draft" in r.text
        and "No conflicts." in r.text
    )
    found = re.search(r'name="token" value="([^"]+)"', r.text)
    assert found
    assert session.scalar(select(Campaign).where(Campaign.name == "Spring week")) is None
    applied = client.post("/campaigns/upload/apply", data={"csrf_token": token, "token": found[1]})
    assert applied.status_code == 302, applied.text
    session.rollback()
    made = session.scalar(select(Campaign).where(Campaign.name == "Spring week"))
    assert made is not None and made.status is CampaignStatus.DRAFT
    assert applied.headers["Location"].endswith(f"/campaigns/{made.id}?done=applied")
    page = client.get(applied.headers["Location"]).text
    assert "Applied as a draft." in page and "Submit for approval" in page
    again = client.post("/campaigns/upload/apply", data={"csrf_token": token, "token": found[1]})
    assert again.status_code == 404 and "upload the file again" in again.text


def test_an_upload_token_is_its_uploaders_only(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    poster = objects.asset(session, world.city, "spring", clock.now())
    token = sign_in(client, "op@city.test")
    r = upload(client, token, GOOD.format(sha=poster.sha256))
    held = re.search(r'name="token" value="([^"]+)"', r.text)
    assert held
    other = sign_in(client, "operator@province.test")
    r = client.post("/campaigns/upload/apply", data={"csrf_token": other, "token": held[1]})
    assert r.status_code == 404
    r = client.post("/campaigns/upload/apply", data={"csrf_token": other, "token": "../../etc"})
    assert r.status_code == 404
    assert session.scalar(select(Campaign).where(Campaign.name == "Spring week")) is None


def test_an_upload_without_a_file_is_refused(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    token = sign_in(client, "op@city.test")
    r = client.post(
        "/campaigns/upload", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert r.status_code == 422 and "file: required" in r.text


# --- every string through the catalogue -------------------------------------------------


def test_no_campaign_page_shows_a_string_that_skipped_the_catalogue(
    app: Flask, client: FlaskClient, session: Session, world: Any, clock: SettableClock,
    tmp_path: Path,
) -> None:  # fmt: skip
    pseudo_catalogue(tmp_path)
    app.config["CONSOLE_LOCALES"] = ("en", "zh_CN", "eo")
    app.extensions["babel"].translation_directories = [str(tmp_path)]
    row = approved(session, world, clock)
    pl = playlist_of(session, row)
    poster = objects.asset(session, world.city, "spring", clock.now())
    token = sign_in(client, "op@city.test", lang="eo")
    client.post(f"/campaigns/{row.id}/playlists/{pl.id}", data=items_form(pl, token, "up:1"))
    pages = {
        url: client.get(url)
        for url in ("/campaigns", "/campaigns?status=archived", "/campaigns/new",
                    "/campaigns/upload", f"/campaigns/{row.id}", f"/campaigns/{row.id}/edit")
    }  # fmt: skip
    pages["problems"] = upload(client, token, GOOD.format(sha="0" * 64).replace("10s", "ten"))
    pages["plan"] = upload(client, token, GOOD.format(sha=poster.sha256))
    assert "Back to draft" in pages[f"/campaigns/{row.id}"].text
    for name, page in pages.items():
        assert page.status_code in (200, 422), name
        assert untranslated(page.text) == [], name


def test_a_poster_the_file_places_outside_its_folder_is_refused(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock, app: Flask
) -> None:
    token = sign_in(client, "op@city.test")
    text = GOOD.format(sha="0" * 64).replace("sha256:" + "0" * 64, "../../evil.png")
    poster = (io.BytesIO(b"\x89PNG not really"), "evil.png")
    r = upload(client, token, text, poster=poster)
    assert r.status_code == 422 and "is not a relative path inside the campaign" in r.text
    instance = Path(app.config["SIGNAGE"].instance_path)
    assert not (instance.parent / "evil.png").exists()
    assert not list((instance / "campaign-uploads").glob("*"))  # nothing kept


def test_names_are_shown_as_text(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    row = week(session, world, clock, name='<script>alert(1)</script>"onmouseover=')
    sign_in(client, "op@city.test")
    for url in ("/campaigns", f"/campaigns/{row.id}", f"/campaigns/{row.id}/edit"):
        text = client.get(url).text
        assert "<script>alert(1)" not in text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onmouseover=" in text, url
