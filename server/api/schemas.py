"""Shapes every operator resource shares: strict bodies, partial updates, field types, and
pagination with sorting and filtering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from server.db import MAX_ID
from server.errors import FieldError, ValidationFailed

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


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[\w-]+$")]
Tags = Annotated[list[Tag], Field(max_length=50)]
GroupIds = Annotated[list[Id], Field(max_length=100)]
Password = Annotated[str, Field(min_length=8, max_length=1000)]


class Patch(Strict):
    """A partial update: an omitted field is kept; null is an error unless listed in NULLABLE.

    Declare optional fields as `T | SkipJsonSchema[None] = None`, so the document says what
    the server accepts (a value of type T, or nothing).
    """

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their parsed values."""
        return {name: getattr(self, name) for name in self.model_fields_set}
