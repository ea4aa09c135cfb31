"""What the index holds and what is stale: for `python -m indexer status` and the status page."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import ledger
from .build import META_KEY, file_hash, scan_archive
from .config import Settings
from .extract import EXTRACTION_VERSION, INDEXED, PARTIAL, WAITING, reading_summary
from .engine.schema import RECORD_DOC, RECORD_FILE, RECORD_PAGE
from .engine.stamp import read_stamp, stamp_difference, stamp_text
from .generations import current_generation
from .readers import open_searcher
from .engine.reading import searcher_cache, stored_records_data


@dataclass
class FileStatus:
    path: str
    doc_id: str
    status: str
    reason: str = ""
    pages: int = 0
    chars: int = 0
    extractor: str = ""
    failed_pages: list[int] = field(default_factory=list)
    indexed_at: str = ""
    # Which reader gave which pages and why (Extraction.readers), and that in a sentence.
    readers: list[dict] = field(default_factory=list)
    reading: str = ""


@dataclass
class IndexStatus:
    built: bool
    documents: int = 0
    pages: int = 0
    files: list[FileStatus] = field(default_factory=list)
    last_update: str = ""
    version: str = ""
    version_ok: bool = True
    waiting: list[str] = field(default_factory=list)     # on disk, not (yet) indexed as they are
    missing: list[str] = field(default_factory=list)     # indexed, gone from disk
    generation: str = ""
    # The last update's outcome (indexer.ledger.UpdateOutcome.as_dict()): its error, since when, removals held.
    update: dict = field(default_factory=dict)

    @property
    def failures(self) -> list[FileStatus]:
        missing = set(self.missing)
        return [f for f in self.files if f.status not in ("indexed", WAITING) and f.path not in missing]

    @property
    def update_failing(self) -> bool:
        """Whether the last update failed or held removals back (the status page and /healthz say why)."""
        return bool(self.update) and not self.update.get("ok", True)

    @property
    def helped(self) -> list[FileStatus]:
        """Indexed files of which some pages needed another reader than the first (PDFium, OCR).

        A file not fully indexed is among `failures`, which show its readers too.
        """
        return [f for f in self.files if f.reading and f.status == "indexed"]

    def counts(self) -> dict[str, int]:
        """Files by status; a file gone from the archive counts as "missing", whatever its index record says."""
        missing = set(self.missing)
        out: dict[str, int] = {}
        for f in self.files:
            key = "missing" if f.path in missing else f.status
            out[key] = out.get(key, 0) + 1
        return out

    def as_dict(self) -> dict:
        d = asdict(self)
        d["counts"] = self.counts()
        return d


def index_status(settings: Settings, check_disk: bool = True) -> IndexStatus:
    """Counts, per-file status and staleness of the live index."""
    gen = current_generation(settings.index_dir)
    if gen is None:
        on_disk = scan_archive(settings.archive_dir) if check_disk else {}
        return IndexStatus(built=False, waiting=sorted(on_disk),
                           files=[FileStatus(p, "", WAITING) for p in sorted(on_disk)],
                           update=ledger.read_outcome(settings).as_dict())
    with ExitStack() as stack:
        try:
            searcher = stack.enter_context(open_searcher(settings.index_dir))
        except Exception:
            # An index made by other code may not open at all (its pickled classes);
            # its stamp says so, and the next update rebuilds it.
            stamp = read_stamp(gen)
            if not stamp_difference(stamp):
                raise
            return IndexStatus(built=True, version=stamp_text(stamp), version_ok=False, generation=gen.name,
                               update=ledger.read_outcome(settings).as_dict())
        return searcher_status(searcher, settings, check_disk, generation=gen.name)


def _count(searcher, record: str) -> int:
    return sum(1 for _ in searcher.document_numbers(record=record))


def searcher_status(searcher, settings: Settings, check_disk: bool = True, generation: str = "") -> IndexStatus:
    """Like index_status, on an open searcher (the web app's)."""
    stored, files = _stored_status(searcher, settings, generation)
    # A copy: the lists below grow per call, the cached status stays as the index holds it.
    status = replace(stored, files=list(stored.files), waiting=[], missing=[], generation=generation,
                     update=ledger.read_outcome(settings).as_dict())
    if check_disk:
        on_disk = scan_archive(settings.archive_dir)
        for path, st in sorted(on_disk.items()):
            known = files.get(path)
            if known is None:
                status.waiting.append(path)
                status.files.append(FileStatus(path, "", WAITING))
                continue
            info = known[1]
            if info.get("extraction") != EXTRACTION_VERSION:
                # An older extraction read it: the next update reads it again (build.plan_update).
                status.waiting.append(path)
            elif info.get("size") != st.st_size or info.get("mtime_ns") != st.st_mtime_ns:
                try:
                    changed = file_hash(Path(settings.archive_dir) / path, settings.archive_dir) != info.get("hash")
                except OSError:
                    changed = True
                if changed:
                    status.waiting.append(path)
        status.missing = sorted(p for p in files if p not in on_disk)
    return status


def _stored_status(searcher, settings: Settings, generation: str) -> tuple[IndexStatus, dict]:
    """What the index holds (counts, last update, every file's record), read once per searcher.

    It reads every file's stored record and counts the page records one by one;
    the home page and the health check ask for it on every request, and a
    searcher's committed state never changes.
    """
    return searcher_cache(searcher, "status", lambda: _read_status(searcher, settings, generation))


def _read_status(searcher, settings: Settings, generation: str) -> tuple[IndexStatus, dict]:
    meta_doc = searcher.document(key=META_KEY)
    meta = json.loads(meta_doc["data"]) if meta_doc else {}
    files = {}
    for d, info in stored_records_data(searcher, RECORD_FILE):     # info: shared, read-only
        files[d["path"]] = (d.get("doc_id", ""), info)
    status = IndexStatus(
        built=True,
        # Counted record by record: doc_frequency() also counts records
        # deleted from a segment that has not been merged yet.
        documents=_count(searcher, RECORD_DOC),
        pages=_count(searcher, RECORD_PAGE),
        last_update=meta.get("last_update", ""),
    )
    # The stamp of the generation read (the live one when not named), compared as an update does.
    folder = Path(settings.index_dir) / generation if generation else current_generation(settings.index_dir)
    stamp = read_stamp(folder) if folder is not None else None
    status.version = stamp_text(stamp)
    status.version_ok = not stamp_difference(stamp)
    for path, (doc_id, info) in sorted(files.items()):
        status.files.append(FileStatus(
            path=path, doc_id=doc_id, status=info.get("status", ""), reason=info.get("reason", ""),
            pages=info.get("pages", 0), chars=info.get("chars", 0), extractor=info.get("extractor", ""),
            failed_pages=info.get("failed_pages", []), indexed_at=info.get("indexed_at", ""),
            readers=info.get("readers", []), reading=reading_summary(info.get("readers", [])),
        ))
    return status, files


def unreadable_documents(searcher) -> frozenset[str]:
    """Ids of the documents that have files, none of which could be read (failed, encrypted, scanned without OCR).

    Such a document is no news: Browse and the Atom feed leave it out, the status
    page lists its files with their reasons. Read once per searcher.
    """
    def read() -> frozenset[str]:
        readable: set[str] = set()
        having_files: set[str] = set()
        for d, info in stored_records_data(searcher, RECORD_FILE):
            doc_id = d.get("doc_id", "")
            having_files.add(doc_id)
            if info.get("status") in (INDEXED, PARTIAL):
                readable.add(doc_id)
        return frozenset(having_files - readable)
    return searcher_cache(searcher, "unreadable_documents", read)
