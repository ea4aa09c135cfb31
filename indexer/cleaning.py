"""Text cleaning and quality checks applied to every page before it is indexed.

Pure functions on strings, no PDF library here: the extractor calls
`clean_text` on each page, `looks_garbled`, `mixed_scripts` and
`implausible_chinese` to decide whether to ask a second extractor (or OCR),
`other_alphabet_chars` to see what a second reading cleared up,
`plausibility` to choose between two readings of a page, and
`detect_language` to tag the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

# CJK ideographs (unified, extension A, compatibility), kana, CJK punctuation
# and the full-width forms: characters between which a space is never meaningful.
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
_CJK_RE = re.compile(f"[{_CJK}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t\u00a0]+(?=[{_CJK}])")
_NEWLINE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}])")

# Line breaks in all their spellings become "\n".
_LINE_BREAKS = re.compile("\r\n|[\r\f\v\u2028\u2029\x85]")
# C0/C1 controls except tab and newline, lone surrogates, and invisible
# characters that split words for the tokenizer (zero-width space, soft
# hyphen, byte order mark, bidi marks).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u00ad\u200b\u200e\u200f\u2060\ufeff]")

# In metadata (titles, places, summaries): what XML 1.0 forbids (C0 controls but tab, newline and
# carriage return; lone surrogates; U+FFFE, U+FFFF), the other C0/C1 controls, and the bidi
# embedding, override and isolate controls, which make a title read backwards or hide its end.
_UNSAFE_IN_METADATA = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
                                 "\u202a-\u202e\u2066-\u2069]")

# Full-width punctuation is normal Chinese typography: NFKC would turn "，" into
# ","; keep it and normalise everything around it. Full-width letters and
# digits (ＥＵ２０１０) are folded to ASCII.
_KEEP_FULLWIDTH = "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_NORMALISABLE_RUN = re.compile(f"[^{_KEEP_FULLWIDTH}]+")

# A font may draw an ideograph and a CJK radical with one glyph (页 and ⻚); a producer that
# maps glyphs back to text names the radical (Chromium's ToUnicode maps, PDF exports of Chinese
# Word files) and may give the ideograph only in an ActualText span, which pypdf does not read:
# "网页" comes out "网⻚" and is never found. NFKC folds the Kangxi radicals (⽹ to 网) but not
# the CJK Radicals Supplement, nor ⼾ to the simplified 户 a simplified Chinese font draws. The
# pairs are the radicals whose glyph Noto Sans and Serif CJK SC share with an ideograph (their
# cmaps), less those NFKC already folds alike; the simplified form is kept, the archive's.
_RADICAL_PAIRS = ("⺂乛⺃乚⺅亻⺇𠘨⺉刂⺋㔾⺍𭕄⺎兀⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺠民⺡氵⺣灬⺤爫⺦丬"
                  "⺨犭⺩𤣩⺫罒⺭礻⺮𥫗⺯糹⺰纟⺱罓⺲罒⺳㓁⺹耂⺺肀⺽𦥑⺾艹⻁虎⻂衤⻃覀⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车"
                  "⻌辶⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤"
                  "⻨麦⻩黄⻪黾⻫斉⻬齐⻮齿⻯竜⻰龙⻱龜⻲亀⼾户")
RADICAL_IDEOGRAPHS = {ord(radical): ideograph for radical, ideograph in zip(_RADICAL_PAIRS[::2], _RADICAL_PAIRS[1::2])}
_RADICAL = re.compile("[%s]" % "".join(map(chr, RADICAL_IDEOGRAPHS)))

# PDFium marks a hyphen it finds at a line's end (a word broken there) with
# U+FFFE and joins the lines ("develop\ufffement"); poppler reads the word whole.
_LINE_END_HYPHEN = re.compile("\ufffe[ \t]*\n?[ \t]*")

# TeX sets an accented letter as the accent's glyph and then the letter under it
# ("f¨ahigkeit", "Comisi´on", "Th`anh"; NFKC would make "¨" a space and a combining
# mark); poppler, which sees the two overlap, reads one letter ("fähigkeit"). Such
# an accent is put on the letter after it when Unicode has the accented letter. An
# acute or grave accent may stand for an apostrophe ("l´Union", "dell´Unione",
# "qu´il", "it´s"), so it is put on a letter only inside a word: after two letters
# or more (not an elision's "qu" or "ll") and before a lower-case vowel.
_SPACING_ACCENTS = {"\u00a8": "\u0308", "\u00b4": "\u0301", "\u02c6": "\u0302", "\u02dc": "\u0303",
                    "\u02d8": "\u0306", "\u02c7": "\u030c", "\u02d9": "\u0307", "\u02da": "\u030a",
                    "\u02dd": "\u030b", "\u00af": "\u0304", "\u00b8": "\u0327", "\u02db": "\u0328", "`": "\u0300"}
_ACCENT_THEN_LETTER = re.compile(
    "([\u00a8\u02c6\u02dc\u02d8\u02c7\u02d9\u02da\u02dd\u00af\u00b8\u02db])([A-Za-z\u0131])"
    "|(?<=[A-Za-z]{2})(?<!qu)(?<!ll)([\u00b4`])([aeiouy\u0131])")


# An English word broken across a line end: "regio-\nnal" (lower case on both
# sides, so "EU-\nChina" and list dashes are left alone).
_HYPHENATED = re.compile(r"(?<=[a-z])-[ \t]*\n[ \t]*(?=[a-z])")
_SPACE_RUNS = re.compile(r"[ \t]*\t[ \t]*|  +")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.M)
_BLANK_LINES = re.compile(r"\n{3,}")

# Glyph names or CID codes in place of text: "/g42/g43", "/uni4E2D", "(cid:42)", and a Type3
# font's glyphs named by their codes ("/65/115/115" for "Ass"; four or more, as a date's two
# slashes, "03/06/2019", are not).
_GLYPH_NAMES = re.compile(r"/(?:g|G|glyph|gid|cid|uni|u)[0-9A-Fa-f]{1,6}\b|\(cid:\d+\)|(?:/\d{1,3}){4,}")


def clean_metadata(value: str) -> str:
    """VALUE without control characters, characters XML forbids or bidi overrides (for titles and the like)."""
    return _UNSAFE_IN_METADATA.sub("", value)


def clean_text(text: str, *, join_cjk_lines: bool = True) -> str:
    """Return TEXT ready for indexing: controls removed, radicals as ideographs, NFKC, CJK spacing, hyphenation fixed.

    JOIN_CJK_LINES joins a line break between two Chinese characters, as a PDF's
    layout breaks a sentence anywhere; pass False where lines are paragraphs.
    """
    if not text:
        return ""
    text = _LINE_BREAKS.sub("\n", text)
    text = _LINE_END_HYPHEN.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _ACCENT_THEN_LETTER.sub(_accented_letter, text)
    if _RADICAL.search(text):
        text = text.translate(RADICAL_IDEOGRAPHS)
    text = _normalise(text)
    text = "\n".join(_collapse_repeated_line(_collapse_doubled_tokens(line)) for line in text.split("\n"))
    text = _HYPHENATED.sub("", text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    if join_cjk_lines:
        text = _NEWLINE_BETWEEN_CJK.sub("", text)
    text = _SPACE_RUNS.sub(lambda m: "\t" if "\t" in m.group() else " ", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _accented_letter(match: re.Match) -> str:
    """The letter of MATCH (_ACCENT_THEN_LETTER) with its accent, or MATCH as it was when Unicode has no such letter."""
    spacing, letter = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    mark = _SPACING_ACCENTS[spacing]
    if letter == "\u0131":
        letter = "i"                    # TeX's \'{\i}: a dotless i under the accent
    accented = unicodedata.normalize("NFC", letter + mark)
    return accented if len(accented) == 1 else match.group()


def _normalise(text: str) -> str:
    """NFKC everything except full-width punctuation."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    return _NORMALISABLE_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


