"""The archive as a long-running process (the web app) uses it: one object to ask for everything.

`ArchiveService(settings)` holds the settings, one pool of searchers (a searcher
per thread, always on the newest committed index), the warm-up and the jieba
segmenter set-up. Its `snapshot()` is the index as one committed state shows it:
ask it for results, a document, suggestions, the listing or the status, and every
answer of one request comes from that one state, the one its `generation` names.
Uploads, updates and the archive watcher are started here too.

Answers are the indexer's own dataclasses, re-exported here so that a caller
imports everything it needs from this module (with indexer.config and
indexer.errors); no Whoosh or jieba object ever leaves it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import BinaryIO

from . import build, editing, ingest, search as _search, status as _status
from .build import UpdateReport
from .catalogue import KINDS, LANGUAGES, PROGRAMMES, CatalogueEntry, load_catalogue
from .editing import EDITABLE_FIELDS, TrashItem
from .config import Settings
from .dictionary import DICTIONARY_LICENCE, DICTIONARY_NAME, DICTIONARY_URL
from .engine import analysis
from .extract import format_for
from .errors import IndexMissingError
from .generations import current_generation
from .ingest import Added, Proposal, UploadFields
from .openfile import OpenFile, open_file
from .readers import IndexReaderPool
from .search import (
    FACETS,
    SORTS,
    DocumentDetail,
    DocumentHit,
    FileHit,
    FileInfo,
    Filters,
    PageHit,
    SearchResult,
)
from .status import FileStatus, IndexStatus

__all__ = [
    "ArchiveService", "IndexSnapshot", "media_type", "start_watcher",
    # what the answers are made of
    "SearchResult", "DocumentHit", "FileHit", "PageHit", "Filters", "DocumentDetail", "FileInfo",
    "IndexStatus", "FileStatus", "UploadFields", "Added", "Proposal", "UpdateReport", "CatalogueEntry", "TrashItem",
    "EDITABLE_FIELDS",
    # the vocabulary of queries and of the catalogue
    "SORTS", "FACETS", "KINDS", "LANGUAGES", "PROGRAMMES",
    # the bilingual dictionary the help page names
    "DICTIONARY_NAME", "DICTIONARY_LICENCE", "DICTIONARY_URL",
]

log = logging.getLogger(__name__)


class IndexSnapshot:
    """The live index as one committed state shows it, for the questions of one request.

    It reads through its thread's searcher of the service's pool, so it serves
    that thread until the thread takes its next snapshot (which may close the
    searcher when the index changed in between).
    """

    def __init__(self, readers: IndexReaderPool, settings: Settings):
        # The pool closes its searchers when it goes away: held here, it outlives this snapshot.
        self._readers = readers
        self._searcher = readers.searcher()
        self.settings = settings
        # The name of the generation read (a rebuild makes a new one; an update commits into it).
        self.generation = readers.generation()

    def search(self, text: str, filters: Filters | None = None, page: int = 1, sort: str = "relevance",
               expand: bool | None = None, page_size: int | None = None) -> SearchResult:
        """Run the user's query TEXT: one result per document, with its matching pages and snippets."""
        return _search.search(self._searcher, text, self.settings, filters, page, sort, expand, page_size)

    def get_document(self, doc_id: str, text: str = "", expand: bool | None = None, with_related: bool = True,
                     with_pages: bool = True) -> DocumentDetail | None:
        """Return everything about DOC_ID (None if there is no such document); with TEXT, its matching pages."""
        return _search.get_document(self._searcher, doc_id, self.settings, text, expand, with_related, with_pages)

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Return completions of what the user is typing, from the index's English and Chinese words."""
        return _search.suggest(self._searcher, prefix, limit)

    def list_documents(self, order: str = "date", with_unreadable: bool = False) -> list[dict]:
        """Return every document's metadata, newest first ("date"), by kind ("kind") or newest added ("added").

        A document whose files all failed to read is left out (it is no news; the
        status page lists it with its reason) unless WITH_UNREADABLE.
        """
        docs = _search.list_documents(self._searcher, order)
        if with_unreadable:
            return docs
        unreadable = _status.unreadable_documents(self._searcher)
        return [d for d in docs if d.get("id") not in unreadable] if unreadable else docs

    def page_text(self, doc_id: str, path: str, page: int) -> str | None:
        """Return the stored text of one page of DOC_ID's file PATH (None if there is no such page)."""
        return _search.page_text(self._searcher, doc_id, path, page)

    def status(self, check_disk: bool = True) -> IndexStatus:
        """Return what the index holds; with CHECK_DISK, also the archive's files it has not caught up with."""
        # The status answer's own `generation` stays empty, as the web app has always
        # answered it; this snapshot's `generation` names the state read.
        return _status.searcher_status(self._searcher, self.settings, check_disk=check_disk)


