"""The engine's contract with whoosh-reloaded and jieba (indexer/engine/contract.py), and the boundary around it.

Run first after upgrading either library: it names what the engine relies on
that the libraries do not promise (private names, byte layouts, pickled
import paths) and opens an index committed by today's code.
"""

from __future__ import annotations

import ast
import importlib
import io
import pickletools
import re
import shutil
import struct
import tomllib
import warnings
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import pytest

from conftest import make_settings, write_pdf
from indexer.config import PROJECT_ROOT
from indexer.engine import contract
from indexer.engine.stamp import current_stamp, read_stamp, stamp_difference
from indexer.engine.storage import INDEX_NAME

LIBRARIES = ("whoosh", "jieba")
ENGINE = PROJECT_ROOT / "indexer" / "engine"
FIXTURE = Path(__file__).parent / "data" / "index-fixture"


# --- the pinned versions ------------------------------------------------------------


def pinned_versions() -> dict[str, str]:
    """The exact versions pyproject.toml pins, by distribution name."""
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return dict(d.split("==") for d in dependencies if "==" in d)


def test_the_installed_whoosh_and_jieba_are_the_pinned_versions():
    pinned = pinned_versions()
    assert pinned["whoosh-reloaded"] == "2.7.5" and pinned["jieba"] == "0.42.1", (
        "a new pin: run this file, update indexer/engine/contract.py and the committed index fixture")
    for name in ("whoosh-reloaded", "jieba"):
        assert version(name) == pinned[name], f"{name} {version(name)} is installed, pyproject.toml pins {pinned[name]}"


def test_the_stamp_names_the_installed_libraries():
    stamp = current_stamp()
    assert stamp["whoosh"] == version("whoosh-reloaded") and stamp["jieba"] == version("jieba")


# --- private names ------------------------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _mangled(name: str, classname: str) -> str:
    """NAME as Python stores it when written inside class CLASSNAME (__x becomes _Class__x)."""
    if name.startswith("__") and not name.endswith("__"):
        return f"_{classname.lstrip('_')}{name}"
    return name


