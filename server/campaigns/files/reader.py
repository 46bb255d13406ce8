"""Reading YAML nodes as text, each problem kept with the line it is on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from server.campaigns.files.schema import Bad

T = TypeVar("T")
MAX_NAME = 300


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a campaign file."""

    line: int
    field: str
    reason: str

    def render(self, filename: str) -> str:
        return f"{filename}:{self.line}: {self.field}: {self.reason}"


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


class Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.visited = 0

    def bad(self, node: Node | int, field: str, reason: str) -> None:
        line = node if isinstance(node, int) else line_of(node)
        self.problems.append(Problem(line, field, reason))

    def mapping(self, node: Node, field: str, allowed: set[str]) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.bad(node, field or "file", "must be a mapping (key: value lines)")
            return None
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            self.visited += 1
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            where = f"{field}.{key}" if field else str(key)
            if not isinstance(key, str):
                self.bad(key_node, field or "file", "keys must be plain words")
            elif key not in allowed:
                known = ", ".join(sorted(allowed))
                self.bad(key_node, where, f"unknown key (known: {known})")
            elif key in out:
                self.bad(key_node, where, "given twice")
            else:
                out[key] = value_node
        return out

    def scalar(self, node: Node, field: str) -> str | None:
        self.visited += 1
        if not isinstance(node, ScalarNode):
            self.bad(node, field, "must be a single value")
            return None
        value: str = node.value
        return value

    def text(self, node: Node, field: str, *, max_length: int = MAX_NAME) -> str | None:
        value = self.scalar(node, field)
        if value is None:
            return None
        value = value.strip()
        if not value:
            self.bad(node, field, "must not be empty")
            return None
        if len(value) > max_length:
            self.bad(node, field, f"at most {max_length} characters")
            return None
        return value

    def sequence(self, node: Node, field: str) -> list[Node] | None:
        if isinstance(node, SequenceNode):
            return list(node.value)
        self.bad(node, field, "must be a list")
        return None

    def parse(self, node: Node, field: str, parser: Callable[[str], T]) -> T | None:
        value = self.scalar(node, field)
        if value is None:
            return None
        try:
            return parser(value)
        except Bad as exc:
            self.bad(node, field, str(exc))
            return None

    def names(self, node: Node, field: str) -> tuple[str, ...]:
        """A list of names, or one name on its own."""
        nodes = [node] if isinstance(node, ScalarNode) else self.sequence(node, field)
        out: list[str] = []
        for i, item in enumerate(nodes or []):
            name = self.text(item, f"{field}[{i}]" if not isinstance(node, ScalarNode) else field)
            if name is not None:
                out.append(name)
        return tuple(out)


def choice(
    r: Reader, found: dict[str, Node], key: str, field: str, allowed: tuple[str, ...], default: str
) -> str | None:
    if key not in found:
        return default
    value = r.scalar(found[key], f"{field}.{key}")
    if value is None:
        return None
    if value not in allowed:
        r.bad(found[key], f"{field}.{key}", f"must be one of: {', '.join(allowed)}")
        return None
    return value
