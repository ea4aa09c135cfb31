"""Where the index lives on disk, the writer lock, and reader/writer access.

Layout of settings.index_dir:
    current -> gen-000004     symlink to the live generation, swapped atomically
    gen-000004/               a Whoosh index
    writer.lock               held (flock) by the one process writing; holds its pid

A rebuild writes a new generation beside the live one and swaps the
symlink with a rename, so readers see either the old or the new index,
never a half-built one. Whoosh commits are themselves atomic (the table of
contents is written last), so a killed writer leaves the last commit intact.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import io
import json
import logging
import os
import re
import shutil
import struct
import sys
import threading
import time
import weakref
import zlib
from array import array
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path
from pickle import dumps, loads
from pickle import load as pickle_load

from whoosh import index as whoosh_index
from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PerDocReader,
    W3PostingsWriter,
    W3TermsReader,
)
from whoosh.fields import FieldType
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter
from whoosh.filedb.structfile import StructFile
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import GrowableArray
from whoosh.writing import SegmentWriter

from .analysis import IndexFrequency, IndexPositions
from .errors import IndexLockedError, IndexMissingError
from .schema import build_schema
from .postingpool import BatchedRunPool

log = logging.getLogger(__name__)

CURRENT = "current"
GEN_PATTERN = re.compile(r"^gen-(\d{6})$")
INDEX_NAME = "MAIN"


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index has been built."""
    link = Path(index_dir) / CURRENT
    seen = None
    # A rebuild may swap the link and delete the generation it pointed to
    # between reading the link and looking into the folder: when the folder
    # holds no index, read the link again before saying there is none.
    while True:
        try:
            target = os.readlink(link)
        except OSError:
            return None
        if target == seen:
            return None
        path = Path(index_dir) / target
        try:
            exists = whoosh_index.exists_in(str(path), indexname=INDEX_NAME)
        except OSError:     # deleted while being looked into
            exists = False
        if exists:
            return path
        seen = target


def _link_target(index_dir: Path) -> str | None:
    """The name the `current` link points to, or None."""
    try:
        return os.readlink(Path(index_dir) / CURRENT)
    except OSError:
        return None


