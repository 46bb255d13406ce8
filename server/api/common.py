"""Shapes and helpers every operator resource shares: pagination, sorting, filtering, scoping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from server.auth import Actor
from server.errors import FieldError, NotFound, ValidationFailed
from server.models import Organisation

T = TypeVar("T")
MAX_PAGE = 500


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ListQuery(Strict):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    sort: str = Field(
        default="id", max_length=40, description="A sort key; prefix with - for descending"
    )


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(
    session: Session,
    stmt: Select[Any],
    query: ListQuery,
    sort_keys: Mapping[str, ColumnElement[Any] | Any],
    shape: Callable[[Any], T],
) -> dict[str, Any]:
    """Apply an allow-listed sort and the page window; return the page as plain data."""
    key = query.sort.removeprefix("-")
    if key not in sort_keys:
        allowed = ", ".join(sorted(sort_keys))
        raise ValidationFailed(
            f"cannot sort by {key!r}", [FieldError("sort", f"one of: {allowed}")]
        )
    column = sort_keys[key]
    order = column.desc() if query.sort.startswith("-") else column.asc()
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(
        stmt.order_by(order, *([] if key == "id" else [sort_keys["id"]]))
        .limit(query.limit)
        .offset(query.offset)
    )
    items = [shape(r) for r in rows]
    return {
        "items": [i.model_dump(mode="json") if isinstance(i, BaseModel) else i for i in items],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }


def org_or_404(session: Session, actor: Actor, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {org_id}")
    return org
