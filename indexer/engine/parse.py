"""The query parser's front end: user text -> Whoosh's parse -> the project's tree (engine.query).

Whoosh's query parser reads the syntax (quotes, field prefixes, AND/OR/NOT,
+/-, ranges, wildcards, ^boosts) and spreads unfielded words over the default
fields with their weights. Our plugin, between the two, expands field groups
(title: searches every title field) and translates (a word is searched in the
other language too, as an Alternatives node): by the collection's glossary
first, then by a bilingual dictionary (indexer.dictionary) for what the
glossary lacks, each word's dictionary translations as one Synonyms node.
Every translation made is reported as a Translation. The Whoosh query is then
converted once into engine.query nodes (from_whoosh); nothing after parsing
sees a Whoosh query. to_whoosh gives the equivalent Whoosh query back, for the
tests that compare scores with Whoosh's own matchers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from whoosh import qparser, query as wq
from whoosh.qparser import syntax

from . import analysis, inflection, query
from .ranking import (DICTIONARY_MAIN_SENSES, DICTIONARY_WEIGHT, EXACT_FORM_WEIGHT, FIELD_WEIGHTS,
                      LATER_SENSE_SHARE, TRANSLATION_WEIGHT)
from .schema import (CHINESE_WORD_FIELDS, CJK_FIELDS, DEFAULT_FIELDS, EXACT_FIELDS, FIELD_ALIASES, FIELD_GROUPS,
                     build_schema)


class QueryParseError(ValueError):
    """The query text could not be parsed."""


class NoWords(ValueError):
    """The query holds nothing to search for."""


@dataclass(frozen=True)
class Glossary:
    en_to_zh: dict[tuple[str, ...], str]
    zh_to_en: dict[str, str]


class Dictionary(Protocol):
    """What the parser asks of a bilingual dictionary (indexer.dictionary.Dictionary)."""

    def knows(self, word: str) -> bool: ...

    def english_for(self, word: str, alone: bool = True) -> list[str]: ...

    def split(self, word: str) -> list[str]: ...

    def chinese_for(self, english: str) -> list[str]: ...


@dataclass(frozen=True)
class Translation:
    """Terms of the other language searched for a word of the query, and where they come from."""
    word: str                   # as typed (a Chinese word: as segmented)
    terms: tuple[str, ...]
    source: str                 # "glossary" or "dictionary"


# A dictionary translation's boost inside an Alternatives, whose weight is the glossary's.
DICTIONARY_SHARE = DICTIONARY_WEIGHT / TRANSLATION_WEIGHT
# Longest English run (in words) looked up in the dictionary.
MAX_DICTIONARY_WORDS = 3
# A compound the dictionary lacks is split into words it has; their first terms
# are also searched side by side as phrases ("local government" for 地方政府),
# the words of each part at most this many.
COMPOUND_TERMS = 3


class _PrebuiltNode(syntax.SyntaxNode):
    """A syntax node standing for a query built outside the parser."""

    has_fieldname = False
    has_text = False

    def __init__(self, q, startchar=None, endchar=None):
        self.q = q
        self.boost = 1.0
        self.startchar = startchar
        self.endchar = endchar

    def r(self):
        return f"Prebuilt({self.q!r})"

    def query(self, parser):
        return self.q


@lru_cache(maxsize=1)
def _schema():
    return build_schema()


def _parser(group=qparser.AndGroup, glossary: Glossary | None = None, added: list | None = None,
            dictionary: Dictionary | None = None, exact: bool = True) -> qparser.QueryParser:
    """The query parser: default fields with their weights, our operators and expansions; EXACT:
    quotes mean the exact words and a plain word's exact form counts (False for the translations
    the parser adds, which are no user's quotes)."""
    parser = qparser.MultifieldParser(list(DEFAULT_FIELDS), _schema(), fieldboosts=FIELD_WEIGHTS, group=group)
    if exact:
        parser.phraseclass = _Phrase
    # Apostrophes are part of English text ("People's Republic"), not quotes;
    # "*:*" (every document) is no use to people.
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    # "-word" excludes and "+word" requires, as in most search boxes; only at
    # the start of a word, so "EU-China" stays one phrase-like term.
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=r"(?:(?<=\s)|(?<=\()|^)\+",
                                              minusexpr=r"(?:(?<=\s)|(?<=\()|^)-"))
    aliases: dict[str, list[str]] = {}
    for alias, target in FIELD_ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    parser.add_plugin(qparser.FieldAliasPlugin(aliases))
    parser.add_plugin(_ArchivePlugin(glossary, dictionary, added if added is not None else [], exact))
    return parser