def new_generation(index_dir: Path) -> Path:
    """Create and return an empty folder for the next generation."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in Path(index_dir).iterdir() if (m := GEN_PATTERN.match(p.name))]
    path = Path(index_dir) / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


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
        # held a private copy of most of the index (350 MB per searcher at
        # 1,000 pages). Without mmap the parts are read from the file through
        # the page cache, which all searchers share.
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
        _fsync_dir(Path(self.folder))


class _PartedFile(StructFile):
    """An index file whose parts (the files inside a compound segment) read with os.pread.

    Whoosh reads a part through a SubFile: each read seeks the shared file
    object and reads, four Python calls deep, and a pickle loaded from it
    (every posting block's header) calls read a dozen times or more. A
    search of a 50,000-page index made about 3,000 such reads. A part here
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


# Posting lists shorter than this are stored inside the term's entry instead
# of as a block of their own in the postings file.
INLINE_POSTINGS = 8


class _InliningPostingsWriter(W3PostingsWriter):
    """W3PostingsWriter that really inlines short posting lists.

    whoosh-reloaded 2.7.5 calls a misspelt `terminfo.set_inline` for them (the
    method is `set_inlined`) and uses `len(self)`, which the writer lacks, so
    its inlining cannot be switched on. The reader side (W3Codec.postings_reader)
    handles inlined postings already.
    """

    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and len(self._ids) < self._inlinelimit:
            terminfo.add_block(self)
            values = self._values
            if self._format.fixed_value_size() == 0:
                # A format without values (an ID field): one None per posting,
                # as a block would give back, not the "" that ListMatcher
                # returns for no values at all (a merge refuses it).
                values = (None,) * len(self._ids)
            terminfo.set_inlined(self._ids, self._weights, values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


# Record lengths as Whoosh's W3PerDocReader.doc_field_length gives them: the
# length byte decoded, None for a record without the field.
_BYTE_LENGTH = [byte_to_length(b) if b else None for b in range(256)]


def field_length_list(perdoc, fieldname: str) -> list | None:
    """Every record's length of FIELDNAME in one segment, from a W3PerDocReader; None without lengths.

    The reader looks each length up through a column reader (about 5 us); a
    list read once serves the many lookups of writing or scoring a segment.
    """
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    return None if column is None else [_BYTE_LENGTH[b] for b in column]


# Values computed from one index segment, by (segment id, name). A segment never
# changes once written (deletions live apart), so they serve every later searcher.
# Its id is 16 random characters, new for every segment written (a staged
# segment moved into the index keeps its id and its content). The index folder
# cannot be part of the key: a compound segment's reader sees only its own file.
# Least recently used first: the lists of segments merged away age out, and the
# few hundred lists a search of a 50,000-page index uses (32 segments) stay.
_SEGMENT_VALUES: dict[tuple[str, str], tuple] = {}
_SEGMENT_VALUES_MAX = 2048


def segment_values(reader, name: str, compute) -> tuple:
    """COMPUTE(reader) as a tuple, kept for READER's segment under NAME; computed afresh for a reader
    that is not a segment (an empty index).

    A tuple, not a list: the garbage collector stops tracking a tuple of
    untracked values (numbers, strings, such tuples), while each of its full
    collections walked every element of the cached lists, about a million at
    50,000 pages: 40 ms, seven times in 144 searches.
    """
    segment = getattr(reader, "segment", None)
    segment = segment() if segment is not None else None
    if segment is None:             # not a segment's reader (an empty index's)
        return tuple(compute(reader))
    key = (segment.segment_id(), name)
    values = _SEGMENT_VALUES.pop(key, None)
    if values is None:
        values = tuple(compute(reader))
        if len(_SEGMENT_VALUES) >= _SEGMENT_VALUES_MAX:
            _SEGMENT_VALUES.pop(next(iter(_SEGMENT_VALUES)), None)
    _SEGMENT_VALUES[key] = values       # (re)inserted last: the most recently used
    return values


def segment_column(reader, name: str) -> tuple:
    """Every record's value of column NAME in READER's segment, by record number (deleted ones
    too), kept per segment (segment_values)."""
    return segment_values(reader, f"column:{name}", lambda r: list(r.column_reader(name)))


def stored_records(searcher, record: str):
    """The stored fields of every live record of kind RECORD, as searcher.documents(record=RECORD)
    gives them, read once per segment and process. Read-only: the dictionaries are shared.

    An update reads every file and document record to find what changed, and
    so do the status, an upload and the first search on a new searcher: 5,000
    stored records at 50,000 pages, 0.14 s per update of one file. A segment's
    stored fields never change; deletions are checked at each call.
    """
    for reader, _offset in searcher.reader().leaf_readers():
        for docnum, fields in _stored_rows(reader, record):
            if not reader.is_deleted(docnum):
                yield fields


def stored_records_data(searcher, record: str):
    """(stored fields, their "data" JSON parsed) of every live record of kind RECORD, as
    stored_records gives them, parsed once per segment and process. Read-only: the dictionaries
    are shared.

    Parsing the data of every file and document record took 15 ms of each update at
    50,000 pages (5,000 records), and the documents' 8 ms more for each new searcher.
    """
    for reader, _offset in searcher.reader().leaf_readers():
        rows = segment_values(reader, f"data:{record}", lambda r: [
            (docnum, fields, json.loads(fields.get("data") or "{}")) for docnum, fields in _stored_rows(r, record)])
        for docnum, fields, data in rows:
            if not reader.is_deleted(docnum):
                yield fields, data


def _stored_rows(reader, record: str) -> tuple:
    """(docnum, stored fields) of READER's records of kind RECORD, deleted ones too, kept per segment."""
    return segment_values(reader, f"stored:{record}", lambda r: _stored_of_kind(r, record))


def _stored_of_kind(reader, record: str) -> list:
    if reader.has_column("record"):
        kinds = segment_column(reader, "record")
    else:   # an empty index's reader
        kinds = [reader.stored_fields(n).get("record") for n in range(reader.doc_count_all())]
    return [(docnum, reader.stored_fields(docnum)) for docnum, kind in enumerate(kinds) if kind == record]


# Term entries (where a term's postings are, or the postings themselves when
# short) by (segment id, field, term bytes), None for a term the segment lacks.
# Whoosh looks a term up in the segment's on-disk hash table each time (a
# hash, two reads and an unpickling, about 200 lookups a search on 32
# segments); like Lucene's in-memory terms index, the entries a process has
# used are kept. Emptied when full: refilling costs one lookup each.
_TERM_ENTRIES: dict[tuple[str, str, bytes], object] = {}
_TERM_ENTRIES_MAX = 50_000
_UNSEEN = object()


def term_postings(reader, fieldname: str, btext: bytes):
    """reader.postings(fieldname, btext) of a segment reader, raising TermNotFound as it does, with
    the term's entry looked up once per process (see _TERM_ENTRIES)."""
    segment = getattr(reader, "segment", None)
    terms = getattr(reader, "_terms", None)
    if segment is None or not isinstance(terms, W3TermsReader) or reader.is_closed:
        return reader.postings(fieldname, btext)
    key = (segment().segment_id(), fieldname, btext)
    entry = _TERM_ENTRIES.get(key, _UNSEEN)
    if entry is _UNSEEN:
        try:
            entry = terms.term_info(fieldname, btext)
        except TermNotFound:
            entry = None
        if len(_TERM_ENTRIES) >= _TERM_ENTRIES_MAX:
            _TERM_ENTRIES.clear()
        _TERM_ENTRIES[key] = entry
    if entry is None:
        raise TermNotFound(f"No term {fieldname}:{btext!r}")
    matcher = terms._codec.postings_reader(terms._postfile, entry, reader.schema[fieldname].format,
                                           term=(fieldname, btext))
    deleted = reader.deleted_docs_set
    return FilterMatcher(matcher, deleted, exclude=True) if deleted else matcher


class _ListedLengths:
    """A W3PerDocReader's record lengths, as lists read once per field (see _field_lengths)."""

    def __init__(self, perdoc):
        self._perdoc = perdoc
        self._lists: dict[str, list | None] = {}

    def field_lengths(self, fieldname: str) -> list | None:
        """Every record's length of FIELDNAME (None for a record without it); None without lengths."""
        if fieldname not in self._lists:
            self._lists[fieldname] = field_length_list(self._perdoc, fieldname)
        return self._lists[fieldname]


class _NoLengths:
    """Lengths of a writer given none: 0 for every record."""

    def __getitem__(self, docnum):
        return 0


class _ReaderLengths:
    """One field's record lengths from any reader's doc_field_length."""

    def __init__(self, lengths, fieldname: str):
        self._lengths, self._fieldname = lengths, fieldname

    def __getitem__(self, docnum):
        return self._lengths.doc_field_length(docnum, self._fieldname)


def _field_lengths(lengths, fieldname: str):
    """Each record's length of FIELDNAME by record number, as the postings writer is given them."""
    if not lengths:
        return _NoLengths()
    if isinstance(lengths, _ListedLengths):
        listed = lengths.field_lengths(fieldname)
        return listed if listed is not None else _NoLengths()
    return _ReaderLengths(lengths, fieldname)


# length_to_byte of the lengths met so far (it bisects a table of 256 each call).
_LENGTH_BYTES: dict[int, int] = {}


def _length_byte(length: int) -> int:
    byte = _LENGTH_BYTES.get(length)
    if byte is None:
        byte = _LENGTH_BYTES[length] = length_to_byte(length)
    return byte


_TERM_INFO = struct.Struct("!BfIBBfII")     # W3TermInfo._struct
_KEY_VALUE_LENGTHS = struct.Struct("!ii")   # whoosh.filedb.filetables._lengths
_FLOAT32 = struct.Struct("f")


_HASH_SLOT = struct.Struct("!Iq")           # whoosh.filedb.filetables._pointer
# Whoosh's hash types: 0 md5, 1 crc32. Stored in each term table's header; Whoosh's reader uses the one named there.
_CRC32_HASH = 1


class _TermTable(OrderedHashWriter):
    """Whoosh's OrderedHashWriter (a segment's term table), writing the same entries and tables
    with less work a term.

    A segment of the benchmark has about 675 terms a page, and Whoosh spends
    about ten method calls on each entry: the file's position asked of the
    file, the position appended to an array that checks its type, an md5 of
    the key as hex digits turned back into a number. Here the position is
    counted, entries are written in batches, the index of positions is a list
    made an array once, and the key's hash is zlib's crc32 (Whoosh's hash type
    1, named in the table's header, which Whoosh's reader follows). The hash
    tables are written one table a call instead of one slot a call.
    """

    def __init__(self, dbfile):
        HashWriter.__init__(self, dbfile, hashtype=_CRC32_HASH)
        self.index = GrowableArray("H")
        self.lastkey = b""
        self.positions: list[int] = []
        self.position = dbfile.tell()
        self.pending: list[bytes] = []

    def add(self, key, value):
        """OrderedHashWriter.add (Whoosh's field writer calls it for a term with a block of its own)."""
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        self.append(key, value)

    def append(self, key, value):
        """add() for a KEY known to follow the last one."""
        entry = _KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value
        position = self.position
        self.positions.append(position)
        pending = self.pending
        pending.append(entry)
        if len(pending) >= 4096:
            self.write_pending()
        self.position = position + len(entry)
        h = zlib.crc32(key)
        self.buckets[h & 255].append((h, position))
        self.lastkey = key

    def write_pending(self):
        if self.pending:
            self.dbfile.write(b"".join(self.pending))
            self.pending = []

    def _write_hashes(self):
        self.write_pending()
        dbfile = self.dbfile
        pack = _HASH_SLOT.pack
        empty = pack(0, 0)
        for entries in self.buckets:
            # As HashWriter._write_hashes: twice as many slots as entries, each
            # entry in the first free slot from its hash's, wrapping round.
            numslots = 2 * len(entries)
            self.directory.append((dbfile.tell(), numslots))
            if not numslots:
                continue
            table = [None] * numslots
            for hashval, position in entries:
                slot = (hashval >> 8) % numslots
                while table[slot] is not None:
                    slot = (slot + 1) % numslots
                table[slot] = (hashval, position)
            dbfile.write(b"".join(empty if item is None else pack(*item) for item in table))

    def _write_extras(self):
        # The positions as the GrowableArray Whoosh appends them to: its type is
        # the smallest that holds the largest (the last) of them.
        last = self.positions[-1] if self.positions else 0
        index = GrowableArray("H")
        if last >= 2 ** 16:
            index._retype(last)
        index.array.extend(self.positions)
        self.index = index
        super()._write_extras()


class _ArchiveFieldWriter(W3FieldWriter):
    """W3FieldWriter writing the short posting lists of a segment in one loop.

    Each posting written asks for its record's length (for the block's
    min/max length): 20 % of writing a segment went into those lookups, now
    read from lists. Most terms of a segment have a posting or two (a file's
    rare words, bigrams and word pairs: 226,911 terms for 282,569 postings in
    a 200-page build), and Whoosh spends a dozen method calls on each term
    (a posting writer, a term info, a hash table entry). A term with fewer
    postings than the inline limit is written here directly: the same term
    info bytes (W3TermInfo.to_bytes of an inlined term) and the same term
    table entry (_TermTable.add); tests compare the files byte for byte with
    Whoosh's (its term table hashing with crc32). Longer posting lists go
    through Whoosh's writer as before.
    """

    def __init__(self, codec, storage, segment):
        # W3FieldWriter.__init__, with the term table a _TermTable.
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = _TermTable(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False

    def add_postings(self, schema, lengths, items):
        if isinstance(lengths, W3PerDocReader):
            lengths = _ListedLengths(lengths)
        inline_limit = self._codec._inlinelimit
        lastfn = lasttext = None
        postings: list[tuple] = []
        field_lengths = None
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lastfn is not None and fieldname < lastfn:
                    raise OutOfOrderError(f"Field {lastfn!r} .. {fieldname!r}")
                if lasttext is not None:
                    self._write_term(lasttext, postings, inline_limit)
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                lastfn, lasttext, postings = fieldname, None, []
                # Each record's length of the field, by record number (asked once a field).
                field_lengths = _field_lengths(lengths, fieldname)
            if docnum == -1:         # Whoosh's marker of a spelling word, not a posting (its writer skips it too)
                continue
            if btext != lasttext:
                if lasttext is not None:
                    if btext < lasttext:
                        raise OutOfOrderError(f"Term {fieldname}:{lasttext!r} .. {fieldname}:{btext!r}")
                    self._write_term(lasttext, postings, inline_limit)
                lasttext, postings = btext, []
            postings.append((docnum, weight, b"" if value is None else value, field_lengths[docnum]))
        if lasttext is not None:
            self._write_term(lasttext, postings, inline_limit)
        if lastfn is not None:
            self.finish_field()

    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        # Asked once a field instead of once a term.
        self._no_values = self._format.fixed_value_size() == 0
        self._key_prefix = pack_ushort(self._fieldid)

    def _write_term(self, btext, postings, inline_limit):
        if len(postings) >= inline_limit:
            self.start_term(btext)
            for posting in postings:
                self.add(*posting)
            self.finish_term()
            return
        # As W3PostingsWriter.add_posting, _InliningPostingsWriter.finish_postings,
        # W3TermInfo.add_block and to_bytes do it: weights stored as 32-bit floats,
        # empty values and zero lengths left out, the maximum weight from 0.
        if len(postings) == 1:
            # Most terms of a segment (390,000 of 532,000 in a 1,000-page build): the same, unrolled.
            docnum, raw_weight, value, length = postings[0]
            weight = _FLOAT32.unpack(_FLOAT32.pack(raw_weight))[0]
            values = (None,) if self._no_values else (value,) if value else ()
            length = _length_byte(length) if length else 0
            info = _TERM_INFO.pack(True, weight, 1, length, length, raw_weight if raw_weight > 0 else 0,
                                   docnum, docnum)
            value = info + dumps(((docnum,), (weight,), values), 2)
        else:
            ids, raw_weights, values, lengths = zip(*postings)
            weights = array("f", raw_weights)
            if self._no_values:
                values = (None,) * len(ids)
            elif not all(values):
                values = tuple(filter(None, values))
            if not all(lengths):
                lengths = tuple(filter(None, lengths))
            minlength = length_to_byte(min(lengths)) if lengths else 0
            maxlength = length_to_byte(max(lengths)) if lengths else 0
            maxweight = max(raw_weights)
            if not maxweight > 0:
                maxweight = 0
            info = _TERM_INFO.pack(True, sum(weights), len(ids), minlength, maxlength, maxweight, ids[0], ids[-1])
            value = info + dumps((ids, tuple(weights), values), 2)
        # The keys come sorted (checked above).
        self._tindex.append(self._key_prefix + btext, value)


class ArchiveCodec(W3Codec):
    """Whoosh's W3 codec with short posting lists inlined.

    A commit costs about 50 µs per distinct term and segment, mostly to write
    each term's block (two pickles and a zlib call); a Chinese page brings
    about a thousand distinct bigrams, nearly all with a posting or two in a
    new segment. Inlining them halves the commit of a 20-page Chinese
    document. Pickled into every segment it writes: keep this import path.
    """

    def __init__(self, blocklimit=128, compression=3, inlinelimit=INLINE_POSTINGS):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def field_writer(self, storage, segment):
        return _ArchiveFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        return _InliningPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                       compression=self._compression, inlinelimit=self._inlinelimit)


# --- blocks with their positions apart -------------------------------------------------
#
# Whoosh's W3 block is one zlib'd pickle of (ids, weights, values). A common
# word's values (its positions in a whole file) are 95 % of it, so scoring
# the word decompressed and unpickled them for nothing: 8 ms for "region"
# at 50,000 pages, 0.2 ms for its ids and weights alone. A split block holds
# its ids and weights apart from its values, and the values in chunks of
# VALUE_CHUNK postings, each compressed on its own:
#     [4-byte length of A][A: (ids, weights)]
#     [B: 4-byte chunk count n, n 4-byte chunk ends, the chunks]    (absent without values)
# Values are read when something asks for them: a phrase check reads those
# of its candidates, the pages of a result shown those of ten records (a
# chunk of 16 decodes in a sixth of the time of a block of 128, for 6 % more
# bytes, measured on the commonest words of the 50,000-page benchmark).

_UINT = struct.Struct("<I")
VALUE_CHUNK = 16


class _SplitBlockPostingsWriter(_InliningPostingsWriter):
    """Writes split blocks (the W3 block header, then the two parts)."""

    def _write_block(self, last=False):
        postfile = self._postfile
        if not self._blockcount:
            postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        comp = self._compression
        head = dumps((self._mini_ids(), self._mini_weights()), 2)
        if comp:
            head = zlib.compress(head, comp)
        parts = [_UINT.pack(len(head)), head]
        if self._format.fixed_value_size() != 0:
            values = self._values
            chunks = [dumps(tuple(values[i:i + VALUE_CHUNK]), 2) for i in range(0, len(values), VALUE_CHUNK)]
            if comp:
                chunks = [zlib.compress(chunk, comp) for chunk in chunks]
            ends = list(accumulate(map(len, chunks)))
            parts += [struct.pack(f"<{len(ends) + 1}I", len(ends), *ends)] + chunks
        databytes = b"".join(parts)
        ids = self._ids
        infobytes = dumps((len(ids), ids[-1], self._maxweight, comp,
                           length_to_byte(self._minlength), length_to_byte(self._maxlength)), 2)
        blocklength = len(infobytes) + len(databytes)
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class _BlockValues:
    """The values of one split block; its chunk table and each chunk are read on first access."""

    __slots__ = ("_postfile", "_start", "_end", "_compression", "_count", "_ends", "_chunks_start", "_chunks")

    def __init__(self, postfile, start: int, end: int, compression: int, count: int):
        self._postfile = postfile
        self._start, self._end = start, end
        self._compression = compression
        self._count = count
        self._ends: tuple | None = None
        self._chunks_start = 0
        self._chunks: list = []

    def _read_table(self) -> tuple:
        postfile, start = self._postfile, self._start
        (n,) = _UINT.unpack(postfile.get(start, _UINT.size))
        self._ends = struct.unpack(f"<{n}I", postfile.get(start + _UINT.size, n * _UINT.size))
        self._chunks_start = start + (n + 1) * _UINT.size
        self._chunks = [None] * n
        return self._ends

    def _chunk(self, k: int) -> tuple:
        chunk = self._chunks[k]
        if chunk is None:
            ends = self._ends
            begin = ends[k - 1] if k else 0
            data = self._postfile.get(self._chunks_start + begin, ends[k] - begin)
            chunk = self._chunks[k] = loads(zlib.decompress(data) if self._compression else data)
        return chunk

    def __getitem__(self, i: int):
        if self._start >= self._end:              # a format without values
            return None
        if self._ends is None:
            self._read_table()
        k, j = divmod(i, VALUE_CHUNK)
        return self._chunk(k)[j]

    def all(self) -> tuple:
        if self._start >= self._end:
            return (None,) * self._count
        if self._ends is None:
            self._read_table()
        return tuple(v for k in range(len(self._ends)) for v in self._chunk(k))


class SplitBlockMatcher(W3LeafMatcher):
    """W3LeafMatcher over split blocks: ids and weights read from part A, values from part B when asked."""

    def _read_data(self):
        postfile = self._postfile
        (head_length,) = _UINT.unpack(postfile.get(self._dataoffset, _UINT.size))
        head_start = self._dataoffset + _UINT.size
        head = postfile.get(head_start, head_length)
        if self._compression:
            head = zlib.decompress(head)
        ids, weights = loads(head)
        self._data = (ids, weights, None)
        self._values_start = head_start + head_length

    def block_values(self) -> _BlockValues:
        """The current block's values, read as they are indexed."""
        if self._data is None:
            self._read_data()
        return _BlockValues(self._postfile, self._values_start, self._nextoffset, self._compression,
                            self._blocklength)

    def _read_values(self):
        self._values = self.block_values().all()

    def value(self):
        # Only the chunk holding this posting's value is read (W3LeafMatcher.value reads
        # the whole block's): the pages of a result shown ask for a value here and there.
        values = self._values
        if values is None:
            values = self._values = self.block_values()
        return values[self._i]


class LazyBlockValues:
    """A term's posting values, as a sequence: add_block() each block as it is read; a value is
    read (with its chunk) when it is indexed."""

    __slots__ = ("_starts", "_blocks", "_length")

    def __init__(self):
        self._starts: list[int] = []              # index of each block's first posting
        self._blocks: list[_BlockValues] = []
        self._length = 0

    def add_block(self, matcher: SplitBlockMatcher) -> None:
        """Add the block MATCHER is on."""
        self._starts.append(self._length)
        self._blocks.append(matcher.block_values())
        self._length += matcher._blocklength

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: int):
        if not 0 <= i < self._length:
            raise IndexError(i)
        k = bisect_right(self._starts, i) - 1
        return self._blocks[k][i - self._starts[k]]

    def __iter__(self):
        return (self[i] for i in range(self._length))


class SplitBlockCodec(ArchiveCodec):
    """ArchiveCodec writing split blocks (their positions apart), compressed at zlib level 1.

    Level 1 compresses the positions twice as fast as level 3, to 3 % more
    bytes (measured on the 50,000-page benchmark's commonest words). Segments
    written before keep their ArchiveCodec (it is pickled into each), and read
    as before. Pickled into every segment it writes: keep this import path.
    """

    def __init__(self, blocklimit=128, compression=1, inlinelimit=INLINE_POSTINGS):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids=False):
        return _SplitBlockPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                         compression=self._compression, inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return SplitBlockMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