# Three doubled characters in a row ("RReegg"): how every token _collapse_doubled_tokens
# collapses begins, so a line without them is left as it is without splitting it.
_DOUBLED_START = re.compile(r"(\S)\1(\S)\2(\S)\3")


def _collapse_doubled_tokens(line: str) -> str:
    """Undo fake bold that doubled every character: "RReeggiioonnaall" -> "Regional"."""
    if len(line) < 6 or _DOUBLED_START.search(line) is None:
        return line
    return _undouble_tokens(line)


def _undouble_tokens(line: str) -> str:
    """_collapse_doubled_tokens, token by token, without its shortcut."""
    out = []
    for token in re.split(r"(\s+)", line):
        # Conservative: six or more characters, every pair identical, and at
        # least three different letters, so "1122", "......" or the Chinese
        # reduplication "高高兴兴" stay as they are.
        if (len(token) >= 6 and len(token) % 2 == 0 and token[0::2] == token[1::2]
                and len({c for c in token[0::2] if c.isalpha()}) >= 3):
            token = token[0::2]
        out.append(token)
    return "".join(out)


def _collapse_repeated_line(line: str) -> str:
    """Undo fake bold that printed a whole line twice: "Annual Report Annual Report"."""
    stripped = line.strip()
    n = len(stripped)
    if n < 8:
        return line
    for sep in ("", " "):
        half = (n - len(sep)) // 2
        if half * 2 + len(sep) != n:
            continue
        first, middle, second = stripped[:half], stripped[half:half + len(sep)], stripped[half + len(sep):]
        if first != second or middle != sep:
            continue
        # Long enough to be no accident: 8+ characters, or 4+ CJK ideographs.
        cjk = len(_CJK_RE.findall(first))
        if len(first) >= 8 or cjk >= 4:
            return first
    return line


