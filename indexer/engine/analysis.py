"""Tokenizers and analyzers of the index.

Whoosh pickles the schema, analyzers included, into the index: the classes
here must keep this import path and carry no state. The jieba segmenter is
therefore module-level state, configured once per process by
`configure_segmenter()` with the collection's user dictionary.

Every analyzer first folds the text character by character (traditional to
simplified Chinese), so character offsets stay valid for highlighting.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from functools import lru_cache
from math import log as natural_log
from operator import sub
from pathlib import Path
from pickle import dumps

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.analysis.filters import Filter
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
from whoosh.support.charset import accent_map

log = logging.getLogger(__name__)

# CJK Unified Ideographs with extension A and the compatibility block.
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
HAS_CJK = re.compile(f"[{CJK_CLASS}]")
# A Latin-script word: letters and digits, but no CJK and no underscore. (A
# negated class, "word characters that are not non-word, underscore or CJK":
# the same characters as (?:(?![CJK_])\w)+, without a lookahead at each character.)
LATIN_WORD = re.compile(f"[^\\W_{CJK_CLASS}]+")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Single-character traditional -> simplified mappings from zhconv's table.

    zhconv ships MediaWiki's conversion table, the one Wikipedia uses for
    its Chinese variants; we keep only its one-to-one character entries so that
    folding never changes the length of a text (highlight offsets stay true).
    """
    import zhconv

    with open(Path(zhconv.__file__).with_name("zhcdict.json"), encoding="utf-8") as fh:
        table = json.load(fh)["zh2Hans"]
    return {ord(k): v for k, v in table.items() if len(k) == 1 and len(v) == 1 and k != v}


@lru_cache(maxsize=1)
def _traditional_runs() -> re.Pattern:
    """Runs of the Basic Multilingual Plane's characters that fold (those of _t2s_table).

    Characters beyond the plane stay out: one of them in a character class
    makes the regular expression engine test every character against the whole
    list instead of a table lookup (fold() handles them apart).
    """
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_t2s_table()) if code < 0x10000) + "]+")


def _fold_run(match: re.Match) -> str:
    return match.group().translate(_t2s_table())


_BEYOND_BMP_RUNS = re.compile("[\U00010000-\U0010FFFF]+")


@lru_cache(maxsize=1)
def fold_variants() -> dict[str, str]:
    """Each simplified character with a traditional form: the characters that fold() turns into it."""
    out: dict[str, str] = {}
    for code, simplified in sorted(_t2s_table().items()):
        out[simplified] = out.get(simplified, "") + chr(code)
    return out


def fold(text: str) -> str:
    """Fold traditional characters to simplified ones, keeping the length."""
    # Only the runs of traditional characters (and of characters beyond the
    # plane, rare) are translated: most pages are simplified Chinese or English,
    # and finding a few runs costs far less than translating every character.
    if text.isascii():
        return text
    return _BEYOND_BMP_RUNS.sub(_fold_run, _traditional_runs().sub(_fold_run, text))


# --- jieba, one segmenter per process -------------------------------------

_segmenter = None
_segmenter_lock = threading.Lock()
_userdict_path: Path | None = None
# Bumped whenever the segmenter is replaced: what was computed with the old one is stale.
_segmenter_generation = 0


def configure_segmenter(userdict: Path | None) -> None:
    """Use USERDICT (a jieba user dictionary) from now on in this process."""
    global _segmenter, _userdict_path, _segmenter_generation
    with _segmenter_lock:
        if _segmenter is not None and userdict == _userdict_path:
            return
        _userdict_path = userdict
        _segmenter = None
        _segmenter_generation += 1
    segmenter()


def segmenter_generation() -> int:
    """A number that changes whenever configure_segmenter replaces the segmenter (for caches of its words)."""
    return _segmenter_generation


def segmenter():
    """Return this process's jieba Tokenizer, initialising it on first use."""
    global _segmenter
    if _segmenter is not None:
        return _segmenter
    with _segmenter_lock:
        if _segmenter is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            seg = _tokenizer_class(jieba)()
            seg.initialize()
            if _userdict_path is not None and Path(_userdict_path).exists():
                # An open file, closed here: given a path, jieba leaves its file open.
                with open(_userdict_path, "rb") as fh:
                    seg.load_userdict(fh)
            _segmenter = seg
    return _segmenter


