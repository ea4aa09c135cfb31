"""The one evaluator of the query tree (engine.query): records with their scores, then pages.

Two steps, one walk. `evaluate()` scores every record matching the queries,
segment by segment, a term at a time: each leaf gives {docnum: score} from
its postings (engine.scoring), AND intersects and adds, OR unites and adds,
NOT removes (inside an AND adding 1, as Whoosh's InverseMatcher does). It
returns an `Evaluation`: the matches, best first, and the postings it read.
For the few files a result page shows, `Evaluation.pages()` then evaluates the
same tree page by page from the positions of the words (each token's position
carries its page, analysis.PAGE_SHIFT): an AND needs all its words on one page,
an OR any, a NOT excludes nothing more (the file is already without the word).
A file whose words are on different pages gets its pages with any of them, so
a result always says where to look; `together` says whether one page held the
whole query (ranking's TOGETHER_BONUS).

The walk (TreeWalk.walk) dispatches each node kind to one method; the three
walks (record scores, page scores, page sets) each define every kind, so that
a new node kind cannot be forgotten by one of them. The scores and page scores
are made as engine.ranking says.

Shortcuts that spare reading positions: a record holding a jieba word, or a
phrase of them, holds its characters' bigrams side by side, and a record
holding an English word pair holds that two-word phrase
(schema.WORD_FIELD_BIGRAMS, PHRASE_PAIR_FIELDS). A prefix, wildcard or range
is the OR of the words it stands for in each segment.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter, rshift
from typing import NamedTuple

from whoosh.reading import TermNotFound

from . import query
from .analysis import PAGE_SHIFT, page_of
from .parse import to_whoosh
from .phrases import decode_positions, phrase_occurs, phrase_starts_within
from .query import (Alternatives, And, AndMaybe, AndNot, Nothing, Not, Or, Phrase, Prefix, Range,
                    Require, Synonyms, Term, Wildcard)
from .ranking import page_saturation, page_word_weight
from .reading import term_postings
from .schema import BODY_FIELDS, EXACT_FIELDS, PHRASE_PAIR_FIELDS, WORD_FIELD_BIGRAMS
from .scoring import bm25_scores, read_postings, seed_prefix_idfs

Scores = dict[int, float]          # segment-local docnum -> score
PageScores = dict[int, float]      # page number -> score
# (segment offset, field, term bytes) -> (segment-local ids, posting values), for each term read.
# The values are a sequence, read block by block as they are indexed (codec.LazyBlockValues).
Postings = dict[tuple[int, str, bytes], tuple[list[int], Sequence]]


class DeadlinePassed(Exception):
    """The query ran past its time limit."""


class FilePages(NamedTuple):
    scores: PageScores      # the matching pages
    together: bool          # one page at least matches the whole query (not only the file)


# --- the walk -------------------------------------------------------------------


class TreeWalk(ABC):
    """One walk over a query tree; each subclass says what every node kind gives."""

    def walk(self, node, *args):
        """Return what NODE gives (a subclass's method for its kind)."""
        return getattr(self, _METHODS[type(node)])(node, *args)

    @abstractmethod
    def leaf(self, node, *args):
        """Return what a Term, Phrase, Prefix, Wildcard or Range gives."""

    @abstractmethod
    def all_of(self, node: And, *args):
        """Return what an AND of its parts gives."""

    @abstractmethod
    def any_of(self, node: Or, *args):
        """Return what an OR of its parts gives."""

    @abstractmethod
    def best_of(self, node: Synonyms, *args):
        """Return what the best of its parts (one word's translations) gives."""

    @abstractmethod
    def none_of(self, node: Not, *args):
        """Return what a NOT gives."""

    @abstractmethod
    def but_not(self, node: AndNot, *args):
        """Return what the positive part without the negative one gives."""

    @abstractmethod
    def maybe(self, node: AndMaybe, *args):
        """Return what the required part, with the optional one adding to it, gives."""

    @abstractmethod
    def require(self, node: Require, *args):
        """Return what the required part, where the condition holds too, gives."""

    @abstractmethod
    def alternatives(self, node: Alternatives, *args):
        """Return what the own words or their weighted translation give."""

    @abstractmethod
    def nothing(self, node: Nothing, *args):
        """Return what the query that matches nothing gives."""


_METHODS = {Term: "leaf", Phrase: "leaf", Prefix: "leaf", Wildcard: "leaf", Range: "leaf",
            And: "all_of", Or: "any_of", Synonyms: "best_of", Not: "none_of", AndNot: "but_not", AndMaybe: "maybe",
            Require: "require", Alternatives: "alternatives", Nothing: "nothing"}


# --- step 1: the records and their scores ----------------------------------------


class Evaluation:
    """The records matching each query evaluated together, and the postings read on the way."""

    def __init__(self, found: list[list[tuple[float, int]]], postings: Postings):
        self.found = found          # per query: (score, docnum), best first
        self.postings = postings    # read only from here on

    def pages(self, searcher, tree, docnums: list[int]) -> dict[int, FilePages]:
        """For each docnum of a text record, its pages matching TREE (see the module)."""
        return matched_pages(searcher, tree, docnums, self.postings)

    def together(self, searcher, tree, docnums: list[int]) -> dict[int, bool]:
        """For each docnum of a text record, whether one of its pages holds the whole of TREE."""
        return files_together(searcher, tree, docnums, self.postings)


def evaluate(searcher, queries: list[tuple[object, bool]], allow=None, deadline: float | None = None) -> Evaluation:
    """Every record matching each (tree, scored) pair (and ALLOW, a tree, when given), best first, in
    one pass over the segments. Unscored, the scores mean nothing.

    A term or phrase the queries share is read and checked once (the
    glossary-expanded query and the user's own words share all of theirs).
    DEADLINE is a time.monotonic() value; past it, DeadlinePassed is raised.
    """
    postings: Postings = {}
    out: list[list[tuple[float, int]]] = [[] for _ in queries]
    for sub, offset in searcher.leaf_searchers():
        segment = _RecordScores(searcher, sub.reader(), offset, deadline, postings)
        allowed = None
        for (tree, scored), results in zip(queries, out):
            found = segment.walk(tree, scored)
            if found and allow is not None:
                if allowed is None:
                    allowed = segment.walk(allow, False)
                found = {d: s for d, s in found.items() if d in allowed}
            results.extend((s, d + offset) for d, s in found.items())
    for results in out:
        # Best first, then by docnum, as Whoosh's collector orders them: two
        # stable sorts on C keys (itemgetter) give that order without building a
        # key tuple for each of the thousands of matches a common word has.
        results.sort(key=itemgetter(1))
        results.sort(key=itemgetter(0), reverse=True)
    return Evaluation(out, postings)


def matches(searcher, tree, scored: bool = True, allow=None, deadline: float | None = None) -> list[tuple[float, int]]:
    """Return (score, docnum) of every record matching TREE (and ALLOW, when given), best first."""
    return evaluate(searcher, [(tree, scored)], allow, deadline).found[0]


class _RecordScores(TreeWalk):
    """Scores of the records of one segment of SEARCHER, with the top searcher's statistics."""

    def __init__(self, searcher, reader, offset: int, deadline: float | None, postings: Postings):
        self.top = searcher
        self.reader = reader
        self.offset = offset
        self.postings = postings
        self.schema = searcher.schema
        self.deadline = deadline
        # Leaf -> its scored matches here; a leaf asked for again
        # (scored or not) is not read twice.
        self.leaves: dict[object, Scores] = {}
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
        ids, weights, values = read_postings(matcher)
        self.postings[(self.offset, fieldname, btext)] = (ids, values)
        return btext, ids, weights, values

    def _bm25(self, fieldname: str, btext, ids, weights) -> list[float]:
        return bm25_scores(self.top, self.reader, fieldname, btext, ids, weights)

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

    def _phrase(self, q: Phrase, scored: bool) -> Scores:
        """Words in order within the phrase's slop, scored as Whoosh scores a phrase: the sum of its words."""
        if not q.words or q.field not in self.schema or not self.schema[q.field].format.supports("positions"):
            return {}
        adjacent = q.slop == 1
        known = self.adjacent_known.get((q.field, q.words), {}) if adjacent else {}
        paired = None
        pair_field, pair_words, pairs_are_phrase = phrase_pairs(self.schema, q) if adjacent else (None, (), False)
        # (An index of an older schema, until its rebuild, may lack the pair field.)
        if pair_field and pair_field in self.schema and len(pair_words) > 1:
            # Only the records holding every consecutive pair can hold the phrase;
            # for two words of the pair field's own, exactly those do. The pairs are
            # read first: they are rarer than their words, and a segment without
            # them needs no more.
            pairing = self.schema[pair_field].analyzer
            for first, second in zip(pair_words, pair_words[1:]):
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
            found = self._term_postings(q.field, word)
            if found is None:
                return {}
            postings.append(found)
        candidates = set(postings[0][1]) if paired is None else paired
        for _, ids, _, _ in postings[1 if paired is None else 0:]:
            candidates.intersection_update(ids)
            if not candidates:
                return {}
        if paired is not None and len(q.words) == 2 and pairs_are_phrase:
            known = candidates
        matched = [d for d in candidates if d in known]
        unknown = candidates.difference(known) if known else candidates
        if unknown:
            # Indexed, not iterated: only the blocks holding these records are read.
            values_by_word = [{d: values[i] for i, d in enumerate(ids) if d in unknown}
                              for _, ids, _, values in postings]
            if adjacent:
                matched += [d for d in unknown if phrase_occurs([by_doc[d] for by_doc in values_by_word])]
            else:
                matched += [d for d in unknown
                            if phrase_starts_within([by_doc[d] for by_doc in values_by_word], q.slop)]
        self._check_time()
        bigram_field = WORD_FIELD_BIGRAMS.get(q.field)
        if bigram_field and adjacent:
            # Jieba words side by side: the records hold their characters' bigram phrase too.
            self.adjacent_known[(bigram_field, bigrams("".join(q.words)))] = set(matched)
        if not scored:
            return dict.fromkeys(matched, 0.0)
        total = dict.fromkeys(matched, 0.0)
        for btext, ids, weights, _ in postings:
            keep = [(d, tf) for d, tf in zip(ids, weights) if d in total]
            if not keep:
                continue
            kept_ids, kept_weights = zip(*keep)
            for d, s in zip(kept_ids, self._bm25(q.field, btext, kept_ids, kept_weights)):
                total[d] += s
        if q.boost != 1.0:
            total = {d: s * q.boost for d, s in total.items()}
        return total

    def _multiterm(self, q, scored: bool) -> Scores:
        """A prefix, wildcard or range: the OR of the terms it stands for in this segment.

        Each term scores as a Term with the query's boost, as in the query
        Whoosh's simplify() gives. (Whoosh's own matcher scores them so on
        segments of over 5,000 records and as a constant on smaller ones;
        here the scoring does not depend on how the index is cut.)
        """
        if type(q) is Prefix:
            seed_prefix_idfs(self.top, q.field, q.text)
        out: Scores = {}
        for text in segment_terms(q, self.reader):
            if not text:
                continue
            for d, s in self._term(q.field, text, q.boost, scored).items():
                out[d] = out[d] + s if d in out else s
        return out

    def _everything_but(self, excluded: Scores) -> Scores:
        """Whoosh's InverseMatcher: every record not deleted and not in EXCLUDED, each scoring 1."""
        reader = self.reader
        deleted = reader.is_deleted
        has_deletions = reader.has_deletions()
        return {d: 1.0 for d in range(reader.doc_count_all())
                if d not in excluded and not (has_deletions and deleted(d))}

    def leaf(self, node, scored: bool) -> Scores:
        found = self.leaves.get(node)
        if found is not None:
            return found
        kind = type(node)
        if kind is Term:
            found = self._term(node.field, node.text, node.boost, scored)
            bigram_field = WORD_FIELD_BIGRAMS.get(node.field)
            if bigram_field and len(node.text) > 2:
                self.adjacent_known[(bigram_field, bigrams(node.text))] = found
        elif kind is Phrase:
            found = self._phrase(node, scored)
        else:
            found = self._multiterm(node, scored)
        if scored:
            self.leaves[node] = found
        return found

    # --- branches ---------------------------------------------------------

    def all_of(self, node: And, scored: bool) -> Scores:
        """AND; a NOT part removes its records and, as Whoosh's InverseMatcher does, adds 1 to the score."""
        parts = node.parts
        if not parts:
            return {}
        if len(parts) == 1:
            # Whoosh ignores the boost of a compound with a single part.
            return self.walk(parts[0], scored)
        positive = [p for p in parts if type(p) is not Not]
        negative = [p for p in parts if type(p) is Not]
        if not positive:
            out = _intersect([self.walk(p, scored) for p in parts])
        else:
            found = []
            for p in positive:
                part = self.walk(p, scored)
                if not part:
                    return {}
                found.append(part)
            out = _intersect(found)
            for p in negative:
                if not out:
                    break
                excluded = self.walk(p.part, False)
                out = {d: v + 1.0 for d, v in out.items() if d not in excluded}
        if node.boost != 1.0 and scored:
            out = {d: s * node.boost for d, s in out.items()}
        return out

    def any_of(self, node: Or, scored: bool) -> Scores:
        parts = node.parts
        if not parts:
            return {}
        if len(parts) == 1:
            return self.walk(parts[0], scored)
        out = _unite([self.walk(p, scored) for p in parts])
        if node.boost != 1.0 and scored:
            out = {d: s * node.boost for d, s in out.items()}
        return out

    def best_of(self, node: Synonyms, scored: bool) -> Scores:
        parts = [self.walk(p, scored) for p in node.parts]
        out: Scores = {}
        for part in parts:
            for d, s in part.items():
                if d not in out or s > out[d]:
                    out[d] = s
        if node.boost != 1.0 and scored:
            out = {d: s * node.boost for d, s in out.items()}
        return out

    def none_of(self, node: Not, scored: bool) -> Scores:
        return self._everything_but(self.walk(node.part, False))

    def but_not(self, node: AndNot, scored: bool) -> Scores:
        a = self.walk(node.positive, scored)
        if not a:
            return a
        b = self.walk(node.negative, False)
        return {d: s for d, s in a.items() if d not in b}

    def maybe(self, node: AndMaybe, scored: bool) -> Scores:
        a = self.walk(node.required, scored)
        if not a:
            return a
        b = self.walk(node.optional, scored)
        return {d: s + b[d] if d in b else s for d, s in a.items()}

    def require(self, node: Require, scored: bool) -> Scores:
        a = self.walk(node.required, scored)
        if not a:
            return a
        b = self.walk(node.condition, False)
        return {d: s for d, s in a.items() if d in b}

    def alternatives(self, node: Alternatives, scored: bool) -> Scores:
        own = self.walk(node.own, scored)
        translation = self.walk(node.translation, scored)
        if scored:
            translation = {d: s * node.weight for d, s in translation.items()}
        return _unite([own, translation])

    def nothing(self, node: Nothing, scored: bool) -> Scores:
        return {}


_EXACT_BASE = {exact: base for base, exact in EXACT_FIELDS.items()}


def phrase_pairs(schema, q: Phrase) -> tuple[str | None, tuple[str, ...], bool]:
    """(pair field, words paired there, whether holding all their pairs is holding the phrase) for
    phrase Q, or (None, (), False) when no pair field helps.

    A phrase of a field with a pair field (schema.PHRASE_PAIR_FIELDS) is its
    words' pairs there. An exact phrase (schema.EXACT_FIELDS) has no pair
    field of its own; a record holding it holds the stemmed phrase of its words
    that are not stop words in its English field (stop words are dropped and
    the rest renumbered side by side), so the pairs of those stems are a
    necessary condition: the records without them need no position check.
    """
    pair_field = PHRASE_PAIR_FIELDS.get(q.field)
    if pair_field is not None:
        return pair_field, q.words, True
    base = _EXACT_BASE.get(q.field)
    pair_field = PHRASE_PAIR_FIELDS.get(base) if base is not None else None
    if pair_field is None or base not in schema:
        return None, (), False
    analyzer = schema[base].analyzer
    term_of = getattr(getattr(analyzer, "inner", analyzer), "term_of", None)
    if term_of is None:
        return None, (), False
    stems = tuple(stem for stem in map(term_of, q.words) if stem is not None)
    return pair_field, stems, False


def bigrams(text: str) -> tuple[str, ...]:
    """Return the overlapping character bigrams of TEXT, as the bigram field's phrase of it holds them."""
    return tuple(text[i:i + 2] for i in range(len(text) - 1))


def segment_terms(q, reader) -> list[bytes]:
    """Return the terms of segment READER that multiterm leaf Q (prefix, wildcard, range) stands for,
    as Whoosh's own leaf of that kind enumerates them."""
    if q.field not in reader.schema:
        return []
    try:
        return list(to_whoosh(q)._btexts(reader))
    except ValueError:          # bounds that are no term of the field (a number's field, say)
        return []


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


# --- step 2: the pages of the files shown --------------------------------------------


def matched_pages(searcher, tree, docnums: list[int], postings: Postings | None = None) -> dict[int, FilePages]:
    """For each docnum of a text record, its pages matching TREE (see the module).

    POSTINGS holds postings the first step already read: they are not read again.
    """
    out: dict[int, FilePages] = {}
    for sub, offset, local, segment_tree in _by_segment(searcher, tree, docnums):
        page_leaves = _page_leaves(segment_tree)
        starts = _leaf_starts(sub, offset, page_leaves, local, postings or {})
        counts = {leaf: {d: _per_page(positions) for d, positions in found.items()}
                  for leaf, found in starts.items()}
        weights = {leaf: _leaf_weight(searcher, leaf) for leaf in page_leaves}
        for d in local:
            pages = _PageScores(d, counts, weights).walk(segment_tree, 1.0)
            together = bool(pages)
            if not pages:
                # Words on different pages: the pages with any of them.
                pages = {}
                for leaf, share in _page_leaves_weighted(segment_tree, 1.0):
                    w = weights[leaf] * share
                    for page, n in counts[leaf].get(d, {}).items():
                        pages[page] = pages.get(page, 0.0) + w * page_saturation(n)
            out[d + offset] = FilePages(pages, together)
    return {docnum: out.get(docnum, FilePages({}, False)) for docnum in docnums}


def files_together(searcher, tree, docnums: list[int], postings: Postings | None = None) -> dict[int, bool]:
    """For each docnum of a text record, whether one of its pages matches the whole of TREE: the
    `together` of matched_pages, from the sets of pages of each word, without scoring any page.

    The search asks it of the RESCORE_WINDOW best files, of which a result page
    shows ten: sets of pages are cheaper than counting every occurrence.
    """
    out: dict[int, bool] = {}
    for sub, offset, local, segment_tree in _by_segment(searcher, tree, docnums):
        starts = _leaf_starts(sub, offset, _page_set_leaves(segment_tree), local, postings or {})
        # Page keys are the positions shifted (page_of less one): only their overlaps count here.
        page_sets = {leaf: {d: set(map(rshift, positions, repeat(PAGE_SHIFT))) for d, positions in found.items()}
                     for leaf, found in starts.items()}
        for d in local:
            out[d + offset] = bool(_PageSets(d, page_sets).walk(segment_tree))
    return {docnum: out.get(docnum, False) for docnum in docnums}


def _by_segment(searcher, tree, docnums: list[int]):
    """For each segment holding some of DOCNUMS: (segment searcher, offset, its docnums (local,
    sorted), TREE for this segment)."""
    wanted = sorted(set(docnums))
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.doc_count_all()
        local = [d - offset for d in wanted if offset <= d < end]
        if not local:
            continue
        # Prefixes stand for the terms of this segment only: a one-character
        # Chinese query stands for thousands of bigrams in the index, most of
        # them absent from any one segment.
        yield sub, offset, local, expand_multiterms(tree, sub.reader())


# Text of no term: analysed words never hold this character.
_NOWHERE = "\uffff"


def expand_multiterms(node, reader):
    """NODE with its prefixes, wildcards and ranges replaced by the OR of the terms they stand for in
    READER. One that stands for no term becomes a term that is nowhere, so that it still counts as
    a word of the query with no pages, as in a reader where it has terms."""
    kind = type(node)
    if kind is Prefix or kind is Wildcard or kind is Range:
        if node.field not in BODY_FIELDS:
            return node         # says nothing about pages, expanded or not
        terms = [Term(node.field, t.decode("utf-8"), node.boost) for t in sorted(set(segment_terms(node, reader)))]
        if not terms:
            return Term(node.field, _NOWHERE, node.boost)
        return terms[0] if len(terms) == 1 else Or(tuple(terms))
    if kind is And or kind is Or or kind is Synonyms:
        return kind(tuple(expand_multiterms(p, reader) for p in node.parts), node.boost)
    if kind is Not:
        return Not(expand_multiterms(node.part, reader))
    if kind is AndNot:
        return AndNot(expand_multiterms(node.positive, reader), expand_multiterms(node.negative, reader), node.boost)
    if kind is AndMaybe:
        return AndMaybe(expand_multiterms(node.required, reader), expand_multiterms(node.optional, reader), node.boost)
    if kind is Require:
        return Require(expand_multiterms(node.required, reader), expand_multiterms(node.condition, reader),
                       node.boost)
    if kind is Alternatives:
        return Alternatives(expand_multiterms(node.own, reader), expand_multiterms(node.translation, reader),
                            node.weight)
    return node


def _is_page_leaf(node) -> bool:
    kind = type(node)
    return (kind is Term or kind is Phrase) and node.field in BODY_FIELDS


def _page_leaves(tree) -> list:
    """The Term and Phrase leaves of TREE on body fields that a matching record holds (not under a NOT)."""
    return list(dict.fromkeys(leaf for leaf in query.positive_leaves(tree) if _is_page_leaf(leaf)))


def _page_set_leaves(tree) -> list:
    """The page leaves _PageSets reads: those of _page_leaves but the ones only an AndMaybe's optional
    part holds (a plain word's exact form, say), which add to page scores and not to page sets."""
    out = []

    def collect(node):
        kind = type(node)
        if _is_page_leaf(node):
            out.append(node)
        elif kind is Not:
            return
        elif kind is AndNot:
            collect(node.positive)
        elif kind is AndMaybe:
            collect(node.required)
        else:
            for child in query.children(node):
                collect(child)

    collect(tree)
    return list(dict.fromkeys(out))


def _page_leaves_weighted(node, share: float):
    """(leaf, share) for each page leaf of NODE a matching record holds, in the order of the tree.

    SHARE is how much of its weight the leaf counts in the any-page fallback:
    the leaves of a translation that is an OR of fields (one glossary term) or
    one word's dictionary translations count the translation's weight of it,
    those of a translation of several terms (an AND of them) count all of it
    (times a dictionary translation's boost). These are the page scores the judged set
    (docs/QUALITY.md) was measured with: changing them changes the pages a
    result shows.
    """
    kind = type(node)
    if _is_page_leaf(node):
        yield node, share
    elif kind is Not or kind in query.LEAVES or kind is Nothing:
        return
    elif kind is AndNot:
        yield from _page_leaves_weighted(node.positive, share)
    elif kind is Synonyms:
        for part in node.parts:
            yield from _page_leaves_weighted(part, share * node.boost)
    elif kind is Alternatives:
        yield from _page_leaves_weighted(node.own, share)
        translation = node.translation
        if type(translation) is Synonyms:
            yield from _page_leaves_weighted(translation, share * node.weight)
        elif type(translation) is Or:
            for part in translation.parts:
                yield from _page_leaves_weighted(part, share * node.weight if _is_page_leaf(part) else share)
        else:
            yield from _page_leaves_weighted(translation, share)
    else:
        for child in query.children(node):
            yield from _page_leaves_weighted(child, share)


def _leaf_starts(searcher, offset: int, leaves, docnums: list[int],
                 postings: Postings) -> dict[object, dict[int, Iterable[int]]]:
    """leaf -> docnum -> the positions where the leaf stands (a word's, a phrase's first word's),
    for those of the records DOCNUMS (sorted) of the segment searcher SEARCHER at OFFSET holding it."""
    out: dict[object, dict[int, Iterable[int]]] = {leaf: {} for leaf in leaves}
    reader = searcher.reader()
    for leaf in leaves:
        found = out[leaf]
        words = leaf.words if type(leaf) is Phrase else (leaf.text,)
        slop = leaf.slop if type(leaf) is Phrase else 1
        values = [_values_at(reader, offset, leaf.field, word, docnums, postings) for word in words]
        for d in docnums:
            here = [v.get(d) for v in values]
            if None in here:
                continue
            starts = phrase_starts_within(here, slop) if len(here) > 1 else decode_positions(here[0])
            if starts:
                found[d] = starts
    return out


def _values_at(reader, offset: int, fieldname: str, word, docnums: list[int], postings: Postings) -> dict[int, bytes]:
    """The posting values (positions) of WORD in the records DOCNUMS (sorted) of the segment at OFFSET."""
    field = reader.schema[fieldname]
    try:
        btext = field.to_bytes(word)
    except ValueError:
        return {}
    out = {}
    known = postings.get((offset, fieldname, btext))
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
    """How much one page holding LEAF counts (ranking.page_word_weight): a phrase's rarity is its words'."""
    words = leaf.words if type(leaf) is Phrase else (leaf.text,)
    idf = sum(searcher.idf(leaf.field, w) for w in words)
    return page_word_weight(leaf.boost, idf)


class _PageScores(TreeWalk):
    """The scored pages of one file (record DOCNUM) where a node holds; None when the node says
    nothing about pages (a title word, a NOT)."""

    def __init__(self, docnum: int, counts, weights):
        self.docnum = docnum
        self.counts = counts
        self.weights = weights

    def leaf(self, node, boost: float) -> PageScores | None:
        if not _is_page_leaf(node):
            return None
        found = self.counts[node].get(self.docnum, {})
        w = self.weights[node] * boost
        return {page: w * page_saturation(n) for page, n in found.items()}

    def _parts(self, parts, boost: float) -> list[PageScores]:
        return [r for r in (self.walk(p, boost) for p in parts) if r is not None]

    def all_of(self, node: And, boost: float) -> PageScores | None:
        return _on_every_page(self._parts(node.parts, boost * node.boost))

    def require(self, node: Require, boost: float) -> PageScores | None:
        return _on_every_page(self._parts((node.required, node.condition), boost * node.boost))

    def any_of(self, node: Or, boost: float) -> PageScores | None:
        return _on_any_page(self._parts(node.parts, boost * node.boost))

    def alternatives(self, node: Alternatives, boost: float) -> PageScores | None:
        return _on_any_page([r for r in (self.walk(node.own, boost), self.walk(node.translation, boost * node.weight))
                             if r is not None])

    def best_of(self, node: Synonyms, boost: float) -> PageScores | None:
        parts = self._parts(node.parts, boost * node.boost)
        if not parts:
            return None
        best: PageScores = {}
        for part in parts:
            for page, s in part.items():
                if page not in best or s > best[page]:
                    best[page] = s
        return best

    def none_of(self, node: Not, boost: float) -> None:
        return None

    def but_not(self, node: AndNot, boost: float) -> PageScores | None:
        return self.walk(node.positive, boost * node.boost)

    def maybe(self, node: AndMaybe, boost: float) -> PageScores | None:
        boost *= node.boost
        required = self.walk(node.required, boost)
        optional = self.walk(node.optional, boost)
        if required is None or not optional:
            return required
        return {page: s + optional.get(page, 0.0) for page, s in required.items()}

    def nothing(self, node: Nothing, boost: float) -> None:
        return None


def _on_every_page(parts: list[PageScores]) -> PageScores | None:
    if not parts:
        return None
    pages = set(parts[0]).intersection(*parts[1:])
    return {page: sum(part[page] for part in parts) for page in pages}


def _on_any_page(parts: list[PageScores]) -> PageScores | None:
    if not parts:
        return None
    merged: PageScores = {}
    for part in parts:
        for page, s in part.items():
            merged[page] = merged.get(page, 0.0) + s
    return merged


_NO_PAGES: frozenset[int] = frozenset()


class _PageSets(TreeWalk):
    """The pages of one file (record DOCNUM) where a node holds, as _PageScores finds them, unscored."""

    def __init__(self, docnum: int, page_sets):
        self.docnum = docnum
        self.page_sets = page_sets

    def leaf(self, node) -> set[int] | None:
        if not _is_page_leaf(node):
            return None
        return self.page_sets[node].get(self.docnum, _NO_PAGES)

    def _parts(self, parts) -> list[set[int]]:
        return [r for r in (self.walk(p) for p in parts) if r is not None]

    def all_of(self, node: And) -> set[int] | None:
        parts = self._parts(node.parts)
        return parts[0].intersection(*parts[1:]) if parts else None

    def require(self, node: Require) -> set[int] | None:
        parts = self._parts((node.required, node.condition))
        return parts[0].intersection(*parts[1:]) if parts else None

    def any_of(self, node: Or) -> set[int] | None:
        parts = self._parts(node.parts)
        return set().union(*parts) if parts else None

    def alternatives(self, node: Alternatives) -> set[int] | None:
        parts = self._parts((node.own, node.translation))
        return set().union(*parts) if parts else None

    def best_of(self, node: Synonyms) -> set[int] | None:
        return self.any_of(node)

    def none_of(self, node: Not) -> None:
        return None

    def but_not(self, node: AndNot) -> set[int] | None:
        return self.walk(node.positive)

    def maybe(self, node: AndMaybe) -> set[int] | None:
        # The pages of the required part (an optional part adds only to the scores).
        return self.walk(node.required)

    def nothing(self, node: Nothing) -> None:
        return None
