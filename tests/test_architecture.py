"""The layout's contracts, read from the source: which module may import which.

The rules (docs/architecture.md, "Dependencies"):
- no import cycle between server modules, counting function-local imports, since those are
  how a cycle hides;
- no cycle between the domain packages either, where an import of another domain's
  `models` does not count: the tables are the vocabulary every domain shares;
- the cross-cutting root modules import no domain; only the composition roots
  (`app`, `__main__`, `models`, `migrations`) gather the domains;
- `scheduling/` and `media/` import nothing of the project but themselves;
- `player/` imports nothing of `server/`;
- a services or models module never touches Flask's request state (`request`, `g`,
  `session`); a models module imports only models and `server.db`;
- a function-local import of the project's own code is refused; one of a third-party
  library carries a comment saying why it is local.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CROSS_CUTTING = {
    "app", "cli", "clock", "config", "db", "errors", "faults", "storage", "models", "__main__"
}
COMPOSITION_ROOTS = {"server.app", "server.__main__", "server.models", "server.demo.cli"}
PURE = ("server.scheduling", "server.media")
REQUEST_STATE = {"request", "g", "session"}
# Modules at the web or command-line edge: they may use Flask's request state.
EDGE_NAMES = {"views", "pages", "cli", "policy", "runtime", "media", "problems", "spec"}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (a project module, or a third-party top-level name)
    names: tuple[str, ...]
    line: int
    local: bool  # inside a function
    typing_only: bool  # under `if TYPE_CHECKING:`
    comment: str


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(top: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / top).rglob("*.py"))}


MODULES = {**project_modules("server"), **project_modules("player")}


def resolve(module: str, name: str | None) -> str:
    """`from module import name`: the submodule when `name` is one, else the module."""
    if name and f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    return module


def imports_of(module: str, path: Path) -> Iterator[Import]:
    text = path.read_text("utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)

    def walk(node: ast.AST, local: bool, typing_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            is_func = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            guarded = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            if isinstance(child, ast.Import | ast.ImportFrom):
                line = lines[child.lineno - 1]
                comment = line.split("#", 1)[1].strip() if "#" in line else ""
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        yield Import(
                            module, alias.name, (), child.lineno, local, typing_only, comment
                        )
                elif child.level == 0 and child.module:
                    targets: dict[str, list[str]] = defaultdict(list)
                    for alias in child.names:
                        targets[resolve(child.module, alias.name)].append(alias.name)
                    for target, names in targets.items():
                        yield Import(
                            module, target, tuple(names), child.lineno, local, typing_only, comment
                        )
            yield from walk(child, local or is_func, typing_only or guarded)

    yield from walk(tree, False, False)


ALL = [i for m, p in MODULES.items() for i in imports_of(m, p)]
PROJECT = [i for i in ALL if i.target in MODULES and not i.typing_only]


def domain_of(module: str) -> str:
    """`server.screens.views.devices` → `server.screens`; root modules are their own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def is_models(module: str) -> bool:
    return module.rsplit(".", 1)[-1] == "models" or module == "server.db"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in the graph as a path, or None (iterative DFS with colours)."""
    colour: dict[str, int] = {}
    for start in sorted(edges):
        if colour.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif not colour.get(child):
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def test_the_module_graph_has_no_cycle() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for i in PROJECT:
        if i.target != i.source and i.source.startswith("server"):
            edges[i.source].add(i.target)
    assert find_cycle(edges) is None, " → ".join(find_cycle(edges) or [])


def is_page(module: str) -> bool:
    """A console page module: `<domain>.pages` or a module of a `<domain>.pages` package."""
    return "pages" in module.split(".")[2:]


def test_the_domain_graph_has_no_cycle_beyond_shared_models() -> None:
    """Services and views form layers without cycles. Console pages are left out: they are
    leaves (the next test), free to combine the services of several domains on one page."""
    edges: dict[str, set[str]] = defaultdict(set)
    for i in PROJECT:
        if not i.source.startswith("server.") or i.source in COMPOSITION_ROOTS:
            continue
        if is_page(i.source):
            continue
        if i.source.startswith("server.migrations") or is_models(i.target):
            continue
        a, b = domain_of(i.source), domain_of(i.target)
        if a != b:
            edges[a].add(b)
    assert find_cycle(edges) is None, " → ".join(find_cycle(edges) or [])


def test_console_pages_are_leaves() -> None:
    """Only the composition roots, and pages of the same domain, import a page module."""
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in PROJECT
        if is_page(i.target)
        and i.source not in COMPOSITION_ROOTS
        and not (is_page(i.source) and domain_of(i.source) == domain_of(i.target))
    ]
    assert wrong == []


def test_cross_cutting_modules_import_no_domain() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in PROJECT
        if i.source.removeprefix("server.") in CROSS_CUTTING - {"app", "__main__", "models"}
        and i.target.startswith("server.")
        and i.target.removeprefix("server.") not in CROSS_CUTTING
        and not i.target.startswith(PURE)
    ]
    assert wrong == []


def test_only_composition_roots_import_them() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in PROJECT
        if i.target in COMPOSITION_ROOTS
        and i.source not in COMPOSITION_ROOTS
        and not i.source.startswith("server.migrations")
    ]
    assert wrong == []


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_nothing_of_the_project(package: str) -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in PROJECT
        if i.source.startswith(package) and not i.target.startswith(package)
    ]
    assert wrong == []


def test_the_player_imports_nothing_of_the_server() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in ALL
        if i.source.startswith("player") and i.target.split(".")[0] == "server"
    ]
    assert wrong == []


def is_edge(module: str) -> bool:
    parts = module.split(".")
    return (
        module in COMPOSITION_ROOTS
        or module in {"server.db", "server.clock", "server.storage"}
        or parts[1] in {"api", "web", "migrations"}
        or any(p in EDGE_NAMES for p in parts[2:])
    )


def test_services_and_models_leave_flask_request_state_alone() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {', '.join(i.names)} from flask"
        for i in ALL
        if i.source.startswith("server.")
        and not is_edge(i.source)
        and i.target == "flask"
        and REQUEST_STATE & set(i.names)
    ]
    assert wrong == []


def test_models_import_only_models() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in PROJECT
        if is_models(i.source)
        and i.source != "server.db"
        and i.source != "server.models"
        and not is_models(i.target)
        and not i.typing_only
    ]
    assert wrong == []


def test_no_function_local_import_of_the_project() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target} inside a function"
        for i in ALL
        if i.local
        and i.source.startswith("server.")
        and i.target.startswith("server")
        and not i.source.startswith("server.migrations")
    ]
    assert wrong == []


def test_a_function_local_third_party_import_says_why() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target} inside a function without a reason"
        for i in ALL
        if i.local
        and i.source.startswith("server.")
        and not i.target.startswith("server")
        and not i.comment
        and not i.source.startswith("server.migrations")
    ]
    assert wrong == []


def test_the_server_root_holds_only_cross_cutting_modules() -> None:
    root = {p.stem for p in (ROOT / "server").glob("*.py")} - {"__init__"}
    assert root <= CROSS_CUTTING, root - CROSS_CUTTING


def test_the_contract_check_sees_a_cycle() -> None:
    # The checker itself must be able to fail.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
