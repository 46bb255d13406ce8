"""Which organisations an actor may read or act on, as SQL clauses for list queries.

`Actor.require` answers the question for one object; these answer it for a whole list, so
pagination totals stay exact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from server.accounts.models import Organisation, Role
from server.auth.actors import ROLE_RANK, Actor


def ancestor_ids(actor: Actor) -> set[int]:
    """Ids of every organisation on the path to one of the actor's memberships (inclusive)."""
    ids: set[int] = set()
    for path in actor.roles:
        ids.update(int(p) for p in path.strip("/").split("/") if p)
    return ids


def in_scope(actor: Actor) -> ColumnElement[bool]:
    """Organisations in one of the actor's subtrees (join Organisation first)."""
    roots = actor.scope_paths
    return or_(*(Organisation.path.startswith(p) for p in roots)) if roots else false()


def readable_org_clause(actor: Actor) -> ColumnElement[bool]:
    """Organisations whose content the actor may read: its subtrees and their ancestors.

    Content flows down the tree, so a school reads (and uses) what its city and province own.
    """
    roots = actor.scope_paths
    if not roots:
        return false()
    return or_(
        *(Organisation.path.startswith(p) for p in roots),
        Organisation.id.in_(sorted(ancestor_ids(actor))),
    )


def reads(actor: Actor, org: Organisation) -> bool:
    """The single-object form of `readable_org_clause`."""
    return actor.sees(org.path) or org.id in ancestor_ids(actor)


def role_clause(actor: Actor, path_column: Any, role: Role) -> ColumnElement[bool]:
    """Rows whose organisation the actor holds at least `role` in (nearest membership wins)."""
    strong = [p for p, r in actor.roles.items() if ROLE_RANK[r] >= ROLE_RANK[role]]
    weak = [p for p, r in actor.roles.items() if ROLE_RANK[r] < ROLE_RANK[role]]
    clauses = []
    for path in strong:
        # A weaker membership deeper down overrides this one below it.
        below = [w for w in weak if w.startswith(path) and w != path]
        clauses.append(
            and_(path_column.startswith(path), *(~path_column.startswith(w) for w in below))
        )
    return or_(*clauses) if clauses else false()
