"""Which pages of a file match a query, from the positions of its words.

A file's text is indexed once, in its "text" record, and every token's
position carries its page (analysis.PAGE_SHIFT). The search ranks files; for
the few files a result page shows, this module reads the positions of each
query word (and the spans of each phrase) in those files only and evaluates
the query page by page: an AND needs all its words on one page, an OR any,
a NOT excludes nothing more (the file is already without the word).

When a file matched with its words spread over several pages, no page holds
them all; its pages with any of the words are given then, so a result always
says where to look.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import repeat
from operator import rshift
from typing import NamedTuple

from whoosh import query as wq
from whoosh.reading import TermNotFound

from .analysis import PAGE_SHIFT, page_of
from .ranking import page_saturation, page_word_weight
from .phrases import decode_positions, phrase_starts
from .schema import BODY_FIELDS
from .scoring import KeptPostings
from .reading import term_postings

# {page number: score}
PageScores = dict[int, float]


class FilePages(NamedTuple):
    scores: PageScores      # the matching pages
    together: bool          # one page at least matches the whole query (not only the file)


def matched_pages(searcher, q: wq.Query, docnums: list[int],
                  kept: KeptPostings | None = None) -> dict[int, FilePages]:
    """For each docnum of a text record, its pages matching Q (see the module).

    KEPT holds postings indexer.engine.scoring already read for Q: they are not read again.
    """
    out: dict[int, FilePages] = {}
    for sub, offset, local, segment_q, leaves in _by_segment(searcher, q, docnums):
        counts = _leaf_page_counts(sub, offset, leaves, local, kept or {})
        weights = {id(leaf): _leaf_weight(searcher, leaf) for leaf in leaves}
        for d in local:
            pages = _evaluate(segment_q, d, counts, weights, 1.0)
            together = bool(pages)
            if not pages:
                # Words on different pages: the pages with any of them.
                pages = {}
                for leaf in leaves:
                    for page, n in counts[id(leaf)].get(d, {}).items():
                        pages[page] = pages.get(page, 0.0) + weights[id(leaf)] * _saturate(n)
            out[d + offset] = FilePages(pages, together)
    return {docnum: out.get(docnum, FilePages({}, False)) for docnum in docnums}


def files_together(searcher, q: wq.Query, docnums: list[int], kept: KeptPostings | None = None) -> dict[int, bool]:
    """For each docnum of a text record, whether one of its pages matches the whole of Q: the
    `together` of matched_pages, from the sets of pages of each word, without scoring any page.

    The search asks it of the fifty best files (search.RESCORE_WINDOW), of which a
    result page shows ten: counting every occurrence of two common words page by
    page in all fifty was a quarter of such a query's time.
    """
    out: dict[int, bool] = {}
    for sub, offset, local, segment_q, leaves in _by_segment(searcher, q, docnums):
        starts = _leaf_starts(sub, offset, leaves, local, kept or {})
        # Page keys are the positions shifted (page_of less one): only their overlaps count here.
        page_sets = {leaf_id: {d: set(map(rshift, positions, repeat(PAGE_SHIFT))) for d, positions in found.items()}
                     for leaf_id, found in starts.items()}
        for d in local:
            out[d + offset] = bool(_pages_where(segment_q, d, page_sets))
    return {docnum: out.get(docnum, False) for docnum in docnums}


def _by_segment(searcher, q: wq.Query, docnums: list[int]):
    """For each segment holding some of DOCNUMS: (segment searcher, offset, its docnums (local,
    sorted), Q for this segment, Q's positive body leaves)."""
    wanted = sorted(set(docnums))
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.doc_count_all()
        local = [d - offset for d in wanted if offset <= d < end]
        if not local:
            continue
        # Prefixes stand for the terms of this segment only: a one-character
        # Chinese query is about a thousand bigrams in the index, most of them
        # absent from any one segment.
        segment_q = _expand_multiterms(q, sub.reader())
        yield sub, offset, local, segment_q, _positive_leaves(segment_q)


def has_conjunction(q: wq.Query) -> bool:
    """Whether Q requires two things at once (an AND of two parts or more; a phrase is always on one page)."""
    if isinstance(q, (wq.And, wq.Require)) and len(list(q.children())) > 1:
        return True
    return not q.is_leaf() and any(has_conjunction(c) for c in q.children())


def _expand_multiterms(q: wq.Query, reader) -> wq.Query:
    """Q with prefixes, wildcards and fuzzy terms replaced by the terms they stand for in READER.

    (Query.simplify would do it, but fails on AndNot in this Whoosh.) One that
    stands for no term becomes a term that is nowhere, so that it still counts
    as a word of the query with no pages, as in a reader where it has terms.
    """
    if isinstance(q, wq.MultiTerm):
        expanded = q.simplify(reader)
        return wq.Term(q.field(), _NOWHERE, boost=q.boost) if expanded is wq.NullQuery else expanded
    if q.is_leaf():
        return q
    return q.apply(lambda child: _expand_multiterms(child, reader))


# Text of no term: analysed words never hold this character.
_NOWHERE = "\uffff"


def _is_page_leaf(node) -> bool:
    return isinstance(node, (wq.Term, wq.Phrase)) and node.fieldname in BODY_FIELDS


def _positive_leaves(q: wq.Query) -> list[wq.Query]:
    """The Term and Phrase nodes on body fields, except those under a NOT."""
    out: list[wq.Query] = []

    def walk(node):
        if _is_page_leaf(node):
            out.append(node)
        elif isinstance(node, wq.Not):
            return
        elif isinstance(node, wq.AndNot):
            walk(node.a)
        elif not node.is_leaf():
            for child in node.children():
                walk(child)

    walk(q)
    return out


def _leaf_page_counts(searcher, offset: int, leaves, docnums: list[int],
                      kept: KeptPostings) -> dict[int, dict[int, dict[int, int]]]:
    """id(leaf) -> docnum -> {page: occurrences}, for the records DOCNUMS (sorted) of the segment
    searcher SEARCHER at OFFSET, reading each word's postings once."""
    return {leaf_id: {d: _per_page(positions) for d, positions in found.items()}
            for leaf_id, found in _leaf_starts(searcher, offset, leaves, docnums, kept).items()}


def _leaf_starts(searcher, offset: int, leaves, docnums: list[int],
                 kept: KeptPostings) -> dict[int, dict[int, Iterable[int]]]:
    """id(leaf) -> docnum -> the positions where the leaf stands (a word's, a phrase's first word's),
    for those of the records DOCNUMS (sorted) of the segment searcher SEARCHER at OFFSET holding it."""
    out: dict[int, dict[int, Iterable[int]]] = {id(leaf): {} for leaf in leaves}
    reader = searcher.reader()
    for leaf in leaves:
        found = out[id(leaf)]
        if isinstance(leaf, wq.Phrase) and leaf.slop != 1:
            for d, starts in _phrase_spans(searcher, leaf, docnums):
                if starts:
                    found[d] = starts
            continue
        words = leaf.words if isinstance(leaf, wq.Phrase) else [leaf.text]
        values = [_values_at(reader, offset, leaf.fieldname, word, docnums, kept) for word in words]
        for d in docnums:
            here = [v.get(d) for v in values]
            if None in here:
                continue
            starts = phrase_starts(here) if len(here) > 1 else decode_positions(here[0])
            if starts:
                found[d] = starts
    return out


def _values_at(reader, offset: int, fieldname: str, word, docnums: list[int], kept: KeptPostings) -> dict[int, bytes]:
    """The posting values (positions) of WORD in the records DOCNUMS (sorted) of the segment at OFFSET."""
    field = reader.schema[fieldname]
    try:
        btext = field.to_bytes(word)
    except ValueError:
        return {}
    out = {}
    known = kept.get((offset, fieldname, btext))
    if known is not None:
        ids, values = known
        for d in docnums:
            i = bisect_left(ids, d)
            if i < len(ids) and ids[i] == d:
                out[d] = values[i]
        return out
    try:
        m = term_postings(reader, fieldname, btext)
    except TermNotFound:
        return {}
    return {d: m.value() for d in _positioned_at(m, docnums)}


def _phrase_spans(searcher, phrase: wq.Phrase, docnums: list[int]):
    """(docnum, span starts) of a phrase with slop in the records DOCNUMS (sorted), through Whoosh's matcher."""
    m = phrase.matcher(searcher)
    for d in _positioned_at(m, docnums):
        yield d, [span.start for span in m.spans()]


def _positioned_at(m, docnums: list[int]):
    """Each of DOCNUMS (sorted) that matcher M matches, with M moved onto it when it is yielded."""
    for d in docnums:
        if not m.is_active():
            return
        if m.id() < d:
            m.skip_to(d)
            if not m.is_active():
                return
        if m.id() == d:
            yield d


def _per_page(positions) -> dict[int, int]:
    pages: dict[int, int] = {}
    for position in positions:
        page = page_of(position)
        pages[page] = pages.get(page, 0) + 1
    return pages


def _leaf_weight(searcher, leaf) -> float:
    """How much one page holding LEAF counts: its boost times the rarity (idf) of its words."""
    words = leaf.words if isinstance(leaf, wq.Phrase) else [leaf.text]
    idf = sum(searcher.idf(leaf.fieldname, w) for w in words)
    return page_word_weight(leaf.boost, idf)


def _saturate(n: int) -> float:
    """More occurrences on a page count for more, with diminishing returns."""
    return page_saturation(n)


def _pages_where(node, docnum, page_sets) -> set[int] | None:
    """The pages of DOCNUM where NODE holds, as _evaluate finds them, unscored."""
    if _is_page_leaf(node):
        return page_sets[id(node)].get(docnum, _NO_PAGES)
    if node.is_leaf() or isinstance(node, wq.Not):
        return None
    if isinstance(node, (wq.AndNot, wq.AndMaybe)):
        # The pages of the required part (an optional part adds only to the scores).
        return _pages_where(node.a, docnum, page_sets)
    parts = [r for r in (_pages_where(child, docnum, page_sets) for child in node.children()) if r is not None]
    if not parts:
        return None
    if isinstance(node, (wq.And, wq.Require)):
        return parts[0].intersection(*parts[1:])
    return set().union(*parts)


_NO_PAGES: frozenset[int] = frozenset()


def _evaluate(node, docnum, counts, weights, boost: float) -> PageScores | None:
    """The pages of DOCNUM where NODE holds; None when NODE says nothing about pages (a title word)."""
    if _is_page_leaf(node):
        found = counts[id(node)].get(docnum, {})
        w = weights[id(node)] * boost
        return {page: w * _saturate(n) for page, n in found.items()}
    if node.is_leaf() or isinstance(node, wq.Not):
        return None
    boost *= getattr(node, "boost", 1.0)
    if isinstance(node, wq.AndNot):
        return _evaluate(node.a, docnum, counts, weights, boost)
    if isinstance(node, wq.AndMaybe):
        required = _evaluate(node.a, docnum, counts, weights, boost)
        optional = _evaluate(node.b, docnum, counts, weights, boost)
        if required is None or not optional:
            return required
        return {page: s + optional.get(page, 0.0) for page, s in required.items()}
    parts = [r for r in (_evaluate(child, docnum, counts, weights, boost) for child in node.children())
             if r is not None]
    if not parts:
        return None
    if isinstance(node, (wq.And, wq.Require)):
        pages = set(parts[0]).intersection(*parts[1:])
        return {page: sum(part[page] for part in parts) for page in pages}
    # Or, DisjunctionMax and any other compound: a page holding any part.
    merged: PageScores = {}
    for part in parts:
        for page, s in part.items():
            merged[page] = merged.get(page, 0.0) + s
    return merged
