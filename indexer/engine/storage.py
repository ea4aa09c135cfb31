"""Whoosh's file storage made durable and shareable, and opening or creating an index in a folder."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from array import array
from pathlib import Path
from pickle import load as pickle_load

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from .schema import build_schema
from .stamp import write_stamp



class DurableFileStorage(FileStorage):
    """Whoosh's file storage, with every written file and rename forced to disk.

    Whoosh makes a commit visible by renaming a new table of contents into
    place, after the segment files are written, but it never calls fsync: after
    a power cut the rename may be on disk while the data it points to is not.
    Syncing each file as it is closed, and the folder after each rename, makes
    the last completed commit survive a power cut too, not only kill -9.
    """

    def __init__(self, path, supports_mmap=False, readonly=False, debug=False):
        # No mmap: a reader of a compound segment (Whoosh's default layout)
        # copies each part it opens (terms, postings, columns) out of the
        # mapping into a BytesIO, so every searcher, one per server thread,
        # would hold a private copy of most of the index. Without mmap the
        # parts are read from the file through the page cache, which all
        # searchers share.
        super().__init__(path, supports_mmap=supports_mmap, readonly=readonly, debug=debug)

    def open_file(self, name, *args, **kwargs):
        f = super().open_file(name, *args, **kwargs)
        if type(f) is StructFile:
            f = _PartedFile(f.file, name=f._name, onclose=f.onclose)
        opened = getattr(_opening, "files", None)
        if opened is not None:
            opened.append(f)
        return f

    def create_file(self, name, excl=False, mode="wb", **kwargs):
        f = super().create_file(name, excl=excl, mode=mode, **kwargs)
        previous = f.onclose

        def sync_on_close(sf):
            if previous:
                previous(sf)
            sf.file.flush()
            os.fsync(sf.file.fileno())

        f.onclose = sync_on_close
        return f

    def rename_file(self, oldname, newname, safe=False):
        super().rename_file(oldname, newname, safe=safe)
        fsync_dir(Path(self.folder))


class _PartedFile(StructFile):
    """An index file whose parts (the files inside a compound segment) read with os.pread.

    Whoosh reads a part through a SubFile: each read seeks the shared file
    object and reads, four Python calls deep, and a pickle loaded from it
    (every posting block's header) calls read a dozen times or more, and a
    search makes thousands of such reads. A part here
    reads what it is asked for in one system call, and a pickle from one
    read of its likely size; with no shared file position, threads cannot
    disturb each other's reads either.
    """

    def subset(self, offset, length, name=None):
        return _PreadPart(self.file, offset, length, name=name or self._name)


class _PreadPart(StructFile):
    """LENGTH bytes of an open file from OFFSET, read with os.pread: a file of its own to Whoosh."""

    # Enough for a posting block's header pickle and most term entries.
    PICKLE_GUESS = 128
    READ_AHEAD = 4096

    def __init__(self, source, offset: int, length: int, name=None):
        super().__init__(self, name=name)
        self.is_real = False            # no fileno: Whoosh must not read around us
        self._source = source           # kept open (and its descriptor valid) while parts are in use
        self._fd = source.fileno()
        self._offset = offset
        self._length = length
        self._pos = 0
        self._ahead, self._ahead_start = b"", 0

    def get(self, position, length):
        if self._source.closed:
            raise ValueError("read from a closed index file")
        end = min(position + length, self._length)
        if end <= position:
            return b""
        return os.pread(self._fd, end - position, self._offset + position)

    def read(self, size=-1):
        pos = self._pos
        if size is None or size < 0:
            size = self._length - pos
        ahead, start = self._ahead, self._ahead_start
        if not start <= pos <= pos + size <= start + len(ahead):
            if size >= self.READ_AHEAD:
                data = self.get(pos, size)
                self._pos += len(data)
                return data
            # Small reads in a row (a hash table's bucket list, a record's
            # header fields) are served from one read ahead.
            ahead, start = self._ahead, self._ahead_start = self.get(pos, self.READ_AHEAD), pos
        data = ahead[pos - start:pos - start + size]
        self._pos += len(data)
        return data

    def readline(self, size=-1):
        line = bytearray()
        while size < 0 or len(line) < size:
            chunk = self.get(self._pos + len(line), 256 if size < 0 else min(256, size - len(line)))
            if not chunk:
                break
            cut = chunk.find(b"\n")
            if cut >= 0:
                line += chunk[:cut + 1]
                break
            line += chunk
        self._pos += len(line)
        return bytes(line)

    def seek(self, where, whence=0):
        if whence == 1:
            where += self._pos
        elif whence == 2:
            where += self._length
        self._pos = where
        return where

    def tell(self):
        return self._pos

    def get_array(self, position, typecode, length):
        a = array(typecode)
        a.frombytes(self.get(position, length * a.itemsize))
        if sys.byteorder == "little":
            a.byteswap()
        return a

    def read_pickle(self):
        size = self.PICKLE_GUESS
        while True:
            data = self.get(self._pos, size)
            buffer = io.BytesIO(data)
            try:
                obj = pickle_load(buffer)
            except Exception:
                if len(data) < size:    # the whole rest of the part: truly broken
                    raise
                size *= 8
                continue
            self._pos += buffer.tell()
            return obj

    def subset(self, offset, length, name=None):
        return _PreadPart(self._source, self._offset + offset, length, name=name or self._name)

    def flush(self):
        pass

    def close(self):
        # The source file belongs to the compound storage, which closes it.
        if self.is_closed:
            raise Exception("This file is already closed")
        if self.onclose:
            self.onclose(self)
        self.is_closed = True


# The name of the one index in each generation folder.
INDEX_NAME = "MAIN"

# Files opened by the current thread while it opens an index or a searcher (see _closed_if_failing).
_opening = threading.local()


def index_exists(path: Path) -> bool:
    """Whether PATH holds a committed index."""
    # From the names of its tables of contents, without reading one: whoosh.index.exists_in
    # unpickles the schema, which fails for an index made by another Whoosh or with a moved
    # class, and such an index exists (an update rebuilds it).
    return whoosh_index.TOC._latest_generation(DurableFileStorage(str(path)), INDEX_NAME) > -1


def create_index(path: Path):
    """Create an empty index with the current schema in PATH, stamped (indexer.engine.stamp)."""
    write_stamp(path)
    return DurableFileStorage(str(path)).create_index(build_schema(), indexname=INDEX_NAME)


def open_index(path: Path):
    """The index in PATH, for writing or for a searcher."""
    with _closed_if_failing():
        return DurableFileStorage(str(path)).open_index(indexname=INDEX_NAME)


def open_for_search(path: Path):
    """(index, searcher) of the index in PATH; the files opened are closed again if opening fails."""
    with _closed_if_failing():
        ix = open_index(path)
        return ix, ix.searcher()


@contextlib.contextmanager
def _closed_if_failing():
    """Close the files this thread opens inside the block if the block fails.

    Whoosh closes neither the table of contents when unpickling it fails (an
    index made by other code) nor the segment files it had opened when a
    later one fails (the generation was deleted meanwhile).
    """
    if getattr(_opening, "files", None) is not None:     # an outer block closes them
        yield
        return
    _opening.files = []
    try:
        yield
    except Exception:
        for f in _opening.files:
            with contextlib.suppress(Exception):
                f.close()
        raise
    finally:
        _opening.files = None


def segment_count(ix) -> int:
    """How many segments the index IX has committed."""
    return len(ix._segments())


def fsync_dir(path: Path) -> None:
    """Force a folder's entries (a rename, a new file) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

