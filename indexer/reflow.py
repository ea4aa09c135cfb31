"""A page's text as paragraphs, for reading: the PDF's line breaks undone where a sentence runs on.

Text extracted from a PDF keeps the layout's lines: a paragraph arrives as
lines cut at the column's width, words hyphenated at line ends, and badly laid
out files put single words on lines of their own. `reflow()` joins the lines of
each paragraph and separates paragraphs with a blank line. It is for display
only (the document page and the API's page texts): the index and the snippets
read the text as extracted.

Two lines are joined when the first is a full line of the page (at least
FULL_LINE_SHARE of its longest: a paragraph's last line stops short of the
column's width), ends in a hyphenated word, ends in a comma or a word a
sentence cannot end with ("the", "of"), or when the second goes on in lower
case; never when the second starts a list item; and a blank line always ends
a paragraph. A short line is thus a paragraph's last line or a heading.
Chinese lines are joined after a full line or one that does not end a
sentence, unless it is shorter than HEADING_SHARE of the longest (a heading);
extraction already joins most of them (indexer.cleaning), this joins the rest. Joined, English takes a space, a word hyphenated at the line end
loses the hyphen ("develop-" "ment"), a hyphen before a capital stays
("EU-" "China"), and Chinese takes no space (it has none between words).
"""

from __future__ import annotations

import re
import unicodedata

# A line at least this share of the page's longest line is full: its paragraph goes on after it.
FULL_LINE_SHARE = 0.8
# A Chinese line shorter than this share of the longest, not ending a sentence, is a heading.
HEADING_SHARE = 0.5
# Characters ending a sentence (English and Chinese), possibly followed by closing quotes or brackets.
SENTENCE_END = re.compile(r"[.!?:;。！？：；…]['\"’”)\]）」』]*$")
# A line starting a list item: a bullet, or a number or letter followed by "." or ")" and a space.
LIST_ITEM = re.compile(r"^([•·▪◦\-–—*]\s|\(?(\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]\s|（?[一二三四五六七八九十]+[、）])")
# A word broken at the line's end: a letter and a hyphen.
HYPHENATED = re.compile(r"[^\W\d_]-$")
# A line ending so that its sentence must go on: a comma, an article, a conjunction or a preposition.
RUNS_ON_END = re.compile(r"(,|\b(the|a|an|of|and|or|to|in|on|for|with|by|at|from|as|that|which))$", re.I)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def reflow(text: str) -> str:
    """Return TEXT with each paragraph's lines joined and paragraphs separated by a blank line."""
    return "\n\n".join(paragraphs(text))


def paragraphs(text: str) -> list[str]:
    """Return the paragraphs of TEXT, a page's extracted text, each on one line."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    width = max((display_width(line) for line in lines), default=0)
    out: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        if not line:
            if current:
                out.append(current)
                current = ""
            continue
        # A line is only compared with the one before it when that one was not blank (current is not empty).
        if current and _runs_on(lines[i - 1], line, width):
            current = _joined(current, line)
        else:
            if current:
                out.append(current)
            current = line
    if current:
        out.append(current)
    return out


def _runs_on(line_before: str, line: str, width: int) -> bool:
    """Whether the paragraph whose last line is LINE_BEFORE goes on with LINE (WIDTH: the page's longest line)."""
    if LIST_ITEM.match(line):
        return False
    if HYPHENATED.search(line_before):
        return True
    full = display_width(line_before) >= FULL_LINE_SHARE * width
    if CJK.match(line[0]) and CJK.match(line_before[-1]):
        # Chinese lines are cut anywhere: a line ending a sentence ends its paragraph unless it is full,
        # and a line shorter than HEADING_SHARE of the longest, without a sentence's end, is a heading.
        if SENTENCE_END.search(line_before):
            return full
        return display_width(line_before) >= HEADING_SHARE * width
    return full or line[0].islower() or bool(RUNS_ON_END.search(line_before))


def _joined(paragraph: str, line: str) -> str:
    """PARAGRAPH with LINE appended as the text it continues."""
    if HYPHENATED.search(paragraph) and line[0].islower():
        return paragraph[:-1] + line
    if paragraph.endswith("-") or (CJK.match(paragraph[-1]) and CJK.match(line[0])):
        return paragraph + line
    return paragraph + " " + line


def display_width(line: str) -> int:
    """LINE's width in columns: a wide (Chinese) character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