def _is_private_use(ch: str) -> bool:
    o = ord(ch)
    return 0xE000 <= o <= 0xF8FF or o >= 0xF0000


# Letters of scripts plausible in this collection: Latin (EU languages),
# Greek, Cyrillic (Bulgarian), CJK, kana, Hangul.
_PLAUSIBLE_LETTER = re.compile(
    "[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uac00-\ud7af]")


# What the checks below ask of a character, by character: a page has a few
# hundred distinct characters (a Chinese page a thousand), the same from page
# to page, so each is classified once per process.
_SPACE, _BAD, _DIGIT, _ALPHA, _ACCENTED, _ASCII_ALPHA, _PLAUSIBLE = (1 << i for i in range(7))
_CHAR_CLASSES: dict[str, int] = {}
_CHAR_CLASSES_MAX = 100_000


def _char_class(ch: str) -> int:
    flags = _CHAR_CLASSES.get(ch)
    if flags is None:
        flags = ((_SPACE if ch.isspace() else 0)
                 | (_BAD if ch == "\ufffd" or _is_private_use(ch)
                    or (ch not in "\n\t\r\f" and unicodedata.category(ch) == "Cc") else 0)
                 | (_DIGIT if ch.isdigit() else 0)
                 | (_ALPHA if ch.isalpha() else 0)
                 | (_ACCENTED if "\u00c0" <= ch <= "\u00ff" else 0)
                 | (_ASCII_ALPHA if ch.isascii() and ch.isalpha() else 0)
                 | (_PLAUSIBLE if _PLAUSIBLE_LETTER.match(ch) else 0))
        if len(_CHAR_CLASSES) >= _CHAR_CLASSES_MAX:
            _CHAR_CLASSES.clear()
        _CHAR_CLASSES[ch] = flags
    return flags


def _class_counts(counts: Counter) -> dict[int, int]:
    """How many characters of COUNTS (Counter of a text) have each flag above."""
    by_flags: dict[int, int] = {}
    for ch, n in counts.items():
        flags = _char_class(ch)
        by_flags[flags] = by_flags.get(flags, 0) + n
    return {flag: sum(n for flags, n in by_flags.items() if flags & flag)
            for flag in (_SPACE, _BAD, _DIGIT, _ALPHA, _ACCENTED, _ASCII_ALPHA, _PLAUSIBLE)}


def text_quality(text: str, counts: Counter | None = None, classes: dict[int, int] | None = None) -> tuple[int, int]:
    """Return (good, bad): counts of plausible characters and of signs of garbage in TEXT.

    COUNTS is Counter(TEXT), CLASSES _class_counts(COUNTS), if the caller has them.
    Each distinct character is classified once (_char_class), not each character.
    """
    if classes is None:
        classes = _class_counts(counts if counts is not None else Counter(text))
    bad = sum(len(m.group()) for m in _GLYPH_NAMES.finditer(text)) + classes[_BAD]
    good = classes[_PLAUSIBLE] + classes[_DIGIT]
    return good, bad