def _defined_names(node) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _module_files(package: str) -> list[tuple[str, Path]]:
    """(module name, file) of every module of an installed PACKAGE."""
    root = Path(importlib.import_module(package).__file__).parent
    out = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join((package, *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        out.append((module, path))
    return out


def _parse(path: Path) -> ast.AST:
    """PATH's syntax tree (the libraries' old escape sequences warn, and warnings fail the tests)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"))


def _definitions(files) -> dict[str, set[str]]:
    """Every underscore name FILES define, with where: "module" for module names, "module.Class" for
    a class's methods and attributes and for what its methods set on self."""
    defs: dict[str, set[str]] = defaultdict(set)
    for module, path in files:
        tree = _parse(path)
        for node in tree.body:
            for name in _defined_names(node):
                defs[name].add(module)
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            where = f"{module}.{cls.name}"
            for node in cls.body:
                for name in _defined_names(node):
                    defs[_mangled(name, cls.name)].add(where)
            for node in ast.walk(cls):
                if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                        and isinstance(node.value, ast.Name) and node.value.id == "self"):
                    defs[_mangled(node.attr, cls.name)].add(where)
    return {name: places for name, places in defs.items() if _private(name)}


_LIBRARY_DEFINITIONS: dict[str, set[str]] = {}


def library_definitions() -> dict[str, set[str]]:
    """Every underscore name whoosh and jieba define (from their installed sources), with where."""
    if not _LIBRARY_DEFINITIONS:
        _LIBRARY_DEFINITIONS.update(_definitions([f for lib in LIBRARIES for f in _module_files(lib)]))
    return _LIBRARY_DEFINITIONS


def _resolve_class(expr: ast.expr, module) -> type | None:
    """The class a base-class expression of MODULE names (a library's module imported when named)."""
    parts = ast.unparse(expr).split(".")
    obj = vars(module).get(parts[0])
    if obj is None and parts[0] in LIBRARIES:
        obj = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def _library_ancestors(classdef: ast.ClassDef, module) -> set[str]:
    """"module.Class" of every library class CLASSDEF inherits from."""
    out = set()
    for base in classdef.bases:
        cls = _resolve_class(base, module)
        for c in cls.__mro__ if cls else ():
            if c.__module__.split(".")[0] in LIBRARIES:
                out.add(f"{c.__module__}.{c.__qualname__}")
    return out


def _is_self(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id in ("self", "cls")) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super")


def engine_private_uses() -> dict[str, list[str]]:
    """Private names of whoosh or jieba the engine uses, with "file:line" of each use.

    A use is: an underscore attribute of an object (obj._x, getattr(obj, "_x")),
    a method of a class derived from a library class overriding a library's
    private one, or an underscore name imported from a library. On self (or
    super()) it counts only when a library ancestor of the class defines the
    name (else it is the class's own); on any other object, when the libraries
    define the name anywhere (the object's type is not known to a parser).
    """
    defs = library_definitions()
    uses: dict[str, list[str]] = defaultdict(list)

    def visit(node, module, ancestors: set[str] | None, where: str):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, module, _library_ancestors(child, module), where)
                continue
            name, on_self = None, False
            if isinstance(child, ast.Attribute) and _private(child.attr):
                name, on_self = child.attr, _is_self(child.value)
            elif (isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(node, ast.ClassDef)
                  and _private(child.name)):
                name, on_self = child.name, True
            elif isinstance(child, ast.ImportFrom) and (child.module or "").split(".")[0] in LIBRARIES:
                for alias in child.names:
                    if _private(alias.name):
                        uses[alias.name].append(f"{where}:{child.lineno}")
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
                  and child.func.id in ("getattr", "hasattr", "setattr") and len(child.args) >= 2
                  and isinstance(child.args[1], ast.Constant) and isinstance(child.args[1].value, str)
                  and _private(child.args[1].value)):
                name, on_self = child.args[1].value, _is_self(child.args[0])
            if name in defs and (not on_self or (ancestors and defs[name] & ancestors)):
                uses[name].append(f"{where}:{child.lineno}")
            visit(child, module, ancestors, where)

    for path in sorted(ENGINE.glob("*.py")):
        module = importlib.import_module(f"indexer.engine.{path.stem}")
        visit(_parse(path), module, None, path.name)
    return uses


def _has_attribute(cls: type, name: str) -> bool:
    """Whether CLS (or a class it inherits from) has NAME, or sets it on its instances in its source."""
    if hasattr(cls, name):
        return True
    defs = library_definitions().get(name, set())
    return any(f"{c.__module__}.{c.__qualname__}" in defs for c in cls.__mro__)


@pytest.mark.parametrize("module, obj, name", contract.PRIVATE_NAMES,
                         ids=[f"{o}.{n}" for _m, o, n in contract.PRIVATE_NAMES])
def test_each_private_name_the_engine_relies_on_exists(module, obj, name):
    target = importlib.import_module(module)
    for part in obj.split("."):
        target = getattr(target, part)
    assert _has_attribute(target, name), f"{module}.{obj} has no {name} in the installed library"


def test_the_engine_uses_no_private_name_that_is_not_listed():
    uses = engine_private_uses()
    listed = {name for _module, _obj, name in contract.PRIVATE_NAMES}
    unlisted = {name: places for name, places in uses.items() if name not in listed}
    assert not unlisted, f"private names of whoosh/jieba used but not in indexer/engine/contract.py: {unlisted}"
    unused = listed - set(uses)
    assert not unused, f"listed in indexer/engine/contract.py but no longer used by the engine: {sorted(unused)}"


def test_the_scan_finds_the_name_mangled_jieba_method_and_instance_attributes():
    """The scan itself: an override of a mangled method, and attributes Whoosh sets in __init__, are found."""
    uses = engine_private_uses()
    assert "_Tokenizer__cut_DAG" in uses
    assert "_idf_cache" in uses and "_terminfo" in uses
    # The engine's own attributes on its own classes are not the libraries'.
    assert "_ends" not in uses and "_chunks_start" not in uses