def _tokenizer_class(jieba):
    """jieba.Tokenizer with the heart of its segmentation (__cut_DAG) written for speed, computing
    the same.

    jieba builds the graph of the dictionary's words in a run (get_DAG), then
    the best path through it (calc, looking each word up again), then walks
    the path, handing stretches of single characters outside the dictionary
    to its HMM (finalseg); these steps are most of jieba's time on a Chinese
    page. Here the graph keeps each word's log frequency as it is found (one
    lookup a fragment), and a position with one possible word skips the
    generator and max(); the path's sums are the same float operations in the
    same order, and the walk is jieba's. The words are jieba's: tests/test_analysis.py
    compares them with jieba's own Tokenizer.
    """
    finalseg = jieba.finalseg

    class Tokenizer(jieba.Tokenizer):
        def _Tokenizer__cut_DAG(self, sentence):
            self.check_initialized()
            lookup = self.FREQ.get
            n = len(sentence)
            # get_DAG: for each start, the ends of the dictionary's words there,
            # with their log frequency (the dictionary holds every prefix of its
            # words, at frequency 0 when not a word itself; no value is None).
            graph = []
            for k in range(n):
                ends = []
                i = k
                freq = lookup(sentence[k])
                while freq is not None:
                    if freq:
                        ends.append((natural_log(freq), i))
                    i += 1
                    if i >= n:
                        break
                    freq = lookup(sentence[k:i + 1])
                # No word: the character alone, whose frequency calc takes as 1 (log 0.0).
                graph.append(ends or [(0.0, k)])
            # calc: the best path from each position to the end.
            logtotal = natural_log(self.total)
            route = [None] * n + [(0, 0)]
            for idx in range(n - 1, -1, -1):
                ends = graph[idx]
                if len(ends) == 1:
                    logfreq, x = ends[0]
                    route[idx] = (logfreq - logtotal + route[x + 1][0], x)
                else:
                    route[idx] = max((logfreq - logtotal + route[x + 1][0], x) for logfreq, x in ends)
            # The rest is jieba's __cut_DAG.
            x = 0
            buf = ""
            while x < n:
                y = route[x][1] + 1
                l_word = sentence[x:y]
                if y - x == 1:
                    buf += l_word
                else:
                    if buf:
                        if len(buf) == 1:
                            yield buf
                            buf = ""
                        else:
                            if not lookup(buf):
                                yield from finalseg.cut(buf)
                            else:
                                yield from buf
                            buf = ""
                    yield l_word
                x = y
            if buf:
                if len(buf) == 1:
                    yield buf
                elif not lookup(buf):
                    yield from finalseg.cut(buf)
                else:
                    yield from buf

    return Tokenizer


def userdict_fingerprint(userdict: Path | None) -> str:
    """Hash of the user dictionary: when it changes, Chinese pages are re-analysed."""
    if userdict is None or not Path(userdict).exists():
        return ""
    return hashlib.sha256(Path(userdict).read_bytes()).hexdigest()[:16]


# --- tokenizers -----------------------------------------------------------


class _SpanTokenizer(Tokenizer):
    """A tokenizer defined by the (text, start, end) spans it finds; positions count tokens."""

    def spans(self, value: str, at_query: bool):
        raise NotImplementedError

    # Leave a position free between tokens that do not touch, so that tokens at
    # consecutive positions are side by side in the text (JiebaTokenizer).
    GAP_BETWEEN_RUNS = False

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        found = self.spans(value, mode == "query") if tokenize else [(value, 0, len(value))]
        gap = self.GAP_BETWEEN_RUNS
        pos, previous_end = start_pos - 1, None
        for text, start, end in found:
            pos += 2 if gap and start != previous_end and previous_end is not None else 1
            previous_end = end
            t.text = text
            t.boost = 1.0
            if keeporiginal:
                t.original = text
            t.stopped = False
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