# A text with no letter and at least this many signs other than digits and the ones that frame a
# page number ("- 3 -", "(12)", "3/10") reads as nothing.
NO_WORD_MIN_SIGNS = 3
_PAGE_NUMBER_SIGNS = frozenset("-\u2013\u2014.,:()[]/|")
# A ToUnicode map written in the wrong byte order turns "M" (U+004D) into "䴀" (U+4D00): when at
# least this share of a text's visible characters have a zero low byte and an ASCII high byte,
# it is that, not Chinese (real Chinese has a few such characters, 一 U+4E00 among them).
BYTE_SWAPPED_SHARE = 0.9
BYTE_SWAPPED_MIN_CHARS = 4


def byte_swapped(counts: Counter, visible: int) -> bool:
    """Tell whether the text counted in COUNTS (VISIBLE non-space characters) is ASCII read in the wrong byte order."""
    if visible < BYTE_SWAPPED_MIN_CHARS:
        return False
    swapped = sum(n for ch, n in counts.items() if ord(ch) & 0xFF == 0 and 0x20 < ord(ch) >> 8 < 0x7F)
    return swapped >= BYTE_SWAPPED_SHARE * visible


def looks_garbled(text: str) -> bool:
    """Tell whether TEXT is unreadable: replacement or private-use characters, glyph names, signs alone, odd mix."""
    counts = Counter(text)
    classes = _class_counts(counts)
    visible = sum(counts.values()) - classes[_SPACE]
    if not visible:
        return False
    good, bad = text_quality(text, counts, classes)
    if bad / visible > 0.1:
        return True
    if not classes[_ALPHA] and sum(n for ch, n in counts.items()
                                   if not (ch.isspace() or ch.isdigit() or ch in _PAGE_NUMBER_SIGNS)) >= NO_WORD_MIN_SIGNS:
        # Signs alone ('"7+%-'): a font whose codes map to nothing, not a page of words.
        return True
    if byte_swapped(counts, visible):
        return True
    glyph_runs = _GLYPH_NAMES.findall(text)
    if len(glyph_runs) >= 3 and sum(map(len, glyph_runs)) / visible > 0.05:
        return True
    letters = classes[_ALPHA]
    if letters >= 20:
        # Letters from scripts this collection never holds (Arabic, Thai,
        # Armenian, box drawing mistaken as letters...) in bulk mean a font
        # decoded through the wrong table.
        if good / letters < 0.6:
            return True
        # Mojibake: Chinese decoded as Latin-1 gives "ÖÐ¹ú", mostly accented
        # capitals and symbols; real French or German text has a few percent.
        accented = classes[_ACCENTED]
        if accented > 10 and accented > classes[_ASCII_ALPHA]:
            return True
    return False


def detect_language(text: str) -> str:
    """Return "zh", "en", "mixed" or "" from the share of CJK letters in TEXT."""
    cjk = latin = 0
    for ch, n in Counter(text).items():         # each distinct character once
        if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            cjk += n
        elif ch.isalpha() and ch.isascii():
            latin += n
    if not cjk and not latin:
        return ""
    # A CJK character carries about as much as a 3-4 letter English word.
    share = cjk / (cjk + latin / 4)
    if share > 0.8:
        return "zh"
    if share < 0.2:
        return "en"
    return "mixed"


# --- scripts -------------------------------------------------------------------------------

# The scripts this collection's pages are written in: Latin (EU languages) and
# the CJK family. A letter of any other script is "other": a page in Greek or
# Bulgarian has many of one other script, a mis-decoded font spreads letters
# over several (Telugu, Armenian, Georgian...), as its codes fall anywhere.
_CORE_SCRIPTS = frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})
_SCRIPTS: dict[str, str] = {}


