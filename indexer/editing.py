"""The administrator's everyday changes to the archive: remove a document (to the trash, with undo) and
correct its catalogue fields.

Nothing is ever deleted outright. A removed document's files move into the
archive's hidden `.trash/` folder (hidden folders are never indexed), one folder
per removal holding the files and a `removal.json` that says what they were and
the document's catalogue entry as it was; restoring moves the files back and
puts the entry back in the catalogue.

The catalogue is rewritten atomically (indexer.ledger.atomic_write_text), and
the version it replaces is kept first in the hidden `.catalogue-versions/`
folder beside it (the newest CATALOGUE_VERSIONS_KEPT). A rewrite changes one
entry's block only, and is checked by reading it back: every other entry must
be as it was. These changes share the uploads' lock, so an upload and a removal
cannot lose each other's catalogue change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from . import ledger
from .catalogue import Catalogue, CatalogueEntry, entry_to_toml, load_catalogue, parse_entry
from .config import Settings
from .engine.reading import stored_records_data
from .engine.schema import RECORD_FILE
from .errors import CatalogueError, IndexMissingError, UploadError
from .ingest import UPLOADS, check_date, upload_lock
from .readers import open_searcher

TRASH = ".trash"
MANIFEST = "removal.json"
VERSIONS = ".catalogue-versions"
CATALOGUE_VERSIONS_KEPT = 50
# The catalogue fields the edit form changes (files and id are not edited there).
EDITABLE_FIELDS = ("title", "title_zh", "date", "kind", "programme", "event", "place", "summary")
_ENTRY_HEADER = re.compile(r"^\s*\[\[\s*document\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True)
class TrashItem:
    """One removal kept in the trash: what it removed and when."""

    name: str                   # the folder's name in the trash
    doc_id: str
    title: str
    files: tuple[str, ...]
    removed_at: str


def trash_dir(settings: Settings) -> Path:
    """The archive's trash folder."""
    return Path(settings.archive_dir) / TRASH


# --- the catalogue text ------------------------------------------------------------------------


def _block_span(lines: list[str], position: int) -> tuple[int, int]:
    """(first, last) line of the POSITION-th [[document]] block, without the blank and comment lines after it
    (they introduce the next entry)."""
    headers = [i for i, line in enumerate(lines) if _ENTRY_HEADER.match(line)]
    if position >= len(headers):
        raise UploadError("The catalogue's layout is unusual: change this entry by hand.", "catalogue_layout")
    end = headers[position + 1] if position + 1 < len(headers) else len(lines)
    last = end - 1
    while last > headers[position] and (not lines[last].strip() or lines[last].lstrip().startswith("#")):
        last -= 1
    return headers[position], last


def catalogue_without_entry(text: str, position: int) -> tuple[str, str]:
    """(TEXT without its POSITION-th [[document]] block, the block removed)."""
    lines = text.splitlines(keepends=True)
    first, last = _block_span(lines, position)
    # The blank line before the block goes with it, so removals leave no growing gaps.
    if first > 0 and not lines[first - 1].strip():
        first -= 1
    return "".join(lines[:first] + lines[last + 1:]), "".join(lines[first:last + 1])


def catalogue_with_entry_replaced(text: str, position: int, entry: CatalogueEntry) -> str:
    """TEXT with its POSITION-th [[document]] block replaced by ENTRY's."""
    lines = text.splitlines(keepends=True)
    first, last = _block_span(lines, position)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    block = entry_to_toml(entry).lstrip("\n").replace("\n", newline)
    return "".join(lines[:first]) + block + "".join(lines[last + 1:])


