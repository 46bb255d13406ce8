"""API tokens: each operator issues, lists and revokes their own; admins may revoke others'."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import AwareDatetime, BaseModel, Field

from server import clock
from server.accounts import tokens as service
from server.accounts.models import ApiToken
from server.api.registry import api
from server.api.schemas import ListQuery, Page, Strict, paginate
from server.auth.policy import READ, current_actor
from server.db import get_session

bp = Blueprint("tokens", __name__, url_prefix="/tokens")


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="What the token is for")
    expires_at: AwareDatetime | None = Field(
        default=None, description="A future instant with a time zone; none: never expires"
    )


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself; shown only this once")


class TokenList(Page[TokenOut]):
    pass


class TokenQuery(ListQuery):
    active: bool | None = Field(default=None, description="Only usable (or only unusable) tokens")


SORT = {"id": ApiToken.id, "name": ApiToken.name, "created_at": ApiToken.created_at}


def _out(row: ApiToken) -> TokenOut:
    return TokenOut.model_validate(row, from_attributes=True)


@api.route(
    bp, "", "GET", policy=READ, summary="List your API tokens", query=TokenQuery, response=TokenList
)
def list_tokens(query: TokenQuery) -> dict[str, object]:
    filters = service.TokenFilter(active=query.active)
    stmt = service.tokens_select(current_actor(), filters, clock.now())
    return paginate(get_session(), stmt, query, SORT, _out)


@api.route(
    bp,
    "",
    "POST",
    policy=READ,
    summary="Issue yourself an API token",
    body=TokenIn,
    response=TokenCreated,
    status=201,
)
def create_token(body: TokenIn) -> TokenCreated:
    db = get_session()
    row, clear = service.issue_token(
        db, current_actor(), clock.now(), name=body.name, expires_at=body.expires_at
    )
    db.commit()
    return TokenCreated(**_out(row).model_dump(), token=clear)


@api.route(
    bp,
    "/<int:token_id>",
    "DELETE",
    policy=READ,
    summary="Revoke a token (yours, or of a user you administer)",
)
def revoke_token(token_id: int) -> None:
    db = get_session()
    service.revoke_token(db, current_actor(), clock.now(), token_id)
    db.commit()