class _ArchivePlugin(qparser.Plugin):
    """Field groups (title: searches every title field), translation, and exact words (quotes, forms).

    Runs after explicit field names are applied (priority 100) and before
    unfielded words are spread over the default fields (110), so it still
    sees the words as the user typed them.
    """

    def __init__(self, glossary: Glossary | None, dictionary: Dictionary | None, added: list, exact: bool = True):
        self.glossary = glossary
        self.dictionary = dictionary
        self.added = added
        self.exact = exact

    def filters(self, parser):
        return [(self.do_filter, 105)]

    def do_filter(self, parser, group):
        group = _expand_field_groups(group)
        if self.glossary is not None or self.dictionary is not None:
            group = _translate(group, self.glossary or Glossary({}, {}), self.dictionary, self.added)
        if self.exact:
            # After translation, which reads the words as typed; its own parses of the user's
            # words go through here too.
            group = _exact_words(group)
        return group


# Words the parser reads as operators.
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}


def _expand_field_groups(node):
    """A prefix such as title: searches each index field of its group."""
    if isinstance(node, syntax.GroupNode):
        node.nodes = [_expand_field_groups(n) for n in node.nodes]
        return node
    name = getattr(node, "fieldname", None)
    if name in FIELD_GROUPS:
        copies = []
        for target in FIELD_GROUPS[name]:
            c = copy.copy(node)
            c.set_fieldname(target, override=True)
            copies.append(c)
        return syntax.OrGroup(copies)
    return node


def _exact_words(group):
    """Quoted text searches the exact fields instead of the English ones; an unquoted English word
    also looks for its exact form there, an optional clause (ranking.EXACT_FORM_WEIGHT); in place.

    The Chinese fields stay as they are: jieba words and bigrams are never
    stemmed, so a quoted Chinese string is already exact (traditional
    characters still fold to simplified ones).
    """
    nodes = group.nodes
    for i, node in enumerate(nodes):
        if isinstance(node, syntax.GroupNode):
            _exact_words(node)
        elif isinstance(node, qparser.PhrasePlugin.PhraseNode):
            nodes[i] = _exact_phrase(node)
        elif EXACT_FORM_WEIGHT and _takes_exact_form(nodes, i):
            nodes[i] = syntax.AndMaybeGroup([node, _exact_copies(node, EXACT_FORM_WEIGHT)])
    return group


def _exact_phrase(node):
    """Quoted text NODE in the exact fields: fielded (title:"...") in its field's exact twin, else
    over the default fields with the English ones replaced by their twins."""
    if node.fieldname is not None:
        if node.fieldname in EXACT_FIELDS:
            node.set_fieldname(EXACT_FIELDS[node.fieldname], override=True)
        return node
    copies = []
    for name in DEFAULT_FIELDS:
        c = copy.copy(node)
        c.set_fieldname(EXACT_FIELDS.get(name, name))
        c.set_boost(FIELD_WEIGHTS[name])
        copies.append(c)
    return syntax.OrGroup(copies)


def _exact_copies(node, weight: float):
    """Word NODE in each exact field, boosted as its English field times WEIGHT."""
    copies = []
    for name, exact_name in EXACT_FIELDS.items():
        c = copy.copy(node)
        c.set_fieldname(exact_name)
        c.set_boost(FIELD_WEIGHTS[name] * weight)
        copies.append(c)
    return syntax.OrGroup(copies)