class LatinTokenizer(_SpanTokenizer):
    """Words of Latin (and other alphabetic) script; CJK text is left to the Chinese fields.

    Hyphens and dashes separate words, so "EU-China", "EU–China" and
    "EU China" give the same tokens.
    """

    def spans(self, value, at_query):
        for match in LATIN_WORD.finditer(value):
            yield match.group(), match.start(), match.end()

    def words(self, value: str) -> list[str]:
        """The words spans() finds, without their offsets."""
        return LATIN_WORD.findall(value)


class JiebaTokenizer(_SpanTokenizer):
    """Chinese words from jieba, with true token positions (not character offsets).

    Only CJK runs are segmented, after traditional->simplified folding; the
    rest of the text belongs to the English fields. A position is left free
    between runs: words at consecutive positions are side by side in the text,
    so a phrase of words is also a string of characters (the bigram field's
    phrase, schema.WORD_FIELD_BIGRAMS), and never spans punctuation or a
    stretch of English.
    """

    GAP_BETWEEN_RUNS = True

    def spans(self, value, at_query):
        seg = segmenter()
        for run in CJK_RUN.finditer(fold(value)):
            offset = run.start()
            for word, start, end in seg.tokenize(run.group(), HMM=True):
                yield word, offset + start, offset + end

    def index_terms(self, value: str) -> list[tuple[str, int]]:
        """(text, position) of each token __call__ yields for the index (see IndexPositions)."""
        # jieba's words cover their run side by side: one position each, and
        # one left free before each run but the first (as __call__ counts them).
        cut = segmenter().cut
        out = []
        pos = -2
        for run in CJK_RUN.findall(fold(value)):
            words = list(cut(run, HMM=True))
            if words:
                start = pos + 2
                out.extend(zip(words, range(start, start + len(words))))
                pos = start + len(words) - 1
        return out


class CJKBigramTokenizer(_SpanTokenizer):
    """Overlapping character bigrams of each CJK run, as Lucene's CJK analyzer does.

    Any string of two or more characters that occurs in a text is then a
    phrase of consecutive bigrams, whatever jieba makes of it. At index time
    the last character of each run is also emitted alone, so that a
    single-character query (a prefix query on this field) finds every
    occurrence: each character either starts a bigram or ends a run.
    """

    def spans(self, value, at_query):
        for run in CJK_RUN.finditer(fold(value)):
            text, offset = run.group(), run.start()
            for i in range(len(text) - 1):
                yield text[i:i + 2], offset + i, offset + i + 2
            if not at_query or len(text) == 1:
                yield text[-1], offset + len(text) - 1, offset + len(text)

    def index_terms(self, value: str) -> list[tuple[str, int]]:
        """(text, position) of each token __call__ yields for the index (see IndexPositions)."""
        # Side by side, one position each (no gap between runs).
        texts = []
        for run in CJK_RUN.findall(fold(value)):
            texts.extend([run[i:i + 2] for i in range(len(run) - 1)])
            texts.append(run[-1])
        return list(zip(texts, range(len(texts))))


# --- filters --------------------------------------------------------------

# British spellings of the collection's words, mapped to the American ones
# before stemming, so both spellings meet in the index. Stems are compared,
# so one entry per word family is enough ("urbanisation" covers its plural).
SPELLING_VARIANTS = {
    "urbanisation": "urbanization",
    "urbanised": "urbanized",
    "urbanise": "urbanize",
    "programme": "program",
    "programmes": "programs",
    "organisation": "organization",
    "organisations": "organizations",
    "organise": "organize",
    "organised": "organized",
    "modernisation": "modernization",
    "industrialisation": "industrialization",
    "decentralisation": "decentralization",
    "centre": "center",
    "centres": "centers",
    "labour": "labor",
    "harmonisation": "harmonization",
    "prioritise": "prioritize",
    "realise": "realize",
    "recognise": "recognize",
    "specialisation": "specialization",
    "globalisation": "globalization",
    "utilisation": "utilization",
    "mobilisation": "mobilization",
    "capitalisation": "capitalization",
    "behaviour": "behavior",
    "neighbour": "neighbor",
    "neighbouring": "neighboring",
    "favour": "favor",
    "analyse": "analyze",
    "catalogue": "catalog",
    "defence": "defense",
    "licence": "license",
}


