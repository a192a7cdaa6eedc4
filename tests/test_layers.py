"""The apps' import graph: written once here, checked on every run.

Every import of every module counts, function-level imports included. An app may import
only apps in its own or an earlier layer; ``trial`` (the study's ground floor) and ``crf``
(the core: form catalogue, write path, locks, edit checks, outbox) import no feature app.
There is no exception list.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An app may import itself and any app before it, never one after it.
LAYERS = (
    "trial",  # the study's configuration, clock, pure rules shared by all
    "crf",  # the core every door uses: catalogue, write path, locks, queries, outbox
    "notifications",  # messages to people, raised by the core and the features
    "patients",  # screening, enrollment, treatment, follow-up
    "assessments",  # visits, labs, doses, adverse events, responses, the report
    "queries",  # the query pages and their services
    "audit",  # the trail's pages, hash chain and database roles
    "accounts",  # sign-in, tokens, two-factor
    "review",  # SDV, signatures, locks as pages
    "exports",  # casebook, form CRFs, CSV and ODM
    "api",  # the REST API and the import
)
GROUND = {"trial", "crf"}  # import only Django and each other (trial never crf)
PROJECT = set(LAYERS) | {"config", "bench", "tests", "scripts"}


def _modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            yield app, path  # migrations too: their imports count like any other


def _imported_apps(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: inside the same app
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT:
                found.add((top, node.lineno))
    return found


def _graph():
    edges = {}
    for app, path in _modules():
        for other, line in _imported_apps(path):
            if other != app:
                edges.setdefault((app, other), []).append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def test_every_app_is_in_one_layer():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps == set(LAYERS), f"apps without a layer or layers without an app: {apps ^ set(LAYERS)}"


def test_no_app_imports_a_later_layer():
    rank = {app: i for i, app in enumerate(LAYERS)}
    upward = []
    for (app, other), where in sorted(_graph().items()):
        if other not in rank:
            upward.append(f"{app} imports {other} (not an app: tests, config, bench) at {where[0]}")
        elif rank[other] > rank[app]:
            upward.append(f"{app} imports {other}, a later layer, at {', '.join(where[:3])}")
    assert not upward, "\n".join(upward)


def test_ground_floor_imports_only_django_and_itself():
    wrong = [
        f"{app} imports {other} at {where[0]}"
        for (app, other), where in sorted(_graph().items())
        if app in GROUND and other not in GROUND
    ]
    wrong += [f"trial imports crf at {w[0]}" for (a, o), w in _graph().items() if (a, o) == ("trial", "crf")]
    assert not wrong, "\n".join(wrong)


def test_the_import_graph_has_no_cycle():
    graph = {}
    for app, other in _graph():
        graph.setdefault(app, set()).add(other)
    seen, on_path = set(), []

    def visit(node):
        if node in on_path:
            cycle = [*on_path[on_path.index(node) :], node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in seen:
            return
        on_path.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        on_path.pop()
        seen.add(node)

    for app in LAYERS:
        visit(app)


def test_the_checker_sees_function_level_imports(tmp_path):
    # The guard must not be blind to an import hidden in a function body.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from review import services\n    import api.resources\n")
    assert {app for app, _ in _imported_apps(module)} == {"review", "api"}
