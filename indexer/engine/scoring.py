"""Every record matching a query, with its score, computed a term at a time.

Whoosh evaluates a query a document at a time: a tree of matchers advanced
posting by posting, each hit scored through several layers of method calls
(5–10 µs a hit and field). The search wants every match (its totals and
facet counts are exact), and a common word matches most files, so at 50,000
pages that was most of a query's time. Here each term's posting list is read
block by block (ids and weights come out of Whoosh's block decoder whole),
scored in one comprehension with Whoosh's own BM25F formula, statistics and
field lengths, and the query tree is evaluated on dicts {docnum: score}: AND
intersects and adds, OR unites and adds, NOT removes, as Whoosh's matchers do.
Scores equal Whoosh's up to the order of floating-point additions
(tests/test_scoring.py compares the two on real indexes).

A prefix or wildcard is scored as the OR of the words it stands for (see
_Segment._multiterm). Two facts of the index spare position checks: a record
holding a jieba word, or a phrase of them, holds its characters' bigrams side by
side, and a record holding an English word pair holds that two-word phrase
(schema.WORD_FIELD_BIGRAMS, PHRASE_PAIR_FIELDS). A query holding a kind of node
not handled here (phrases with slop, DisjunctionMax, Every, numeric ranges, ...)
makes `matches()` return None; the caller then collects with Whoosh as before.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import accumulate, repeat
from math import log
from operator import itemgetter

from whoosh import query as wq, scoring as wscoring
from whoosh.codec.whoosh3 import W3LeafMatcher, W3PerDocReader
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from .ranking import BM25_B, BM25_K1
from .phrases import AdjacentPhrase, phrase_occurs
from .schema import PHRASE_PAIR_FIELDS, WORD_FIELD_BIGRAMS
from .codec import LazyBlockValues, SplitBlockMatcher
from .reading import field_length_list, segment_values, term_postings

Scores = dict[int, float]          # segment-local docnum -> score
# (segment offset, field, term bytes) -> (segment-local ids, posting values), for each term read.
# The values are a sequence, read block by block as they are indexed (codec.LazyBlockValues).
KeptPostings = dict[tuple[int, str, bytes], tuple[list[int], Sequence]]


class Unsupported(Exception):
    """The query holds a node this module does not evaluate."""


class DeadlinePassed(Exception):
    """The query ran past its time limit."""


def matches(searcher, q: wq.Query, scored: bool = True, allow: wq.Query | None = None,
            deadline: float | None = None) -> list[tuple[float, int]] | None:
    """(score, docnum) of every record matching Q (and ALLOW, when given), best first; None if Q is
    not supported. Unscored, the scores mean nothing.

    DEADLINE is a time.monotonic() value; past it, DeadlinePassed is raised.
    """
    found = matches_each(searcher, [(q, scored)], allow, deadline)
    return None if found is None else found[0]


def matches_each(searcher, queries: list[tuple[wq.Query, bool]], allow: wq.Query | None = None,
                 deadline: float | None = None,
                 keep: KeptPostings | None = None) -> list[list[tuple[float, int]]] | None:
    """matches() for each (query, scored) pair, in one pass over the segments.

    A term or phrase the queries share is read and checked once (the
    glossary-expanded query and the user's own words share all of theirs).
    Given KEEP, the postings read are left in it for indexer.engine.pagematch,
    which needs the positions of the words in the files shown.
    """
    weighting = searcher.weighting
    if type(weighting) is not wscoring.BM25F:
        return None
    out: list[list[tuple[float, int]]] = [[] for _ in queries]
    try:
        for sub, offset in searcher.leaf_searchers():
            segment = _Segment(searcher, sub.reader(), offset, weighting, deadline, keep)
            allowed = None
            for (q, scored), results in zip(queries, out):
                found = segment.evaluate(q, scored)
                if found and allow is not None:
                    if allowed is None:
                        allowed = segment.evaluate(allow, False)
                    found = {d: s for d, s in found.items() if d in allowed}
                results.extend((s, d + offset) for d, s in found.items())
    except Unsupported:
        return None
    for results in out:
        # Best first, then by docnum, as Whoosh's collector orders them: two
        # stable sorts on C keys, three times faster than a tuple key.
        results.sort(key=itemgetter(1))
        results.sort(key=itemgetter(0), reverse=True)
    return out


def _field_lengths(reader, fieldname: str) -> tuple:
    """Each record's length of FIELDNAME in this segment (as Whoosh's doc_field_length gives it)."""
    perdoc = getattr(reader, "_perdoc", None)
    if getattr(reader, "segment", None) is None or not isinstance(perdoc, W3PerDocReader):
        raise Unsupported("not a W3 segment reader")
    return segment_values(reader, f"length:{fieldname}", lambda _: field_length_list(perdoc, fieldname) or ())


def warm_up(searcher, fieldnames) -> None:
    """Read every segment's record lengths and the average length of FIELDNAMES, as scoring them
    would, so that the first searches of a server do not pay for it."""
    for reader, _offset in searcher.reader().leaf_readers():
        try:
            for fieldname in fieldnames:
                _field_lengths(reader, fieldname)
        except Unsupported:     # not a segment of ours: searched through Whoosh, nothing to read
            return
    for fieldname in fieldnames:
        _average_length(searcher, fieldname)


def _average_length(searcher, fieldname: str) -> float:
    """searcher.avg_field_length(fieldname), kept on the searcher (whose index never changes).

    Whoosh adds up every segment's total on each call; a prefix expanding to
    a thousand terms asked a thousand times (0.45 s at 50,000 pages).
    """
    cache = searcher.__dict__.setdefault("_archive_average_lengths", {})
    if fieldname not in cache:
        cache[fieldname] = searcher.avg_field_length(fieldname)
    return cache[fieldname]


def _seed_prefix_idfs(searcher, fieldname: str, prefix: str) -> None:
    """Put the idf of every term starting with PREFIX into the searcher's idf cache, once per searcher.

    Whoosh's idf of a term adds up its document frequency over every segment,
    a term-table lookup each: a one-character Chinese query stands for about
    3,500 bigrams at 50,000 pages, 110,000 lookups and 3 s on its first run.
    One scan of each segment's terms with the prefix gives the same sums; the
    formula is WeightingModel.idf's.
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


