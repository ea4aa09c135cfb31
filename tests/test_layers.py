"""The layers hold: the web app reaches the indexer only through indexer.service (with its settings and
errors), its own modules import no circle, and the indexer never imports the web side.

Read from the source with ast (every import, also those inside functions, and
importlib.import_module with a literal name), so that an import added anywhere
is seen without importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

from indexer.config import PROJECT_ROOT

WEBAPP = PROJECT_ROOT / "webapp"
INDEXER = PROJECT_ROOT / "indexer"

# What of indexer the web app may import, and why.
WEBAPP_MAY_IMPORT = {
    "indexer.service": "the one object the web app asks for everything, and the dataclasses and vocabularies "
                       "(sorts, facets, kinds, languages, programmes) of its answers",
    "indexer.config": "the settings: `python -m webapp` reads config.toml through it, and every part takes them",
    "indexer.errors": "the errors the service raises, which the web app turns into 400, 404 and 503 answers",
}
# Libraries the web app never touches: they live behind the facade (indexer.engine).
WEBAPP_NEVER_IMPORTS = ("whoosh", "jieba", "pypdf")
# The indexer is a library with a command line: it knows nothing of a web front end.
INDEXER_NEVER_IMPORTS = ("flask", "werkzeug", "jinja2", "webapp")


def module_name(path: Path) -> str:
    """The dotted name of the module in PATH ("webapp" for webapp/__init__.py)."""
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module the file PATH imports, by its full dotted name."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool = False) -> set[str]:
    """Every module SOURCE (the module NAME) imports: `from . import x` names the submodule x if there
    is one, else the package; `from a import b` names a.b if a/b is a module, else a."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if is_module(submodule) else base)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def is_module(dotted: str) -> bool:
    """Whether DOTTED names a module or package of this project."""
    path = PROJECT_ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


PROBE = """
from indexer.service import ArchiveService
from indexer import errors, __version__
from . import site, create_app
from .links import link_url
import whoosh.query


def later():
    import importlib
    importlib.import_module("indexer.watch")
"""


def test_the_import_reader_sees_every_kind_of_import():
    """The checks below are only as good as imports_in: it must see each form of import."""
    assert imports_in(PROBE, "webapp.probe") == {
        "indexer.service", "indexer.errors", "indexer", "webapp.site", "webapp", "webapp.links", "whoosh.query",
        "importlib", "indexer.watch"}
    # In a package's __init__, "." is the package itself.
    assert imports_in("from . import site", "webapp", is_package=True) == {"webapp.site"}


def test_webapp_imports_of_indexer_only_the_facade_config_and_errors():
    offending = {}
    for path in python_files(WEBAPP):
        for imported in imports_of(path):
            top = imported.split(".")[0]
            if top == "indexer" and imported not in WEBAPP_MAY_IMPORT or top in WEBAPP_NEVER_IMPORTS:
                offending.setdefault(module_name(path), set()).add(imported)
    assert offending == {}


def test_webapp_modules_import_no_circle():
    graph = {module_name(path): {m for m in imports_of(path) if m.split(".")[0] == "webapp"}
             for path in python_files(WEBAPP)}
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_indexer_imports_no_web_framework_and_not_the_webapp():
    offending = {module_name(path): sorted(m for m in imports_of(path) if m.split(".")[0] in INDEXER_NEVER_IMPORTS)
                 for path in python_files(INDEXER)}
    assert {name: found for name, found in offending.items() if found} == {}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles of GRAPH (module -> modules it imports), at least one if there is any,
    each as a path back to its start."""
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            circle = path[path.index(node):] + [node]
            # One rotation per circle: the one starting at its smallest name.
            start = circle.index(min(circle[:-1]))
            rotated = circle[start:-1] + circle[:start] + [circle[start]]
            if rotated not in found:
                found.append(rotated)
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, path + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found
