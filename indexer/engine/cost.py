"""What a query will cost, judged before it runs: its prefix and wildcard words, and the terms they stand for.

A prefix or a wildcard stands for every term of the index it matches, and
each of those terms is scored as a word of its own: `a* b* c* …` asks for
tens of thousands of terms and seconds of CPU, whatever the time limit stops
afterwards. `check_cost` refuses such a query up front, by three limits:
- prefix and wildcard words per query (counted in one field: "a*" is one
  word, searched in every field);
- letters before the first * or ? (a CJK character is a word by itself and
  counts as enough);
- terms they stand for in the index, all of them together (counted until the
  limit is passed, not further).
The prefixes the parser makes itself, on the CJK bigram fields for a single
Chinese character, are not the user's wildcards and are not counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .evaluate import segment_terms
from .query import Prefix, Wildcard, leaves
from .schema import CJK_FIELDS

# A character of a CJK script: one of them is a word (a prefix of one is not "too short").
_CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


@dataclass(frozen=True)
class CostLimits:
    """The most a query may ask for (settings max_wildcard_words, min_prefix_chars, max_expanded_terms)."""

    max_wildcard_words: int
    min_prefix_chars: int
    max_expanded_terms: int


class TooCostly(Exception):
    """A query over one of the CostLimits; CODE names which, PARAMS give the figures."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def wildcard_leaves(tree) -> list:
    """The user's prefix and wildcard leaves of TREE (not the parser's own CJK bigram prefixes)."""
    return [leaf for leaf in leaves(tree)
            if type(leaf) in (Prefix, Wildcard) and leaf.field not in CJK_FIELDS]


def literal_start(leaf) -> str:
    """The letters of a prefix or wildcard leaf before its first * or ?."""
    if type(leaf) is Prefix:
        return leaf.text
    return re.split(r"[*?]", leaf.pattern, maxsplit=1)[0]


def check_cost(searcher, tree, limits: CostLimits) -> None:
    """Raise TooCostly if TREE asks for more than LIMITS allow in SEARCHER's index; else return."""
    wild = wildcard_leaves(tree)
    if not wild:
        return
    words = max(Counter(leaf.field for leaf in wild).values())
    if words > limits.max_wildcard_words:
        raise TooCostly("too_many_wildcards", count=words, limit=limits.max_wildcard_words)
    for leaf in wild:
        start = literal_start(leaf)
        if len(start) < limits.min_prefix_chars and not _CJK_CHAR.search(start):
            raise TooCostly("short_prefix", limit=limits.min_prefix_chars)
    terms: set = set()
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        for leaf in set(wild):
            terms.update((leaf.field, t) for t in segment_terms(leaf, reader))
            if len(terms) > limits.max_expanded_terms:
                raise TooCostly("too_many_expansions", limit=limits.max_expanded_terms)