def _takes_exact_form(nodes, i: int) -> bool:
    """Whether node I is an unfielded English word whose exact form counts: one Latin word, not a
    stop word (the English fields drop it, and it is in nearly every record), not after "-" or NOT
    (its exact form would add nothing to any score)."""
    text = _word_text(nodes[i])
    # One Latin word only: a word the analyzer cuts in several ("EU-China") is a phrase, whose
    # exact form would cost a check of positions for what its stemmed phrase already ranks.
    if text is None or len(analysis.LATIN_WORD.findall(text)) != 1 or text.lower() in analysis.STOP_WORDS:
        return False
    before = next((n for n in reversed(nodes[:i]) if not isinstance(n, syntax.Whitespace)), None)
    if isinstance(before, (qparser.PlusMinusPlugin.Plus, qparser.PlusMinusPlugin.Minus)):
        return isinstance(before, qparser.PlusMinusPlugin.Plus)
    return not (isinstance(before, syntax.Operator) and before.text.strip().upper() == "NOT")


def _word_text(node) -> str | None:
    if isinstance(node, syntax.WordNode) and node.fieldname is None and node.text not in OPERATORS:
        return node.text
    return None


def _phrase_text(node) -> str | None:
    if isinstance(node, qparser.PhrasePlugin.PhraseNode) and node.fieldname is None:
        return node.text
    return None


def _chinese_word_query(word: str) -> wq.Query:
    """The query of a dictionary's Chinese WORD: in the jieba word fields when jieba keeps it whole
    (a word, unlike what a user types, needs no substring search: the bigram fields' phrases cost
    most of a translated query), else over the default fields as typed text."""
    if list(analysis.segmenter().cut(word, HMM=False)) == [word]:
        return copy.deepcopy(_parsed_word(word, analysis.segmenter_generation()))
    return _plain_query(f'"{word}"', exact=False)


@lru_cache(maxsize=1024)
def _parsed_word(word: str, _segmenter_generation: int) -> wq.Query:
    fields = list(CHINESE_WORD_FIELDS)
    return qparser.MultifieldParser(fields, _schema(), fieldboosts={f: FIELD_WEIGHTS[f] for f in fields}).parse(
        f'"{word}"')


def _plain_query(text: str, exact: bool = True) -> wq.Query:
    """TEXT parsed over the default fields, without glossary expansion (a copy: callers may change it);
    EXACT as _parser's (False for a translation: quoted there to keep its words together, not exact)."""
    return copy.deepcopy(_parsed_plain(text, analysis.segmenter_generation(), exact))


# The glossary expansion parses a glossary term and its translation for every query holding one,
# and a deep copy of a kept parse costs a fraction of parsing again. The texts are the
# glossary's terms as typed, a few hundred at most; Chinese ones depend on the segmenter's words.
@lru_cache(maxsize=1024)
def _parsed_plain(text: str, _segmenter_generation: int, exact: bool = True) -> wq.Query:
    return _parser(exact=exact).parse(text)


def clear_parse_caches() -> None:
    """Forget the kept parses of words and glossary terms (after a ranking weight is changed in place)."""
    _parsed_plain.cache_clear()
    _parsed_word.cache_clear()


