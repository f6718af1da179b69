"""The import graph of casework and protocols: no circle, and nothing imports upward.

Read from the source with `ast`, so every import counts, one at the top of a module or one
inside a function alike: an import put off until call time is a dependency all the same.
Migrations are left out (generated, frozen history). Importing `a.b.c` is taken as a
dependency on `a.b.c` only, not on the packages `a` and `a.b` that Python runs first: a
package's `__init__` re-exporting its modules is not a circle.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("casework", "protocols")

# Top to bottom. A module imports from its own layer or from the layers below, never from one
# above. A name stands for the module and everything under it; "casework" for the package's
# own __init__ only. A module in no layer fails the test: say where a new module belongs.
LAYERS = {
    "entry points": (
        "casework",
        "casework.apps",
        "casework.signals",
        "casework.urls",
        "casework.public_urls",
        "casework.web",
        "casework.views",
        "casework.api",
        "casework.admin",
        "casework.forms",
        "casework.filters",
        "casework.context_processors",
        "casework.templatetags",
        "casework.management",
        "casework.tasks",
        "protocols",
    ),
    "services": ("casework.services",),
    "domain": (
        "casework.permissions",
        "casework.selectors",
        "casework.prevention",
        "casework.trails",
        "casework.indicators",
        "casework.hsds",
        "casework.reports",
        "casework.audit",
        "casework.outbox",
        "casework.locks",
        "casework.uploads",
        "casework.db_roles",
        "casework.privacy",
        "casework.retention",
    ),
    "models": ("casework.models",),
}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name → (file, is a package) of every module of PACKAGES but migrations."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts:
                continue
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def _known(name: str, modules) -> str | None:
    """The module of ours that `name` (a module, or a name inside one) belongs to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str, path: Path, is_package: bool, modules) -> set[tuple[str, int]]:
    """(imported module of ours, line) for every import in the module's source."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module
            # `from pkg import module` depends on the module; `from module import name` on it.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            module = _known(target, modules)
            if module and module != name:
                found.add((module, node.lineno))
    return found


def _graph() -> dict[str, set[tuple[str, int]]]:
    modules = _modules()
    return {name: _imports(name, path, pkg, modules) for name, (path, pkg) in modules.items()}


def _within(module: str, name: str) -> bool:
    return module == name or (name != "casework" and module.startswith(name + "."))


def _layer(module: str) -> int | None:
    """The index of the module's layer (0 is the top), or None."""
    for index, names in enumerate(LAYERS.values()):
        if any(_within(module, name) for name in names):
            return index
    return None


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a circle."""
    edges = {name: {target for target, _line in imports} for name, imports in graph.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read():
    graph = _graph()
    assert {target for target, _line in graph["casework.services"]} >= {
        "casework.services.drafts",
        "casework.services.triage",
    }
    assert {target for target, _line in graph["casework.services.triage"]} >= {
        "casework.models",
        "casework.outbox",
        "casework.permissions",
        "casework.services.common",
        "casework.services.referrals",
    }
    assert "casework.locks" in {target for target, _line in graph["protocols.tasks"]}


def test_no_circle_among_the_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_one():
    graph = {"a": {("b", 1)}, "b": {("c", 1)}, "c": {("a", 1)}, "d": {("a", 1)}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_every_module_belongs_to_a_layer():
    assert [name for name in _graph() if _layer(name) is None] == []


def test_nothing_imports_upward():
    names = list(LAYERS)
    upward = [
        f"{name} ({names[_layer(name)]}) imports {target} ({names[_layer(target)]}), line {line}"
        for name, imports in sorted(_graph().items())
        for target, line in sorted(imports)
        if _layer(name) is not None and _layer(target) is not None and _layer(target) < _layer(name)
    ]
    assert upward == []


def test_the_services_import_no_page_api_task_or_flow():
    """The rule above, said for the services by name: their whole reach (what they import,
    and what that imports) holds no page, API, task or flow module."""
    graph = _graph()
    services = list(LAYERS).index("services")
    reach, todo = set(), [name for name in graph if _layer(name) == services]
    while todo:
        for target, _line in graph[todo.pop()]:
            if target not in reach:
                reach.add(target)
                todo.append(target)
    forbidden = ("casework.web", "casework.views", "casework.api", "casework.tasks", "protocols")
    assert sorted(m for m in reach if any(_within(m, f) for f in forbidden[:-1])) == []
    assert sorted(m for m in reach if m.split(".")[0] == "protocols") == []
