"""Snippets and highlights, without re-running jieba over the stored text.

Whoosh's highlighter re-analyses every hit's stored text (jieba included)
for every search, though the query's terms are already known. Here they are used:
English words are matched by their stems (the English analyzer is a cheap
regex pipeline, cached per word), quoted English words by their exact form
(folded, unstemmed: schema.EXACT_FIELDS) and quoted English phrases as whole
runs of those words, and Chinese terms by their characters in the text as
folded (folding keeps offsets), so highlights always cover whole characters
and whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

from .engine import analysis, query
from .engine.schema import CHINESE_WORD_FIELDS, CJK_FIELDS, ENGLISH_FIELDS, EXACT_FIELDS

_EXACT_FIELD_NAMES = frozenset(EXACT_FIELDS.values())

SNIPPET_CHARS = 240


@dataclass
class QueryTerms:
    """What to highlight: English stems and prefixes, exact English words and phrases (folded,
    unstemmed), Chinese strings (folded)."""

    english: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    chinese: set[str] = field(default_factory=set)
    exact: set[str] = field(default_factory=set)
    exact_phrases: set[tuple[str, ...]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.english or self.prefixes or self.chinese or self.exact or self.exact_phrases)


def query_terms(tree) -> QueryTerms:
    """Collect the terms of query TREE (indexer.engine.query) a matching record holds (not those under NOT)."""
    terms = QueryTerms()
    for leaf in query.positive_leaves(tree):
        _collect(leaf, terms)
    return terms


def _collect(leaf, terms: QueryTerms) -> None:
    kind = type(leaf)
    name = leaf.field
    if kind is query.Phrase:
        words = leaf.words
        if name in CJK_FIELDS and words:
            terms.chinese.add(words[0] + "".join(w[-1] for w in words[1:]))
        elif name in CHINESE_WORD_FIELDS:
            terms.chinese.add("".join(words))
        elif name in ENGLISH_FIELDS:
            terms.english.update(words)
        elif name in _EXACT_FIELD_NAMES:
            # Side by side, the phrase is marked where it stands whole; words apart, each word.
            if leaf.slop == 1 and len(words) > 1:
                terms.exact_phrases.add(words)
            else:
                terms.exact.update(words)
    elif kind is query.Prefix or kind is query.Wildcard:
        text = leaf.text if kind is query.Prefix else leaf.pattern
        if name in CJK_FIELDS or name in CHINESE_WORD_FIELDS:
            terms.chinese.add(text.rstrip("*?"))
        elif name in ENGLISH_FIELDS or name == "spell_body":
            stem = text.split("*")[0].split("?")[0]
            if stem:
                terms.prefixes.add(stem.lower())
    elif kind is query.Term:
        if name in CJK_FIELDS or name in CHINESE_WORD_FIELDS:
            terms.chinese.add(leaf.text)
        elif name in ENGLISH_FIELDS:
            terms.english.add(leaf.text)
        elif name in _EXACT_FIELD_NAMES:
            terms.exact.add(leaf.text)


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    out = analysis.english_terms(word)
    return out[0] if out else ""


@lru_cache(maxsize=100_000)
def _plain(word: str) -> str:
    out = [t.text for t in analysis.english_plain_analyzer()(word)]
    return out[0] if out else ""


def _word_matches(word: str, terms: QueryTerms) -> bool:
    if terms.english and _stem(word) in terms.english:
        return True
    if terms.exact and _plain(word) in terms.exact:
        return True
    return bool(terms.prefixes) and any(_plain(word).startswith(p) for p in terms.prefixes)


# Stemming changes only a word's ending (and a British spelling's middle, as
# in "programme"/"program"), so an ASCII word can match a term only if it
# starts with the term's first LEAD letters; a word with other letters may
# have its accents folded by the analyzer, so it is always looked at.
LEAD = 3
_WORD_CHAR = f"[^\\W_{analysis.CJK_CLASS}]"           # a character of analysis.LATIN_WORD
_NON_ASCII_WORD_CHAR = f"[^\\x00-\\x7f\\W_{analysis.CJK_CLASS}]"


_NON_ASCII_LETTER = re.compile(_NON_ASCII_WORD_CHAR)
_WORD_CHARS = re.compile(f"{_WORD_CHAR}*")
_WHOLE_WORD = re.compile(f"{_WORD_CHAR}+")
_ONE_WORD_CHAR = re.compile(_WORD_CHAR)


@lru_cache(maxsize=512)
def _candidate_words(leads: frozenset[str], non_ascii: bool = True) -> re.Pattern:
    """Whole Latin words starting with one of LEADS in any case, or (NON_ASCII) holding a non-ASCII letter."""
    alternatives = "|".join(sorted(map(re.escape, leads)))
    if not non_ascii:
        return re.compile(f"(?<!{_WORD_CHAR})(?:{alternatives}){_WORD_CHAR}*", re.IGNORECASE)
    return re.compile(f"(?<!{_WORD_CHAR})(?:(?:{alternatives}){_WORD_CHAR}*"
                      f"|{_WORD_CHAR}*{_NON_ASCII_WORD_CHAR}{_WORD_CHAR}*)", re.IGNORECASE)


def candidate_spans(text: str, leads: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of TEXT's whole Latin words that start with one of LEADS in any case, or that hold a
    non-ASCII letter (which folding may turn into a match)."""
    if _NON_ASCII_LETTER.search(text) is not None:
        return [m.span() for m in _candidate_words(leads, non_ascii=True).finditer(text)]
    # Most pages have no non-ASCII letter (a quick scan says so): there only
    # the leads are looked for, by str.find in the lower-cased text (a search in
    # C), not by the pattern, which tries a match at every position; both give
    # the same spans (tests/test_analysis.py).
    lower = text.lower()
    if len(lower) != len(text) or not all(lead.isascii() and _WHOLE_WORD.fullmatch(lead) for lead in leads):
        return [m.span() for m in _candidate_words(leads, non_ascii=False).finditer(text)]
    starts = set()
    for lead in leads:
        lead = lead.lower()
        start = lower.find(lead)
        while start != -1:
            if start == 0 or not _ONE_WORD_CHAR.match(lower, start - 1):
                starts.add(start)
            start = lower.find(lead, start + 1)
    return [(start, _WORD_CHARS.match(lower, start).end()) for start in sorted(starts)]