def _translate(node, glossary: Glossary, dictionary: Dictionary | None, added: list):
    """Search the query's words in the other language too, weighted lower; in place.

    The glossary goes first: a word it knows is translated by it alone; the
    dictionary translates what is left.
    """
    if not isinstance(node, syntax.GroupNode):
        return node
    # Whitespace nodes are dropped by the parser at a later stage anyway;
    # without them, consecutive words are consecutive nodes.
    nodes = [_translate(n, glossary, dictionary, added) for n in node.nodes
             if not isinstance(n, syntax.Whitespace)]
    longest = max((len(k) for k in glossary.en_to_zh), default=0)
    glossary_runs = [None if _is_signed(nodes, i) else _glossary_run(nodes, i, glossary, longest)
                     for i in range(len(nodes))]
    out, i = [], 0
    while i < len(nodes):
        n = nodes[i]
        match = glossary_runs[i]
        if match:
            length, own_text, zh = match
            own = _plain_query(own_text)
            out.append(_PrebuiltNode(_Translated(own, _plain_query(f'"{zh}"', exact=False)),
                                     n.startchar, nodes[i + length - 1].endchar))
            added.append(Translation(own_text.strip('"'), (zh,), "glossary"))
            i += length
            continue
        if dictionary is not None and not _is_signed(nodes, i):
            # English: the longest run of plain words the dictionary has, ending before a glossary term.
            stop = next((j for j in range(i + 1, len(nodes)) if glossary_runs[j]), len(nodes))
            found = _dictionary_run(nodes, i, min(stop, i + MAX_DICTIONARY_WORDS), dictionary)
            if found:
                length, own_text, zh_words = found
                translation = wq.DisjunctionMax([_chinese_word_query(zh) for zh in zh_words], boost=DICTIONARY_SHARE)
                out.append(_PrebuiltNode(_Translated(_plain_query(own_text), translation),
                                         n.startchar, nodes[i + length - 1].endchar))
                added.append(Translation(own_text, tuple(zh_words), "dictionary"))
                i += length
                continue
        # Chinese: the glossary's terms inside the word (or phrase), longest first; the dictionary's words between.
        phrase = _phrase_text(n)
        text = _word_text(n) or phrase
        if text and not _is_signed(nodes, i) and analysis.HAS_CJK.search(text):
            parts = _chinese_parts(analysis.fold(text), glossary, dictionary, added)
            if parts:
                translated = parts[0] if len(parts) == 1 else wq.And(parts)
                own = _plain_query(f'"{text}"' if phrase else text)
                out.append(_PrebuiltNode(_Translated(own, translated), n.startchar, n.endchar))
                i += 1
                continue
        out.append(n)
        i += 1
    node.nodes = out
    return node


def _is_signed(nodes, i: int) -> bool:
    """Whether node I follows a "+" or "-": such a term keeps its own meaning, untranslated."""
    return i > 0 and isinstance(nodes[i - 1], (qparser.PlusMinusPlugin.Plus, qparser.PlusMinusPlugin.Minus))


def _glossary_run(nodes, i: int, glossary: Glossary, longest: int):
    """(length, own text, Chinese term) of the longest run of plain words from node I (at most LONGEST),
    or the quoted phrase at I, that is an English glossary term; None if there is none."""
    for length in range(min(longest, len(nodes) - i), 0, -1):
        words = [_word_text(x) for x in nodes[i:i + length]]
        if None not in words:
            key = tuple(w.lower() for w in words)
            if key in glossary.en_to_zh:
                return length, " ".join(words), glossary.en_to_zh[key]
    phrase = _phrase_text(nodes[i])
    if phrase:
        key = tuple(w.lower() for w in analysis.LATIN_WORD.findall(phrase))
        if key in glossary.en_to_zh:
            return 1, f'"{phrase}"', glossary.en_to_zh[key]
    return None


def _dictionary_run(nodes, i: int, end: int, dictionary: Dictionary):
    """(length, own text, Chinese words) of the longest run of plain English words from node I
    (before node END) the dictionary translates; None if there is none."""
    for length in range(end - i, 0, -1):
        words = [_word_text(x) for x in nodes[i:i + length]]
        if None in words or any(analysis.HAS_CJK.search(w) or not analysis.LATIN_WORD.search(w) for w in words):
            continue
        own_text = " ".join(words)
        zh_words = dictionary.chinese_for(own_text)
        if zh_words:
            return length, own_text, zh_words
    return None


def _chinese_parts(text: str, glossary: Glossary, dictionary: Dictionary | None, added: list) -> list[wq.Query]:
    """The translation of Chinese TEXT (folded), one query per term translated, in order; each
    translation made is appended to ADDED."""
    parts: list[wq.Query] = []
    keys = sorted(glossary.zh_to_en, key=len, reverse=True)
    gap_start, i = 0, 0

    def translate_gap(end: int):
        if dictionary is not None and gap_start < end:
            parts.extend(_dictionary_parts(text[gap_start:end], dictionary, added))

    while i < len(text):
        for k in keys:
            if text.startswith(k, i):
                translate_gap(i)
                en = glossary.zh_to_en[k]
                parts.append(_plain_query(f'"{en}"', exact=False))
                added.append(Translation(k, (en,), "glossary"))
                i += len(k)
                gap_start = i
                break
        else:
            i += 1
    translate_gap(len(text))
    return parts


