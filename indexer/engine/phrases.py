"""Phrase matching by position sets, for phrases of adjacent words.

Whoosh checks a phrase by building a Span object for every position of every
word and bisecting between them. For the collection's everyday phrases
("regional policy", a Chinese term that is a run of bigrams), whose words
occur hundreds of times in a report, that was most of a query's time. Here
the words' positions (decoded by pickle, in C) are shifted by their place in
the phrase and intersected as sets: the same matches (slop 1: the words next
to each other, in order), and Span objects only for the matches.
"""

from __future__ import annotations

from itertools import accumulate, islice
from pickle import loads

from whoosh import matching, query as wq
from whoosh.query.qcore import QueryError
from whoosh.query.spans import Span, SpanNear2


def positions(matcher) -> list[int]:
    """The current posting's positions, decoded as whoosh.formats.Positions does, in C.

    (Whoosh adds up the pickled deltas in a Python loop: with a report's
    hundreds of occurrences of a common word, that loop was a third of a
    phrase query's time.)
    """
    return decode_positions(matcher.value())


def decode_positions(value: bytes) -> list[int]:
    """Positions from a posting value of whoosh.formats.Positions (a 4-byte weight, then pickled deltas)."""
    return list(_shifted(value, 0))


def _shifted(value: bytes, shift: int):
    """The positions of a posting value plus SHIFT, as an iterator running in C."""
    if not value.endswith(b"."):
        value += b"."
    return islice(accumulate(loads(value[4:]), initial=shift), 1, None)


def phrase_occurs(values: list[bytes]) -> bool:
    """Whether the words whose posting values are VALUES (in phrase order) stand side by side somewhere."""
    if len(values) == 2:
        # The commonest case, stopping at the first pair found (isdisjoint does, in C).
        first, second = values
        if len(first) <= len(second):
            return not set(_shifted(first, 1)).isdisjoint(_shifted(second, 0))
        return not set(_shifted(second, 0)).isdisjoint(_shifted(first, 1))
    return bool(phrase_starts(values))


def phrase_starts(values: list[bytes]) -> set[int]:
    """Positions where the words whose posting values are VALUES (in phrase order) stand side by side.

    Word i's positions are shifted back by i and the sets intersected, the
    word with the fewest occurrences first; every step runs in C.
    """
    order = sorted(range(len(values)), key=lambda i: len(values[i]))
    starts = set(_shifted(values[order[0]], -order[0]))
    for i in order[1:]:
        if not starts:
            break
        starts.intersection_update(_shifted(values[i], -i))
    return starts


class _AdjacentWordsMatcher(SpanNear2.SpanNear2Matcher):
    """Documents with the words at consecutive positions; spans() are the phrase's positions."""

    def __init__(self, ms):
        super().__init__(ms, slop=1, ordered=True, mindist=1)

    def copy(self):
        return self.__class__([m.copy() for m in self.ms])

    def _get_spans(self):
        starts = phrase_starts([m.value() for m in self.ms])
        last = len(self.ms) - 1
        return [Span(p, p + last) for p in sorted(starts)]


class AdjacentPhrase(wq.Phrase):
    """wq.Phrase with the set-based check for slop 1 (what the query parser makes of quotes)."""

    @classmethod
    def of(cls, phrase: wq.Phrase) -> wq.Phrase:
        if phrase.slop != 1:
            return phrase
        return cls(phrase.fieldname, phrase.words, slop=1, boost=phrase.boost, char_ranges=phrase.char_ranges)

    def matcher(self, searcher, context=None):
        fieldname = self.fieldname
        if fieldname not in searcher.schema:
            return matching.NullMatcher()
        field = searcher.schema[fieldname]
        if not field.format or not field.format.supports("positions"):
            raise QueryError(f"Phrase search: {fieldname!r} field has no positions")
        reader = searcher.reader()
        terms = []
        for word in self.words:
            try:
                word = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (fieldname, word) not in reader:
                return matching.NullMatcher()
            terms.append(wq.Term(fieldname, word))
        m = _AdjacentWordsMatcher([t.matcher(searcher, context) for t in terms])
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


def adjacent_phrases(q: wq.Query) -> wq.Query:
    """Q with each slop-1 Phrase checked by AdjacentPhrase."""
    if isinstance(q, wq.Phrase):
        return AdjacentPhrase.of(q)
    if q.is_leaf():
        return q
    return q.apply(adjacent_phrases)