def _postings(matcher):
    """The ids, weights and values of a term's postings in one segment, deletions left out.

    Whoosh's block matcher is read a block at a time; any other matcher
    posting by posting.
    """
    deleted = ()
    if isinstance(matcher, FilterMatcher):
        if not matcher._exclude:
            raise Unsupported("an include filter on postings")
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
            # decoded here as W3LeafMatcher._read_ids/_weights/_values do, with
            # the deltas summed in C instead of a Python generator. The values
            # of a split block (codec.SplitBlockCodec) are left unread.
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


class _Segment:
    """Evaluates queries on one segment of SEARCHER, with the top searcher's statistics."""

    def __init__(self, searcher, reader, offset: int, weighting: wscoring.BM25F, deadline: float | None,
                 kept: KeptPostings | None = None):
        self.top = searcher
        self.reader = reader
        self.offset = offset
        self.kept = kept
        self.schema = searcher.schema
        self.weighting = weighting
        self.deadline = deadline
        # Leaf query -> its scored matches here; a leaf asked for again
        # (scored or not) is not read twice.
        self.leaves: dict[wq.Query, Scores] = {}
        # (bigram field, bigrams) -> records known to hold them side by side:
        # those holding the jieba word, or phrase of words, they spell
        # (schema.WORD_FIELD_BIGRAMS).
        self.adjacent_known: dict[tuple[str, tuple[str, ...]], Scores | set[int]] = {}

    def _check_time(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeadlinePassed

    # --- leaves ---------------------------------------------------------

    def _term_postings(self, fieldname: str, text):
        """(btext, ids, weights, values) of a term here, or None if it is not in this segment."""
        if fieldname not in self.schema:
            return None
        field = self.schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return None
        self._check_time()
        try:
            # One term-table lookup: `in` and then postings() would make two.
            matcher = term_postings(self.reader, fieldname, btext)
        except TermNotFound:
            return None
        ids, weights, values = _postings(matcher)
        if self.kept is not None:
            self.kept[(self.offset, fieldname, btext)] = (ids, values)
        return btext, ids, weights, values

    def _bm25(self, fieldname: str, btext, ids, weights) -> list[float]:
        """Whoosh's BM25F score of each posting (scoring.BM25FScorer, with the top searcher's statistics)."""
        if not self.schema[fieldname].scorable:
            return list(weights)
        idf = self.top.idf(fieldname, btext)
        avgfl = _average_length(self.top, fieldname) or 1
        B = BM25_B
        K1 = BM25_K1
        lengths = _field_lengths(self.reader, fieldname)
        # bm25(idf, tf, fl, avgfl, B, K1), written out for speed, same operations in the same order.
        k = K1 + 1
        return [idf * ((tf * k) / (tf + K1 * ((1 - B) + B * lengths[d] / avgfl))) for d, tf in zip(ids, weights)]

    def _term(self, fieldname: str, text, boost: float, scored: bool) -> Scores:
        found = self._term_postings(fieldname, text)
        if found is None:
            return {}
        btext, ids, weights, _ = found
        if not scored:
            return dict.fromkeys(ids, 0.0)
        scores = self._bm25(fieldname, btext, ids, weights)
        if boost != 1.0:
            scores = [s * boost for s in scores]
        return dict(zip(ids, scores))

    def _phrase(self, q: wq.Phrase, scored: bool) -> Scores:
        """Words at consecutive positions (slop 1), scored as Whoosh scores a phrase: the sum of its words."""
        if q.slop != 1 or not q.words:
            raise Unsupported("a phrase with slop")
        known = self.adjacent_known.get((q.fieldname, tuple(q.words)), {})
        paired = None
        pair_field = PHRASE_PAIR_FIELDS.get(q.fieldname)
        # (An index of an older schema, until its rebuild, may lack the pair field.)
        if pair_field and pair_field in self.schema and len(q.words) > 1:
            # Only the records holding every consecutive pair can hold the phrase;
            # for two words, exactly those do. The pairs are read first: they are
            # rarer than their words, and a segment without them needs no more.
            pairing = self.schema[pair_field].analyzer
            for first, second in zip(q.words, q.words[1:]):
                if not pairing.is_paired(first, second):
                    continue
                pair = self._term_postings(pair_field, f"{first} {second}")
                if pair is None:
                    return {}
                paired = set(pair[1]) if paired is None else paired.intersection(pair[1])
                if not paired:
                    return {}
        postings = []
        for word in q.words:
            found = self._term_postings(q.fieldname, word)
            if found is None:
                return {}
            postings.append(found)
        candidates = set(postings[0][1]) if paired is None else paired
        for _, ids, _, _ in postings[1 if paired is None else 0:]:
            candidates.intersection_update(ids)
            if not candidates:
                return {}
        if paired is not None and len(q.words) == 2:
            known = candidates
        matched = [d for d in candidates if d in known]
        unknown = candidates.difference(known) if known else candidates
        if unknown:
            # Indexed, not iterated: only the blocks holding these records are read.
            values_by_word = [{d: values[i] for i, d in enumerate(ids) if d in unknown}
                              for _, ids, _, values in postings]
            matched += [d for d in unknown if phrase_occurs([by_doc[d] for by_doc in values_by_word])]
        self._check_time()
        bigram_field = WORD_FIELD_BIGRAMS.get(q.fieldname)
        if bigram_field:
            # Jieba words side by side: the records hold their characters' bigram phrase too.
            self.adjacent_known[(bigram_field, _bigrams("".join(q.words)))] = set(matched)
        if not scored:
            return dict.fromkeys(matched, 0.0)
        total = dict.fromkeys(matched, 0.0)
        for btext, ids, weights, _ in postings:
            keep = [(d, tf) for d, tf in zip(ids, weights) if d in total]
            if not keep:
                continue
            kept_ids, kept_weights = zip(*keep)
            for d, s in zip(kept_ids, self._bm25(q.fieldname, btext, kept_ids, kept_weights)):
                total[d] += s
        if q.boost != 1.0:
            total = {d: s * q.boost for d, s in total.items()}
        return total

    def _multiterm(self, q: wq.MultiTerm, scored: bool) -> Scores:
        """A prefix, wildcard, fuzzy term or term range: the OR of the terms it stands for in this segment.

        Each term scores as a Term with the query's boost, as in the query
        Whoosh's simplify() gives. (Whoosh's own matcher scores them so on
        segments of over 5,000 records and as a constant on smaller ones;
        here the scoring does not depend on how the index is cut.)
        """
        fieldname = q.field()
        if type(q) is wq.Prefix:
            _seed_prefix_idfs(self.top, fieldname, q.text)
        out: Scores = {}
        for text in q._btexts(self.reader):
            if not text:
                continue
            for d, s in self._term(fieldname, text, q.boost, scored).items():
                out[d] = out[d] + s if d in out else s
        return out

    def _everything_but(self, excluded: Scores) -> Scores:
        """Whoosh's InverseMatcher: every record not deleted and not in EXCLUDED, each scoring 1."""
        reader = self.reader
        deleted = reader.is_deleted
        has_deletions = reader.has_deletions()
        return {d: 1.0 for d in range(reader.doc_count_all())
                if d not in excluded and not (has_deletions and deleted(d))}

    def _and(self, subs, scored: bool) -> Scores:
        """AND; a NOT part removes its records and, as Whoosh's InverseMatcher does, adds 1 to the score."""
        positive = [s for s in subs if not isinstance(s, wq.Not)]
        negative = [s for s in subs if isinstance(s, wq.Not)]
        if not positive:
            return _intersect([self.evaluate(s, scored) for s in subs])
        parts = []
        for s in positive:
            part = self.evaluate(s, scored)
            if not part:
                return {}
            parts.append(part)
        out = _intersect(parts)
        for s in negative:
            if not out:
                break
            excluded = self.evaluate(s.query, False)
            out = {d: v + 1.0 for d, v in out.items() if d not in excluded}
        return out

    # --- the tree ---------------------------------------------------------

    def evaluate(self, q: wq.Query, scored: bool) -> Scores:
        if q.is_leaf():
            found = self.leaves.get(q)
            if found is None:
                found = self._leaf(q, scored)
                if scored:
                    self.leaves[q] = found
            return found
        return self._branch(q, scored)

    def _leaf(self, q: wq.Query, scored: bool) -> Scores:
        kind = type(q)
        if kind is wq.Term:
            found = self._term(q.fieldname, q.text, q.boost, scored)
            bigram_field = WORD_FIELD_BIGRAMS.get(q.fieldname)
            if bigram_field and isinstance(q.text, str) and len(q.text) > 2:
                self.adjacent_known[(bigram_field, _bigrams(q.text))] = found
            return found
        if kind is AdjacentPhrase or kind is wq.Phrase:
            return self._phrase(q, scored)
        if kind in (wq.Prefix, wq.Wildcard, wq.FuzzyTerm, wq.TermRange):
            if kind is wq.Prefix and q.text == "":
                raise Unsupported("an empty prefix (every document)")
            return self._multiterm(q, scored)
        if q is wq.NullQuery or kind is type(wq.NullQuery):
            return {}
        raise Unsupported(kind.__name__)

    def _branch(self, q: wq.Query, scored: bool) -> Scores:
        kind = type(q)
        if kind is wq.Or:
            if q.minmatch or q.scale:
                raise Unsupported("an OR with minmatch or scale")
            return self._compound(q, scored, conjunction=False)
        if kind is wq.And:
            return self._compound(q, scored, conjunction=True)
        if kind is wq.Not:
            return self._everything_but(self.evaluate(q.query, False))
        if kind is wq.AndNot:
            a = self.evaluate(q.a, scored)
            if not a:
                return a
            b = self.evaluate(q.b, False)
            return {d: s for d, s in a.items() if d not in b}
        if kind is wq.AndMaybe:
            a = self.evaluate(q.a, scored)
            if not a:
                return a
            b = self.evaluate(q.b, scored)
            return {d: s + b[d] if d in b else s for d, s in a.items()}
        if kind is wq.Require:
            a = self.evaluate(q.a, scored)
            if not a:
                return a
            b = self.evaluate(q.b, False)
            return {d: s for d, s in a.items() if d in b}
        raise Unsupported(kind.__name__)

    def _compound(self, q, scored: bool, conjunction: bool) -> Scores:
        subs = q.subqueries
        if not subs:
            return {}
        if len(subs) == 1:
            # Whoosh ignores the boost of a compound with a single part.
            return self.evaluate(subs[0], scored)
        out = self._and(subs, scored) if conjunction else _unite([self.evaluate(s, scored) for s in subs])
        if q.boost != 1.0 and scored:
            out = {d: s * q.boost for d, s in out.items()}
        return out


def _bigrams(text: str) -> tuple[str, ...]:
    """The overlapping character bigrams of TEXT, as the bigram field's phrase of it holds them."""
    return tuple(text[i:i + 2] for i in range(len(text) - 1))


def _unite(parts: list[Scores]) -> Scores:
    """OR: every record in a part, its scores added up."""
    out: Scores = {}
    for part in parts:
        for d, s in part.items():
            out[d] = out[d] + s if d in out else s
    return out


def _intersect(parts: list[Scores]) -> Scores:
    """AND: the records in every part, their scores added up."""
    smallest = min(parts, key=len)
    if not smallest:
        return {}
    common = set(smallest)
    for part in parts:
        if part is not smallest:
            common.intersection_update(part)
            if not common:
                return {}
    return {d: sum(part[d] for part in parts) for d in common}
