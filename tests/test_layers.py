"""The house rules of docs/LAYERS.md, read from the source: every import counts, including
those inside functions, so a cycle cannot hide in one."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("libraries", "courses")
PACKAGES = (*APPS, "training_site", "api")

# Capability sub-packages and the shared layers, lowest first. A unit imports only units of a
# lower rank (or itself). The models are the bottom of each app; libraries never reach courses.
RANKS = {
    "training_site.shared": 0,
    "libraries.models": 1,
    "courses.models": 1,
    "libraries.access": 2,
    "libraries.network": 3,
    "libraries.catalog": 4,
    # OAI-PMH harvesting: on the catalog, beside circulation (neither imports the other).
    "libraries.harvest": 5,
    "libraries.circulation": 5,
    "libraries.stocktake": 6,
    # E-books: lending reuses the circulation rules and holds; beside stocktake, not above it.
    "libraries.digital": 6,
    "courses.h5p": 7,
    "courses.training": 8,
    "courses.xapi": 9,
    "courses.classes": 10,
    "courses.dashboards": 11,
    # The mobile API (api/v1/): on top, it calls every app's services and selectors.
    "api.v1": 12,
}
# Entry points: wired by Django or Wagtail, imported by nothing of ours but URL lists.
ENTRY_POINTS = {
    "management",
    "templatetags",
    "urls",
    "wagtail_hooks",
    "apps",
    "settings",
    "wsgi",
    "asgi",
    "middleware",
    "views",
    "allauth_messages",
    # /healthz and the request logs (training_site): wired by URLs, settings and middleware.
    "health",
    "observability",
    # The installable app's manifest, service worker and offline page: wired by URLs.
    "pwa",
    # Uploaded files on object storage (training_site): wired by the production settings.
    "object_storage",
}
# Shared modules of the core app (what every app may use), as opposed to its entry points.
SHARED = {
    "text",
    "fonts",
    "spreadsheets",
    "archives",
    "sanitize",
    "throttle",
    "models",
    "forms",
    "accounts",
    # Reads of dashboards and reports on the read replica (`use_replica`).
    "db_router",
}


def modules():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imports_of(name: str, path: Path) -> set[str]:
    """Every project module `path` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if is_module(candidate) else base)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def unit(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "training_site":
        if len(parts) == 1 or parts[1] in SHARED:
            return "training_site.shared"
        return f"training_site.{parts[1]}"
    return ".".join(parts[:2])


def is_entry_point(unit_name: str) -> bool:
    parts = unit_name.split(".")
    return len(parts) == 1 or (unit_name not in RANKS and parts[-1] in ENTRY_POINTS)


GRAPH = {}
for _name, _path in modules():
    GRAPH.setdefault(unit(_name), set()).update(
        unit(target) for target in imports_of(_name, _path) if unit(target) != unit(_name)
    )


def test_every_unit_has_a_rank_or_is_an_entry_point():
    unknown = sorted(u for u in GRAPH if u not in RANKS and not is_entry_point(u))
    assert unknown == []


@pytest.mark.parametrize("source", sorted(u for u in GRAPH if u in RANKS))
def test_layers_point_one_way(source):
    upward = sorted(
        target
        for target in GRAPH[source]
        if is_entry_point(target) or RANKS.get(target, 99) >= RANKS[source]
    )
    assert upward == [], f"{source} imports a unit above or beside it"


def test_no_import_cycle_between_units():
    """Tarjan's strongly connected components over the unit graph: all of size one."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert cycles == []


def test_models_import_only_models_and_shared_text():
    for name, path in modules():
        if unit(name) in ("libraries.models", "courses.models"):
            others = {
                target
                for target in imports_of(name, path)
                if unit(target) not in ("libraries.models", "courses.models")
            }
            assert others <= {"training_site.text"}, name


@pytest.mark.parametrize("app", APPS)
def test_app_folders_keep_at_most_six_plain_modules(app):
    plain = sorted(p.name for p in (ROOT / app).glob("*.py"))
    assert len(plain) <= 6, plain
