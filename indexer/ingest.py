"""Add one uploaded PDF to the archive: every check first, then an all-or-nothing write.

The web upload page is a thin layer over `add_upload()`; nothing here knows
about Flask. The order of work is what makes an upload safe:

1. the file is streamed into the archive's hidden `.uploads/` folder (the
   indexer never looks into hidden folders), hashed and size-checked on the way;
2. it must be of a format uploads accept (extract.FORMATS: those with an upload
   check; today PDF, by its `%PDF-` header), and pass that check (pypdf opens it),
   run in a separate process with a time and memory limit, so a crafted file
   cannot hang or crash the web server;
3. a file with the same content (SHA-256) anywhere in the archive is refused;
4. the catalogue fields are validated with `catalogue.parse_entry`, and the
   new catalogue text is checked by reading it back: every other entry must
   be unchanged, byte for byte (the new text only adds lines);
5. only then is anything written: the catalogue through a temporary file and
   `os.replace`, then the PDF through `os.replace` from `.uploads/`. If the
   second step fails, the old catalogue is put back.

Uploads are serialised by a lock file in `.uploads/`, so two uploads cannot
pick the same file name or lose each other's catalogue entry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import secrets
import stat
import unicodedata
from dataclasses import dataclass
from datetime import date as _date
from pathlib import Path
from typing import BinaryIO

from .build import file_hash, scan_archive
from .catalogue import (
    ISO_DATE,
    LANGUAGES,
    Catalogue,
    CatalogueEntry,
    CatalogueFile,
    entry_to_toml,
    load_catalogue,
    parse_entry,
    slugify,
    toml_string,
)
from .config import Settings
from .errors import CatalogueError, IndexMissingError, UploadError
from .extract import FileFormat, identify_upload
from .engine.schema import RECORD_DOC, RECORD_FILE
from .ledger import atomic_write_text
from .lock import flock_within
from .readers import open_searcher
from .engine.reading import stored_records, stored_records_data

UPLOADS = ".uploads"
# ext4 and most file systems allow 255 bytes per name; room is left for a "-99" suffix.
MAX_NAME_BYTES = 200
# The PDF header may follow up to 1 KiB of junk (PDF 32000 tolerates it, as does the indexer).
HEADER_WINDOW = 1024
# How long an upload waits for another upload to finish writing.
LOCK_TIMEOUT_S = 60.0
# Characters refused in file names besides control characters: path separators and
# the characters Windows and SMB shares cannot store.
_BAD_NAME_CHARS = re.compile(r'[/\\:*?"<>|]')
_CLIMBING = re.compile(r"(^|[/\\])\.\.([/\\]|$)")
_ENTRY_HEADER = re.compile(r"^\s*\[\[\s*document\s*\]\]\s*(#.*)?$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^\d{4}-(\d{2})$")

@dataclass(frozen=True)
class UploadFields:
    """The catalogue fields of an upload, as typed into the form."""

    lang: str
    title: str = ""
    title_zh: str = ""
    date: str = ""
    kind: str = ""
    programme: str = ""
    version_of: str = ""      # id of the document this file is a language version of; "" for a new document


@dataclass(frozen=True)
class Added:
    """What an upload put into the archive."""

    doc_id: str
    file: str
    new_document: bool
    sha256: str


# --- file names ---------------------------------------------------------------------------


def safe_filename(name: str, suffix: str = ".pdf") -> str:
    """A plain file name from what a browser sent: no folders, no control or reserved characters.

    Chinese and other letters stay; the result always ends in SUFFIX (the upload's format's).
    """
    name = unicodedata.normalize("NFC", name or "")
    # Browsers send a bare name, but old ones send a whole Windows path: keep the last part.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") else ch for ch in name
                   if not unicodedata.category(ch).startswith("C"))
    name = _BAD_NAME_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem = name[:-len(suffix)] if name.lower().endswith(suffix) else name
    stem = stem.strip(" .") or "upload"
    while len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def check_filename(name: str) -> None:
    """Refuse a name that climbs out of a folder ("../"): no browser sends one, so it is an attack."""
    if _CLIMBING.search(name or ""):
        raise UploadError("The file name contains “../”: rename the file and upload it again.", "bad_name")


def _with_suffix(name: str, n: int) -> str:
    """NAME for N == 1, else NAME with "-N" before its suffix."""
    stem, suffix = os.path.splitext(name)
    return name if n == 1 else f"{stem}-{n}{suffix}"


# --- checks ---------------------------------------------------------------------------------


def _receive(source: BinaryIO, target: Path, max_bytes: int) -> tuple[str, int, bytes]:
    """Copy SOURCE into TARGET; return (sha256, size, first bytes). Refuse more than MAX_BYTES."""
    h = hashlib.sha256()
    size, head = 0, b""
    with open(target, "xb") as out:
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise UploadError(f"The file is larger than the upload limit of {max_bytes // 2**20} MB.",
                                  "too_large", limit_mb=max_bytes // 2**20)
            if len(head) < HEADER_WINDOW:
                head += chunk[:HEADER_WINDOW - len(head)]
            h.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return h.hexdigest(), size, head


def check_upload(path: Path, head: bytes | None = None) -> FileFormat:
    """Check that PATH (whose first bytes are HEAD) is of a format uploads accept and passes its check.

    Return the format, or raise UploadError. The format's check (pypdf for a
    PDF) runs in a child process with a time and memory limit.
    """
    if head is None:
        with open(path, "rb") as fh:
            head = fh.read(HEADER_WINDOW)
    if not head:
        raise UploadError("The file is empty.", "empty_file")
    file_format = identify_upload(path, head)
    file_format.check_upload(path)
    return file_format


def _indexed(settings: Settings) -> tuple[dict[str, dict], set[str]]:
    """The index's file records (path -> info with doc_id) and document ids; empty without an index."""
    try:
        with open_searcher(settings.index_dir) as s:
            files = {d["path"]: dict(info, doc_id=d.get("doc_id", ""))
                     for d, info in stored_records_data(s, RECORD_FILE)}
            docs = {d["doc_id"] for d in stored_records(s, RECORD_DOC)}
    except IndexMissingError:
        return {}, set()
    return files, docs