def _dictionary_parts(text: str, dictionary: Dictionary, added: list) -> list[wq.Query]:
    """The dictionary's translation of the jieba words of Chinese TEXT: for each word it has, the
    word's terms as one Synonyms set; a word it lacks, split into words it has. An adverb or a
    localiser is translated only when it is the whole of TEXT (Dictionary.english_for)."""
    parts: list[wq.Query] = []
    words = [word for run in analysis.CJK_RUN.findall(text) for word in analysis.segmenter().cut(run)]
    alone = len(words) == 1
    for word in words:
        if dictionary.knows(word):
            terms = dictionary.english_for(word, alone)
            if terms:
                parts.append(_synonyms(terms))
                added.append(Translation(word, tuple(terms), "dictionary"))
            continue
        pieces = [(piece, dictionary.english_for(piece, alone=False)) for piece in dictionary.split(word)]
        pieces = [(piece, terms) for piece, terms in pieces if terms]
        if not pieces:
            continue
        compound = wq.And([_synonyms(terms) for _, terms in pieces]) if len(pieces) > 1 else _synonyms(pieces[0][1])
        if len(pieces) == 2:
            # Side by side, the pieces' terms may be the compound's own translation.
            # A phrase's sense position is its later part's: "local government" pairs two first senses.
            firsts, seconds = (terms[:COMPOUND_TERMS] for _, terms in pieces)
            phrases = [(f"{a} {b}", max(i, j)) for i, a in enumerate(firsts) for j, b in enumerate(seconds)]
            compound = wq.AndMaybe(compound, _synonyms([p for p, _ in phrases], [n for _, n in phrases]))
        parts.append(compound)
        for piece, terms in pieces:
            added.append(Translation(piece, tuple(terms), "dictionary"))
    return parts


def _synonyms(terms: list[str], positions: list[int] | None = None) -> wq.Query:
    """The query of one word's dictionary translations: any of them, counting as the best one, the
    word's later senses less (POSITIONS: each term's sense position, by default its place in TERMS)."""
    senses = []
    holds = _INDEX_HOLDS.get()
    for term, position in zip(terms, positions or range(len(terms))):
        share = 1.0 if position < DICTIONARY_MAIN_SENSES else LATER_SENSE_SHARE
        # Quoted, so in the exact fields, each form as written (engine.inflection says why); a
        # sense's forms add up, as their occurrences did as one stem in the stemmed fields.
        forms = inflection.exact_forms(term)
        if holds is not None and not any(_form_in_index(form, holds) for form in forms):
            # Back-off: the index has none of the sense's forms, so it is searched as an English
            # reader typing it would search it, by its stem ("industrialization" finds
            # "industrial"); where a form is there, the exact forms keep their precision.
            senses.append(_plain_query(f'"{term}"', exact=False).with_boost(share))
            continue
        senses.append(wq.Or([_exact_form(form) for form in forms], boost=share))
    return wq.DisjunctionMax(senses, boost=DICTIONARY_SHARE)


# What the index holds, while a search parses its query: HOLDS(field, term) (engine.reading.holds_term
# bound to the search's searcher), or None when the parse has no index (every sense exact). A context
# variable, as the parser's plugins reach the translation code through Whoosh's own calls.
_INDEX_HOLDS: ContextVar[Callable[[str, str], bool] | None] = ContextVar("index_holds", default=None)


def _form_in_index(form: str, holds: Callable[[str, str], bool]) -> bool:
    """Whether every word of FORM, as the exact fields index it, is in one of them."""
    words = _exact_terms(form)
    return bool(words) and all(any(holds(field, w) for field in EXACT_FIELDS.values()) for w in words)


