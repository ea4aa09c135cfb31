"""Phrase matching by position sets.

Whoosh checks a phrase by building a Span object for every position of every
word and bisecting between them: Python objects and calls for each
occurrence, and the collection's everyday phrases ("regional policy", a
Chinese term that is a run of bigrams) have words that occur hundreds of
times in a report. Here the words' positions (decoded by pickle, in C) are shifted by their place in
the phrase and intersected as sets: the same matches (slop 1: the words next
to each other, in order). A phrase with slop ("regional policy"~3) matches as
Whoosh's SpanNear2 (ordered, mindist 1) does: each word 1 to SLOP positions
after the one before it.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate, islice
from pickle import loads


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


def phrase_starts_within(values: list[bytes], slop: int) -> set[int]:
    """Positions where the words whose posting values are VALUES (in phrase order) start a run in
    which each word stands 1 to SLOP positions after the one before (slop 1: side by side)."""
    if slop == 1:
        return phrase_starts(values)
    spans = {(p, p) for p in _shifted(values[0], 0)}
    for value in values[1:]:
        if not spans:
            break
        following = sorted(set(_shifted(value, 0)))
        longer = set()
        for start, end in spans:
            i = bisect_right(following, end)
            while i < len(following) and following[i] <= end + slop:
                longer.add((start, following[i]))
                i += 1
        spans = longer
    return {start for start, _ in spans}