class SpellingVariantFilter(Filter):
    """Map British spellings to American ones (see SPELLING_VARIANTS)."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = SPELLING_VARIANTS.get(t.text, t.text)
            yield t


# A small stop list: the usual English function words. "it" and "us" are
# not stopped (Italy, the United States in city pairings).
STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is of on or that the this "
    "to was were will with which its into than then there these those been".split()
)


class EnglishAnalyzer(CompositeAnalyzer):
    """english_analyzer's chain, with index_terms: each distinct word goes through the filters once.

    The filters after the tokenizer map a word to its term (or stop it)
    whatever surrounds it, so their answer is kept per word (a collection
    holds far fewer distinct words than tokens): a token then costs a
    dictionary lookup instead of six generator steps. The stop filter's
    renumbering of positions is done here as it does it. The kept answers are
    not pickled with the schema.
    """

    _MISSING = object()
    # Distinct words kept before the cache starts afresh: bounds its memory in a long-running process.
    KEPT_WORDS = 500_000

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_terms", None)
        state.pop("_plain_terms", None)
        return state

    def _term_of(self, word: str, no_morph: bool = False) -> str | None:
        """WORD's index term after the filters (without the stemmer when NO_MORPH, as
        CompositeAnalyzer skips it), None if they stop it."""
        token = Token(positions=True, removestops=True, mode="index")
        token.text, token.boost, token.stopped, token.pos = word, 1.0, False, 0
        stream = iter((token,))
        for item in self.items[1:]:
            if no_morph and getattr(item, "is_morph", False):
                continue
            stream = item(stream)
        found = next(stream, None)
        return None if found is None else found.text

    def term_of(self, word: str) -> str | None:
        """WORD's index term (one word as the tokenizer gives it), None if the filters stop it."""
        terms = self.__dict__.get("_terms")
        if terms is None or len(terms) > self.KEPT_WORDS:
            terms = self._terms = {}
        term = terms.get(word, self._MISSING)
        if term is self._MISSING:
            term = terms[word] = self._term_of(word)
        return term

    def plain_words(self, value: str) -> set[str]:
        """The words of VALUE as the analyzer gives them with no_morph=True (every filter but the
        stemmer, stop words left out): the field's spelling words (FieldType.spellable_words), a
        distinct word through the filters once."""
        terms = self.__dict__.get("_plain_terms")
        if terms is None or len(terms) > self.KEPT_WORDS:
            terms = self._plain_terms = {}
        missing = self._MISSING
        out = set()
        for word in set(self.items[0].words(value)):
            term = terms.get(word, missing)
            if term is missing:
                term = terms[word] = self._term_of(word, no_morph=True)
            if term is not None:
                out.add(term)
        return out

    def index_terms(self, value: str, words: list[str] | None = None) -> list[tuple[str, int]]:
        """(text, position) of each token __call__ yields for the index (see IndexPositions); WORDS,
        when given, are VALUE's words as the tokenizer gives them (tokenised once for two fields)."""
        terms = self.__dict__.get("_terms")
        if terms is None or len(terms) > self.KEPT_WORDS:
            terms = self._terms = {}
        missing = self._MISSING
        out = []
        pos = None
        for index, word in enumerate(self.items[0].words(value) if words is None else words):
            term = terms.get(word, missing)
            if term is missing:
                term = terms[word] = self._term_of(word)
            if term is None:
                continue
            # StopFilter(renumber=True): the first kept word keeps its position, the next follow it.
            pos = index if pos is None else pos + 1
            out.append((term, pos))
        return out


def english_analyzer():
    """Latin words: lower case, accents folded, British->American, stop words, stems."""
    return EnglishAnalyzer(LatinTokenizer(), LowercaseFilter(), CharsetFilter(accent_map), SpellingVariantFilter(),
                           StopFilter(stoplist=STOP_WORDS, minsize=1), StemFilter())


def english_exact_analyzer():
    """Latin words folded as english_analyzer folds them (case, accents, British->American), neither
    stopped nor stemmed: the exact fields (schema.EXACT_FIELDS), which quoted text searches."""
    return EnglishAnalyzer(LatinTokenizer(), LowercaseFilter(), CharsetFilter(accent_map), SpellingVariantFilter())