@lru_cache(maxsize=512)
def _folded_needle(needle: str) -> str | re.Pattern | None:
    """What finds NEEDLE (a Chinese term) where analysis.fold(text) holds it, searching TEXT itself:
    NEEDLE when none of its characters has a traditional form, a pattern when some have, None when
    no folded text can hold it (a character of it folds to another).

    The text is searched as it is, not folded first: folding a whole page costs
    many times the search, and folding keeps each character's place, so a match
    in the text is a match in its fold.
    """
    variants = analysis.fold_variants()
    if analysis.fold(needle) != needle:
        return None
    if not any(c in variants for c in needle):
        return needle
    return re.compile("".join(f"[{re.escape(c)}{''.join(map(re.escape, variants[c]))}]" if c in variants
                              else re.escape(c) for c in needle))


def chinese_spans(text: str, needle: str) -> list[tuple[int, int]]:
    """Spans of every occurrence of NEEDLE in analysis.fold(TEXT), overlapping ones included."""
    finder = _folded_needle(needle)
    out: list[tuple[int, int]] = []
    if finder is None:
        return out
    if isinstance(finder, str):
        start = text.find(finder)
        while start != -1:
            out.append((start, start + len(finder)))
            start = text.find(finder, start + 1)
        return out
    m = finder.search(text)
    while m is not None:
        out.append((m.start(), m.start() + len(needle)))
        m = finder.search(text, m.start() + 1)
    return out


def exact_phrase_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of TEXT where the exact WORDS (as the exact fields hold them) stand one after the other,
    as the exact fields' tokenizer reads them (whatever stands between Latin words is no word)."""
    out = []
    for start, end in candidate_spans(text, frozenset({words[0][:LEAD]})):
        if _plain(text[start:end]) != words[0]:
            continue
        last = end
        for word in words[1:]:
            m = analysis.LATIN_WORD.search(text, last)
            if m is None or _plain(m.group()) != word:
                break
            last = m.end()
        else:
            out.append((start, last))
    return out


def spans(text: str, terms: QueryTerms) -> list[tuple[int, int]]:
    """Character spans of TEXT to highlight, sorted and merged."""
    found = []
    if terms.english or terms.prefixes or terms.exact:
        # Only the words that could match are stemmed and compared (each once: _stem is cached).
        candidates = candidate_spans(text, frozenset(t[:LEAD] for t in terms.english | terms.prefixes | terms.exact))
        found.extend((s, e) for s, e in candidates if _word_matches(text[s:e], terms))
    for words in terms.exact_phrases:
        found.extend(exact_phrase_spans(text, words))
    for needle in terms.chinese:
        if needle:
            found.extend(chinese_spans(text, needle))
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _render(text: str, marks: list[tuple[int, int]], start: int, end: int) -> str:
    out, pos = [], start
    for s, e in marks:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, terms: QueryTerms, width: int = SNIPPET_CHARS) -> str:
    """An HTML snippet of TEXT around its densest cluster of matches (escaped, <mark>ed)."""
    text = " ".join(text.split())
    # A Chinese character is about two Latin letters wide and carries a word's
    # worth of meaning: Chinese snippets get half as many characters.
    sample = text[:600]
    if len(analysis.CJK_RUN.findall(sample)) and sum(map(len, analysis.CJK_RUN.findall(sample))) * 2 > len(sample):
        width //= 2
    marks = spans(text, terms)
    if not marks:
        return escape(text[:width]) + ("…" if len(text) > width else "")
    # The window of WIDTH characters holding the most highlighted spans.
    best, best_count, j = 0, 0, 0
    for i, (s, _) in enumerate(marks):
        while j < len(marks) and marks[j][1] - s <= width:
            j += 1
        if j - i > best_count:
            best, best_count = i, j - i
    first = marks[best][0]
    start = max(0, first - width // 4)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    # Don't cut an English word in two.
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isascii() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isascii() and text[end].isalnum():
        end += 1
    body = _render(text, marks, start, end)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def mark_all(text: str, terms: QueryTerms) -> str:
    """The whole of TEXT as HTML, escaped, with every match <mark>ed."""
    if not terms:
        return escape(text)
    return _render(text, spans(text, terms), 0, len(text))
