"""Searchers on the live index: a pool for long-running processes, one for a single use."""

from __future__ import annotations

import contextlib
import gc
import threading
import weakref
from pathlib import Path

from .engine.storage import open_for_search
from .errors import IndexMissingError
from .generations import current_generation, link_target



_frozen = False


def _freeze_long_lived() -> None:
    """Once per process, when its first searcher opens: leave everything alive so far (modules,
    the web app, jieba) out of the garbage collector's full collections (gc.freeze).

    Otherwise every full collection walks all those objects, which never
    become garbage, as a pause inside whichever search triggers it. The
    searches' own objects are still collected. (Python's documentation
    recommends the same for pre-forking servers.)
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class IndexReaderPool:
    """Searchers for a long-running process (the web app), one per thread.

    Each call to `searcher()` returns a searcher on the newest committed
    state: if the live generation was swapped, the new one is opened; if a
    commit happened, a fresh searcher is opened (nothing is done when nothing
    changed). This is how every worker sees updates without a restart.
    """

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._local = threading.local()
        # Every searcher open in any thread, so that all are closed when the
        # pool goes away (a thread's local entry is out of reach of others).
        self._open: set = set()
        self._open_lock = threading.Lock()
        weakref.finalize(self, _close_all, self._open, self._open_lock)

    def searcher(self):
        local = self._local
        cached = getattr(local, "entry", None)   # (generation, index, searcher)
        # While the link still names the generation open here, that generation
        # exists (a rebuild swaps the link before deleting the old one): one
        # readlink, not current_generation's opening of the index, which reads
        # its table of contents on every request.
        if cached is not None and link_target(self.index_dir) == cached[0].name:
            gen = cached[0]
        else:
            gen = current_generation(self.index_dir)
        if cached is not None and cached[0] == gen:
            ix, s = cached[1], cached[2]
            # Whoosh's own Searcher.refresh() is not used: it reuses segment
            # readers by segment id, so a segment that gained deletions keeps
            # its old ones and merged-away segments stay in (whoosh-reloaded
            # 2.7.5): replaced records would show twice.
            try:
                unchanged = ix.latest_generation() == s.reader().generation()
            except OSError:     # swapped out and deleted a moment ago
                unchanged = False
            if unchanged:
                return s
        self.close()
        gen, ix, s = _open_live(self.index_dir)
        local.entry = (gen, ix, s)
        with self._open_lock:
            self._open.add(s)
        _freeze_long_lived()
        return s

    def generation(self) -> str:
        """Name of the generation this thread's searcher reads ("" before its first searcher)."""
        cached = getattr(self._local, "entry", None)
        return cached[0].name if cached else ""

    def close(self) -> None:
        """Close this thread's searcher."""
        cached = getattr(self._local, "entry", None)
        if cached is not None:
            with self._open_lock:
                self._open.discard(cached[2])
            cached[2].close()
            self._local.entry = None

    def close_all(self) -> None:
        """Close the searchers of every thread (at shutdown)."""
        _close_all(self._open, self._open_lock)


def _close_all(searchers: set, lock: threading.Lock) -> None:
    with lock:
        open_now = list(searchers)
        searchers.clear()
    for s in open_now:
        with contextlib.suppress(Exception):
            s.close()


def _open_live(index_dir: Path):
    """(generation, index, searcher) of the live index.

    A rebuild may swap `current` and delete the generation it pointed to
    while this opens it; then the new generation is opened instead.
    """
    for attempt in range(5):
        gen = current_generation(index_dir)
        if gen is None:
            raise IndexMissingError("no index has been built yet: run `python -m indexer update`")
        try:
            ix, searcher = open_for_search(gen)
            return gen, ix, searcher
        except Exception:
            if attempt == 4 or current_generation(index_dir) == gen:
                raise


@contextlib.contextmanager
def open_searcher(index_dir: Path):
    """A searcher on the live index, closed on exit."""
    _, _, s = _open_live(index_dir)
    try:
        yield s
    finally:
        s.close()