def writing_codec() -> SplitBlockCodec:
    """The codec new segments are written with (by index_writer and indexer.segments)."""
    return SplitBlockCodec()


def index_writer(ix, limitmb: int = 128, **kwargs):
    """A writer on IX (an ArchiveSegmentWriter) that writes its segments with writing_codec() and
    pools postings in a BatchedRunPool."""
    writer = ArchiveSegmentWriter(ix, codec=writing_codec(), limitmb=limitmb, **kwargs)
    # Whoosh's pool is replaced before anything is added (it holds nothing yet).
    writer.pool = BatchedRunPool(writer._tempstorage, writer.newsegment, limitmb=limitmb)
    return writer


def _listed_postings(field, value) -> list | None:
    """FIELD's postings of VALUE as field.index(value) gives them, as a list; None for a field
    whose format is not one of analysis's (IndexPositions, IndexFrequency)."""
    if (type(field.format) not in (IndexPositions, IndexFrequency) or not isinstance(value, str)
            or type(field).index is not FieldType.index):
        return None
    # FieldType.index: the format's word values with the term as UTF-8.
    return [(text.encode("utf-8"), freq, weight, vbytes)
            for text, freq, weight, vbytes in field.format.word_values(value, field.analyzer, mode="index")]


def _spelling_words(field, value) -> list[str]:
    """field.spellable_words(value): from the analyzer's plain_words when it has them (a word
    through the filters once, not each token through Whoosh's chain of generators)."""
    plain_words = getattr(field.analyzer, "plain_words", None)
    words = plain_words(value) if plain_words is not None and isinstance(value, str) else None
    return sorted(words) if words is not None else list(field.spellable_words(value))