def _exact_form(form: str) -> wq.Query:
    """FORM of a translation in the exact fields, each weighted as its English field: what quoted
    FORM parses to, built directly when it is one word (a translated word has dozens of forms, and
    parsing and copying each cost more than searching it)."""
    words = _exact_terms(form)
    if len(words) != 1:
        return _plain_query(f'"{form}"')
    return wq.Or([wq.Term(exact, words[0], boost=FIELD_WEIGHTS[name]) for name, exact in EXACT_FIELDS.items()])


# A translation's forms recur from query to query, and the back-off check and the query both need them.
@lru_cache(maxsize=4096)
def _exact_terms(form: str) -> tuple[str, ...]:
    """FORM's words as the exact fields index them."""
    return tuple(text for text, _ in _exact_analyzer().index_terms(form))


@lru_cache(maxsize=1)
def _exact_analyzer():
    return analysis.english_exact_analyzer()


class _Phrase(wq.Phrase):
    """Whoosh's phrase query, keeping its boost when it normalizes into the term of a quoted single
    word (Whoosh's drops it, and a quoted word lost its field's weight)."""

    def normalize(self):
        q = super().normalize()
        if type(q) is wq.Term and self.boost != 1.0:
            q.boost = self.boost
        return q


class _Translated(wq.CompoundQuery):
    """Marks the glossary's alternative set (own words, their translation) in Whoosh's parse until
    from_whoosh makes it a query.Alternatives.

    Not an Or: normalize() would merge it into an enclosing Or and lose the mark.
    """

    JOINT = " OR~ "

    def __init__(self, own, translation, boost: float = 1.0):
        super().__init__([own, translation], boost=boost)

    def normalize(self):
        own, translation = (s.normalize() for s in self.subqueries)
        if own is wq.NullQuery or translation is wq.NullQuery:
            # One side matches nothing: the expansion is then what
            # Or([own, translation ^ TRANSLATION_WEIGHT]).normalize() gives, a plain query.
            rest = [q for q in (own, translation.with_boost(TRANSLATION_WEIGHT)) if q is not wq.NullQuery]
            return wq.Or(rest).normalize()
        return _Translated(own, translation, boost=self.boost)

    def apply(self, fn):
        return _Translated(*(fn(s) for s in self.subqueries), boost=self.boost)


def _fix_cjk_terms(q: wq.Query) -> wq.Query:
    """A single CJK character searches every bigram it starts (and run ends) on the bigram fields."""
    if isinstance(q, wq.Term) and q.fieldname in CJK_FIELDS and len(q.text) == 1:
        return wq.Prefix(q.fieldname, q.text, boost=q.boost)
    if q.is_leaf():
        return q
    return q.apply(_fix_cjk_terms)


def parse(text: str, glossary: Glossary | None, any_word: bool = False,
          dictionary: Dictionary | None = None,
          holds: Callable[[str, str], bool] | None = None) -> tuple[query.Node, list[Translation]]:
    """Parse user query TEXT into the project's tree; return it and the translations added (by
    GLOSSARY, then DICTIONARY, when given). HOLDS(field, term): whether the index holds a term, so
    that a dictionary sense none of whose exact forms is there is searched by its stem instead."""
    added: list[Translation] = []
    parser = _parser(qparser.OrGroup if any_word else qparser.AndGroup, glossary, added, dictionary)
    token = _INDEX_HOLDS.set(holds)
    try:
        q = parser.parse(text, normalize=False)
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds of errors on odd input
        raise QueryParseError(str(exc)) from None
    finally:
        _INDEX_HOLDS.reset(token)
    q = _fix_cjk_terms(q if q is not None else wq.NullQuery).normalize()
    tree = from_whoosh(q)
    if tree is query.NOTHING or next(query.leaves(tree), None) is None:
        raise NoWords(text)
    return tree, list(dict.fromkeys(added))


# --- Whoosh's query <-> the project's tree -------------------------------------


