"""Query -> ranked documents with their matching pages and snippets.

The web layer calls `search()`, `get_document()`, `suggest()` and
`list_documents()`; they return plain dataclasses and never Whoosh objects.
"""

from __future__ import annotations

import json
import math
import re
import time
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from .engine import analysis, parse, query, scoring
from .engine.cost import CostLimits, TooCostly, check_cost
from .engine.evaluate import DeadlinePassed, Evaluation, evaluate, matches
from .engine.parse import OPERATORS, Glossary, Translation
from . import highlight
from .dictionary import Dictionary, dictionary_cache_dir, load_dictionary
from .reflow import reflow
from .config import Settings
from .errors import SearchQueryError
from .extract import INFLATES_REASON, reading_summary
from .engine.schema import (
    RECORD_DOC,
    RECORD_FILE,
    RECORD_PAGE,
    RECORD_TEXT,
    SCORED_FIELDS,
    SEARCHED_RECORDS,
)
from .engine.ranking import (
    RESCORE_WINDOW,
    dated_in_named_years_first,
    document_score,
    order_by_relevance,
    with_together_bonus,
)
from .engine.reading import holds_term, searcher_cache, segment_column, segment_values, stored_records_data

SORTS = ("relevance", "newest", "oldest")
FACETS = ("kind", "year", "lang", "programme", "place")
# The facets of a document's catalogue entry (lang is the facet of its files), in _facet_table's order.
DOCUMENT_FACETS = ("kind", "year", "programme", "place")
# The year facet's value for the documents without a date.
UNDATED = "undated"
# Fields holding catalogue values only: a query of nothing else is a filter, not a question of relevance.
METADATA_FIELDS = frozenset({"kind", "year", "lang", "programme", "date", "doc_id"})
# A year a query may name: a word of four digits from 1900 to 2099.
YEAR_WORD = re.compile(r"^(19|20)\d\d$")


# --- results ------------------------------------------------------------------


@dataclass
class PageHit:
    page: int
    snippet: str            # HTML: escaped text with <mark> around the matched words
    score: float = 0.0


@dataclass
class FileHit:
    lang: str
    path: str
    pages: list[PageHit]    # the best few, best first
    matched_pages: int      # all pages of this file that matched
    matched_page_numbers: list[int] = field(default_factory=list)   # all of them, in page order

    @property
    def other_pages(self) -> int:
        return self.matched_pages - len(self.pages)


@dataclass
class DocumentHit:
    doc_id: str
    title: str
    title_zh: str
    date: str
    kind: str
    programme: str
    event: str
    place: str
    languages: list[str]
    score: float
    files: list[FileHit]
    title_matched: bool = False
    summary: str = ""

    @property
    def matched_pages(self) -> int:
        return sum(f.matched_pages for f in self.files)


@dataclass
class Filters:
    kind: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    lang: tuple[str, ...] = ()
    programme: tuple[str, ...] = ()
    place: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""

    def active(self) -> list[tuple[str, str]]:
        out = [(name, v) for name in FACETS for v in getattr(self, name)]
        if self.date_from:
            out.append(("date_from", self.date_from))
        if self.date_to:
            out.append(("date_to", self.date_to))
        return out


@dataclass
class SearchResult:
    query: str
    hits: list[DocumentHit]
    total: int
    page: int
    page_size: int
    sort: str = "relevance"
    filters: Filters = field(default_factory=Filters)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    also_searched: list[str] = field(default_factory=list)      # every term the translations added
    translations: list[Translation] = field(default_factory=list)   # for each word, what was added
    any_word_fallback: bool = False
    did_you_mean: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


class _FileMatch(NamedTuple):
    """A file whose text record matched: its path, score, docnum and language."""
    path: str
    score: float
    docnum: int
    lang: str


# --- the glossary -------------------------------------------------------------


@lru_cache(maxsize=4)
def _load_glossary(path: str, mtime_ns: int) -> Glossary:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    en_to_zh: dict[tuple[str, ...], str] = {}
    zh_to_en: dict[str, str] = {}
    for term in data.get("term", []):
        en, zh = term.get("en", "").strip(), term.get("zh", "").strip()
        if not en or not zh:
            continue
        words = tuple(w.lower() for w in analysis.LATIN_WORD.findall(unicodedata.normalize("NFKC", en)))
        if words:
            en_to_zh.setdefault(words, zh)
        zh_to_en.setdefault(analysis.fold(zh), en)
    return Glossary(en_to_zh, zh_to_en)


def load_glossary(path: Path) -> Glossary:
    """The English-Chinese glossary, re-read when the file changes."""
    try:
        mtime = Path(path).stat().st_mtime_ns
    except OSError:
        return Glossary({}, {})
    return _load_glossary(str(path), mtime)