def _check_rewrite(settings: Settings, new_text: str, wanted: dict[str, CatalogueEntry]) -> None:
    """Read NEW_TEXT back: its entries must be WANTED, in order, each as it should be."""
    check = Path(settings.archive_dir) / UPLOADS / f".check-{os.getpid()}.toml"
    check.parent.mkdir(exist_ok=True)
    try:
        check.write_text(new_text, encoding="utf-8", newline="")
        new = load_catalogue(check)
    except CatalogueError as exc:
        raise UploadError(f"The changed catalogue would not be valid: {exc}", "bad_field") from None
    finally:
        check.unlink(missing_ok=True)
    if list(new.entries) != list(wanted) or any(new.entries[k] != wanted[k] for k in wanted):
        raise UploadError("The catalogue's layout is unusual: change this entry by hand.", "catalogue_layout")


def write_catalogue(settings: Settings, new_text: str) -> Path | None:
    """Replace the catalogue with NEW_TEXT atomically, the previous version kept first; return where it was kept."""
    path = Path(settings.catalogue)
    kept = None
    if path.exists():
        versions = path.parent / VERSIONS
        versions.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        kept = versions / f"{path.stem}.{stamp}.{os.getpid()}{path.suffix}"
        shutil.copy2(path, kept)
        for old in sorted(versions.glob(f"{path.stem}.*{path.suffix}"))[:-CATALOGUE_VERSIONS_KEPT]:
            old.unlink(missing_ok=True)
    ledger.atomic_write_text(path, new_text)
    return kept


def _read_catalogue(settings: Settings) -> tuple[str, Catalogue]:
    path = Path(settings.catalogue)
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
        return text, load_catalogue(path)
    except (CatalogueError, UnicodeDecodeError) as exc:
        raise UploadError(f"The catalogue has an error; fix it first: {exc}", "catalogue_broken") from None


# --- editing an entry ------------------------------------------------------------------------


def edit_entry(settings: Settings, doc_id: str, values: dict[str, str]) -> CatalogueEntry:
    """Set DOC_ID's catalogue fields to VALUES (those of EDITABLE_FIELDS given); write the catalogue; return the entry."""
    uploads = Path(settings.archive_dir) / UPLOADS
    uploads.mkdir(parents=True, exist_ok=True)
    with upload_lock(uploads):
        text, catalogue = _read_catalogue(settings)
        entry = catalogue.entries.get(doc_id)
        if entry is None:
            raise UploadError(f"The document {doc_id} is not in the catalogue.", "unknown_document", doc_id=doc_id)
        raw = {k: getattr(entry, k) for k in EDITABLE_FIELDS}
        raw.update({k: v.strip() for k, v in values.items() if k in EDITABLE_FIELDS})
        raw = {k: v for k, v in raw.items() if v}
        if raw.get("date"):
            check_date(raw["date"])
        raw["id"] = entry.id
        raw["files"] = [dataclasses.asdict(f) for f in entry.files]
        try:
            edited = parse_entry(raw, "edit")
        except CatalogueError as exc:
            raise UploadError(str(exc).replace(f"edit ({doc_id}): ", ""), "bad_field") from None
        if edited == entry:
            return entry
        position = list(catalogue.entries).index(doc_id)
        new_text = catalogue_with_entry_replaced(text, position, edited)
        _check_rewrite(settings, new_text, dict(catalogue.entries, **{doc_id: edited}))
        write_catalogue(settings, new_text)
        return edited


# --- removing and restoring ------------------------------------------------------------------


def _indexed_files(settings: Settings, doc_id: str) -> list[str]:
    try:
        with open_searcher(settings.index_dir) as s:
            return sorted(d["path"] for d, _info in stored_records_data(s, RECORD_FILE) if d.get("doc_id") == doc_id)
    except IndexMissingError:
        return []


