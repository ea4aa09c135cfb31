"""Fast reads of a committed segment: record lengths, columns, stored records and postings, kept per segment."""

from __future__ import annotations

import json

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3TermsReader,
)
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length



# Record lengths as Whoosh's W3PerDocReader.doc_field_length gives them: the
# length byte decoded, None for a record without the field.
_BYTE_LENGTH = [byte_to_length(b) if b else None for b in range(256)]


def field_length_list(perdoc, fieldname: str) -> list | None:
    """Every record's length of FIELDNAME in one segment, from a W3PerDocReader; None without lengths.

    The reader looks each length up through a column reader, several calls
    each; a list read once serves the many lookups of writing or scoring a
    segment.
    """
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    return None if column is None else [_BYTE_LENGTH[b] for b in column]


# Values computed from one index segment, by (segment id, name). A segment never
# changes once written (deletions live apart), so they serve every later searcher.
# Its id is 16 random characters, new for every segment written (a staged
# segment moved into the index keeps its id and its content). The index folder
# cannot be part of the key: a compound segment's reader sees only its own file.
# Least recently used first: the lists of segments merged away age out, and the
# lists the searches of the live segments use (a few per segment) stay.
_SEGMENT_VALUES: dict[tuple[str, str], tuple] = {}
_SEGMENT_VALUES_MAX = 2048


def segment_values(reader, name: str, compute) -> tuple:
    """COMPUTE(reader) as a tuple, kept for READER's segment under NAME; computed afresh for a reader
    that is not a segment (an empty index).

    A tuple, not a list: the garbage collector stops tracking a tuple of
    untracked values (numbers, strings, such tuples), while each of its full
    collections would walk every element of cached lists, a pause inside
    whichever search triggers it.
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
    so do the status, an upload and the first search on a new searcher, so
    even an update of one file would read them all. A segment's stored fields
    never change; deletions are checked at each call.
    """
    for reader, _offset in searcher.reader().leaf_readers():
        for docnum, fields in _stored_rows(reader, record):
            if not reader.is_deleted(docnum):
                yield fields


def stored_records_data(searcher, record: str):
    """(stored fields, their "data" JSON parsed) of every live record of kind RECORD, as
    stored_records gives them, parsed once per segment and process. Read-only: the dictionaries
    are shared.

    Every update parses the data of every file and document record, and every
    new searcher the documents': a segment's records never change, so each is
    parsed once.
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
# hash, two reads and an unpickling; a search makes such a lookup per term
# and segment); like Lucene's in-memory terms index, the entries a process
# has used are kept. Emptied when full: refilling costs one lookup each.
_TERM_ENTRIES: dict[tuple[str, str, bytes], object] = {}
_TERM_ENTRIES_MAX = 50_000
_UNSEEN = object()


def _term_entry(reader, fieldname: str, btext: bytes):
    """The term's entry in a segment reader's term table (see _TERM_ENTRIES), None if the segment
    lacks the term, _UNSEEN for a reader whose table is not read this way."""
    segment = getattr(reader, "segment", None)
    terms = getattr(reader, "_terms", None)
    if segment is None or not isinstance(terms, W3TermsReader) or reader.is_closed:
        return _UNSEEN
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
    return entry


def holds_term(searcher, fieldname: str, text: str) -> bool:
    """Whether any segment of SEARCHER holds the term TEXT of FIELDNAME (deleted records included)."""
    if fieldname not in searcher.schema:
        return False
    try:
        btext = searcher.schema[fieldname].to_bytes(text)
    except ValueError:
        return False
    for reader, _offset in searcher.reader().leaf_readers():
        entry = _term_entry(reader, fieldname, btext)
        if entry is _UNSEEN:
            if (fieldname, btext) in reader:
                return True
        elif entry is not None:
            return True
    return False


def term_postings(reader, fieldname: str, btext: bytes):
    """reader.postings(fieldname, btext) of a segment reader, raising TermNotFound as it does, with
    the term's entry looked up once per process (see _TERM_ENTRIES)."""
    terms = getattr(reader, "_terms", None)
    entry = _term_entry(reader, fieldname, btext)
    if entry is _UNSEEN:
        return reader.postings(fieldname, btext)
    if entry is None:
        raise TermNotFound(f"No term {fieldname}:{btext!r}")
    matcher = terms._codec.postings_reader(terms._postfile, entry, reader.schema[fieldname].format,
                                           term=(fieldname, btext))
    deleted = reader.deleted_docs_set
    return FilterMatcher(matcher, deleted, exclude=True) if deleted else matcher



def searcher_cache(searcher, name: str, compute):
    """COMPUTE() kept on SEARCHER under NAME: a searcher's committed state never changes, so what is
    derived from it serves every later call on the same searcher."""
    cache = searcher.__dict__.setdefault("_archive_cache", {})
    if name not in cache:
        cache[name] = compute()
    return cache[name]