def english_plain_analyzer():
    """Latin words folded like english_analyzer but not stemmed (for spelling and suggestions)."""
    return LatinTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | SpellingVariantFilter()


def chinese_word_analyzer():
    """Chinese words segmented by jieba with the collection's user dictionary."""
    return JiebaTokenizer()


def cjk_bigram_analyzer():
    """Overlapping CJK character bigrams (substring and phrase search in Chinese)."""
    return CJKBigramTokenizer()


# --- whole files, page by page -------------------------------------------------

# A file's text is indexed as one record: its pages joined by PAGE_BREAK, each
# page's token positions starting at (page index) << PAGE_SHIFT. A phrase then
# never spans two pages, and a position tells its page (see page_of). 2**20
# positions a page is far more than any page holds (a dense page has a few
# thousand tokens); positions are stored as pickled deltas, so the gaps between
# pages cost a few bytes.
PAGE_BREAK = "\f"
PAGE_SHIFT = 20


def join_pages(texts: dict[int, str]) -> str:
    """The pages {number: text} (numbers from 1) as one string for a paged field."""
    if not texts:
        return ""
    return PAGE_BREAK.join(texts.get(n, "").replace(PAGE_BREAK, "\n") for n in range(1, max(texts) + 1))


def page_of(position: int) -> int:
    """The page number (from 1) of a token position in a paged field."""
    return (position >> PAGE_SHIFT) + 1


class PagedAnalyzer(Analyzer):
    """Runs an analyzer on each page of a join_pages() string, giving positions their page.

    A string without PAGE_BREAK (a query, a title) is analysed as it is.
    Filters such as the stop filter renumber positions, so the page offset is
    added to each page's tokens after the whole inner analyzer has run.
    """

    def __init__(self, inner, keeps_tokens: bool = False, keeps_words: bool = False, takes_words: bool = False):
        self.inner = inner
        # The body's analyzers keep their index tokens for WordPairAnalyzer (see _KeptTokens).
        self.keeps_tokens = keeps_tokens
        # The English body keeps its words for the exact body, which takes them (see _KeptWords);
        # both inner analyzers are EnglishAnalyzers, whose tokenizer gives the words.
        if (keeps_words or takes_words) and not isinstance(inner, EnglishAnalyzer):
            raise TypeError("only an EnglishAnalyzer's words are kept")
        self.keeps_words = keeps_words
        self.takes_words = takes_words

    def __repr__(self):
        return f"PagedAnalyzer({self.inner!r})"

    def plain_words(self, value: str) -> set[str] | None:
        """The inner analyzer's plain_words of every page (no word spans a page break), None if it has none."""
        inner = getattr(self.inner, "plain_words", None)
        return None if inner is None else inner(value)

    def __call__(self, value, positions=False, start_char=0, **kwargs):
        # Schemas pickled before keeps_tokens existed lack it.
        if positions and kwargs.get("mode") == "index" and getattr(self, "keeps_tokens", False):
            yield from self._kept(value, start_char, kwargs)
            return
        if PAGE_BREAK not in value:
            yield from self.inner(value, positions=positions, start_char=start_char, **kwargs)
            return
        offset = start_char
        for index, page in enumerate(value.split(PAGE_BREAK)):
            base = index << PAGE_SHIFT
            for t in self.inner(page, positions=positions, start_char=offset, **kwargs):
                if positions:
                    t.pos += base
                yield t
            offset += len(page) + 1

    def _kept(self, value, start_char, kwargs):
        """__call__ for the index, keeping each page's (text, position) for _KEPT_TOKENS."""
        pages = []
        offset = start_char
        for index, page in enumerate(value.split(PAGE_BREAK)):
            base = index << PAGE_SHIFT
            kept = []
            for t in self.inner(page, positions=True, start_char=offset, **kwargs):
                kept.append((t.text, t.pos))
                t.pos += base
                yield t
            pages.append(kept)
            offset += len(page) + 1
        _KEPT_TOKENS.keep(value, self.inner, pages)

    def index_terms(self, value: str) -> list[tuple[str, int]] | None:
        """(text, position) of each token __call__ yields for the index, None if the inner analyzer
        has no index_terms (see IndexPositions)."""
        inner = getattr(self.inner, "index_terms", None)
        if inner is None:
            return None
        keeps = getattr(self, "keeps_tokens", False)
        # Schemas pickled before keeps_words and takes_words existed lack them.
        keeps_words = getattr(self, "keeps_words", False)
        taken_words = _KEPT_WORDS.take(value) if getattr(self, "takes_words", False) else None
        if PAGE_BREAK not in value and not keeps and not keeps_words and taken_words is None:
            return inner(value)
        out = []
        pages = []
        page_words = []
        tokenizer = self.inner.items[0] if keeps_words else None
        for index, page in enumerate(value.split(PAGE_BREAK)):
            if taken_words is not None:
                terms = inner(page, words=taken_words[index])
            elif keeps_words:
                words = tokenizer.words(page)
                page_words.append(words)
                terms = inner(page, words=words)
            else:
                terms = inner(page)
            pages.append(terms)
            base = index << PAGE_SHIFT
            out.extend([(text, pos + base) for text, pos in terms] if base else terms)
        if keeps:
            _KEPT_TOKENS.keep(value, self.inner, pages)
        if keeps_words:
            _KEPT_WORDS.keep(value, page_words)
        return out

    @property
    def is_morph(self):
        return self.inner.has_morph()

    def has_morph(self):
        return self.inner.has_morph()

    def clean(self):
        self.inner.clean()


