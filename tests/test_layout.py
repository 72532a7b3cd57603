"""The package layout holds: imports flow one way (ARCHITECTURE.md, "Layout").

Every module under backend/crm is parsed (never imported) and every import in it,
at module level or inside a function, becomes an edge of one graph.
"""
import ast
from pathlib import Path

import pytest

CRM = Path(__file__).resolve().parents[1] / "backend" / "crm"
# The classic CRM: the grid may import these, never the other way (a change that must
# flow back goes through crm.hooks).
CLASSIC = ("contacts", "organizations", "opportunities", "communications", "lp_profiles", "tags",
           "feature_requests", "reports", "admin")
# Shared helpers every feature uses: they sit below the features and below http/.
SHARED = ("audit", "clock", "csvio", "errors", "hooks", "records", "results", "settings", "shapes", "validation")
# Modules allowed to import another feature package's handlers, and why.
HANDLER_IMPORTERS = {
    "crm.http.routes": "the route table names every handler",
}


def module_name(path: Path) -> str:
    parts = ("crm",) + path.relative_to(CRM).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parse_modules() -> dict:
    """{module name: (path, ast tree)} of every module under backend/crm."""
    return {module_name(path): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(CRM.rglob("*.py"))}


def imports_of(name: str, path: Path, tree: ast.AST, known: set) -> set:
    """The crm modules `name` imports: relative imports resolved, `from pkg import sub` counted as pkg.sub."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return {m for m in found if m in known and m != name}


@pytest.fixture(scope="module")
def graph() -> dict:
    modules = parse_modules()
    return {name: imports_of(name, path, tree, set(modules)) for name, (path, tree) in modules.items()}


def test_the_graph_sees_relative_and_function_level_imports(graph):
    assert "crm.db.connection" in graph["crm.db"]  # `from .connection import ...` in a package's __init__
    assert "crm.records" in graph["crm.contacts.model"]  # `from .. import records`
    assert "crm.admin.checklist" in graph["crm.admin_cli"]
    assert len(graph) > 50


def test_imports_inside_functions_count():
    source = "def late():\n    from . import ops\n    from ..organizations.model import find_or_create\n"
    known = {"crm.fundraising.links", "crm.fundraising.ops", "crm.organizations.model"}
    found = imports_of("crm.fundraising.links", CRM / "fundraising" / "links.py", ast.parse(source), known)
    assert found == {"crm.fundraising.ops", "crm.organizations.model"}


def find_cycle(graph: dict):
    """One import cycle as a list of modules (first == last), or None."""
    state = {}  # module -> "open" while on the DFS path, "done" after

    def visit(module, path):
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target, path)
                if cycle:
                    return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [])
            if cycle:
                return cycle
    return None


def test_no_import_cycles(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_reports_the_path():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def feature_of(module: str):
    """'crm.contacts.handlers' -> 'contacts'; None for a top-level module such as crm.records."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def test_handlers_are_imported_only_by_the_route_table(graph):
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in graph.items() if module not in HANDLER_IMPORTERS
                   for target in targets
                   if target.endswith(".handlers") and feature_of(target) != feature_of(module))
    assert not wrong, "import the owning package's domain module instead:\n" + "\n".join(wrong)


def test_the_classic_crm_never_imports_the_grid(graph):
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in graph.items() if feature_of(module) in CLASSIC
                   for target in targets if target == "crm.fundraising" or target.startswith("crm.fundraising."))
    assert not wrong, "register a listener in crm.hooks instead:\n" + "\n".join(wrong)


def test_shared_helpers_import_neither_features_nor_http(graph):
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in graph.items() if module in {f"crm.{name}" for name in SHARED}
                   for target in targets if feature_of(target) not in (None, "db") or target == "crm.http")
    assert not wrong, "what both sides need belongs in a shared module (crm.results, crm.hooks...):\n" + "\n".join(wrong)