class ArchiveSegmentWriter(SegmentWriter):
    """Whoosh's SegmentWriter, adding each text field's postings to the pool in one call.

    Whoosh's add_document takes each posting through two generators (the
    field's index() and its format's word_values) and a call of the pool's
    add(): about 1,200 postings a page. For the fields whose format is
    analysis.IndexPositions or IndexFrequency (every text field here) the
    postings come as a list and go to the pool in one call
    (BatchedRunPool.add_field). Otherwise this is Whoosh's add_document, and
    the same postings, lengths, stored fields and columns are written
    (tests/test_codec.py compares segments written both ways byte for byte).
    """

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        add_post = pool.add
        add_field = getattr(pool, "add_field", None)
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        # Whoosh gives a field's spelling words the value of the record's last posting so far.
        vbytes = None
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    postings = _listed_postings(field, value) if add_field is not None else None
                    if postings is not None:
                        if postings:
                            if fieldboost != 1.0:
                                postings = [(btext, freq, weight * fieldboost, vb)
                                            for btext, freq, weight, vb in postings]
                            if field.scorable:
                                length = sum([posting[1] for posting in postings])
                            add_field(fieldname, docnum, postings)
                            vbytes = postings[-1][3]
                    else:
                        scorable = field.scorable
                        for tbytes, freq, weight, vbytes in field.index(value):
                            weight *= fieldboost
                            if scorable:
                                length += freq
                            add_post((fieldname, tbytes, docnum, weight, vbytes))
                if field.separate_spelling():
                    spellfield = field.spelling_fieldname(fieldname)
                    for word in _spelling_words(field, value):
                        add_post((spellfield, word.encode("utf-8"), 0, 1, vbytes))
                vformat = field.vector
                if vformat:
                    vitems = vformat.word_values(value, field.analyzer, mode="index")
                    vitems = sorted((text, weight, vb) for text, _, weight, vb in vitems)
                    perdocwriter.add_vector_items(fieldname, field, vitems)
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1