class IndexFrequency(Frequency):
    """Whoosh's Frequency format, giving a record's terms in term order.

    A segment's pool sorts all its postings when the segment is written
    (whoosh.writing.PostingPool), a large part of writing a segment. With
    each record's terms of a field in order, the pool holds them as sorted
    runs, which Python's sort finds and merges: sorting each record's terms
    here and the pool's sort of those runs together cost less than the pool's
    sort of unordered postings. The postings are the same.
    """

    def word_values(self, value, analyzer, **kwargs):
        return sorted(super().word_values(value, analyzer, **kwargs))


class IndexPositions(Positions):
    """Whoosh's Positions format, fed for the index by the analyzer's index_terms when it has one.

    Whoosh's word_values takes a Token object through the analyzer's chain of
    generators for every token, several Python calls a token. index_terms
    gives the same (text, position) pairs as a list (tests/test_analysis.py
    compares them); grouped and encoded here as Positions does, the postings
    are the same bytes.
    """

    def word_values(self, value, analyzer, **kwargs):
        index_terms = getattr(analyzer, "index_terms", None)
        # Only as Whoosh's writer asks (no start position or other option).
        terms = (index_terms(value) if index_terms is not None and kwargs == {"mode": "index"}
                 and isinstance(value, str) else None)
        if terms is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        positions: dict[str, list[int]] = {}
        for text, pos in terms:
            found = positions.get(text)
            if found is None:
                positions[text] = [pos]
            else:
                found.append(pos)
        boost = self.field_boost
        # Each token's boost is 1.0: Whoosh adds them up into a float.
        weight_once, count_once = 1.0 * boost, pack_uint(1)
        # In term order (see IndexFrequency).
        for text in sorted(positions):
            found = positions[text]
            # Positions.encode: the count, then the pickled deltas (a single
            # position is its own delta: most of a page's bigrams occur once).
            if len(found) == 1:
                yield text, 1, weight_once, count_once + dumps(found, 2)
                continue
            deltas = [found[0]]
            deltas.extend(map(sub, found[1:], found))
            yield text, len(found), float(len(found)) * boost, pack_uint(len(deltas)) + dumps(deltas, 2)