# --- layouts copied from Whoosh ----------------------------------------------------------


def _lookup(module: str, path: str):
    obj = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("ours_module, ours, theirs_module, theirs", contract.COPIED_CONSTANTS,
                         ids=[c[1] for c in contract.COPIED_CONSTANTS])
def test_each_layout_the_codec_copies_is_the_librarys(ours_module, ours, theirs_module, theirs):
    mine, library = _lookup(ours_module, ours), _lookup(theirs_module, theirs)
    if isinstance(library, struct.Struct):
        assert isinstance(mine, struct.Struct) and mine.format == library.format, (
            f"{ours} is {mine.format!r}, {theirs_module}.{theirs} is {library.format!r}: bump CODEC_VERSION "
            "if the codec's bytes must change")
    else:
        assert mine == library


def test_the_hash_type_and_length_columns_the_codec_names_are_whooshs():
    from whoosh.codec import whoosh3
    from whoosh.filedb import filetables

    from indexer.engine import codec

    # The term table's header names hash type _CRC32_HASH; Whoosh's reader picks its function by it.
    assert filetables._hash_functions[codec._CRC32_HASH] is filetables.crc_hash
    # reading.field_length_list reads the lengths column by the name W3PerDocReader gives it.
    assert whoosh3._lenfield("body") == "_body_len"
    assert 'f"_{fieldname}_len"' in (ENGINE / "reading.py").read_text(encoding="utf-8")


# --- import paths pickled into an index ------------------------------------------------------


def _pickle_globals(data: bytes) -> set[str]:
    """"module.name" of every class or function a pickle refers to (GLOBAL and STACK_GLOBAL)."""
    found, strings, memo = set(), [], {}
    for op, arg, _pos in pickletools.genops(io.BytesIO(data)):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            found.add(f"{strings[-2]}.{strings[-1]}")
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            strings.append(arg)
        elif op.name == "MEMOIZE":
            memo[len(memo)] = strings[-1] if strings else None
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = strings[-1] if strings else None
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            strings.append(memo.get(arg))
        if op.name == "STOP":
            break
    return found