def create_index(path: Path):
    """Create an empty index with the current schema in PATH."""
    return DurableFileStorage(str(path)).create_index(build_schema(), indexname=INDEX_NAME)


def open_index(path: Path):
    return DurableFileStorage(str(path)).open_index(indexname=INDEX_NAME)


def swap_current(index_dir: Path, generation: Path) -> None:
    """Point `current` at GENERATION atomically, then drop older generations."""
    tmp = Path(index_dir) / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, Path(index_dir) / CURRENT)
    _fsync_dir(index_dir)
    remove_old_generations(index_dir, keep=generation)


def remove_old_generations(index_dir: Path, keep: Path) -> None:
    """Delete generations other than KEEP.

    Readers that still have an old generation open keep reading it: on POSIX
    an unlinked file stays readable through its open handles.
    """
    for p in Path(index_dir).iterdir():
        if GEN_PATTERN.match(p.name) and p.name != keep.name:
            shutil.rmtree(p, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the one-writer lock ---------------------------------------------------


def flock_within(fh, timeout: float) -> bool:
    """Take an exclusive flock on FH, waiting up to TIMEOUT seconds; False if it stayed taken."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


class WriterLock:
    """An exclusive lock on the index for one writing process.

    flock locks die with their process, so a lock left by a killed update is
    never stale for the kernel; the pid file is only for telling users who
    holds it.
    """

    def __init__(self, index_dir: Path, timeout: float = 10.0, what: str = ""):
        self.path = Path(index_dir) / "writer.lock"
        self.timeout = timeout
        self.what = what or " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))
        self._fh = None
        self.cleared_stale: str = ""

    def acquire(self) -> "WriterLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        if not flock_within(fh, self.timeout):
            holder = self._holder(fh)
            fh.close()
            raise IndexLockedError(f"an update is already running ({holder}); try again when it has finished")
        fh.seek(0)
        previous = fh.read().strip()
        if previous:
            # The lock was free but the file still names a holder: that process
            # died without cleaning up. flock already released it; say so.
            self.cleared_stale = previous
            log.warning("cleared a stale writer lock left by %s", previous)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "what": self.what, "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        fh.flush()
        self._fh = fh
        return self

    @staticmethod
    def _holder(fh) -> str:
        fh.seek(0)
        try:
            info = json.loads(fh.read() or "{}")
        except ValueError:
            info = {}
        if not info:
            return "held by another process"
        return f"process {info.get('pid')}: {info.get('what', '?')}, since {info.get('since', '?')}"

    def release(self) -> None:
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.flush()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


# --- readers ----------------------------------------------------------------


_frozen = False


def _freeze_long_lived() -> None:
    """Once per process, when its first searcher opens: leave everything alive so far (modules,
    the web app, jieba) out of the garbage collector's full collections (gc.freeze).

    A full collection walked those 50,000-odd objects every twenty searches
    or so: a 20-40 ms pause inside one search at 50,000 pages, the slowest
    few per cent of all searches. The searches' own objects are collected as
    before. (Python's documentation recommends the same for pre-forking servers.)
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
        # readlink instead of current_generation's opening of the index, which
        # read its table of contents (0.3 ms, a web request's 1 %).
        if cached is not None and _link_target(self.index_dir) == cached[0].name:
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


# Files opened by the current thread while it opens a searcher (see _open_live).
_opening = threading.local()


def _open_live(index_dir: Path):
    """(generation, index, searcher) of the live index.

    A rebuild may swap `current` and delete the generation it pointed to
    while this opens it; then the new generation is opened instead.
    """
    for attempt in range(5):
        gen = current_generation(index_dir)
        if gen is None:
            raise IndexMissingError("no index has been built yet: run `python -m indexer update`")
        # Whoosh does not close the segment files it had opened when a later
        # one fails (the generation was deleted meanwhile): close them here.
        _opening.files = []
        try:
            ix = open_index(gen)
            return gen, ix, ix.searcher()
        except Exception:
            for f in _opening.files:
                with contextlib.suppress(Exception):
                    f.close()
            if attempt == 4 or current_generation(index_dir) == gen:
                raise
        finally:
            _opening.files = None


@contextlib.contextmanager
def open_searcher(index_dir: Path):
    """A searcher on the live index, closed on exit."""
    _, _, s = _open_live(index_dir)
    try:
        yield s
    finally:
        s.close()