def find_duplicate(settings: Settings, digest: str, size: int, catalogue: Catalogue,
                   indexed: dict[str, dict]) -> tuple[str, str] | None:
    """(file, document id) of an archive file with this content, or None.

    Only files of the same size can match; their hash comes from the index when
    the file is unchanged since it was indexed, else from reading the file.
    """
    archive = Path(settings.archive_dir)
    by_file = catalogue.by_file()
    for path, st in sorted(scan_archive(archive).items()):
        if st.st_size != size or stat.S_ISLNK(st.st_mode):     # a link out of the archive is never read
            continue
        info = indexed.get(path, {})
        if info.get("hash") and info.get("size") == st.st_size and info.get("mtime_ns") == st.st_mtime_ns:
            found = info["hash"]
        else:
            try:
                found = file_hash(archive / path, archive)
            except OSError:
                continue
        if found == digest:
            doc_id = by_file[path][0].id if path in by_file else info.get("doc_id", "")
            return path, doc_id
    return None


def check_date(value: str) -> None:
    """Refuse a date that is not YYYY, YYYY-MM or YYYY-MM-DD, or that does not exist (2020-02-30)."""
    if not ISO_DATE.match(value):
        raise UploadError(f"The date {value[:20]!r} is not YYYY, YYYY-MM or YYYY-MM-DD.", "bad_date",
                          value=value[:20])
    m = _FULL_DATE.match(value)
    try:
        if m:
            _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif (m := _MONTH.match(value)) and not 1 <= int(m.group(1)) <= 12:
            raise ValueError
    except ValueError:
        raise UploadError(f"The date {value[:20]!r} does not exist.", "no_such_date", value=value[:20]) from None


def new_document_id(fields: UploadFields, filename: str, taken: set[str]) -> str:
    """An id for a new document from its title (or file name) and year, not in TAKEN."""
    text = unicodedata.normalize("NFKC", fields.title).lower()
    base = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")
    if not base:
        base = slugify(filename)[:60].strip("-")
    year = fields.date[:4]
    if year and year not in base:
        base = f"{base}-{year}"
    doc_id, n = base, 1
    while doc_id in taken:
        n += 1
        doc_id = f"{base}-{n}"
    return doc_id


# --- the catalogue text ---------------------------------------------------------------------


def catalogue_with_new_entry(text: str, entry: CatalogueEntry) -> str:
    """TEXT with ENTRY's [[document]] block appended."""
    if text and not text.endswith("\n"):
        text += "\r\n" if "\r\n" in text else "\n"
    block = entry_to_toml(entry)
    if "\r\n" in text:
        block = block.replace("\n", "\r\n")
    return text + block