def _toc_pickles(folder: Path) -> list[bytes]:
    """The pickled schema and segment list of the latest table of contents in FOLDER (as TOC.read reads them)."""
    from whoosh.filedb.structfile import StructFile

    tocs = sorted(folder.glob(f"_{INDEX_NAME}_*.toc"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    with open(tocs[-1], "rb") as fh:
        stream = StructFile(fh)
        for _ in range(3):
            stream.read_varint()       # int, long and float sizes
        stream.read_int()              # -12345, the byte order check
        stream.read_int()              # the TOC format version
        for _ in range(3):
            stream.read_varint()       # the Whoosh release that wrote it
        schema = stream.read_string()
        stream.read_int()              # generation
        stream.read_int()              # unused
        segments = stream.read()
    return [schema, segments]


def _project_globals(folder: Path) -> set[str]:
    """The project's classes pickled into the index in FOLDER: its table of contents, and any pickle in its segment files."""
    found = set()
    for data in _toc_pickles(folder):
        found |= _pickle_globals(data)
    # Segment files hold pickles among other bytes: each place that starts like one is tried.
    for path in folder.glob(f"{INDEX_NAME}_*.seg"):
        data = path.read_bytes()
        for start in (m.start() for m in re.finditer(rb"\x80[\x02-\x05]", data)):
            try:
                found |= _pickle_globals(data[start:])
            except Exception:
                continue
    return {g for g in found if g.split(".")[0] in ("indexer", "webapp")}


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    """A small index built by update() from an English and a Chinese PDF."""
    from indexer.build import update
    from indexer.generations import current_generation

    root = tmp_path_factory.mktemp("contract")
    settings = make_settings(root)
    write_pdf(Path(settings.archive_dir) / "a.en.pdf", ["Regional policy cooperation in Dublin."])
    write_pdf(Path(settings.archive_dir) / "a.zh.pdf", ["区域政策合作交流。"])
    update(settings)
    return current_generation(settings.index_dir)


def test_the_classes_pickled_into_an_index_are_importable_and_listed(small_index):
    found = _project_globals(small_index)
    for path in sorted(found):
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"{path} is pickled into indexes but cannot be imported"
    assert found == contract.PICKLED_CLASSES, (
        "the project's classes pickled into an index changed "
        f"(new: {sorted(found - contract.PICKLED_CLASSES)}, gone: {sorted(contract.PICKLED_CLASSES - found)}): "
        "moving a pickled class needs a codec/schema version bump (CODEC_VERSION, SCHEMA_VERSION), "
        "then update PICKLED_CLASSES in indexer/engine/contract.py")


# --- an index committed by earlier code -------------------------------------------------------


@pytest.fixture
def committed_index(tmp_path):
    """Settings over a copy of tests/data/index-fixture (made by tests/data/make_index_fixture.py)."""
    settings = make_settings(tmp_path)
    shutil.copytree(FIXTURE, settings.index_dir, symlinks=True)
    return settings


def test_the_committed_index_carries_todays_stamp(committed_index):
    from indexer.generations import current_generation

    stamp = read_stamp(current_generation(committed_index.index_dir))
    assert stamp == current_stamp(), (
        f"tests/data/index-fixture was made by other code ({stamp_difference(stamp)}): after a deliberate "
        "version bump, regenerate it with: python tests/data/make_index_fixture.py")


@pytest.mark.parametrize("query, expected", [
    ("cohesion", {"fixture-mou"}),
    ("Chengdu urbanisation", {"fixture-study"}),
    ("城镇化", {"fixture-mou"}),
    ("区域政策", {"fixture-mou"}),
    ("Atlantis", set()),
])
def test_the_committed_index_opens_and_answers_searches(committed_index, query, expected):
    from indexer.readers import open_searcher
    from indexer.search import search

    with open_searcher(committed_index.index_dir) as s:
        result = search(s, query, committed_index, expand=False)
    assert {h.doc_id for h in result.hits} == expected


# --- the boundary around the engine ------------------------------------------------------------


ENGINE_ONLY_MODULES = ("whoosh.codec", "whoosh.writing", "whoosh.filedb", "whoosh.matching")


def _project_files() -> list[Path]:
    """The modules of indexer/ outside the engine, and of webapp/."""
    files = [p for p in sorted((PROJECT_ROOT / "indexer").rglob("*.py")) if ENGINE not in p.parents]
    return files + sorted((PROJECT_ROOT / "webapp").rglob("*.py"))


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.lineno, node.module))
            # "from whoosh import codec" imports the module whoosh.codec.
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def test_no_module_outside_the_engine_imports_whooshs_internals():
    offending = []
    for path in _project_files():
        for line, module in _imported_modules(_parse(path)):
            if any(module == m or module.startswith(m + ".") for m in ENGINE_ONLY_MODULES):
                offending.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}")
    assert not offending, "only indexer/engine/ may import these:\n" + "\n".join(offending)


def project_private_names() -> set[str]:
    """Every underscore name the project defines (indexer/, webapp/, bench/, tests/)."""
    files = []
    for folder in ("indexer", "webapp", "bench", "tests"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            files.append((".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts), path))
    names = set(_definitions(files))
    # Attributes set on objects other than self (obj._x = ...) are the project's too.
    for _module, path in files:
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _private(node.attr):
                names.add(node.attr)
    return names


def test_no_module_outside_the_engine_touches_a_private_name_of_whoosh_or_jieba():
    """No x._name outside the engine where x is not self/cls and _name is a name of whoosh or jieba,
    not one the project defines too (the object's type is not known to a parser)."""
    own, library = project_private_names(), library_definitions()
    offending = []
    for path in _project_files():
        for node in ast.walk(_parse(path)):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and not _is_self(node.value)
                    and node.attr in library and node.attr not in own):
                offending.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {ast.unparse(node)}")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
                offending += [f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} imports {alias.name}"
                              for alias in node.names if _private(alias.name)]
    assert not offending, "private names of whoosh/jieba used outside indexer/engine/:\n" + "\n".join(offending)