def from_whoosh(q: wq.Query) -> query.Node:
    """Return the project's tree for Whoosh query Q (as the parser and normalize() make them)."""
    kind = type(q)
    boost = q.boost if hasattr(q, "boost") else 1.0
    if kind is wq.Term:
        return query.Term(q.fieldname, _text(q.text), boost)
    if kind is wq.Phrase or kind is _Phrase:
        return query.Phrase(q.fieldname, tuple(_text(w) for w in q.words), q.slop, boost)
    if kind is wq.Prefix:
        return query.Prefix(q.fieldname, _text(q.text), boost)
    if kind is wq.Wildcard:
        return query.Wildcard(q.fieldname, _text(q.text), boost)
    if kind is wq.TermRange:
        return query.Range(q.fieldname, _text(q.start) if q.start is not None else None,
                           _text(q.end) if q.end is not None else None, q.startexcl, q.endexcl, boost)
    if kind is wq.NumericRange:
        # The one numeric field (page) is on page records only, which no
        # search counts (schema.SEARCHED_RECORDS): kept as a range of the
        # values' text, it finds what it finds among them, shown nowhere.
        return query.Range(q.fieldname, None if q.start is None else str(q.start),
                           None if q.end is None else str(q.end), q.startexcl, q.endexcl, boost)
    if kind is wq.And:
        return query.And(tuple(from_whoosh(s) for s in q.subqueries), boost)
    if kind is wq.Or:
        if q.minmatch or q.scale:
            raise QueryParseError("an OR with minmatch or scale")
        return query.Or(tuple(from_whoosh(s) for s in q.subqueries), boost)
    if kind is wq.Not:
        return query.Not(from_whoosh(q.query))
    if kind is wq.AndNot:
        return query.AndNot(from_whoosh(q.a), from_whoosh(q.b), boost)
    if kind is wq.AndMaybe:
        return query.AndMaybe(from_whoosh(q.a), from_whoosh(q.b), boost)
    if kind is wq.Require:
        return query.Require(from_whoosh(q.a), from_whoosh(q.b), boost)
    if kind is wq.DisjunctionMax:
        return query.Synonyms(tuple(from_whoosh(s) for s in q.subqueries), boost)
    if kind is _Translated:
        own, translation = q.subqueries
        return query.Alternatives(from_whoosh(own), from_whoosh(translation), TRANSLATION_WEIGHT)
    if q is wq.NullQuery or kind is type(wq.NullQuery):
        return query.NOTHING
    raise QueryParseError(f"a query of kind {kind.__name__}")


def _text(value) -> str:
    """VALUE as text; a number's encoded term (which is no UTF-8) byte for byte."""
    if not isinstance(value, bytes):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def to_whoosh(node: query.Node) -> wq.Query:
    """Return the Whoosh query equivalent to NODE (what the tests compare scores with)."""
    kind = type(node)
    if kind is query.Term:
        return wq.Term(node.field, node.text, boost=node.boost)
    if kind is query.Phrase:
        return wq.Phrase(node.field, list(node.words), slop=node.slop, boost=node.boost)
    if kind is query.Prefix:
        return wq.Prefix(node.field, node.text, boost=node.boost)
    if kind is query.Wildcard:
        return wq.Wildcard(node.field, node.pattern, boost=node.boost)
    if kind is query.Range:
        return wq.TermRange(node.field, node.start, node.end, node.start_excluded, node.end_excluded,
                            boost=node.boost)
    if kind is query.And:
        return wq.And([to_whoosh(p) for p in node.parts], boost=node.boost)
    if kind is query.Or:
        return wq.Or([to_whoosh(p) for p in node.parts], boost=node.boost)
    if kind is query.Synonyms:
        return wq.DisjunctionMax([to_whoosh(p) for p in node.parts], boost=node.boost)
    if kind is query.Not:
        return wq.Not(to_whoosh(node.part))
    if kind is query.AndNot:
        return wq.AndNot(to_whoosh(node.positive), to_whoosh(node.negative))
    if kind is query.AndMaybe:
        return wq.AndMaybe(to_whoosh(node.required), to_whoosh(node.optional))
    if kind is query.Require:
        return wq.Require(to_whoosh(node.required), to_whoosh(node.condition))
    if kind is query.Alternatives:
        translation = to_whoosh(node.translation)
        return wq.Or([to_whoosh(node.own), translation.with_boost(translation.boost * node.weight)])
    return wq.NullQuery
