"""How segments are written and read: short posting lists inlined, a term table written in one pass,
and blocks whose positions are kept apart from their ids and weights."""

from __future__ import annotations

import struct
import zlib
from array import array
from bisect import bisect_right
from itertools import accumulate
from pickle import dumps, loads

from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PerDocReader,
    W3PostingsWriter,
)
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter
from whoosh.system import pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.util.numlists import GrowableArray

from .reading import field_length_list



# The version of the on-disk format written by this module and writer.py, in
# every index's stamp (indexer.engine.stamp): bump it with any change to the
# bytes a segment is written as, so that indexes written before are rebuilt.
CODEC_VERSION = 1

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

    A segment holds hundreds of terms a page, and Whoosh spends about ten
    method calls on each entry: the file's position asked of the file, the
    position appended to an array that checks its type, an md5 of
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

    Each posting written needs its record's length (for the block's min/max
    length): read by record number from a list per field (_field_lengths),
    not looked up through a column reader per posting. Most terms of a
    segment have a posting or two (a file's rare words, bigrams and word
    pairs), and Whoosh spends a dozen method calls on each term
    (a posting writer, a term info, a hash table entry). A term with fewer
    postings than the inline limit is written here directly: the same term
    info bytes (W3TermInfo.to_bytes of an inlined term) and the same term
    table entry (_TermTable.add); tests compare the files byte for byte with
    Whoosh's (its term table hashing with crc32). Longer posting lists go
    through Whoosh's writer.
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
            # Most terms of a segment have a single posting: the same, unrolled.
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

    A term with a block of its own costs a commit two pickles and a zlib
    call; a Chinese page brings about a thousand distinct bigrams, nearly all
    with a posting or two in a new segment, so inlining them (in the term's
    entry) saves most of a small commit's writing. Pickled into every segment
    it writes: keep this import path.
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
# word's values (its positions in a whole file) are most of its bytes, and
# scoring needs only the ids and weights: in a W3 block it would decompress
# and unpickle the values for nothing. A split block holds
# its ids and weights apart from its values, and the values in chunks of
# VALUE_CHUNK postings, each compressed on its own:
#     [4-byte length of A][A: (ids, weights)]
#     [B: 4-byte chunk count n, n 4-byte chunk ends, the chunks]    (absent without values)
# Values are read when something asks for them: a phrase check reads those
# of its candidates, the pages of a result shown those of ten records, so a
# small chunk decodes little beyond the values asked for, for a few more
# bytes than one compressed block (docs/DECISIONS.md, "Posting blocks").

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

    Level 1 rather than Whoosh's 3: positions compress in less time to nearly
    the same size. A segment written by ArchiveCodec keeps it (the codec is
    pickled into each segment) and is read by it, beside split-block segments,
    until a merge rewrites it. Pickled into every segment it writes: keep this
    import path.
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