def catalogue_with_file(text: str, position: int, cfile: CatalogueFile) -> str:
    """TEXT with a [[document.files]] block added to the POSITION-th [[document]] (0-based).

    The block goes right after the entry's last line that is neither blank nor a
    comment, so comments introducing the next entry stay with it.
    """
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    headers = [i for i, line in enumerate(lines) if _ENTRY_HEADER.match(line)]
    if position >= len(headers):
        raise UploadError("The catalogue's layout is unusual: add this language version by hand.",
                          "catalogue_layout")
    end = headers[position + 1] if position + 1 < len(headers) else len(lines)
    last = end - 1
    while last > headers[position] and (not lines[last].strip() or lines[last].lstrip().startswith("#")):
        last -= 1
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    block = [newline, "[[document.files]]" + newline, f"lang = {toml_string(cfile.lang)}" + newline,
             f"file = {toml_string(cfile.file)}" + newline, f"format = {toml_string(cfile.format)}" + newline]
    return "".join(lines[:last + 1] + block + lines[last + 1:])


def _verify(tmp: Path, old: Catalogue, expected: CatalogueEntry) -> None:
    """Read the new catalogue back: every old entry unchanged except EXPECTED, which must be as planned."""
    try:
        new = load_catalogue(tmp)
    except CatalogueError as exc:
        raise UploadError(f"The new catalogue entry would not be valid: {exc}", "bad_field") from None
    wanted = dict(old.entries)
    wanted[expected.id] = expected
    if list(new.entries) != list(wanted) or any(new.entries[k] != wanted[k] for k in wanted):
        raise UploadError("The catalogue's layout is unusual: add this document by hand.", "catalogue_layout")


@contextlib.contextmanager
def upload_lock(folder: Path, timeout: float = LOCK_TIMEOUT_S):
    """Hold the uploads lock (flock, released if the process dies)."""
    fh = open(folder / ".lock", "a+")
    try:
        if not flock_within(fh, timeout):
            raise UploadError("Another upload is being saved: try again in a minute.", "busy")
        yield
    finally:
        fh.close()


# --- the upload -----------------------------------------------------------------------------