def remove_document(settings: Settings, doc_id: str) -> TrashItem:
    """Move DOC_ID's files to the trash and take its entry out of the catalogue; return the trash item."""
    archive = Path(settings.archive_dir)
    uploads = archive / UPLOADS
    uploads.mkdir(parents=True, exist_ok=True)
    with upload_lock(uploads):
        text, catalogue = _read_catalogue(settings)
        entry = catalogue.entries.get(doc_id)
        files = [f.file for f in entry.files] if entry else _indexed_files(settings, doc_id)
        files = [f for f in files if (archive / f).is_file()]
        if entry is None and not files:
            raise UploadError(f"There is no document {doc_id} to remove.", "unknown_document", doc_id=doc_id)
        removed_at = ledger.now_iso()
        item = trash_dir(settings) / f"{removed_at[:19].replace(':', '').replace('-', '')}-{doc_id}"
        n = 1
        while item.exists():
            n += 1
            item = item.with_name(f"{item.name.rsplit('~', 1)[0]}~{n}")
        item.mkdir(parents=True)
        new_text, block = "", ""
        if entry is not None:
            position = list(catalogue.entries).index(doc_id)
            new_text, block = catalogue_without_entry(text, position)
            _check_rewrite(settings, new_text, {k: v for k, v in catalogue.entries.items() if k != doc_id})
        manifest = {"doc_id": doc_id, "title": entry.title if entry else doc_id, "removed_at": removed_at,
                    "files": files, "catalogue_entry": block.strip("\r\n") + "\n" if block else ""}
        ledger.atomic_write_text(item / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        # The entry leaves the catalogue before its files leave the folder, so no update
        # in between sees a catalogued document without files, and the other way round
        # when restoring.
        if entry is not None:
            write_catalogue(settings, new_text)
        for name in files:
            os.replace(archive / name, item / name)
        return TrashItem(item.name, doc_id, manifest["title"], tuple(files), removed_at)


def trash_items(settings: Settings) -> list[TrashItem]:
    """The removals kept in the trash, newest first."""
    items = []
    folder = trash_dir(settings)
    if not folder.is_dir():
        return []
    for item in folder.iterdir():
        try:
            manifest = json.loads((item / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        items.append(TrashItem(item.name, manifest.get("doc_id", ""), manifest.get("title", ""),
                               tuple(manifest.get("files", [])), manifest.get("removed_at", "")))
    return sorted(items, key=lambda i: (i.removed_at, i.name), reverse=True)


def restore_document(settings: Settings, name: str) -> str:
    """Put the removal NAME back: its files into the archive, its entry into the catalogue; return the document id."""
    archive = Path(settings.archive_dir)
    # Only a name the trash lists: nothing the request made up reaches a path.
    if name not in {i.name for i in trash_items(settings)}:
        raise UploadError("There is no such removal in the trash.", "unknown_removal")
    item = trash_dir(settings) / name
    uploads = archive / UPLOADS
    uploads.mkdir(parents=True, exist_ok=True)
    with upload_lock(uploads):
        manifest = json.loads((item / MANIFEST).read_text(encoding="utf-8"))
        doc_id, files, block = manifest["doc_id"], manifest["files"], manifest.get("catalogue_entry", "")
        taken = [f for f in files if (archive / f).exists()]
        if taken:
            raise UploadError(f"A file named {taken[0]} is in the archive again: rename one of them first.",
                              "restore_taken", file=taken[0])
        text, catalogue = _read_catalogue(settings)
        if block:
            if doc_id in catalogue.entries:
                raise UploadError(f"The catalogue has a document {doc_id} again: change one of the ids first.",
                                  "restore_taken", file=doc_id)
            entry = parse_entry(_parse_block(block), "restore")
            new_text = _append_block(text, block)
            _check_rewrite(settings, new_text, dict(catalogue.entries, **{doc_id: entry}))
        for f in files:
            os.replace(item / f, archive / f)
        if block:
            write_catalogue(settings, new_text)
        shutil.rmtree(item)
        return doc_id


def _parse_block(block: str) -> dict:
    import tomllib

    return tomllib.loads(block)["document"][0]


def _append_block(text: str, block: str) -> str:
    """TEXT with BLOCK (a [[document]] block as it was, comments included) appended."""
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += newline
    block = block.replace("\r\n", "\n").replace("\n", newline)
    return text + (newline if text else "") + block