def normalize_query(text: str, settings: Settings) -> str:
    """Fold the query text (NFKC: full-width letters and digits) and check its size."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()
    if len(text) > settings.max_query_chars:
        raise SearchQueryError(
            f"The query is too long ({len(text)} characters; at most {settings.max_query_chars}).",
            "too_long", length=len(text), limit=settings.max_query_chars)
    words = len(text.split()) + len(analysis.CJK_RUN.findall(text))
    if words > settings.max_query_terms:
        raise SearchQueryError(f"The query has too many terms ({words}; at most {settings.max_query_terms}).",
                               "too_many_terms", terms=words, limit=settings.max_query_terms)
    if text.count("(") > 20:
        raise SearchQueryError("The query nests too many parentheses (at most 20).", "too_deep", limit=20)
    if re.search(r"(^|[\s(:\"])[*?]", text):
        raise SearchQueryError("A word cannot start with * or ?: type at least one letter before the wildcard.",
                               "leading_wildcard")
    return text


def translators(settings: Settings, expand: bool | None) -> tuple[Glossary | None, Dictionary | None]:
    """The glossary and the bilingual dictionary a query is translated with (None: not translated);
    EXPAND None means the configured default."""
    expand = settings.expand_glossary if expand is None else expand
    if not expand:
        return None, None
    if not settings.translate_dictionary:
        return load_glossary(settings.glossary), None
    return load_glossary(settings.glossary), load_dictionary(dictionary_cache_dir(settings.index_dir))


def parse_query(text: str, glossary: Glossary | None, any_word: bool = False,
                dictionary: Dictionary | None = None, searcher=None) -> tuple[query.Node, list[Translation]]:
    """Parse user query TEXT; return the query tree (indexer.engine.query) and the translations added
    (a dictionary sense SEARCHER's index holds in no exact form is searched by its stem)."""
    holds = None if searcher is None else partial(holds_term, searcher)
    try:
        return parse.parse(text, glossary, any_word, dictionary, holds)
    except parse.QueryParseError as exc:
        raise SearchQueryError(f"The query could not be understood: {exc}", "unparsable") from None
    except parse.NoWords:
        raise SearchQueryError("The query has no words to search for: add a word, a Chinese term or a phrase.",
                               "no_words") from None


# What each refusal of indexer.engine.cost says (its figures fill the braces).
_COST_MESSAGES = {
    "too_many_wildcards": "The query has too many words with * or ? ({count}; at most {limit}).",
    "short_prefix": "Type at least {limit} letters before a * or ?.",
    "too_many_expansions": "The words with * or ? stand for too many terms (more than {limit}): "
                           "type more letters before the * or ?.",
}


def check_query_cost(searcher, q: query.Node, settings: Settings) -> None:
    """Refuse Q, before it runs, if its prefixes and wildcards ask for more than the settings allow."""
    limits = CostLimits(settings.max_wildcard_words, settings.min_prefix_chars, settings.max_expanded_terms)
    try:
        check_cost(searcher, q, limits)
    except TooCostly as exc:
        raise SearchQueryError(_COST_MESSAGES[exc.code].format(**exc.params), exc.code, **exc.params) from None


def _filter_query(filters: Filters) -> query.Node | None:
    """The query the records must also match under FILTERS' date range and the facets the index
    holds as fields (None: no filter). Place and "undated" are not index terms: _apply_facets
    applies every facet per document."""
    parts = []
    for name in ("kind", "year", "lang", "programme"):
        values = tuple(v for v in getattr(filters, name) if not (name == "year" and v == UNDATED))
        if values:
            parts.append(query.Or(tuple(query.Term(name, v) for v in values)))
    if filters.date_from or filters.date_to:
        parts.append(query.Range("date", filters.date_from or None,
                                 (filters.date_to or "") + "\uffff" if filters.date_to else None))
    return query.And(tuple(parts)) if parts else None


# --- documents ---------------------------------------------------------------


def _doc_data(searcher) -> dict[str, dict]:
    """Metadata of every document, cached per searcher (per committed index state)."""
    return searcher_cache(searcher, "docs", lambda: {
        d["doc_id"]: data for d, data in stored_records_data(searcher, RECORD_DOC)})


class _Ranked(NamedTuple):
    doc_id: str
    meta: dict
    score: float
    own_words: bool      # matched the words as typed, not only their translation


# A namedtuple built by tuple.__new__, skipping the class's Python-level __new__
# (a function call and its argument handling): a common word has thousands of matches.
_new_tuple = tuple.__new__


def _sort_ranked(ranked: list[_Ranked], sort: str) -> None:
    """Sort RANKED best first for SORT, in place."""
    if sort == "newest":
        ranked.sort(key=lambda r: (r.meta.get("date") or "0000", r.score), reverse=True)
    elif sort == "oldest":
        # Undated documents go last; within a date, the better match first.
        ranked.sort(key=lambda r: (bool(r.meta.get("date")), _negated(r.meta.get("date") or ""), r.score),
                    reverse=True)
    else:
        order_by_relevance(ranked, score_index=2, own_words_index=3)


def _negated(date: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in date)


def search(searcher, text: str, settings: Settings, filters: Filters | None = None, page: int = 1,
           sort: str = "relevance", expand: bool | None = None, page_size: int | None = None) -> SearchResult:
    """Run the user's query; one result per document, with matching pages and snippets."""
    filters = filters or Filters()
    page_size = page_size or settings.page_size
    if sort not in SORTS:
        raise SearchQueryError(f"Unknown sort {sort!r}: use one of {', '.join(SORTS)}.", "bad_sort",
                               sort=sort, allowed=", ".join(SORTS))
    if page < 1 or page > 10_000:
        raise SearchQueryError("The result page number must be between 1 and 10000.", "bad_page", limit=10_000)
    text = normalize_query(text, settings)
    if not text:
        if filters.active():
            return _listing(searcher, filters, page, sort, page_size, settings)
        raise SearchQueryError("Type a word, a phrase in quotes, or a Chinese term to search for.", "empty")
    glossary, dictionary = translators(settings, expand)
    q, added = parse_query(text, glossary, dictionary=dictionary, searcher=searcher)
    q = _without_absent_terms(searcher, q)
    check_query_cost(searcher, q, settings)
    groups, own_docs, evaluation, facets = _run(searcher, q, filters, settings, _own_words(text, added))
    fallback = False
    if not groups and _has_implicit_and(text):
        q_any, added = parse_query(text, glossary, any_word=True, dictionary=dictionary, searcher=searcher)
        q_any = _without_absent_terms(searcher, q_any)
        groups, own_docs, evaluation, facets = _run(searcher, q_any, filters, settings,
                                                    _own_words(text, added, any_word=True))
        fallback = bool(groups)
        if fallback:
            q = q_any
    docs = _doc_data(searcher)
    ranked = []
    for doc_id, g in groups.items():
        meta = docs.get(doc_id)
        if meta is None:
            continue
        score = document_score(g["doc"], [f.score for f in g["files"]], any_word=fallback)
        own = own_docs is None or doc_id in own_docs
        ranked.append(_new_tuple(_Ranked, (doc_id, meta, score, own)))
    if sort == "relevance" and _is_filter_only(q):
        sort = "newest"
    _sort_ranked(ranked, sort)
    if sort == "relevance" and query.has_conjunction(q):
        ranked = _words_together_first(searcher, q, ranked, groups, evaluation)
    if sort == "relevance":
        _named_years_first(ranked, q)
    start = (page - 1) * page_size
    shown = ranked[start:start + page_size]
    pages = evaluation.pages(searcher, q, [f.docnum for r in shown for f in groups[r.doc_id]["files"]])
    terms = highlight.query_terms(q)
    hits = [_document_hit(r.doc_id, r.meta, r.score, groups[r.doc_id], pages, searcher, terms, settings)
            for r in shown]
    result = SearchResult(query=text, hits=hits, total=len(ranked), page=page, page_size=page_size,
                          sort=sort, filters=filters, facets=facets,
                          also_searched=list(dict.fromkeys(t for a in added for t in a.terms)), translations=added,
                          any_word_fallback=fallback)
    if len(ranked) < 3:
        result.did_you_mean = did_you_mean(searcher, text)
    return result


def _listing(searcher, filters: Filters, page: int, sort: str, page_size: int, settings: Settings) -> SearchResult:
    """Every document under FILTERS without a query: newest first unless SORT is "oldest"."""
    sort = "oldest" if sort == "oldest" else "newest"
    low, high = filters.date_from, filters.date_to + "\uffff" if filters.date_to else ""
    groups = {doc_id: {"doc": 0.0, "files": [], "doc_matched": True}
              for doc_id, meta in _doc_data(searcher).items()
              if not (low or high) or (meta.get("date") and (not low or meta["date"] >= low)
                                       and (not high or meta["date"] <= high))}
    groups, facets = _apply_facets(searcher, groups, filters)
    docs = _doc_data(searcher)
    ranked = [_new_tuple(_Ranked, (doc_id, docs[doc_id], 0.0, True)) for doc_id in groups]
    _sort_ranked(ranked, sort)
    start = (page - 1) * page_size
    # No query: no matching files, pages or snippets, only the documents.
    hits = [_document_hit(r.doc_id, r.meta, 0.0, groups[r.doc_id], {}, searcher, highlight.QueryTerms(), settings)
            for r in ranked[start:start + page_size]]
    return SearchResult(query="", hits=hits, total=len(ranked), page=page, page_size=page_size, sort=sort,
                        filters=filters, facets=facets)


def _is_filter_only(q: query.Node) -> bool:
    """Whether Q asks only for catalogue values (kind:study year:2013): every document it finds
    matches it alike, so relevance cannot order them."""
    return all(getattr(leaf, "field", "") in METADATA_FIELDS for leaf in query.positive_leaves(q))


def _named_years_first(ranked: list[_Ranked], q: query.Node) -> None:
    """Put the documents dated in a year Q names (memorandum 2006) before the others, in place."""
    years = {leaf.text for leaf in query.positive_leaves(q)
             if type(leaf) is query.Term and YEAR_WORD.match(leaf.text)}
    if years:
        dated_in_named_years_first(ranked, own_words_index=3,
                                   in_named_year=lambda r: (r.meta.get("date") or "")[:4] in years)


def _words_together_first(searcher, q, ranked: list[_Ranked], groups, evaluation: Evaluation) -> list[_Ranked]:
    """RANKED with the bonus of ranking.with_together_bonus given in its first RESCORE_WINDOW."""
    window = ranked[:RESCORE_WINDOW]
    together = evaluation.together(searcher, q, [f.docnum for r in window for f in groups[r.doc_id]["files"]])
    rescored = [r._replace(score=with_together_bonus(r.score))
                if any(together[f.docnum] for f in groups[r.doc_id]["files"]) else r for r in window]
    _sort_ranked(rescored, "relevance")
    return rescored + ranked[RESCORE_WINDOW:]


def _has_implicit_and(text: str) -> bool:
    return len(text.split()) > 1 and not re.search(r"\b(AND|OR|NOT)\b|\"", text)


def _column(searcher, name: str) -> tuple:
    """Every record's value of column NAME, indexed by docnum; cached per searcher and per segment.

    Whoosh's own column readers go through several layers of calls for each
    value, and grouping reads a value for every hit; a tuple's item is one index.
    """
    # A tuple, untracked by the garbage collector (see reading.segment_values).
    return searcher_cache(searcher, f"column:{name}", lambda: tuple(chain.from_iterable(
        segment_column(reader, name) for reader, _offset in searcher.reader().leaf_readers())))


def warm_up(searcher) -> None:
    """Build what searches keep per segment and per searcher: the columns grouping and page
    snippets read, each document's metadata and facet key, the record lengths scoring reads.

    Without it a server's first searches build them one by one, and the first
    answers are slow; a web worker calls this before it answers.
    """
    _hit_column(searcher)
    _facet_keys(searcher)
    for name in ("record", "path", "page"):
        _column(searcher, name)
    scoring.warm_up(searcher, SCORED_FIELDS)


def _own_words(text: str, added: list[Translation], any_word: bool = False) -> query.Node | None:
    """The query of the user's own words, when translations were added to TEXT's query.

    The user's own words come first: a document reached only through a
    translation ranks after every document that has the words as typed,
    however well its title matches the translation.
    """
    return parse_query(text, None, any_word=any_word)[0] if added else None


def _without_absent_terms(searcher, q: query.Node) -> query.Node:
    """Q without the alternatives that hold only terms no segment of SEARCHER has (query.without_absent_terms)."""
    return query.without_absent_terms(q, lambda field, text: holds_term(searcher, field, text))


def _run(searcher, q, filters: Filters, settings: Settings, own_q: query.Node | None = None
         ) -> tuple[dict[str, dict], set[str] | None, Evaluation, dict[str, list[tuple[str, int]]]]:
    """All matching records under FILTERS grouped by document (the doc record's score and the
    matching files), the documents matching OWN_Q too (None without OWN_Q), the evaluation (for
    the pages), and the facet counts (_apply_facets)."""
    queries = [(q, True)] + ([(own_q, False)] if own_q is not None else [])
    # The date range is applied here; the facets per document, after (see _apply_facets).
    evaluation = _evaluate(searcher, queries, Filters(date_from=filters.date_from, date_to=filters.date_to),
                           settings)
    found, *own = evaluation.found
    groups: dict[str, dict] = {}
    own_docs = _documents_of(searcher, own[0]) if own else None
    hits = _hit_column(searcher)
    for score, docnum in found:
        hit = hits[docnum]
        if hit is None:
            continue
        doc_id, is_doc, path, lang = hit
        g = groups.get(doc_id)
        if g is None:
            g = groups[doc_id] = {"doc": 0.0, "files": [], "doc_matched": False}
        if is_doc:
            g["doc"] = score
            g["doc_matched"] = True
        else:
            g["files"].append(_new_tuple(_FileMatch, (path, score, docnum, lang)))
    groups, facets = _apply_facets(searcher, groups, filters)
    return groups, own_docs, evaluation, facets


def _documents_of(searcher, found: list[tuple[float, int]]) -> set[str]:
    """The documents with a doc or text record in FOUND."""
    hits = _hit_column(searcher)
    return {hit[0] for _, docnum in found if (hit := hits[docnum]) is not None}


def _hit_column(searcher) -> tuple:
    """Per record, what grouping needs of it: (doc_id, is a doc record, path, lang) for the records
    a query matches (SEARCHED_RECORDS), None for the others; cached per searcher and per segment.

    One lookup a hit, not one per column (a common word matches thousands of records).
    """
    return searcher_cache(searcher, "hits", lambda: tuple(chain.from_iterable(
        segment_values(reader, "hits", _segment_hits) for reader, _offset in searcher.reader().leaf_readers())))


def _segment_hits(reader) -> list:
    columns = [segment_column(reader, name) for name in ("record", "doc_id", "path", "lang")]
    return [(doc_id, record == RECORD_DOC, path, lang) if record in SEARCHED_RECORDS else None
            for record, doc_id, path, lang in zip(*columns)]


def _evaluate(searcher, queries: list[tuple[query.Node, bool]], filters: Filters, settings: Settings) -> Evaluation:
    """Every record matching each (query, scored) pair under FILTERS, best first, within the query
    time limit (indexer.engine.evaluate)."""
    limit = settings.query_time_limit_s
    try:
        return evaluate(searcher, queries, allow=_filter_query(filters), deadline=time.monotonic() + limit)
    except DeadlinePassed:
        raise SearchQueryError(f"The query took longer than {limit:g} s: make it more specific.",
                               "timeout", seconds=limit) from None


def _facet_keys(searcher) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Each document's facet key: the number of its combination of kind, year, programme and place
    in _facet_table, and its files' languages. Cached per searcher.

    Documents share few combinations of catalogue values: checking and counting
    one number a document, and then each combination's values once, does a
    fraction of the work of each value of each document (a common word
    matches nearly all of them).
    """
    return _facet_table(searcher)[0]


def _facet_table(searcher) -> tuple[dict[str, tuple[int, tuple[str, ...]]], list[tuple[str, ...]]]:
    """(each document's facet key, the combinations the keys number: the values of DOCUMENT_FACETS,
    "" where the catalogue has none and UNDATED for a document without a date), cached per searcher."""
    def compute():
        keys = {}
        numbers: dict[tuple, int] = {}
        for doc_id, meta in _doc_data(searcher).items():
            values = (meta.get("kind") or "", (meta.get("date") or "")[:4] or UNDATED,
                      meta.get("programme") or "", meta.get("place") or "")
            number = numbers.setdefault(values, len(numbers))
            langs = tuple(sorted({f["lang"] for f in meta.get("files", [])}))
            keys[doc_id] = (number, langs)
        return keys, list(numbers)
    return searcher_cache(searcher, "facets", compute)


def _apply_facets(searcher, groups: dict[str, dict], filters: Filters
                  ) -> tuple[dict[str, dict], dict[str, list[tuple[str, int]]]]:
    """GROUPS narrowed to FILTERS' facets, and each facet's counts.

    Several values of one facet are OR-ed, different facets AND-ed. A facet's
    counts are those of the documents matching every other facet's filter (as
    Datasette and EUR-Lex count): picking a kind keeps the other kinds listed
    with what picking them as well would add. The language filter keeps a
    document's files in those languages (and its titles if it has a file in
    one): a language's count is of the documents that filter would keep.
    Documents without metadata are left out.
    """
    keys, combinations = _facet_table(searcher)
    chosen = [(i, set(values)) for i, name in enumerate(DOCUMENT_FACETS) if (values := getattr(filters, name))]
    # Per combination, the positions of the document facets whose filter it fails.
    failed = [tuple(i for i, values in chosen if combination[i] not in values) for combination in combinations]
    languages = set(filters.lang)
    kept: dict[str, dict] = {}
    in_all: Counter = Counter()          # combinations of the documents kept
    in_all_but_one: Counter = Counter()   # (position, value) of the documents failing one facet only
    lang_counts: Counter = Counter()
    for doc_id, g in groups.items():
        key = keys.get(doc_id)
        if key is None:
            continue
        number, doc_langs = key
        fails = failed[number]
        if len(fails) > 1:
            continue
        if not fails:
            # The languages picking which would keep the document (_in_languages).
            files = g["files"]
            if g["doc_matched"]:
                lang_counts.update(set(doc_langs).union(f.lang for f in files if f.lang))
            elif len(files) == 1:
                if files[0].lang:
                    lang_counts[files[0].lang] += 1
            else:
                lang_counts.update({f.lang for f in files if f.lang})
        if languages:
            g = _in_languages(g, doc_langs, languages)
            if g is None:
                continue
        if fails:
            position = fails[0]
            in_all_but_one[position, combinations[number][position]] += 1
        else:
            kept[doc_id] = g
            in_all[number] += 1
    counts: dict[str, Counter] = {name: Counter() for name in FACETS}
    counts["lang"] = lang_counts
    for number, n in in_all.items():
        for name, value in zip(DOCUMENT_FACETS, combinations[number]):
            if value:
                counts[name][value] += n
    for (position, value), n in in_all_but_one.items():
        if value:
            counts[DOCUMENT_FACETS[position]][value] += n
    facets = {}
    for name, c in counts.items():
        if name == "year":
            # Newest first, the undated last.
            facets[name] = sorted(c.items(), key=lambda kv: (kv[0] != UNDATED, kv[0]), reverse=True)
        else:
            facets[name] = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    return kept, facets


def _in_languages(group: dict, doc_langs: tuple[str, ...], languages: set[str]) -> dict | None:
    """GROUP with only its files in LANGUAGES and its doc record if the document has a file in one
    (the doc record's lang field holds all of them); None when nothing is left."""
    files = [f for f in group["files"] if f.lang in languages]
    doc_matched = group["doc_matched"] and not languages.isdisjoint(doc_langs)
    if not files and not doc_matched:
        return None
    if doc_matched and len(files) == len(group["files"]):
        return group
    return {"doc": group["doc"] if doc_matched else 0.0, "files": files, "doc_matched": doc_matched}


def _document_hit(doc_id, meta, score, group, pages, searcher, terms, settings) -> DocumentHit:
    """One result: the document with, per matching file, its best pages' snippets and every matching page."""
    langs = {f["file"]: f["lang"] for f in meta.get("files", [])}
    files = []
    for match in group["files"]:
        found = pages.get(match.docnum)
        scores = found.scores if found else {}
        best = found.best(settings.snippets_per_document) if found else []
        shown = []
        siblings = _page_records_before(searcher, match.docnum, match.path) if best else {}
        for n in best:
            text = _page_content(searcher, match.docnum, match.path, n, siblings)
            shown.append(PageHit(n, highlight.snippet(text, terms), round(scores[n], 3)))
        files.append(FileHit(lang=langs.get(match.path) or match.lang, path=match.path, pages=shown,
                             matched_pages=len(scores), matched_page_numbers=sorted(scores)))
    files.sort(key=lambda f: (-max((p.score for p in f.pages), default=0), f.lang))
    return DocumentHit(
        doc_id=doc_id, title=meta.get("title", ""), title_zh=meta.get("title_zh", ""),
        date=meta.get("date", ""), kind=meta.get("kind", ""), programme=meta.get("programme", ""),
        event=meta.get("event", ""), place=meta.get("place", ""),
        languages=sorted({f["lang"] for f in meta.get("files", [])}),
        score=round(score, 3), files=files, title_matched=group["doc"] > 0, summary=meta.get("summary", ""),
    )


def _page_records_before(searcher, text_docnum: int, path: str) -> dict[int, int]:
    """{page number: docnum} of the page records just before a file's text record.

    A file's page records are written right before its text record
    (build._file_records), so they are found from the cached columns without a
    term lookup. A text record re-analysed alone has other records before it:
    then nothing is found here and _page_content looks pages up by key.
    """
    records, paths, numbers = _column(searcher, "record"), _column(searcher, "path"), _column(searcher, "page")
    found = {}
    docnum = text_docnum - 1
    while docnum >= 0 and records[docnum] == RECORD_PAGE and paths[docnum] == path:
        found[numbers[docnum]] = docnum
        docnum -= 1
    return found


def _page_content(searcher, text_docnum: int, path: str, page: int, siblings: dict[int, int]) -> str:
    """A page's stored text: from SIBLINGS (_page_records_before) or looked up by its key in the
    segment of its file's text record."""
    docnum = siblings.get(page)
    if docnum is not None and not searcher.reader().is_deleted(docnum):
        return searcher.stored_fields(docnum).get("content", "")
    key = f"page:{path}#{page}"
    for sub, offset in searcher.leaf_searchers():
        if offset <= text_docnum < offset + sub.doc_count_all():
            reader = sub.reader()
            if ("key", key) in reader:
                postings = reader.postings("key", key)
                while postings.is_active():
                    if not reader.is_deleted(postings.id()):
                        return reader.stored_fields(postings.id()).get("content", "")
                    postings.next()
            break
    stored = searcher.document(key=key)      # elsewhere after all (not expected)
    return stored.get("content", "") if stored else ""


# --- spelling and suggestions -------------------------------------------------


def did_you_mean(searcher, text: str) -> str:
    """The query with misspelt English words replaced by better-matching ones from the index."""
    corrected, changed = [], False
    for token in re.split(r"(\s+)", text):
        word = token.strip('"()')
        if (token.isspace() or not word or word in OPERATORS or ":" in word or not word.isascii()
                or not word.isalpha() or len(word) < 4):
            corrected.append(token)
            continue
        lower = word.lower()
        if searcher.doc_frequency("spell_body", lower) or searcher.doc_frequency("body", _stem(lower)):
            corrected.append(token)
            continue
        # The first letter is taken as typed (as Lucene's DirectSpellChecker does, minPrefix 1):
        # only the words sharing it are searched for those within two edits, not the whole vocabulary.
        suggestions = searcher.suggest("body", lower, limit=1, maxdist=2, prefix=1)
        if suggestions and suggestions[0] != lower:
            corrected.append(token.replace(word, suggestions[0]))
            changed = True
        else:
            corrected.append(token)
    return "".join(corrected) if changed else ""


def _stem(word: str) -> str:
    terms = analysis.english_terms(word)
    return terms[0] if terms else word


def suggest(searcher, prefix: str, limit: int = 8) -> list[str]:
    """Completions for what the user is typing: English words or Chinese words from the index."""
    prefix = unicodedata.normalize("NFKC", prefix or "").strip()
    if not prefix or len(prefix) > 50:
        return []
    head, _, last = prefix.rpartition(" ")
    last_folded = analysis.fold(last)
    if analysis.HAS_CJK.search(last):
        field_name, key = "body_zh", last_folded
    else:
        field_name, key = "spell_body", last.lower()
        if len(key) < 2:
            return []
    reader = searcher.reader()
    candidates = []
    for term in reader.expand_prefix(field_name, key):
        term = term.decode("utf-8") if isinstance(term, bytes) else term
        if term == key and field_name == "body_zh":
            continue
        candidates.append((reader.doc_frequency(field_name, term), term))
        if len(candidates) > 2000:
            break
    candidates.sort(key=lambda c: (-c[0], c[1]))
    stem = (head + " ") if head else ""
    return [stem + term for _, term in candidates[:limit]]


# --- one document -------------------------------------------------------------


# Reasons of a file whose streams inflate past the limits: pdf.js would inflate them in the reader's browser.
_UNSAFE_TO_VIEW = (INFLATES_REASON, "exceeded the memory limit", "ran out of memory")


@dataclass
class FileInfo:
    lang: str
    path: str
    format: str
    status: str
    reason: str
    pages: int
    chars: int
    extractor: str
    failed_pages: list[int]
    exists: bool
    reading: str = ""          # which pages needed which reader and why (extract.reading_summary)

    @property
    def safe_to_view(self) -> bool:
        """Whether a browser may decode the file: not when reading it hit a decompression bomb or the memory limit."""
        return not any(marker in self.reason for marker in _UNSAFE_TO_VIEW)


@dataclass
class DocumentDetail:
    doc_id: str
    title: str
    title_zh: str
    date: str
    kind: str
    programme: str
    event: str
    place: str
    summary: str
    catalogued: bool
    added_at: str
    files: list[FileInfo]
    page_texts: dict[str, list[tuple[int, str]]]      # path -> [(page, html with highlights, reflowed)]
    matched: dict[str, list[int]]                      # path -> matching page numbers
    related: list[tuple[str, str]] = field(default_factory=list)   # (doc_id, title)


def get_document(searcher, doc_id: str, settings: Settings, text: str = "", expand: bool | None = None,
                 with_related: bool = True, with_pages: bool = True) -> DocumentDetail | None:
    """Everything about one document; with TEXT, the pages it matched, highlighted.

    with_pages=False skips the page texts (and related documents): metadata and files only.
    """
    meta = _doc_data(searcher).get(doc_id)
    if meta is None:
        return None
    files_by_path = {d["path"]: json.loads(d["data"]) for d in searcher.documents(record=RECORD_FILE, doc_id=doc_id)}
    files = []
    for f in meta.get("files", []):
        info = files_by_path.get(f["file"], {})
        files.append(FileInfo(
            lang=f["lang"], path=f["file"], format=f.get("format", "pdf"),
            status=info.get("status", "waiting"), reason=info.get("reason", ""),
            pages=info.get("pages", 0), chars=info.get("chars", 0), extractor=info.get("extractor", ""),
            failed_pages=info.get("failed_pages", []),
            exists=(Path(settings.archive_dir) / f["file"]).is_file(),
            reading=reading_summary(info.get("readers", [])),
        ))
    detail = DocumentDetail(
        doc_id=doc_id, title=meta.get("title", ""), title_zh=meta.get("title_zh", ""),
        date=meta.get("date", ""), kind=meta.get("kind", ""), programme=meta.get("programme", ""),
        event=meta.get("event", ""), place=meta.get("place", ""), summary=meta.get("summary", ""),
        catalogued=meta.get("catalogued", True), added_at=meta.get("added_at", ""),
        files=files, page_texts={}, matched={},
    )
    if not with_pages:
        return detail
    terms = highlight.QueryTerms()
    if text:
        try:
            glossary, dictionary = translators(settings, expand)
            q, _ = parse_query(normalize_query(text, settings), glossary, dictionary=dictionary,
                               searcher=searcher)
            terms = highlight.query_terms(q)
            in_document = query.And((query.Term("doc_id", doc_id), query.Term("record", RECORD_TEXT)))
            evaluation = evaluate(searcher, [(q, True)], allow=in_document)
            paths = {docnum: searcher.stored_fields(docnum)["path"] for _, docnum in evaluation.found[0]}
            for docnum, found in evaluation.pages(searcher, q, list(paths)).items():
                if found.scores:
                    detail.matched[paths[docnum]] = sorted(found.scores)
        except SearchQueryError:
            pass
    raw: dict[str, list[tuple[int, str]]] = {}
    for d in searcher.documents(record=RECORD_PAGE, doc_id=doc_id):
        raw.setdefault(d["path"], []).append((d["page"], d.get("content", "")))
    for path, pages in raw.items():
        pages.sort()
        # Reflowed for reading (indexer.reflow): paragraphs separated by a blank line, each on one line.
        detail.page_texts[path] = [(n, highlight.mark_all(reflow(t), terms)) for n, t in pages]
    if with_related:
        detail.related = related_documents(searcher, doc_id, raw)
    return detail


def related_documents(searcher, doc_id: str, page_texts: dict[str, list[tuple[int, str]]],
                      limit: int = 5) -> list[tuple[str, str]]:
    """Documents most like this one: the key terms of its first pages, searched in the other documents."""
    text = " ".join(t for pages in page_texts.values() for _, t in pages[:3])[:20000]
    if not text.strip():
        return []
    parts = []
    for field_name in ("body", "body_zh"):
        try:
            for term, weight in searcher.key_terms_from_text(field_name, text, numterms=8):
                parts.append(query.Term(field_name, term, weight))
        except Exception:  # noqa: BLE001 - an empty field has no key terms
            continue
    if not parts:
        return []
    others = query.And((query.Or(tuple(parts)), query.Not(query.Term("doc_id", doc_id))))
    docs = _doc_data(searcher)
    doc_ids = _column(searcher, "doc_id")
    seen: list[str] = []
    # The 200 best records: the cut of Whoosh's search(limit=200), which tests/test_query.py compares with.
    for _, docnum in matches(searcher, others)[:200]:
        d = doc_ids[docnum]
        if d not in seen and d in docs:
            seen.append(d)
        if len(seen) >= limit:
            break
    return [(d, docs[d].get("title", d)) for d in seen]


def list_documents(searcher, order: str = "date") -> list[dict]:
    """All documents' metadata, newest first (order="date"), by kind, or by time added ("added")."""
    docs = list(_doc_data(searcher).values())
    if order == "kind":
        docs.sort(key=lambda d: (d.get("kind", ""), "~" + (d.get("date") or "")), reverse=False)
    elif order == "added":
        docs.sort(key=lambda d: d.get("added_at", ""), reverse=True)
    else:
        docs.sort(key=lambda d: d.get("date") or "0000", reverse=True)
    return docs


def page_text(searcher, doc_id: str, path: str, page: int) -> str | None:
    """The stored text of one page."""
    d = searcher.document(key=f"page:{path}#{page}")
    if d is None or d.get("doc_id") != doc_id:
        return None
    return d.get("content", "")
