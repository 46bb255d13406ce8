"""Field types the operator resources share, and partial updates that refuse stray nulls."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from server.api.common import Strict
from server.scope import MAX_ID

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