def script_of(ch: str) -> str:
    """Return the script of letter CH ("LATIN", "CJK", "GREEK", ...), or "" for a non-letter."""
    script = _SCRIPTS.get(ch)
    if script is None:
        script = ""
        if ch.isalpha():
            words = unicodedata.name(ch, "").split()
            if words and words[0] in ("FULLWIDTH", "HALFWIDTH") and len(words) > 1:
                words = words[1:]
            script = words[0] if words else "UNKNOWN"
            folded = unicodedata.normalize("NFKC", ch)
            if ch < "\u0370":
                script = "LATIN"            # with IPA and modifier letters, ª, º and µ
            elif script == "CJK" or "\u3000" <= ch <= "\u303f" or "\u3400" <= ch <= "\u9fff" or ord(ch) >= 0x20000:
                script = "CJK"              # with the iteration and closing marks (々, 〆, 〻)
            elif script == "KATAKANA-HIRAGANA":
                script = "KATAKANA"         # the prolonged sound mark (ー)
            elif folded != ch and folded[:1].isalpha():
                script = script_of(folded[0])   # a letter in a mathematical or letterlike style (𝑥, 𝛼, ℎ, ℓ)
        if len(_SCRIPTS) >= _CHAR_CLASSES_MAX:
            _SCRIPTS.clear()
        _SCRIPTS[ch] = script
    return script


def script_counts(text: str, counts: Counter | None = None) -> Counter:
    """Count the letters of TEXT by script."""
    by_script: Counter = Counter()
    for ch, n in (counts if counts is not None else Counter(text)).items():
        script = script_of(ch)
        if script:
            by_script[script] += n
    return by_script


# A page's letters of other scripts are a mix that does not belong together
# when they are at least this share of its letters and spread over at least
# MIX_MIN_SCRIPTS scripts, or sit beside CJK text (no document here mixes
# Chinese with Greek or Armenian in bulk). docs/DECISIONS.md ("Text as the
# page shows it") gives the measurements behind the rules.
MIX_MIN_SHARE = 0.05
MIX_MIN_SCRIPTS = 2


def _other_letters(by_script: Counter) -> tuple[int, int]:
    """(letters of other scripts, how many other scripts) in BY_SCRIPT."""
    other = {s: n for s, n in by_script.items() if s not in _CORE_SCRIPTS}
    return sum(other.values()), len(other)


# Characters that cannot be a letter of another script than Latin or the CJK
# family (ASCII to combining marks, general punctuation, CJK, kana, Hangul,
# full-width forms): a page made of them only is no mix, and is not counted.
_NO_OTHER_SCRIPT = re.compile("[\x00-\u036f\u2000-\u206f\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                              "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]*")


# The blocks of the alphabets other than Latin and the CJK family (Greek to Georgian,
# Ethiopic to Khmer, Greek Extended), letters, marks and digits alike: where a CID font
# is decoded through the wrong table (chr(CID)), a Chinese heading falls here as
# "ҕॉ໓ང", two letters and two signs that are not letters.
_OTHER_ALPHABET = re.compile("[\u0370-\u10ff\u1200-\u1cff\u1f00-\u1fff]")


def other_alphabet_chars(text: str) -> int:
    """Count the characters of TEXT from the blocks of alphabets other than Latin and the CJK family."""
    return len(_OTHER_ALPHABET.findall(text))


def other_script_letters(text: str) -> Counter:
    """Count each letter of TEXT of a script other than Latin and the CJK family."""
    if _NO_OTHER_SCRIPT.fullmatch(text):
        return Counter()
    return Counter({ch: n for ch, n in Counter(text).items() if script_of(ch) and script_of(ch) not in _CORE_SCRIPTS})


# A page that shows several scripts (a greeting in six languages, a list of the EU's languages)
# writes each word in one of them; a font decoded through the wrong table gives letters of
# several scripts inside one word (a Chinese line read as chr(CID): Armenian, Telugu, Greek...).
# At most this share of a page's words may mix other scripts for it to count as the first kind.
MIXED_WORDS_MAX_SHARE = 0.02


def words_keep_to_one_script(text: str) -> bool:
    """Tell whether each word of TEXT is written in one script (Latin and the CJK family go together)."""
    words = mixed = 0
    for word in text.split():
        scripts = {script_of(ch) for ch in word} - {""}
        if not scripts:
            continue
        words += 1
        other = scripts - _CORE_SCRIPTS
        mixed += len(other) > 1 or (len(other) == 1 and len(scripts) > 1)
    return words > 0 and mixed <= MIXED_WORDS_MAX_SHARE * words


