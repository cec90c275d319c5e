"""No app imports another in a circle, not even inside a function (imports read with ast).

Layers, lowest first: accounts, scheduling, bookings, payments. Each app imports only
lower ones, so neither modules nor apps form a circle; payments builds on bookings and
nothing builds on payments.
"""

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db  # the cache the suite clears between tests is a table

LAYERS = ("accounts", "scheduling", "bookings", "payments")

# No app imports a higher layer, not even inside a function: where a lower app needs a
# higher one's answer, the lower app names what it needs and the higher one registers it
# from its AppConfig.ready (accounts.lifecycle, scheduling.holds), and pages that span
# apps live in doctors_portal (doctors_portal.pages, the demo, seed_demo).


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - node.level + 1]
            stem = ".".join([*base, node.module] if node.module else base)
        else:
            stem = node.module or ""
        # `from app import selectors` imports the module app.selectors.
        return [stem, *(f"{stem}.{alias.name}" for alias in node.names)]
    return []


def _graph() -> dict[str, set[str]]:
    modules = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            modules[_module_name(path)] = path
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets = set()
        # ast.walk sees every import: module level, in functions, in methods.
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for name in _imported(node, module, is_package):
                if name in modules and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def _app(module: str) -> str:
    return module.split(".")[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = itertools.count()

    def visit(node):
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph():
    return _graph()


def test_the_graph_sees_imports_inside_functions(graph):
    # payments' AppConfig imports inside ready(); both imports are read.
    assert graph["payments.apps"] >= {"bookings.services", "payments.services"}
    assert "bookings.seats" in graph["payments.services"]


def test_no_module_imports_another_in_a_circle(graph):
    assert _cycles(graph) == []


def test_nothing_imports_payments(graph):
    upward = sorted(
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if _app(target) == "payments" and _app(module) != "payments"
    )
    assert upward == [], "payments builds on bookings, never the reverse"


def test_no_import_of_a_higher_layer(graph):
    rank = {app: i for i, app in enumerate(LAYERS)}
    upward = sorted(
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if rank[_app(target)] > rank[_app(module)]
    )
    assert upward == [], "a lower app imports a higher one"


def test_no_app_imports_another_in_a_circle(graph):
    apps = {app: set() for app in LAYERS}
    for module, targets in graph.items():
        apps[_app(module)] |= {_app(t) for t in targets if _app(t) != _app(module)}
    assert _cycles(apps) == []
    assert apps["accounts"] == set()
