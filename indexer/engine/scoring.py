"""A term's postings in one segment, read block by block, and their BM25F scores.

Whoosh evaluates a query a document at a time: a tree of matchers advanced
posting by posting, each hit scored through several layers of method calls.
The search wants every match (its totals and facet counts are exact), and a
common word matches most files. Here each term's posting list is read block by
block (ids and weights come out of Whoosh's block decoder whole) and scored in
one comprehension with Whoosh's own BM25F formula (ranking.BM25_K1, BM25_B),
statistics and field lengths; engine.evaluate combines the scores over the
query tree. Scores equal Whoosh's up to the order of floating-point additions
(tests/test_scoring.py compares the two on real indexes).
"""

from __future__ import annotations

from itertools import accumulate, repeat
from math import log

from whoosh.codec.whoosh3 import W3LeafMatcher, W3PerDocReader
from whoosh.matching.wrappers import FilterMatcher

from .codec import LazyBlockValues, SplitBlockMatcher
from .ranking import BM25_B, BM25_K1
from .reading import field_length_list, segment_values


class NotOurSegment(Exception):
    """A segment or posting list not written by this project's codec (engine.codec)."""


def field_lengths(reader, fieldname: str) -> tuple:
    """Each record's length of FIELDNAME in this segment (as Whoosh's doc_field_length gives it)."""
    perdoc = getattr(reader, "_perdoc", None)
    if getattr(reader, "segment", None) is None or not isinstance(perdoc, W3PerDocReader):
        raise NotOurSegment("not a W3 segment reader")
    return segment_values(reader, f"length:{fieldname}", lambda _: field_length_list(perdoc, fieldname) or ())


def warm_up(searcher, fieldnames) -> None:
    """Read every segment's record lengths and the average length of FIELDNAMES, as scoring them
    would, so that the first searches of a server do not pay for it."""
    for reader, _offset in searcher.reader().leaf_readers():
        try:
            for fieldname in fieldnames:
                field_lengths(reader, fieldname)
        except NotOurSegment:     # not a segment of ours: nothing kept to read ahead
            return
    for fieldname in fieldnames:
        average_length(searcher, fieldname)


def average_length(searcher, fieldname: str) -> float:
    """searcher.avg_field_length(fieldname), kept on the searcher (whose index never changes).

    Whoosh adds up every segment's total on each call, and scoring asks once
    for each term: a prefix expanding to thousands of terms would add them up
    thousands of times.
    """
    cache = searcher.__dict__.setdefault("_archive_average_lengths", {})
    if fieldname not in cache:
        cache[fieldname] = searcher.avg_field_length(fieldname)
    return cache[fieldname]


def seed_prefix_idfs(searcher, fieldname: str, prefix: str) -> None:
    """Put the idf of every term starting with PREFIX into the searcher's idf cache, once per searcher.

    Whoosh's idf of a term adds up its document frequency over every segment,
    a term-table lookup each, and a one-character Chinese query stands for
    thousands of bigrams: a lookup per bigram and segment. One scan of each
    segment's terms with the prefix gives the same sums; the formula is
    WeightingModel.idf's.
    """
    seeded = searcher.__dict__.setdefault("_archive_seeded_prefixes", set())
    if (fieldname, prefix) in seeded or not hasattr(searcher, "_idf_cache"):
        return
    frequencies: dict[bytes, int] = {}
    for reader, _ in searcher.reader().leaf_readers():
        for text, info in reader.iter_prefix(fieldname, prefix):
            frequencies[text] = frequencies.get(text, 0) + info.doc_frequency()
    count = searcher.doc_count_all()
    for text, frequency in frequencies.items():
        searcher._idf_cache.setdefault((fieldname, text), log(count / (frequency + 1)) + 1)
    seeded.add((fieldname, prefix))


def read_postings(matcher):
    """The ids, weights and values of a term's postings in one segment, deletions left out.

    Whoosh's block matcher is read a block at a time; any other matcher
    posting by posting.
    """
    deleted = ()
    if isinstance(matcher, FilterMatcher):
        if not matcher._exclude:
            raise NotOurSegment("an include filter on postings")
        deleted, matcher = matcher._ids, matcher.child
    ids: list[int] = []
    weights: list[float] = []
    values: list | LazyBlockValues = []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        fixedsize = matcher._fixedsize
        split = isinstance(matcher, SplitBlockMatcher)
        if split:
            values = LazyBlockValues()
        while matcher.is_active():
            # A block's ids (as deltas), weights and values (positions) are
            # decoded here as W3LeafMatcher._read_ids/_weights/_values do, but
            # with the deltas summed in C (accumulate), where Whoosh runs a Python
            # generator. The values of a split block (codec.SplitBlockCodec) are
            # left unread.
            if matcher._data is None:
                matcher._read_data()
            block_ids, block_weights, block_values = matcher._data[:3]
            count = matcher._blocklength
            ids.extend(accumulate(block_ids))
            if block_weights is None:
                weights.extend(repeat(1.0, count))
            elif isinstance(block_weights, float):
                weights.extend(repeat(block_weights, count))
            else:
                weights.extend(block_weights)
            if split:
                values.add_block(matcher)
            elif fixedsize is None or fixedsize < 0:
                values.extend(block_values)
            elif fixedsize == 0:
                values.extend(repeat(None, count))
            else:
                matcher._read_values()
                values.extend(matcher._values)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            values.append(matcher.value())
            matcher.next()
    if deleted:
        keep = [i for i, d in enumerate(ids) if d not in deleted]
        ids = [ids[i] for i in keep]
        weights = [weights[i] for i in keep]
        values = _Picked(values, keep) if isinstance(values, LazyBlockValues) else [values[i] for i in keep]
    return ids, weights, values


class _Picked:
    """The items INDICES of a sequence, as a sequence, read only when asked for."""

    __slots__ = ("_items", "_indices")

    def __init__(self, items, indices: list[int]):
        self._items = items
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, i: int):
        return self._items[self._indices[i]]

    def __iter__(self):
        return (self._items[i] for i in self._indices)


def bm25_scores(searcher, reader, fieldname: str, btext: bytes, ids, weights) -> list[float]:
    """Whoosh's BM25F score (scoring.BM25FScorer, with ranking.BM25_K1 and BM25_B) of each posting
    of term BTEXT in FIELDNAME of segment READER, with SEARCHER's statistics (idf, average length)."""
    if not searcher.schema[fieldname].scorable:
        return list(weights)
    idf = searcher.idf(fieldname, btext)
    avgfl = average_length(searcher, fieldname) or 1
    B = BM25_B
    K1 = BM25_K1
    lengths = field_lengths(reader, fieldname)
    # bm25(idf, tf, fl, avgfl, B, K1) written out, with no call per posting; the same
    # operations in the same order, so each posting's score is Whoosh's, bit for bit.
    k = K1 + 1
    return [idf * ((tf * k) / (tf + K1 * ((1 - B) + B * lengths[d] / avgfl))) for d, tf in zip(ids, weights)]
