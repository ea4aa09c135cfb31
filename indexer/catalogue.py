"""Read and validate the catalogue of documents (archive/catalogue.toml)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .cleaning import clean_metadata
from .errors import CatalogueError
from .extract import FORMATS as FILE_FORMATS

KINDS = (
    "memorandum of understanding",
    "addendum",
    "joint statement",
    "joint declaration",
    "joint conclusions",
    "high-level seminar",
    "study",
    "training report",
    "programme report",
    "document",            # a file added without a catalogue entry
)
PROGRAMMES = ("CETREGIO", "World Cities", "International Urban Cooperation")
LANGUAGES = {"en": "English", "zh": "中文"}

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class CatalogueFile:
    """One language version of a document."""

    lang: str
    file: str
    format: str = "pdf"


@dataclass(frozen=True)
class CatalogueEntry:
    """One document of the collection with its metadata and files."""

    id: str
    title: str
    kind: str
    title_zh: str = ""
    date: str = ""
    event: str = ""
    place: str = ""
    programme: str = ""
    summary: str = ""
    files: tuple[CatalogueFile, ...] = ()
    catalogued: bool = True   # False for files found in the archive without an entry

    @property
    def year(self) -> str:
        return self.date[:4]

    @property
    def languages(self) -> list[str]:
        return sorted({f.lang for f in self.files})

    def fingerprint(self) -> str:
        """Hash of the metadata; a change means the index copy is stale."""
        # Memoised: an update asks twice per document, and asdict() deep-copies
        # the entry each time. The entry is frozen, so the value cannot go stale.
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            blob = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
            cached = hashlib.sha256(blob.encode()).hexdigest()[:16]
            object.__setattr__(self, "_fingerprint", cached)
        return cached


def _text(entry: dict, key: str, where: str, required: bool = False, form: str = "NFKC") -> str:
    """The text field KEY of ENTRY, normalised to FORM (NFKC folds full-width letters; file names take NFC)."""
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise CatalogueError(f"{where}: field {key!r} must be text, not {value!r}")
    value = unicodedata.normalize(form, value).strip()
    if required and not value:
        raise CatalogueError(f"{where}: field {key!r} is missing")
    return value


def parse_entry(raw: dict, where: str) -> CatalogueEntry:
    """Validate one [[document]] table."""
    doc_id = _text(raw, "id", where, required=True)
    if not SLUG.match(doc_id):
        raise CatalogueError(f"{where}: id {doc_id!r} must be lower-case letters, digits and hyphens")
    where = f"{where} ({doc_id})"
    kind = _text(raw, "kind", where, required=True)
    if kind not in KINDS:
        raise CatalogueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    date = _text(raw, "date", where)
    if date and not ISO_DATE.match(date):
        raise CatalogueError(f"{where}: date {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    programme = _text(raw, "programme", where)
    if programme and programme not in PROGRAMMES:
        raise CatalogueError(f"{where}: programme {programme!r} is not one of {', '.join(PROGRAMMES)}")
    files = []
    for n, f in enumerate(raw.get("files", []), start=1):
        fwhere = f"{where} file {n}"
        if not isinstance(f, dict):
            raise CatalogueError(f"{fwhere}: must be a table")
        lang = _text(f, "lang", fwhere, required=True)
        if lang not in LANGUAGES:
            raise CatalogueError(f"{fwhere}: lang {lang!r} is not one of {', '.join(LANGUAGES)}")
        # A file name is kept as written (NFC, as uploads store it on disk): NFKC would turn
        # "报告（2013）.pdf" into "报告(2013).pdf", a name no file has.
        name = _text(f, "file", fwhere, required=True, form="NFC")
        if "/" in name or "\\" in name or name.startswith("."):
            raise CatalogueError(f"{fwhere}: file {name!r} must be a plain file name inside the archive")
        fmt = _text(f, "format", fwhere) or Path(name).suffix.lstrip(".").lower()
        if fmt not in FILE_FORMATS:
            raise CatalogueError(f"{fwhere}: format {fmt!r} is not one of {', '.join(FILE_FORMATS)}")
        files.append(CatalogueFile(lang, name, fmt))
    known = {"id", "title", "title_zh", "date", "kind", "event", "place", "programme", "summary", "files"}
    unknown = set(raw) - known
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    # Free text reaches pages, the feed and CSV: no control characters, nothing XML forbids, no bidi overrides.
    return CatalogueEntry(
        id=doc_id,
        title=clean_metadata(_text(raw, "title", where, required=True)),
        kind=kind,
        title_zh=clean_metadata(_text(raw, "title_zh", where)),
        date=date,
        event=clean_metadata(_text(raw, "event", where)),
        place=clean_metadata(_text(raw, "place", where)),
        programme=programme,
        summary=clean_metadata(_text(raw, "summary", where)),
        files=tuple(files),
    )


@dataclass
class Catalogue:
    """All entries, by id, and which entry each archive file belongs to."""

    entries: dict[str, CatalogueEntry] = field(default_factory=dict)

    def by_file(self) -> dict[str, tuple[CatalogueEntry, CatalogueFile]]:
        return {f.file: (e, f) for e in self.entries.values() for f in e.files}


# The last catalogue read, by path and content hash: the watcher updates again
# and again in one process, and parsing the catalogue costs far more than
# hashing its bytes.
_parsed: dict[str, tuple[str, "Catalogue"]] = {}


def load_catalogue(path: Path) -> Catalogue:
    """Read PATH; a missing file is an empty catalogue, a malformed one an error."""
    if not Path(path).exists():
        return Catalogue()
    raw = Path(path).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    key = str(Path(path).resolve())
    hit = _parsed.get(key)
    if hit is not None and hit[0] == digest:
        # A copy of the dict: callers may add to it; the entries are frozen.
        return Catalogue(entries=dict(hit[1].entries))
    catalogue = _parse_catalogue(path, raw)
    _parsed.clear()                      # one catalogue per process is the common case
    _parsed[key] = (digest, catalogue)
    return Catalogue(entries=dict(catalogue.entries))


def _parse_catalogue(path: Path, raw: bytes) -> Catalogue:
    try:
        # Universal newlines, as Path.read_text() would read them.
        data = tomllib.loads(raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    catalogue = Catalogue()
    seen_files: dict[str, str] = {}
    for n, raw in enumerate(data.get("document", []), start=1):
        entry = parse_entry(raw, f"{Path(path).name}: document {n}")
        if entry.id in catalogue.entries:
            raise CatalogueError(f"{Path(path).name}: document {n}: id {entry.id!r} is used twice")
        for f in entry.files:
            if f.file in seen_files:
                raise CatalogueError(
                    f"{Path(path).name}: file {f.file!r} belongs to both {seen_files[f.file]!r} and {entry.id!r}")
            seen_files[f.file] = entry.id
        catalogue.entries[entry.id] = entry
    return catalogue


def slugify(name: str) -> str:
    """A catalogue id made from a file name (for files without an entry)."""
    stem = unicodedata.normalize("NFKC", Path(name).stem).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:80]
    if not slug:
        slug = "file-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return slug


def toml_string(value: str) -> str:
    """VALUE as a TOML basic string."""
    return json.dumps(value, ensure_ascii=False)


def entry_to_toml(entry: CatalogueEntry) -> str:
    """Render ENTRY as a [[document]] block (used when appending uploads)."""
    lines = ["", "[[document]]"]
    for key in ("id", "title", "title_zh", "date", "kind", "event", "place", "programme", "summary"):
        value = getattr(entry, key)
        if value:
            lines.append(f"{key} = {toml_string(value)}")
    for f in entry.files:
        lines += ["", "[[document.files]]", f"lang = {toml_string(f.lang)}",
                  f"file = {toml_string(f.file)}", f"format = {toml_string(f.format)}"]
    return "\n".join(lines) + "\n"