def add_upload(settings: Settings, source: BinaryIO, filename: str, fields: UploadFields,
               max_bytes: int | None = None) -> Added:
    """Check the upload and, only if all is well, add the file and its catalogue entry to the archive.

    Raises UploadError (its message is safe to show; `code` and `params` say
    what went wrong) and leaves the archive and the catalogue as they were.
    """
    max_bytes = max_bytes if max_bytes is not None else settings.upload_max_mb * 2**20
    archive = Path(settings.archive_dir)
    if not archive.is_dir():
        raise UploadError("The archive folder does not exist.", "no_archive")
    if fields.lang not in LANGUAGES:
        raise UploadError(f"Choose the language of the file ({', '.join(LANGUAGES)}).", "bad_lang")
    check_filename(filename)
    uploads = archive / UPLOADS
    uploads.mkdir(exist_ok=True)
    part = uploads / f"{secrets.token_hex(8)}.part"
    try:
        with upload_lock(uploads):
            digest, size, head = _receive(source, part, max_bytes)
            file_format = check_upload(part, head)
            catalogue_path = Path(settings.catalogue)
            try:
                existed = catalogue_path.exists()
                # Bytes decoded by hand: read_text would turn CRLF line ends into LF, and every line would change.
                old_text = catalogue_path.read_bytes().decode("utf-8") if existed else ""
                catalogue = load_catalogue(catalogue_path)
            except (CatalogueError, UnicodeDecodeError) as exc:
                raise UploadError(f"The catalogue has an error; fix it before uploading: {exc}",
                                  "catalogue_broken") from None
            indexed, indexed_docs = _indexed(settings)
            duplicate = find_duplicate(settings, digest, size, catalogue, indexed)
            if duplicate:
                raise UploadError(f"This file is already in the archive as {duplicate[0]}.", "duplicate",
                                  file=duplicate[0], doc_id=duplicate[1])
            name = _free_name(safe_filename(filename, file_format.suffixes[0]), archive, catalogue)
            cfile = CatalogueFile(fields.lang, name, file_format.key)
            entry, new_text = _plan(fields, cfile, catalogue, old_text, indexed_docs)
            check = uploads / f"{part.stem}.toml"
            try:
                check.write_text(new_text, encoding="utf-8")
                _verify(check, catalogue, entry)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    check.unlink()
            # Everything is valid: write. The catalogue first, so a watcher that sees the
            # file finds its entry; if the file cannot be put in place, the catalogue goes back.
            atomic_write_text(catalogue_path, new_text)
            try:
                os.replace(part, archive / name)
            except BaseException:
                if existed:
                    atomic_write_text(catalogue_path, old_text)
                else:
                    catalogue_path.unlink(missing_ok=True)
                raise
            return Added(entry.id, name, new_document=not fields.version_of, sha256=digest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


@dataclass(frozen=True)
class Proposal:
    """Catalogue fields read from an uploaded file, for the upload form to propose."""

    lang: str = ""
    title: str = ""
    date: str = ""


# A year a person put in a file name (1950-2099), not part of a longer number.
_YEAR_IN_NAME = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")


def propose_fields(settings: Settings, source: BinaryIO, filename: str, max_bytes: int | None = None) -> Proposal:
    """Read an uploaded file (checked as an upload, never kept) and propose its language, title and date.

    The language is the one most of its text is in (the extractor tells each
    page's); the title is the file's own metadata title, else its name; the date
    is a year in its name, else the file's metadata date (the day it was made or
    scanned, less often the document's own).
    """
    from . import extract

    max_bytes = max_bytes if max_bytes is not None else settings.upload_max_mb * 2**20
    archive = Path(settings.archive_dir)
    if not archive.is_dir():
        raise UploadError("The archive folder does not exist.", "no_archive")
    check_filename(filename)
    uploads = archive / UPLOADS
    uploads.mkdir(exist_ok=True)
    part = uploads / f"{secrets.token_hex(8)}.part"
    try:
        _digest, _size, head = _receive(source, part, max_bytes)
        file_format = check_upload(part, head)
        # Read under the format's own suffix: the extractor chooses its reader by it.
        named = part.with_suffix(file_format.suffixes[0])
        os.replace(part, named)
        part = named
        [(_path, ex)] = list(extract.extract_many([part], settings))
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    counts: dict[str, int] = {}
    for page in ex.pages:
        if page.lang in LANGUAGES:
            counts[page.lang] = counts.get(page.lang, 0) + len(page.text)
    lang = max(counts, key=counts.get) if counts else ""
    stem = Path(safe_filename(filename, file_format.suffixes[0])).stem
    title = (ex.title or "").strip() or re.sub(r"[_\-.]+", " ", stem).strip()
    m = _YEAR_IN_NAME.search(stem)
    date = m.group(1) if m else (ex.date or "")
    if date and not ISO_DATE.match(date):
        date = date[:4] if ISO_DATE.match(date[:4]) else ""
    return Proposal(lang=lang, title=title[:MAX_NAME_BYTES], date=date)


def _free_name(name: str, archive: Path, catalogue: Catalogue) -> str:
    """NAME, or NAME-2.pdf, NAME-3.pdf… (before its suffix): the first that is neither on disk nor in the catalogue."""
    listed = {n.casefold() for n in catalogue.by_file()}
    on_disk = {p.name.casefold() for p in archive.iterdir()}
    n = 1
    while _with_suffix(name, n).casefold() in listed | on_disk:
        n += 1
    return _with_suffix(name, n)


def _plan(fields: UploadFields, cfile: CatalogueFile, catalogue: Catalogue, old_text: str,
          indexed_docs: set[str]) -> tuple[CatalogueEntry, str]:
    """The entry the upload makes (new or extended) and the new catalogue text."""
    if fields.version_of:
        entry = catalogue.entries.get(fields.version_of)
        if entry is None:
            raise UploadError("The document this file should be a language version of is not in the catalogue.",
                              "unknown_document", doc_id=fields.version_of)
        if any(f.lang == cfile.lang for f in entry.files):
            raise UploadError(f"The document {entry.id} already has a version in this language.",
                              "lang_taken", doc_id=entry.id, lang=cfile.lang)
        position = list(catalogue.entries).index(entry.id)
        extended = dataclasses.replace(entry, files=entry.files + (cfile,))
        return extended, catalogue_with_file(old_text, position, cfile)
    if fields.date:
        check_date(fields.date)
    doc_id = new_document_id(fields, cfile.file, set(catalogue.entries) | indexed_docs)
    raw = {"id": doc_id, "title": fields.title, "title_zh": fields.title_zh, "date": fields.date,
           "kind": fields.kind, "programme": fields.programme,
           "files": [{"lang": cfile.lang, "file": cfile.file, "format": cfile.format}]}
    try:
        entry = parse_entry({k: v for k, v in raw.items() if v != ""}, "upload")
    except CatalogueError as exc:
        raise UploadError(str(exc).replace(f"upload ({doc_id}): ", "").replace("upload: ", ""),
                          "bad_field") from None
    return entry, catalogue_with_new_entry(old_text, entry)