def mixed_scripts(text: str, counts: Counter | None = None) -> bool:
    """Tell whether TEXT mixes scripts that do not belong together (a font decoded through the wrong table)."""
    if _NO_OTHER_SCRIPT.fullmatch(text):
        return False
    by_script = script_counts(text, counts)
    letters = sum(by_script.values())
    other, scripts = _other_letters(by_script)
    if letters < 10 or other < max(3, MIX_MIN_SHARE * letters):
        return False
    return scripts >= MIX_MIN_SCRIPTS or by_script.get("CJK", 0) >= MIX_MIN_SHARE * letters


def plausibility(text: str) -> float:
    """Return how plausible TEXT is as a page of this collection, from -4 (garbage) to 1.

    The share of its letters and digits that are plausible (letters of the
    collection's scripts, or of one other script alone), less four times the
    share of signs of garbage (replacement and private-use characters,
    controls, glyph names) and of letters in a mix of scripts (mixed_scripts).
    """
    counts = Counter(text)
    classes = _class_counts(counts)
    by_script = script_counts(text, counts)
    letters = sum(by_script.values())
    other, _ = _other_letters(by_script)
    mixed = mixed_scripts(text, counts)
    bad = sum(len(m.group()) for m in _GLYPH_NAMES.finditer(text)) + classes[_BAD] + (other if mixed else 0)
    good = letters + classes[_DIGIT] - (other if mixed else 0)
    total = good + bad
    return (good - 4 * bad) / total if total else 0.0


# --- Chinese that is not Chinese -------------------------------------------------------------

# A font whose ToUnicode map lies gives real, common Chinese characters in a
# wrong order: each looks plausible, their neighbours do not form words. Of
# the neighbouring pairs of Chinese characters on a modern page, 28-51 % are
# among jieba's 10,000 most frequent two-character words, on classical Chinese
# (poems, a figure's labels) 6.5-15 %; on a page whose map lies 0-4 %
# (docs/DECISIONS.md, "Text as the page shows it"). A page is judged from
# ZH_MIN_PAIRS pairs on, implausible under ZH_MIN_WORD_SHARE, from its first
# ZH_SAMPLE_PAIRS pairs (enough to tell 4 % from 8 %, and a page's cost bounded).
# Japanese is not judged so: its kanji compounds are not Chinese words (3-40 %);
# a page whose kana are JA_MIN_KANA_SHARE of its kana and Han or more is Japanese
# (at least 41 % on Japanese pages, at most 1.3 % on Chinese ones).
ZH_MIN_PAIRS = 40
ZH_MIN_WORD_SHARE = 0.08
ZH_SAMPLE_PAIRS = 300
JA_MIN_KANA_SHARE = 0.1
_KANA = re.compile("[\u3041-\u3096\u309d-\u30fa\u30fd-\u30ff]")
_ZH_COMMON_WORDS = Path(__file__).resolve().parent / "data" / "zh_common_words.txt"
_CJK_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _common_chinese_words() -> frozenset[str]:
    """jieba's most frequent two-character words (indexer/data/zh_common_words.txt)."""
    return frozenset(_ZH_COMMON_WORDS.read_text(encoding="utf-8").split())


def chinese_word_share(text: str, sample: int = ZH_SAMPLE_PAIRS) -> tuple[int, int]:
    """Return (pairs that are common words, pairs) over the first SAMPLE neighbouring Chinese characters of TEXT."""
    words = _common_chinese_words()
    pairs = hits = 0
    for match in _CJK_RUN.finditer(text):
        run = match.group()
        count = min(len(run) - 1, sample - pairs)
        pairs += count
        hits += sum(1 for i in range(count) if run[i:i + 2] in words)
        if pairs >= sample:
            break
    return hits, pairs


def implausible_chinese(text: str) -> bool:
    """Tell whether TEXT holds Chinese characters that do not make Chinese (a font mapped to the wrong ones)."""
    if not _CJK_RUN.search(text):
        return False
    hits, pairs = chinese_word_share(text)
    if pairs < ZH_MIN_PAIRS or hits >= ZH_MIN_WORD_SHARE * pairs:
        return False
    kana = len(_KANA.findall(text))
    return kana < JA_MIN_KANA_SHARE * (kana + len(_HAN.findall(text)))