class WordPairAnalyzer(Analyzer):
    """Each word joined with the next ("region polici", "国际 合作"), page by page, for phrase search.

    A two-word phrase is then one term of the pair field instead of a check of
    both words' positions in every record holding both (indexer.engine.scoring). The
    pairs are those of INNER's tokens (english_analyzer by default) at
    consecutive positions (after stop words are removed and the positions
    renumbered; jieba leaves a position free between CJK runs), which is
    exactly what a Whoosh phrase of the two words matches; a pair never spans
    two pages.

    Only words of MIN_CHARS characters or more are paired (is_paired). Chinese
    pairs take two: a jieba word of one character (的, 和, 在) is mostly a
    function word, and pairing only the others indexes well under half of a
    page's pairs, while a term a user types is mostly words of two characters
    or more ("国际合作": 国际 合作).
    """

    def __init__(self, inner=None, min_chars: int = 1):
        self.inner = inner if inner is not None else english_analyzer()
        self.min_chars = min_chars

    def __repr__(self):
        return f"WordPairAnalyzer({self.inner!r}, min_chars={self.min_chars})"

    def is_paired(self, first: str, second: str) -> bool:
        """Whether the pair field holds the pair of FIRST and SECOND where they stand side by side."""
        # Analyzers pickled before min_chars existed paired every word.
        least = getattr(self, "min_chars", 1)
        return least <= 1 or (len(first) >= least and len(second) >= least)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode)
        pages = _KEPT_TOKENS.take(value, self.inner) if mode == "index" else None
        if pages is None:
            pages = ([(t.text, t.pos) for t in self.inner(page, positions=True, mode=mode)]
                     for page in value.split(PAGE_BREAK))
        # English pairs every word: no call per pair there.
        check = self.is_paired if getattr(self, "min_chars", 1) > 1 else None
        for index, tokens in enumerate(pages):
            previous, previous_pos = None, -2
            for text, pos in tokens:
                if pos == previous_pos + 1 and (check is None or check(previous, text)):
                    token.text = f"{previous} {text}"
                    token.boost = 1.0
                    token.stopped = False
                    if positions:
                        token.pos = (index << PAGE_SHIFT) + previous_pos
                    yield token
                previous, previous_pos = text, pos


class _KeptTokens(threading.local):
    """The index tokens of the last paged text a body field analysed, page by page, and the kind
    of analyzer that made them.

    body and body_pairs (body_zh and body_zh_pairs) are analysed from the same
    string (build.text_fields), one after the other (Whoosh indexes a record's
    fields in name order); the pairs are made from the field's tokens instead
    of analysing the text a second time (for Chinese, jieba once more). Only
    the string itself (by identity) and tokens of the pair analyzer's own kind
    match, and only for the index; one text is kept per thread, until its
    pairs are made.
    """

    value: str | None = None
    kind: str | None = None
    pages: list | None = None

    def keep(self, value: str, analyzer, pages: list) -> None:
        self.value, self.kind, self.pages = value, type(analyzer).__name__, pages

    def take(self, value: str, analyzer) -> list | None:
        """The pages kept for VALUE by an analyzer of ANALYZER's kind, if any; taken, not left
        behind (a long file's tokens would stay in memory until the next)."""
        if self.value is not value or self.kind != type(analyzer).__name__:
            return None
        pages = self.pages
        self.value = self.kind = self.pages = None
        return pages


_KEPT_TOKENS = _KeptTokens()


class _KeptWords(threading.local):
    """The Latin words of the last paged text the English body analysed, page by page.

    body and body_exact are analysed from the same string (build.text_fields),
    body first (Whoosh indexes a record's fields in name order), with the same
    tokenizer (LatinTokenizer): the exact body maps the body's words through
    its own filters instead of tokenising the text again. Only the string
    itself (by identity) matches; one text is kept per thread, until taken.
    """

    value: str | None = None
    pages: list | None = None

    def keep(self, value: str, pages: list) -> None:
        self.value, self.pages = value, pages

    def take(self, value: str) -> list | None:
        """The words kept for VALUE, if any; taken, not left behind."""
        if self.value is not value:
            return None
        pages = self.pages
        self.value = self.pages = None
        return pages


_KEPT_WORDS = _KeptWords()


def english_terms(text: str) -> list[str]:
    """Index terms of TEXT under the English analyzer (used to highlight and to expand)."""
    return [t.text for t in english_analyzer()(text, mode="query")]


# Version of everything in this module that changes what lands in the index.
# Bump it with any change to a tokenizer, a filter or a word list above: the
# index records it, and a mismatch triggers a full rebuild.
ANALYSIS_VERSION = 4