class ArchiveService:
    """The archive for a long-running process: settings, searchers, warm-up, uploads.

    Constructing it loads the jieba dictionary the index was built with
    (slow, once per process), so that the first Chinese query does not wait
    for it. The segmenter is per process: services with different
    user dictionaries in one process would replace each other's.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        # One searcher per thread, reopened when a commit or a rebuild changed the index.
        self.readers = IndexReaderPool(settings.index_dir)
        # Queries are segmented with the same jieba dictionary as the index.
        analysis.configure_segmenter(settings.userdict)

    def snapshot(self) -> IndexSnapshot:
        """Return the newest committed state of the index, as this thread reads it.

        Raises IndexMissingError when no index has been built yet.
        """
        return IndexSnapshot(self.readers, self.settings)

    def status(self, check_disk: bool = True) -> IndexStatus:
        """Return what the index holds, also when none has been built yet (then only the files waiting)."""
        try:
            snapshot = self.snapshot()
        except IndexMissingError:
            return _status.index_status(self.settings, check_disk=check_disk)
        return snapshot.status(check_disk)

    def generation(self) -> str:
        """Return the name of the live index generation ("" when no index has been built)."""
        live = current_generation(self.settings.index_dir)
        return live.name if live is not None else ""

    def warm_up(self) -> None:
        """Read what searches keep in memory before a server answers, so its first searches are as fast as the next.

        Without an index yet nothing is read; a failure is logged and the
        server starts all the same (its searches then say what is wrong).
        """
        try:
            # The dictionary is read (or built, on a new machine) before the first search.
            _search.translators(self.settings, None)
            _search.warm_up(self.readers.searcher())
        except IndexMissingError:
            pass
        except Exception:   # noqa: BLE001 - warming is an optimisation: it must never keep the site down
            log.warning("could not read the index ahead of the first search", exc_info=True)
        finally:
            # Request threads open their own searchers; what warming read stays shared per segment.
            self.readers.close()

    def catalogue_entries(self) -> list[CatalogueEntry]:
        """Return the catalogue's entries (raises CatalogueError when the catalogue does not load)."""
        return list(load_catalogue(self.settings.catalogue).entries.values())

    def add_upload(self, source: BinaryIO, filename: str, fields: UploadFields) -> Added:
        """Check an uploaded file and add it and its catalogue entry to the archive (raises UploadError)."""
        return ingest.add_upload(self.settings, source, filename, fields)

    def propose_upload_fields(self, source: BinaryIO, filename: str) -> Proposal:
        """Read an uploaded file (never kept) and propose its language, title and date (raises UploadError)."""
        return ingest.propose_fields(self.settings, source, filename)

    def update(self, allow_removals: bool = False) -> UpdateReport:
        """Bring the live index in line with the archive (raises IndexLockedError if a writer holds it too long).

        ALLOW_REMOVALS confirms removals the guard held back (build.removal_refusal).
        """
        return build.update(self.settings, allow_removals=allow_removals)

    def edit_entry(self, doc_id: str, values: dict[str, str]) -> CatalogueEntry:
        """Correct DOC_ID's catalogue fields (EDITABLE_FIELDS); the catalogue's previous version is kept."""
        return editing.edit_entry(self.settings, doc_id, values)

    def remove_document(self, doc_id: str) -> TrashItem:
        """Move DOC_ID's files to the archive's trash and its entry out of the catalogue (undo: restore_document)."""
        return editing.remove_document(self.settings, doc_id)

    def restore_document(self, name: str) -> str:
        """Put the removal NAME (a TrashItem's name) back into the archive; return the document id."""
        return editing.restore_document(self.settings, name)

    def trash_items(self) -> list[TrashItem]:
        """Return the removals kept in the trash, newest first."""
        return editing.trash_items(self.settings)

    def close(self) -> None:
        """Close the searchers of every thread (at shutdown)."""
        self.readers.close_all()


def open_archive_file(path, archive_dir) -> "contextlib.AbstractContextManager[OpenFile]":
    """Open the archive file PATH (inside ARCHIVE_DIR) without following a link; raise OSError if it cannot be.

    The web app serves a file through the OpenFile's `path` (/proc/self/fd/N),
    so a name swapped for a link after its check is not followed (indexer.openfile).
    """
    return open_file(path, archive_dir)


def media_type(path: str) -> str:
    """Return the MIME type of an archive file, from the format its suffix names (extract.FORMATS)."""
    file_format = format_for(path)
    return file_format.mimetype if file_format is not None else "application/octet-stream"


def start_watcher(settings: Settings):
    """Start the watcher that indexes the archive folder's changes and return it; None if indexer.watch is missing."""
    # Imported by name, so that a process without the module still serves.
    try:
        watch = importlib.import_module("indexer.watch")
    except ModuleNotFoundError as exc:
        if exc.name != "indexer.watch":
            raise
        return None
    return watch.start_watcher(settings)
