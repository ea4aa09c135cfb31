"""One file in, page texts (or a recorded failure) out.

This is the only module that calls pypdf, PDFium and Tesseract. Everything
raised while reading a file is caught at this boundary and turned into a status
with a reason; `extract_many` runs each file in a sandboxed worker process
(indexer.sandbox) so that a file that hangs or eats memory costs only itself.

Reading a PDF, page by page:
1. pypdf (strict=False, which rebuilds a broken cross-reference table);
   a file pypdf cannot open is repaired (a synthetic trailer) or read by PDFium.
2. A page whose text is empty, unreadable (see cleaning.looks_garbled) or
   raised an error is read again by PDFium; the better text is kept.
   So is a page that may be mis-decoded although it looks readable: one
   whose text mixes scripts that do not belong together
   (cleaning.mixed_scripts), or one that uses a composite (Type0/CID) font
   pypdf has not yet read as PDFium does in this file (pypdf lacks Adobe's
   CID collections and maps such glyphs to wrong code points). PDFium's text
   is kept when it is more plausible by a margin (cleaning.plausibility,
   PLAUSIBILITY_MARGIN); each page records which reader gave it and why.
3. A page still without readable text, or whose text still mixes scripts,
   goes to Tesseract when OCR is on and installed (if it shows an image, or
   has an unreadable text layer); otherwise it "needs OCR". Tesseract reads
   it in the languages a first pass finds (see _ocr).
Word files: .docx with the standard library's zip + XML reader, .doc with
catdoc (antiword as a second try). Sections stand in for pages.

Which files are read, and how, is the registry FORMATS: one FileFormat per
file type (its suffixes, a sniff of its first bytes, its reader, the name
shown in reasons, its upload check). The archive scan, extraction, uploads
and the catalogue all ask it, so a new file type is one entry.
"""

from __future__ import annotations

import bisect
import errno
import functools
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import warnings
import zipfile
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator
from xml.etree import ElementTree

import pypdf
from pypdf.errors import DependencyError, LimitReachedError

from . import sandbox
from .openfile import NotRegularFile, OpenFile, OutsideRoot, open_file
from .cleaning import (clean_metadata, clean_text, detect_language, implausible_chinese, looks_garbled, mixed_scripts,
                       other_alphabet_chars, other_script_letters, plausibility, script_of, text_quality,
                       words_keep_to_one_script)
from .config import Settings
from .errors import UploadError

__all__ = [
    "EXTRACTION_VERSION", "INDEXED", "PARTIAL", "FAILED", "ENCRYPTED", "NEEDS_OCR", "WAITING",
    "FileFormat", "FORMATS", "register_format", "supported_suffixes", "format_for", "identify_upload",
    "Refusal", "PageText", "Extraction", "extract_file", "extract_many", "warm_up", "detect_language",
    "ocr_languages", "reading_summary",
]

log = logging.getLogger(__name__)

# What reading a file makes of it, by version. A file whose index record was
# made by another version is read again by the next update (build.plan_update),
# file by file, without a rebuild. Bump it with every change that changes the
# pages or the status of a file that has not changed; one line per version:
# 1 (no version recorded): pypdf; PDFium for pages pypdf cannot read; OCR of pages without text.
# 2: PDFium's second opinion on composite fonts and mixed scripts, table cells split at glyph
#    gaps, OCR of unreadable text layers in the page's languages, private-use characters
#    restored (issue 27).
# 3: simple fonts without glyph widths are read with a standard font's, so words set in kerned runs
#    are not split ("C ompany").
# 4: table cells of words only are split at glyph gaps too (a word against a capitalised word,
#    a capitals run longer than a word).
# 5: real-world TeX documents: a composite-font page whose pypdf text holds characters of other
#    alphabets that PDFium reads away is PDFium's however trusted its fonts; classical Chinese,
#    Japanese, ー and mathematical letters (𝑥) beside CJK no longer make a page unreadable, nor
#    Greek letters beside CJK that PDFium reads alike; a word PDFium joins at a line-end hyphen
#    (U+FFFE) is whole, and an accent TeX sets before its letter ("f¨ahigkeit") is on it; with
#    fontTools installed, pypdf reads ligatures a CFF font's own encoding names (TeX's "fi").
# 6: real-world text layers every reader gets wrong (a ToUnicode map in the wrong byte order, codes
#    mapped to signs alone) are OCR'd, as are pages without text whose letters are outlines; OCR
#    tells Tesseract the resolution it rendered at, and a page OSD cannot place is read again in
#    its Latin languages when its first reading is almost all Latin letters; table cells pypdf runs
#    together where PDFium's text keeps them apart, and figures pypdf splits at the decimal point
#    where PDFium's keeps them whole, are read as PDFium reads them; a footnote mark PDFium sees
#    smaller and raised after a word ("Huang1") is a word of its own.
# 7: office producers' files: table cells are split in pages of not yet trusted
#    composite fonts too, at gaps measured against the font's size on the page (Chromium's 0.75
#    matrix), also where PDFium writes a space of its own and pypdf none, a number against a word
#    at half poppler's gap, and a word against a code ("TRANSPORTATIONC-04") or numbers glued
#    into no number are checked; a CJK radical a ToUnicode map names for an ideograph's glyph
#    (Chromium: "网⻚") is read as the ideograph.
# 8: OCR: a reading Tesseract is unsure of is read again in every language, the CJK ones first
#    (Chinese lines under an English title), and a page on unevenly lit or tinted paper with
#    Sauvola's local threshold; the reading with clearly more confident characters is kept.
#    Type3 glyphs named by their codes ("/65/115") make pypdf's text unreadable; the words of a
#    tightly justified line pypdf runs together are split where the glyphs stand apart, also at
#    a line-end hyphen, and after a character beyond the BMP glyphs are measured as themselves;
#    a page in several scripts, each word in one and PDFium reading the same letters, stands;
#    typewriter (FreeText) annotations the page shows are read after its text; and
#    table cells that touch are split where a vertical rule stands between them, or where a
#    column of numbers glued to words starts (LibreOffice Writer's tables without padding);
#    a Type1 subset whose PDF /Differences override its program's encoding is read by PDFium
#    too, whose reading (the PDF's) is kept where the letters differ.
EXTRACTION_VERSION = 8

# File statuses, as stored in the index and shown to users.
# Why a file with a decompression bomb was not read: the site shows no viewer for it (search.FileInfo).
INFLATES_REASON = "a compressed stream inflates beyond pypdf's safety limit"

INDEXED = "indexed"
PARTIAL = "partial"
FAILED = "failed"
ENCRYPTED = "encrypted"
NEEDS_OCR = "needs_ocr"
WAITING = "waiting"

# Word files have no pages: a new section starts at a page break, at a heading
# once the section holds SECTION_MIN_CHARS, or at any paragraph once it holds
# SECTION_MAX_CHARS (about one printed page).
SECTION_MIN_CHARS = 1500
SECTION_MAX_CHARS = 3000

# Why a page was read by another reader than pypdf (PageText.why), as shown to users.
MISDECODED = "pypdf mis-decoded the fonts; read with PDFium"
UNREADABLE_PDFIUM = "pypdf's text was unreadable; read with PDFium"
EMPTY_PDFIUM = "pypdf found no text; read with PDFium"
ERROR_PDFIUM = "pypdf failed on the page; read with PDFium"
UNOPENED_PDFIUM = "pypdf could not open the file; read with PDFium"
OCR_NO_LAYER = "OCR: the page has no text layer"
OCR_UNREADABLE = "OCR: the text layer was unreadable"

# PDFium's reading of a page replaces pypdf's readable one only when it is
# more plausible by this much (cleaning.plausibility, from -4 to 1): the two
# differ in spacing and punctuation on healthy pages, by more than 1 on a
# mis-decoded one (docs/DECISIONS.md, "Text as the page shows it").
PLAUSIBILITY_MARGIN = 0.2
# A composite font whose pages pypdf and PDFium read alike this many times
# in a file is trusted for the rest of it: the second reading costs PDFium's
# time, and a font decodes the same way on every page. A page counts when it
# holds TRUST_MIN_CHARS characters or more (a page number proves nothing).
TRUSTED_AFTER_PAGES = 1
TRUST_MIN_CHARS = 100
# A few words in a CID font pypdf mis-decodes (a Chinese heading in a bold font
# without ToUnicode, on a page of English) come out as characters of other
# alphabets (chr(CID): Cyrillic, Devanagari, Lao, Tibetan...; cleaning.other_alphabet_chars),
# too few to move the page's plausibility or make it a mix. So a page with
# composite fonts whose pypdf text holds FEW_OTHER_CHARS of them or more is read
# by PDFium too, however trusted its fonts, and PDFium's reading is kept when it
# holds at most half as many and about as much text (OTHER_READING_MIN_LENGTH of
# pypdf's, or more): a page that really shows Greek or Cyrillic reads the same in both.
FEW_OTHER_CHARS = 3
OTHER_READING_MIN_LENGTH = 0.8
# Share of the other scripts' letters both readers must show for a page that mixes scripts to stand.
OTHER_LETTERS_AGREEMENT = 0.95
# Where a font's PDF encoding overrides its program's (_reencoded_fonts), PDFium's reading, which
# follows the PDF's, replaces pypdf's when they share fewer than this share of their letters and
# digits: spacing and reading order leave them alike, a wrong table does not.
SAME_LETTERS_MIN_SHARE = 0.9

# Tesseract's languages by the script they read (the name its script detection,
# OSD, gives); a configured language in none of these sets is read as Latin.
SCRIPT_LANGUAGES = {
    "Han": {"chi_sim", "chi_tra", "chi_sim_vert", "chi_tra_vert"},
    "Japanese": {"jpn", "jpn_vert"},
    "Korean": {"kor", "kor_vert"},
    "Cyrillic": {"rus", "bul", "ukr", "srp", "mkd", "bel"},
    "Greek": {"ell", "grc"},
    "Arabic": {"ara", "fas", "urd"},
}
CJK_SCRIPTS = ("Han", "Japanese", "Korean", "Hangul")
# Latin words beside CJK text are common on this collection's pages: a page
# of CJK script is read with these Latin languages as well, when configured.
LATIN_BESIDE_CJK = ("eng",)

# Table cells set closer than a space run together in pypdf's text ("920.68STAFF"):
# pypdf breaks a word only where glyphs are a full space width apart, poppler
# where they are WORD_GAP_EM of the font size apart. A page whose pypdf text
# shows such a run (MAYBE_GLUED: a number against a capitalised word, a date
# against a number, a word against a capitalised word, a capitals run longer
# than any word of the archive's, a word against a code such as "C-04", numbers
# that no number is: "5,729,0239,736,999", "95.796,601,426") is
# measured with PDFium's glyph boxes, and each run of glyphs that stands that
# far from the one before it on the line becomes a word of its own
# (docs/DECISIONS.md, "Text as the page shows it").
WORD_GAP_EM = 0.1
# Where a number meets a letter, a cell ends at half that gap: a right-aligned amount against
# the next cell's text, with no padding but the cell's rule between them, stands 0.09 em apart
# in Chromium's and LibreOffice's tables ("5,603,589EXPERT"), and glyphs within a word stand
# no farther apart there than beside it (tracking spreads them all alike).
NUMBER_LETTER_GAP_EM = 0.05
# Cells that touch (no glyph gap, no padding: LibreOffice Writer's tables exported without it)
# are told apart by what the page draws or aligns there, at a PDFium text rectangle's start (a
# cell is a text object of its own), never inside one (_cells_that_touch):
# - a vertical rule (a path at most RULE_MAX_WIDTH_EM wide) standing between the two glyphs'
#   advance boxes, overlapping each by at most RULE_SLACK_EM, and spanning their line's height
#   to within RULE_SLACK_EM: Chromium's rules between cells overlap the boxes by 0.05 em at
#   most, where a rule that runs through a glyph overlaps it by 0.3 em or more;
# - a column: a number against three letters or more whose letters start where those of at
#   least COLUMN_MIN_OTHER_LINES other lines' numbers glued to letters start, within
#   COLUMN_TOLERANCE_PT, in a font that is not fixed-pitch (a code listing aligns every glyph).
#   Writer places a column's cells at one x, and its borderless tables draw nothing between them.
RULE_MAX_WIDTH_EM = 0.25
RULE_SLACK_EM = 0.1
COLUMN_MIN_OTHER_LINES = 2
COLUMN_TOLERANCE_PT = 0.25
_LETTERS = re.compile(r"[^\W\d_]{3}")
# Checked on every page: its alternatives are grouped by their first character, which halves
# the search's time against a flat list of them.
MAYBE_GLUED = re.compile(r"""
    \d (?: [A-Z]{2} | [a-z]{3}               # a number against a word
         | [.,]\d\d[A-Za-z]                  # an amount against a word
         | ,\d{4} | \.\d+,\d{3}              # numbers no number is
         | /\d{4}\d )                        # a date against a number
  | [A-Z] (?: [A-Z]\d                        # capitals against a number
           | [A-Z]{15}                       # a capitals run longer than a word
           | [A-Za-z][A-Z]-\d )              # a word against a code ("C-04")
  | [a-z] (?: [a-z][A-Z][a-z]                # a word against a capitalised word
           | [a-z]{2}\d                      # a word against a number
           | [A-Za-z][A-Z]-\d               # a word against a code
           | [a-z]{29} )                     # words of a tightly justified line run together
""", re.VERBOSE)

_LIGATURE = re.compile("[\ufb00-\ufb06]")
# The other way round: a figure set apart from its decimal point to align a column ("11,062 .6"),
# which pypdf reads as two words and PDFium as one (_pdfium_figures).
MAYBE_SPLIT_NUMBER = re.compile(r"\d [.,]\d")
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
# A word with a footnote mark run into it ("cooperation1", which MAYBE_GLUED shows): the mark is
# a word of its own where PDFium sees its digits at most this share of the letter's size before
# them and raised by this share of it (_raised_marks).
FOOTNOTE_MARK_MAX_SIZE = 0.85
FOOTNOTE_MARK_MIN_RISE = 0.15

# A page with no text layer whose paths have this many segments may show letters drawn as
# outlines (a word is a few hundred segments; a rule or a table's borders a few dozen): it is OCR'd.
OUTLINED_TEXT_MIN_SEGMENTS = 200

# Largest bitmap rendered for OCR, in pixels: a poster-sized page at 300 dpi
# would need gigabytes; such pages are rendered at a lower resolution.
OCR_MAX_PIXELS = 40_000_000


@dataclass
class PageText:
    """The text of one page (or one section of a Word file), numbered from 1."""

    number: int
    text: str
    lang: str = ""          # "en", "zh", "mixed" or "" when the page has no text
    extractor: str = "pypdf"  # "pypdf", "pdfium", "ocr", "docx", "doc" (a FileFormat's reader names its own)
    why: str = ""           # why the first reader's text was not kept ("" when it was): MISDECODED, ...
    #                         (OCR's reasons name the Tesseract languages read)


@dataclass
class Extraction:
    """What reading one file produced.

    `pages` holds the pages that have text, in order, whatever the status (a
    partly read file keeps what was read); `page_count` counts every page and
    `failed_pages` lists those not indexed (unreadable, or waiting for OCR).
    `reason` says why the status is not plain success, or notes a repair.
    """

    status: str
    reason: str = ""
    pages: list[PageText] = field(default_factory=list)
    page_count: int = 0
    failed_pages: list[int] = field(default_factory=list)
    extractor: str = "pypdf"  # the extractors used, most pages first, joined by "+"
    # Which reader gave which pages and why, in page order: {"extractor", "why", "pages"}, one per
    # (extractor, why); pages read by the format's first reader without trouble have why "".
    readers: list[dict] = field(default_factory=list)
    title: str = ""          # from the file's own metadata, if any
    date: str = ""           # ISO date from the file's own metadata, if any

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pages)


# --- the file formats ------------------------------------------------------------------------

@dataclass(frozen=True)
class FileFormat:
    """One type of file the archive holds: which files are of it, and how they are read.

    `sniff(file, head)` tells from the file's first KiB (HEAD) and, if need
    be, the file itself whether FILE (an openfile.OpenFile: its archive name,
    and `file.path` to read it by) is of this format; it may raise Refusal
    when the file looks like this format but is not (a ZIP archive without
    word/document.xml), so the reason says why. `read(file, settings, tally)`
    records the file's pages with tally.count(n) and tally.page(number, text,
    extractor) and raises Refusal for a file it cannot read. Both read the file
    only through `file.path` or `file.fd`, never by its archive name, which may
    have become a link since it was opened. `check_upload(path)`
    checks an uploaded file in a limited process and returns its page count
    (raising UploadError); None means uploads refuse the format. The functions
    are module-level: they travel to the extraction workers by name.
    """

    key: str                    # the catalogue's `format` ("pdf")
    name: str                   # in reasons: "not a PDF: ..."
    label: str                  # in upload messages: "only PDF files can be uploaded"
    suffixes: tuple[str, ...]   # lower case, with the dot: the archive scan keeps these files
    sniff: Callable[[OpenFile, bytes], bool]
    read: Callable[[OpenFile, Settings, "_Tally"], None]
    mimetype: str = "application/octet-stream"
    check_upload: Callable[[Path], int] | None = None


# Every format, in the order their sniffs are asked (filled below, after the readers).
FORMATS: dict[str, FileFormat] = {}


def register_format(file_format: FileFormat) -> None:
    """Add FILE_FORMAT to the registry (after the others), or replace the format of the same key."""
    FORMATS[file_format.key] = file_format


def supported_suffixes() -> tuple[str, ...]:
    """The suffixes of archive files, lower case with the dot (".pdf", ...)."""
    return tuple(suffix for file_format in FORMATS.values() for suffix in file_format.suffixes)


def format_for(path: str | os.PathLike) -> FileFormat | None:
    """The format PATH's suffix names, or None."""
    suffix = Path(path).suffix.lower()
    for file_format in FORMATS.values():
        if suffix in file_format.suffixes:
            return file_format
    return None


def identify_upload(path: Path, head: bytes) -> FileFormat:
    """The uploadable format an uploaded file is, by its first bytes; raise UploadError if none."""
    uploadable = [f for f in FORMATS.values() if f.check_upload is not None]
    with open_file(path) as upload:
        for file_format in uploadable:
            try:
                if file_format.sniff(upload, head):
                    return file_format
            except Refusal:
                break
    names = " or ".join(f.name for f in uploadable)
    labels = " or ".join(f.label for f in uploadable)
    raise UploadError(f"This is not {names}: only {labels} files can be uploaded.", "not_pdf")


# --- public entry points ---------------------------------------------------------------------

def extract_file(path: str | os.PathLike, settings: Settings | None = None) -> Extraction:
    """Read PATH in this process, page by page; never raises.

    No time or memory limit applies here: use `extract_many` for files from the
    archive.
    """
    settings = settings or Settings()
    tally = _Tally()
    _extract(Path(path), settings, tally, tuple(FORMATS.values()))
    return tally.conclude()


def extract_many(paths: Iterable[str | os.PathLike], settings: Settings | None = None,
                 progress: Callable[[int, int, Path], None] | None = None,
                 page_progress: Callable[[Path, int], None] | None = None,
                 within: str | os.PathLike | None = None) -> Iterator[tuple[Path, Extraction]]:
    """Read PATHS in sandboxed worker processes; yield (path, Extraction) as each finishes.

    settings.extraction_workers files are read in parallel, each worker limited
    to settings.extract_memory_mb; a file with no progress (opening it, or one
    page) for settings.extract_timeout_s is killed and recorded as failed, or
    as partial with the pages read before. Workers stay alive for the next
    call in this process (sandbox.shared_pool). PROGRESS(done, total, path) is called
    after each file, PAGE_PROGRESS(path, pages_read) after each page (a long
    report shows its progress while it is read). With WITHIN (the archive
    folder), a file that is no longer inside it when a worker opens it (a link
    swapped in since the scan) is not read.
    """
    return _extract_many(paths, settings or Settings(), progress, _worker_task, page_progress, within)


def _extract_many(paths, settings: Settings, progress, task: Callable,
                  page_progress: Callable[[Path, int], None] | None = None,
                  within: str | os.PathLike | None = None) -> Iterator[tuple[Path, Extraction]]:
    """Run TASK for each path in the sandbox (tests pass a task that hangs on purpose)."""
    paths = [Path(p) for p in paths]
    total = len(paths)
    # The formats travel with each file: the workers were started before a format registered later.
    formats = tuple(FORMATS.values())
    root = os.fspath(within) if within is not None else None
    tasks = ((p, (str(p), settings, formats, root)) for p in paths)
    on_chunk = None
    if page_progress is not None:
        pages_read: dict[Path, int] = {}

        def on_chunk(path: Path, event) -> None:
            if event[0] == "page":
                pages_read[path] = pages_read.get(path, 0) + 1
                page_progress(path, pages_read[path])
    # Warm workers, kept between calls: the watcher's one-file updates pay no start-up.
    pool = sandbox.shared_pool(task, settings.extraction_workers, settings.extract_memory_mb)
    outcomes = pool.run(tasks, workers=min(settings.extraction_workers, max(total, 1)),
                        timeout_s=settings.extract_timeout_s, on_chunk=on_chunk)
    for done, outcome in enumerate(outcomes, start=1):
        extraction = _assemble(outcome)
        if progress is not None:
            progress(done, total, outcome.key)
        yield outcome.key, extraction


def warm_up(settings: Settings, workers: int = 1) -> None:
    """Start WORKERS extraction workers now (without waiting), so the next extract_many finds them ready."""
    sandbox.shared_pool(_worker_task, settings.extraction_workers, settings.extract_memory_mb).prestart(workers)


def ocr_languages(settings: Settings) -> str:
    """Return the Tesseract languages OCR will use ("eng+chi_sim"), or "" when OCR is off or missing."""
    if not settings.ocr:
        return ""
    installed = _installed_tesseract_languages()
    wanted = [lang for lang in settings.ocr_languages.split("+") if lang]
    usable = [lang for lang in wanted if lang in installed]
    if len(usable) < len(wanted) and usable:
        log.warning("tesseract lacks the languages %s; OCR uses %s",
                    ", ".join(sorted(set(wanted) - set(usable))), "+".join(usable))
    return "+".join(usable)


# --- the worker side -------------------------------------------------------------------------

def _worker_task(payload: tuple[str, Settings, tuple, str | None], emit: Callable) -> Extraction:
    """Read one file in a sandbox worker, streaming its events to the parent."""
    path, settings, formats, root = payload
    # We already run one worker per core: Tesseract must not start more threads.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    tally = _Tally(emit)
    _extract(Path(path), settings, tally, formats, root)
    return tally.conclude()


def _assemble(outcome: sandbox.Outcome) -> Extraction:
    """Turn a sandbox outcome (events streamed, then a summary or a failure) into an Extraction."""
    if outcome.failure is None:
        extraction = outcome.value
        extraction.pages = [event[1] for event in outcome.chunks if event[0] == "page"]
        return extraction
    # The worker died: replay what it reported and close the file with the failure.
    tally = _Tally()
    for event in outcome.chunks:
        tally.record(event)
    tally.abort(outcome.failure.message)
    return tally.conclude()


class Refusal(Exception):
    """The file as a whole cannot be read: a status (FAILED, ENCRYPTED) and a reason (shown to users)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class _PageError(Exception):
    """One page cannot be read; the message is the reason, as is."""


class _Tally:
    """Collects what reading one file produced, as a stream of events.

    In a worker, each event is forwarded to the parent as it happens (pages are
    not kept: a 3,000-page file is never held twice). In the parent, or for
    `extract_file`, the events are kept and `conclude` makes the Extraction.
    Events: ("count", n), ("page", PageText), ("step", number),
    ("failed", number, reason), ("ocr", number, why), ("note", text),
    ("meta", title, date), ("refuse", status, reason).
    """

    def __init__(self, emit: Callable | None = None):
        self.emit = emit
        self.pages: list[PageText] = []
        self.page_count = 0
        self.last_step = 0
        self.chars = 0
        self.extractors: Counter = Counter()
        self.failed: dict[int, str] = {}
        self.ocr_needed: dict[int, str] = {}
        self.notes: list[str] = []
        self.title = self.date = ""
        self.refusal: tuple[str, str] | None = None
        self.aborted = ""
        self.ocr_ran = False
        self.readers: dict[tuple[str, str], list[int]] = {}

    def record(self, event: tuple) -> None:
        kind = event[0]
        if kind == "count":
            self.page_count = event[1]
        elif kind == "page":
            page = event[1]
            self.chars += len(page.text)
            self.extractors[page.extractor] += 1
            self.readers.setdefault((page.extractor, page.why), []).append(page.number)
            self.last_step = max(self.last_step, page.number)
            if self.emit is None:
                self.pages.append(page)
        elif kind == "step":
            self.last_step = max(self.last_step, event[1])
        elif kind == "failed":
            self.failed[event[1]] = event[2]
            self.last_step = max(self.last_step, event[1])
        elif kind == "ocr":
            self.ocr_needed[event[1]] = event[2]
            self.last_step = max(self.last_step, event[1])
        elif kind == "ocr_ran":
            self.ocr_ran = True
        elif kind == "note":
            if event[1] not in self.notes:
                self.notes.append(event[1])
        elif kind == "meta":
            self.title, self.date = event[1], event[2]
        elif kind == "refuse":
            self.refusal = (event[1], event[2])
        if self.emit is not None:
            self.emit(event)

    # Shorthands used by the readers.
    def count(self, n: int) -> None:
        self.record(("count", n))

    def page(self, number: int, text: str, extractor: str, why: str = "") -> None:
        if text:
            self.record(("page", PageText(number, text, detect_language(text), extractor, why)))
        else:
            self.record(("step", number))

    def fail(self, number: int, reason: str) -> None:
        self.record(("failed", number, reason))

    def note(self, text: str) -> None:
        self.record(("note", text))

    def abort(self, reason: str) -> None:
        """Close the file after its reader died: pages not reached are failed."""
        self.aborted = reason
        for number in range(self.last_step + 1, self.page_count + 1):
            self.failed.setdefault(number, reason)

    def conclude(self) -> Extraction:
        extractor = "+".join(name for name, _ in self.extractors.most_common())
        readers = [{"extractor": name, "why": why, "pages": pages}
                   for (name, why), pages in sorted(self.readers.items(), key=lambda item: item[1][0])]
        result = Extraction(status=INDEXED, pages=self.pages, page_count=self.page_count,
                            extractor=extractor, title=self.title, date=self.date, readers=readers)
        if self.refusal:
            result.status, result.reason = self.refusal
            return result
        not_indexed = sorted(set(self.failed) | set(self.ocr_needed))
        parts = []
        if self.aborted:
            where = f" on page {self.last_step + 1}" if 0 < self.last_step + 1 <= self.page_count else ""
            parts.append(self.aborted + where)
        failed = [n for n in sorted(self.failed) if not (self.aborted and self.failed[n] == self.aborted)]
        if failed:
            reasons = list(dict.fromkeys(self.failed[n] for n in failed))
            parts.append(f"{_pages_phrase(failed)} could not be read: " + "; ".join(reasons[:3]))
        if self.aborted and self.page_count > self.last_step + 1:
            parts.append(f"{_pages_phrase(range(self.last_step + 1, self.page_count + 1))} not read")
        if self.ocr_needed:
            parts.append(_ocr_phrase(self.ocr_needed))
        parts.extend(self.notes)
        result.reason = "; ".join(parts)
        result.failed_pages = not_indexed
        if self.chars == 0:
            if self.ocr_needed:
                result.status = NEEDS_OCR
            elif self.aborted or self.failed:
                result.status = FAILED
            else:
                result.status = FAILED
                if self.page_count == 0:
                    empty = "the document has no pages"
                elif self.ocr_ran:
                    empty = f"no text found on any of the {self.page_count} pages, not even by OCR"
                else:
                    empty = f"no text found on any of the {self.page_count} pages"
                result.reason = "; ".join([empty] + parts)
        elif not_indexed or self.aborted:
            result.status = PARTIAL
        return result


def reading_summary(readers: Iterable[dict]) -> str:
    """Say which pages needed which reader and why ("pages 2–5: pypdf mis-decoded the fonts; read with PDFium").

    READERS is Extraction.readers (as stored in the file's record); pages the
    first reader read without trouble are not mentioned, so "" means all were.
    """
    parts = [f"{_pages_phrase(r['pages'])}: {r['why']}" for r in readers if r.get("why") and r.get("pages")]
    return " · ".join(parts)


def _pages_phrase(numbers: Iterable[int]) -> str:
    """Return "page 3" or "pages 2, 5-9" for NUMBERS."""
    numbers = sorted(numbers)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)
    return f"page {text}" if len(numbers) == 1 else f"pages {text}"


def _ocr_phrase(needed: dict[int, str]) -> str:
    no_layer = sum(1 for why in needed.values() if why == "no text layer")
    unreadable = len(needed) - no_layer
    parts = []
    if no_layer:
        parts.append(f"{no_layer} page{'s' if no_layer > 1 else ''} {'have' if no_layer > 1 else 'has'} "
                     "no text layer")
    if unreadable:
        parts.append(f"{unreadable} page{'s' if unreadable > 1 else ''} {'have' if unreadable > 1 else 'has'} "
                     "only unreadable text")
    return "needs OCR: " + " and ".join(parts)


def _extract(path: Path, settings: Settings, tally: _Tally, formats: tuple[FileFormat, ...],
             root: str | None = None) -> None:
    """Read PATH (inside ROOT, if given), of one of FORMATS, into TALLY; every error ends up recorded there."""
    try:
        with _quiet_libraries(), _opened(path, root) as file:
            _identify(file, formats).read(file, settings, tally)
    except Refusal as refusal:
        tally.record(("refuse", refusal.status, refusal.reason))
    except MemoryError:
        _fail_rest(tally, sandbox.memory_message(settings.extract_memory_mb))
    except RecursionError:
        _fail_rest(tally, "objects nested too deeply (RecursionError)")
    except Exception as exc:  # noqa: BLE001 - the boundary: pypdf raises outside its hierarchy
        _fail_rest(tally, _describe(exc))


def _fail_rest(tally: _Tally, reason: str) -> None:
    """Record an error that stopped the reading: the pages not reached fail with it."""
    if tally.page_count:
        tally.abort(reason)
    else:
        tally.record(("refuse", FAILED, reason))


def _describe(exc: BaseException) -> str:
    """Return a one-line, user-facing description of EXC."""
    if isinstance(exc, _PageError):
        return str(exc)
    if isinstance(exc, LimitReachedError):
        text = str(exc)
        if "decompress" in text.lower():
            return INFLATES_REASON
        return f"a safety limit was reached ({text.rstrip('.')})"
    if isinstance(exc, RecursionError):
        return "objects nested too deeply (RecursionError)"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def _quiet_libraries():
    """Collect pypdf's log messages and warnings instead of printing them."""
    logger = logging.getLogger("pypdf")
    handler = _ListHandler()
    old_propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 1000:
            self.messages.append(record.getMessage())


# --- what kind of file is it -----------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_WORD_SUFFIXES = (".docx", ".doc")
_SIGNATURES = [
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"{\\rtf", "an RTF document"),
    (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "a gzip archive"), (_OLE_MAGIC, "an Office file"),
]


# Why a file was not read because its name became a link (a file opened by the
# workers must be the one the scan found inside the archive; no content is quoted).
LINK_SWAPPED = "not read: the file was replaced by a link"
LINKED_OUT = "not read: the file became a link out of the archive"


@contextmanager
def _opened(path: Path, root: str | None) -> Iterator[OpenFile]:
    """Open PATH once (openfile.open_file) for every reader of it; refuse what cannot or must not be read."""
    opened = ExitStack()
    try:
        file = opened.enter_context(open_file(path, root))
    except FileNotFoundError:
        raise Refusal(FAILED, "file not found") from None
    except (NotRegularFile, OutsideRoot) as exc:
        raise Refusal(FAILED, LINKED_OUT if isinstance(exc, OutsideRoot) else exc.strerror) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refusal(FAILED, LINK_SWAPPED) from None
        raise Refusal(FAILED, f"cannot open the file: {exc.strerror or exc}") from None
    # Errors of the readers, below, are theirs: only the opening's are turned into refusals here.
    with opened:
        yield file


def _identify(file: OpenFile, formats: tuple[FileFormat, ...]) -> FileFormat:
    """The first of FORMATS whose sniff takes FILE; refuse the file if none does."""
    if file.size == 0:
        raise Refusal(FAILED, "empty file (0 bytes)")
    try:
        head = file.head(1024)
    except OSError as exc:
        raise Refusal(FAILED, f"cannot read the file: {exc.strerror or exc}") from None
    for file_format in formats:
        if file_format.sniff(file, head):
            return file_format
    suffix = file.suffix
    named = [f.name for f in formats if suffix in f.suffixes] or list(dict.fromkeys(f.name for f in formats))
    raise Refusal(FAILED, f"not {' or '.join(named)}: the file is {_show_bytes(head)}")


def _sniff_pdf(file: OpenFile, head: bytes) -> bool:
    """Tell whether FILE is a PDF, whatever its name: the header may follow up to 1 KiB of junk
    (PDF 32000 tolerates it, readers do)."""
    return b"%PDF-" in head


def _sniff_docx(file: OpenFile, head: bytes) -> bool:
    """Tell whether FILE, named as a Word file, is a Word 2007+ document: a ZIP archive with word/document.xml."""
    if file.suffix not in _WORD_SUFFIXES or not head.startswith(_ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(file.path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise Refusal(FAILED, f"not a Word document: damaged ZIP archive ({exc})") from None
    if "word/document.xml" not in names:
        raise Refusal(FAILED, "not a Word document: a ZIP archive without word/document.xml")
    return True


def _sniff_doc(file: OpenFile, head: bytes) -> bool:
    """Tell whether FILE, named as a Word file, is an Office (OLE) file: a Word 97-2003 document."""
    return file.suffix in _WORD_SUFFIXES and head.startswith(_OLE_MAGIC)


def _show_bytes(head: bytes) -> str:
    """What the first bytes of a file look like, for a person, quoting none of them.

    A reason is shown on the public status page: a file that is not what its name
    says (a link to a password file, a note with a token) must not be quoted there.
    """
    lower = head[:64].lstrip().lower()
    if lower.startswith((b"<!doctype html", b"<html")):
        return "a web page (perhaps a failed download)"
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    try:
        text = head[:200].decode("utf-8")
    except UnicodeDecodeError as exc:
        text = head[:exc.start].decode("utf-8") if exc.start >= 8 else None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "text"
    return "binary data"


# --- PDF -------------------------------------------------------------------------------------

# Messages pypdf logs when it recovers from a damaged file.
_XREF_REPAIRED = re.compile(r"startxref|xref table|rebuild xref|Invalid parent xref|Object Streams", re.I)
_OBJ_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})\s+\d{1,5}\s+obj\b")
_CATALOG = re.compile(rb"(?<![0-9])(\d{1,10})\s+\d{1,5}\s+obj\s*<<(?:(?!endobj).){0,2000}?/Type\s*/Catalog\b",
                      re.S)


def _read_pdf(file: OpenFile, settings: Settings, tally: _Tally) -> None:
    """Read a PDF page by page (pypdf, then PDFium, then OCR: see the module's docstring)."""
    _PdfJob(file.path, settings, tally).run()


class _PdfJob:
    """Read one PDF page by page, recording each page in the tally."""

    def __init__(self, path: Path, settings: Settings, tally: _Tally):
        # PATH opens the file the worker opened (/proc/self/fd/N), not a name that may have changed.
        self.path, self.settings, self.tally = path, settings, tally
        self.source: Path | io.BytesIO = path        # what PDFium opens (the repaired copy, if any)
        self._pdfium_doc = None
        self._pdfium_error = ""
        self._ocr_langs: str | None = None
        self._pypdf_error = ""
        # Per set of composite fonts on a page: how many pages pypdf read as PDFium does.
        self._fonts_agreed: Counter = Counter()
        # Per page index: pypdf's glued words and their spaced forms (_GlyphRuns), measured once.
        self._glued_maps: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
        self._notes: dict[int, str] = {}     # page number -> its typewriter annotations' text
        self._reencoded: set = set()          # fonts whose PDF encoding overrides their program's (_reencoded_fonts)

    def run(self) -> None:
        try:
            with _quiet_libraries() as messages:
                reader = self._open_pypdf(messages)
                if reader is not None:
                    self._read_with_pypdf(reader)
                else:
                    self._read_with_pdfium_only()
        finally:
            self._close_pdfium()

    # Opening.

    def _open_pypdf(self, messages: list[str]):
        """Return a pypdf reader with its pages counted, or None when only PDFium may help."""
        truncated = not self._has_eof_marker()
        try:
            reader = pypdf.PdfReader(self.path, strict=False)
            self._decrypt(reader)
            count = len(reader.pages)
            if count == 0 and truncated:
                raise pypdf.errors.PdfReadError("no pages found")
        except Refusal:
            raise
        except Exception as exc:  # noqa: BLE001 - pypdf raises outside its hierarchy
            first_error = _describe(exc)
            reader, count = self._open_repaired(messages)
            if reader is None:
                self._pypdf_error = first_error
                return None
        if truncated:
            self.tally.note("the file is truncated (it has no end-of-file marker); "
                            "the pages that remain were read")
        elif any(_XREF_REPAIRED.search(m) for m in messages):
            self.tally.note("repaired: the cross-reference table is broken and was rebuilt")
        self.tally.count(max(count, _declared_page_count(reader)))
        self._meta(reader)
        return reader

    def _has_eof_marker(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 2048))
            return b"%%EOF" in fh.read()

    def _decrypt(self, reader) -> None:
        if not reader.is_encrypted:
            return
        try:
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise Refusal(FAILED, f"encrypted with AES, which needs the cryptography package ({exc})") from None
        if opened == pypdf.PasswordType.NOT_DECRYPTED:
            raise Refusal(ENCRYPTED, "encrypted: needs a password")

    def _open_repaired(self, messages: list[str]):
        """Append a trailer naming the catalog object, so pypdf can rebuild the file's index."""
        buffer = io.BytesIO()
        with open(self.path, "rb") as fh:
            shutil.copyfileobj(fh, buffer)
        data = buffer.getbuffer()
        catalogs = _CATALOG.findall(data)
        if not catalogs:
            del data
            return None, 0
        size = max(int(m.group(1)) for m in _OBJ_HEADER.finditer(data)) + 1
        del data
        buffer.seek(0, os.SEEK_END)
        buffer.write(b"\ntrailer\n<< /Size %d /Root %s 0 R >>\nstartxref\n0\n%%%%EOF\n" % (size, catalogs[-1]))
        buffer.seek(0)
        self.source = buffer
        try:
            reader = pypdf.PdfReader(buffer, strict=False)
            self._decrypt(reader)
            count = len(reader.pages)
        except Refusal:
            raise
        except Exception:  # noqa: BLE001 - the repair did not help; PDFium gets its turn
            return None, 0
        if count == 0:
            return None, 0
        messages.append("rebuild xref")
        return reader, count

    def _meta(self, reader) -> None:
        try:
            meta = reader.metadata or {}
            title = _plausible_title(str(meta.get("/Title") or ""))
            date = _pdf_date(str(meta.get("/CreationDate") or ""))
        except Exception:  # noqa: BLE001 - metadata is optional
            title, date = "", ""
        self.tally.record(("meta", title, date))

    # Reading pages.

    def _read_with_pypdf(self, reader) -> None:
        count = len(reader.pages)
        for index in range(count):
            number = index + 1
            text, error, bomb = "", "", False
            fonts: frozenset = frozenset()
            try:
                page = reader.pages[index]
                page_fonts = _page_fonts(page)
                reencoded = _reencoded_fonts(page_fonts)
                self._reencoded |= reencoded
                fonts = _composite_fonts(page_fonts) | reencoded
                _lend_standard_widths(page_fonts)
                text = page.extract_text() or ""
                if fonts and _PRIVATE_USE.search(text):
                    text = _restore_private_use(page, text)
                if notes := _free_text_notes(page):
                    self._notes[number] = notes
            except MemoryError:
                error, bomb = sandbox.memory_message(self.settings.extract_memory_mb), True
            except LimitReachedError as exc:
                error = _describe(exc)
                # A decompression bomb: PDFium would inflate it all over again.
                bomb = "decompress" in str(exc).lower()
            except Exception as exc:  # noqa: BLE001 - RecursionError, AttributeError, ... per page
                error = _describe(exc)
            if bomb:
                self.tally.fail(number, error)
            else:
                self._settle_safely(number, text, "pypdf", error, ask_pdfium=True, fonts=fonts)
        for number in range(count + 1, self.tally.page_count + 1):
            # The page tree promises pages that are not in the file (cut off).
            self.tally.fail(number, "missing from the file")

    def _read_with_pdfium_only(self) -> None:
        doc = self._pdfium()
        if doc is None:
            error = self._pypdf_error
            if "password" in self._pdfium_error.lower():
                raise Refusal(ENCRYPTED, "encrypted: needs a password")
            if self._pdfium_error:
                error += f" (PDFium: {self._pdfium_error})"
            raise Refusal(FAILED, f"cannot be read: {error}")
        self.tally.note(f"read with PDFium because pypdf failed ({self._pypdf_error})")
        count = len(doc)
        self.tally.count(count)
        try:
            meta = doc.get_metadata_dict()
            self.tally.record(("meta", _plausible_title(meta.get("Title", "")),
                               _pdf_date(meta.get("CreationDate", ""))))
        except Exception:  # noqa: BLE001 - metadata is optional
            pass
        for index in range(count):
            text, error = self._pdfium_text(index)
            self._settle_safely(index + 1, text, "pdfium", error, ask_pdfium=False, why=UNOPENED_PDFIUM)

    def _record_page(self, number: int, text: str, extractor: str, why: str = "") -> None:
        """Record page NUMBER's TEXT, its typewriter annotations after it: what the page shows over its content."""
        if notes := self._notes.pop(number, ""):
            text = f"{text}\n\n{notes}" if text else notes
        self.tally.page(number, text, extractor, why)

    def _settle_safely(self, number: int, text: str, extractor: str, error: str, ask_pdfium: bool,
                       fonts: frozenset = frozenset(), why: str = "") -> None:
        """Settle one page; an error there (OCR, PDFium) fails that page only."""
        try:
            self._settle(number, text, extractor, error, ask_pdfium, fonts, why)
        except MemoryError:
            self.tally.fail(number, sandbox.memory_message(self.settings.extract_memory_mb))
        except Exception as exc:  # noqa: BLE001 - one page, not the file
            self.tally.fail(number, _describe(exc))

    def _settle(self, number: int, text: str, extractor: str, error: str, ask_pdfium: bool,
                fonts: frozenset = frozenset(), why: str = "") -> None:
        """Record page NUMBER, asking PDFium and then OCR when TEXT is missing, unreadable or may be mis-decoded.

        FONTS are the page's composite fonts (_composite_fonts); WHY says why
        EXTRACTOR reads the page (UNOPENED_PDFIUM), "" for pypdf.
        """
        cleaned = clean_text(text)
        readable = bool(cleaned) and _reads_well(text)
        other_chars = other_alphabet_chars(text) if fonts else 0
        untrusted_fonts = bool(fonts) and (self._fonts_agreed[fonts] < TRUSTED_AFTER_PAGES
                                           or other_chars >= FEW_OTHER_CHARS)
        if readable and not (ask_pdfium and untrusted_fonts):
            if ask_pdfium:
                cleaned = self._words_as_placed(number - 1, text, cleaned)
            self._record_page(number, cleaned, extractor, why)
            return
        if ask_pdfium:
            alt, alt_error = self._pdfium_text(number - 1)
            alt_cleaned = clean_text(alt)
            if cleaned:
                if alt_cleaned and (plausibility(alt) > plausibility(text) + PLAUSIBILITY_MARGIN
                                    or _clears_other_chars(other_chars, alt, len(cleaned), len(alt_cleaned))
                                    or (fonts & self._reencoded and _other_letters(text, alt) and _reads_well(alt))):
                    # A font decoded through the wrong table (composite, or giving a mix of
                    # scripts); otherwise pypdf's text layer itself was unreadable.
                    misdecoded = bool(fonts) or mixed_scripts(text)
                    text, cleaned, extractor = alt, alt_cleaned, "pdfium"
                    why = MISDECODED if misdecoded else UNREADABLE_PDFIUM
                elif readable:
                    # PDFium reads it no better: pypdf's text stands, and its fonts earn trust.
                    if len(cleaned) >= TRUST_MIN_CHARS:
                        self._fonts_agreed[fonts] += 1
                    self._record_page(number, self._words_as_placed(number - 1, text, cleaned), extractor, why)
                    return
                elif alt_cleaned and _reads_well(alt):
                    text, cleaned, extractor, why = alt, alt_cleaned, "pdfium", UNREADABLE_PDFIUM
                elif _other_scripts_both_read(text, alt):
                    self._record_page(number, self._words_as_placed(number - 1, text, cleaned), extractor, why)
                    return
                elif _score(alt) > _score(text):
                    text, cleaned, extractor = alt, alt_cleaned, "pdfium"
            elif alt_cleaned:
                text, cleaned, extractor = alt, alt_cleaned, "pdfium"
                why = ERROR_PDFIUM if error else EMPTY_PDFIUM
            if cleaned and _reads_well(text):
                self._record_page(number, cleaned, extractor, why)
                return
            error = error or alt_error
        garbled = bool(cleaned)          # still here with text: unreadable, a mix of scripts, or not Chinese
        if not garbled and not self._may_show_text(number - 1):
            if error:
                self.tally.fail(number, error)
            else:
                self._record_page(number, "", extractor)      # a blank page
            return
        if self._pdfium() is None:
            # Nothing can render the page for OCR.
            self.tally.fail(number, error or "only unreadable text (a font without a usable encoding)")
            return
        read = self._ocr(number - 1)
        if read is None:
            self.tally.record(("ocr", number, "unreadable text" if garbled else "no text layer"))
        else:
            ocr_text, how = read
            why = OCR_UNREADABLE if garbled else OCR_NO_LAYER
            self._record_page(number, ocr_text, "ocr", f"{why} ({how})")

    # PDFium, opened only when needed.

    def _pdfium(self):
        if self._pdfium_doc is None and not self._pdfium_error:
            try:
                import pypdfium2
            except ImportError:
                self._pdfium_error = "pypdfium2 is not installed"
                return None
            try:
                source = self.source
                if isinstance(source, io.BytesIO):
                    source.seek(0)
                self._pdfium_doc = pypdfium2.PdfDocument(source)
            except Exception as exc:  # noqa: BLE001
                self._pdfium_error = str(exc).replace("Failed to load document ", "").strip("(). ") or "error"
        return self._pdfium_doc

    def _pdfium_text(self, index: int) -> tuple[str, str]:
        doc = self._pdfium()
        if doc is None or index >= len(doc):
            return "", ""
        page = textpage = None
        try:
            page = doc[index]
            textpage = page.get_textpage()
            return textpage.get_text_range(), ""
        except Exception as exc:  # noqa: BLE001
            return "", f"PDFium: {str(exc).strip() or type(exc).__name__}"
        finally:
            if textpage is not None:
                textpage.close()
            if page is not None:
                page.close()

    def _words_as_placed(self, index: int, text: str, cleaned: str) -> str:
        """CLEANED, pypdf's TEXT of page INDEX cleaned, with its words split and joined where the
        glyphs' places say (_split_glued_cells), if the text shows a sign of either.

        Every branch of _settle that keeps pypdf's text calls it: at once on
        trusted fonts, or after PDFium was asked about untrusted composite ones.
        """
        if MAYBE_GLUED.search(cleaned) or MAYBE_SPLIT_NUMBER.search(cleaned):
            return clean_text(self._split_glued_cells(index, text))
        return cleaned

    def _split_glued_cells(self, index: int, text: str) -> str:
        """Return TEXT (pypdf's, of page INDEX) with a space between runs of glyphs PDFium finds apart,
        and a column's figures whole where PDFium reads them so."""
        # PDFium writes a ligature's letters ("office"), pypdf the ligature ("oﬃce"); NFKC,
        # which clean_text applies anyway, makes them the same.
        text = _LIGATURE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
        if index not in self._glued_maps:
            self._glued_maps[index] = self._measure_glued_words(index, set(text.split()))
        spaced, figures = self._glued_maps[index]
        if spaced:
            # A whole word of pypdf's only: a short run ("53") may stand inside a longer word ("2053").
            text = re.sub(r"\S+", lambda m: spaced.get(m.group(), m.group()), text)
        if figures:
            split = re.compile(r"(?<!\S)(%s)(?!\S)" % "|".join(map(re.escape, sorted(figures, key=len, reverse=True))))
            text = split.sub(lambda m: figures[m.group(1)], text)
        return text

    def _measure_glued_words(self, index: int, words: set[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Map each of WORDS (pypdf's, of page INDEX) PDFium finds glyphs apart in to it with spaces
        there; and PDFium's figures from their reading with a space before the point (_pdfium_figures)."""
        doc = self._pdfium()
        if doc is None or index >= len(doc):
            return {}, {}
        page = textpage = None
        try:
            page = doc[index]
            textpage = page.get_textpage()
            runs = _GlyphRuns(textpage, page)
            return ({word: split for word in words if (split := runs.spaced(word)) != word},
                    _pdfium_figures(runs.text))
        except Exception:  # noqa: BLE001 - the split is a refinement: pypdf's text stands without it
            return {}, {}
        finally:
            if textpage is not None:
                textpage.close()
            if page is not None:
                page.close()

    def _may_show_text(self, index: int) -> bool:
        """Tell whether page INDEX, which has no text layer, draws what may be text: an image, or letters' outlines."""
        doc = self._pdfium()
        if doc is None or index >= len(doc):
            return False
        import pypdfium2.raw as pdfium_c

        page = None
        try:
            page = doc[index]
            segments = 0
            for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH),
                                        max_depth=3):
                if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                    return True         # a scan, or a picture of text
                segments += max(0, pdfium_c.FPDFPath_CountSegments(obj.raw))
                if segments >= OUTLINED_TEXT_MIN_SEGMENTS:
                    return True
            return False
        except Exception:  # noqa: BLE001
            return False
        finally:
            if page is not None:
                page.close()

    def _ocr(self, index: int) -> tuple[str, str] | None:
        """Return the OCR text of page INDEX and how it was read, or None when OCR is off or unavailable.

        Tesseract first detects the page's script (OSD) and then reads it in
        the configured languages of that script only (page_ocr_languages):
        an English page read with Chinese as well turns "Chapter II" into
        Chinese characters, and every language added slows the reading.
        Where OSD cannot tell, the page's first reading in all of them decides.
        A reading in doubt (many words Tesseract is unsure of) or of a page whose
        paper is unevenly lit is read once more (_OcrReading.or_better).
        """
        if self._ocr_langs is None:
            self._ocr_langs = ocr_languages(self.settings)
        doc = self._pdfium()
        if not self._ocr_langs or doc is None:
            return None
        self.tally.record(("ocr_ran",))
        page = bitmap = None
        try:
            page = doc[index]
            width, height = page.get_size()
            scale = self.settings.ocr_dpi / 72
            scale = min(scale, (OCR_MAX_PIXELS / max(width * height, 1)) ** 0.5)
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil()
            timeout = max(1, self.settings.extract_timeout_s)
            every = page_ocr_languages(self._ocr_langs, "")
            latin = page_ocr_languages(every, "Latin")
            langs = every
            if latin != every:                                  # languages of more than one script
                langs = page_ocr_languages(every, _detect_script(image, scale, timeout))
            readings: dict[tuple[str, bool], _OcrReading] = {}

            def read(langs: str, sauvola: bool = False) -> _OcrReading:
                if (langs, sauvola) not in readings:
                    readings[langs, sauvola] = _ocr_reading(image, langs, dpi=round(72 * scale), timeout=timeout,
                                                            sauvola=sauvola)
                return readings[langs, sauvola]

            reading = read(langs)
            uneven = _uneven_background(image)
            if uneven:
                # One threshold for the whole page turns shaded, tinted or textured paper black
                # and the text on it is lost; Sauvola's threshold follows the paper.
                reading = reading.or_better(read(langs, sauvola=True))
            if langs == every != latin and _reads_as_latin(clean_text(reading.text)):
                # OSD could not tell (a map, a chart, a few words) or saw a script no language
                # reads: the first reading, in every language, tells the script instead.
                reading = read(latin, sauvola=reading.sauvola)
            elif reading.in_doubt and langs != every:
                # OSD names the page's main script only: a cover with an English title above
                # Chinese lines comes out as junk letters where the Chinese stands.
                reading = reading.or_better(read(every, sauvola=reading.sauvola))
            if uneven or reading.in_doubt:
                reading = reading.or_better(read(reading.langs, sauvola=True))
        except Exception as exc:  # noqa: BLE001 - Tesseract's errors, its time-out
            if "bad_alloc" in str(exc):
                # Tesseract runs under the worker's memory limit too.
                raise _PageError("OCR " + sandbox.memory_message(self.settings.extract_memory_mb)) from exc
            raise _PageError(f"OCR failed: {_describe(exc)}") from exc
        finally:
            if bitmap is not None:
                bitmap.close()
            if page is not None:
                page.close()
        return clean_text(reading.text), reading.how

    def _close_pdfium(self) -> None:
        if self._pdfium_doc is not None:
            self._pdfium_doc.close()
            self._pdfium_doc = None


# --- private-use code points --------------------------------------------------------------

# A font may map the glyph of a rare character (CJK Extension B, outside most
# encodings) to a private-use code point in its ToUnicode map, while its own
# cmap names the real character: the real one is kept.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010fffd]")
_HEX = r"<([0-9A-Fa-f]+)>"
_BFCHAR = re.compile(rf"{_HEX}\s*{_HEX}")
_BFRANGE = re.compile(rf"{_HEX}\s*{_HEX}\s*{_HEX}")


def _restore_private_use(page, text: str) -> str:
    """Return TEXT with each private-use character that a composite font of PAGE draws replaced by the real one."""
    real: dict[str, str] = {}
    try:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        for name in fonts.get_object() if fonts is not None else ():
            font = fonts.get_object()[name].get_object()
            if font.get("/Subtype") == "/Type0" and font.get("/Encoding") == "/Identity-H":
                real.update(_private_use_in_font(font))
    except Exception:  # noqa: BLE001 - a damaged font: the private-use characters stay
        return text
    return _PRIVATE_USE.sub(lambda m: real.get(m.group(), m.group()), text) if real else text


def _private_use_in_font(font) -> dict[str, str]:
    """Map the private-use characters FONT's ToUnicode gives to the characters its embedded TrueType cmap names."""
    to_unicode = font.get("/ToUnicode")
    cid_font = font["/DescendantFonts"][0].get_object()
    font_file = cid_font.get("/FontDescriptor", {}).get_object().get("/FontFile2")
    if to_unicode is None or font_file is None:
        return {}
    cmap = to_unicode.get_object().get_data().decode("latin-1")
    private: dict[int, str] = {}          # character code (= CID, Identity-H) -> private-use character
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, value in _BFCHAR.findall(block):
            char = bytes.fromhex(value).decode("utf-16-be", "replace")
            if len(char) == 1 and _PRIVATE_USE.match(char):
                private[int(code, 16)] = char
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, value in _BFRANGE.findall(block):
            start = bytes.fromhex(value).decode("utf-16-be", "replace")
            if len(start) == 1 and _PRIVATE_USE.match(start):
                for offset in range(min(int(last, 16) - int(first, 16) + 1, 4096)):
                    private[int(first, 16) + offset] = chr(ord(start) + offset)
    if not private:
        return {}
    gid_map = cid_font.get("/CIDToGIDMap")
    gid_map = gid_map.get_object() if gid_map is not None else None
    gid_data = gid_map.get_data() if gid_map is not None and hasattr(gid_map, "get_data") else None
    unicode_of = _truetype_glyph_names(font_file.get_object().get_data())
    real = {}
    for cid, char in private.items():
        gid = int.from_bytes(gid_data[2 * cid:2 * cid + 2], "big") if gid_data else cid
        names = [u for u in unicode_of.get(gid, ()) if not _PRIVATE_USE.match(chr(u))]
        if len(names) == 1:                     # one real character, or we cannot tell
            real[char] = chr(names[0])
    return real


def _truetype_glyph_names(data: bytes) -> dict[int, list[int]]:
    """Map each glyph of a TrueType font (DATA) to the Unicode code points its cmap (formats 4 and 12) gives it."""
    import struct

    tables = {}
    for i in range(struct.unpack(">H", data[4:6])[0]):
        tag, _, offset, length = struct.unpack(">4sIII", data[12 + 16 * i:28 + 16 * i])
        tables[tag] = (offset, length)
    if b"cmap" not in tables:
        return {}
    base = tables[b"cmap"][0]
    glyphs: dict[int, set[int]] = {}
    for i in range(struct.unpack(">H", data[base + 2:base + 4])[0]):
        platform, encoding, offset = struct.unpack(">HHI", data[base + 4 + 8 * i:base + 12 + 8 * i])
        if (platform, encoding) not in ((3, 1), (3, 10), (0, 3), (0, 4)):
            continue
        at = base + offset
        fmt = struct.unpack(">H", data[at:at + 2])[0]
        if fmt == 12:
            for g in range(struct.unpack(">I", data[at + 12:at + 16])[0]):
                first, last, glyph = struct.unpack(">III", data[at + 16 + 12 * g:at + 28 + 12 * g])
                for code in range(first, min(last, first + 65536) + 1):
                    glyphs.setdefault(glyph + code - first, set()).add(code)
        elif fmt == 4:
            segments = struct.unpack(">H", data[at + 6:at + 8])[0] // 2
            ends = struct.unpack(f">{segments}H", data[at + 14:at + 14 + 2 * segments])
            starts_at = at + 16 + 2 * segments
            starts = struct.unpack(f">{segments}H", data[starts_at:starts_at + 2 * segments])
            deltas = struct.unpack(f">{segments}h", data[starts_at + 2 * segments:starts_at + 4 * segments])
            ranges_at = starts_at + 4 * segments
            ranges = struct.unpack(f">{segments}H", data[ranges_at:ranges_at + 2 * segments])
            for k in range(segments):
                for code in range(starts[k], ends[k] + 1):
                    if code == 0xFFFF:
                        continue
                    if ranges[k] == 0:
                        glyph = (code + deltas[k]) & 0xFFFF
                    else:
                        where = ranges_at + 2 * k + ranges[k] + 2 * (code - starts[k])
                        glyph = struct.unpack(">H", data[where:where + 2])[0]
                        glyph = (glyph + deltas[k]) & 0xFFFF if glyph else 0
                    if glyph:
                        glyphs.setdefault(glyph, set()).add(code)
    return {glyph: sorted(codes) for glyph, codes in glyphs.items()}


# PDFium numbers a page's characters in UTF-16 code units: a character beyond the BMP (𝛽, 𠮷)
# counts two, one in Python's string, and every index after it would name the next glyph.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SECOND_UNIT = "\u2060"     # stands for the second code unit: a word joiner, no space
# PDFium's mark for a hyphen that ends a line, in place of the hyphen and the line break.
_LINE_END_HYPHEN = "\ufffe"


def _indexed_as_pdfium(text: str) -> str:
    """Return TEXT, PDFium's text of a page, with each character at the index PDFium gives its glyph."""
    return _ASTRAL.sub(lambda m: m.group() + _SECOND_UNIT, text)


class _GlyphRuns:
    """A page's glyphs as PDFium reads them, to find where a word of pypdf's runs apart glyphs together.

    PDFium's text rectangles are runs of glyphs, and PDFium writes a space of
    its own (a generated one) between glyphs it finds apart, where pypdf,
    which wants a space's width, may write none ("5,603,589EXPERT"). Where a
    rectangle starts, or such a space stands, WORD_GAP_EM of the font size
    or more after the previous glyph on its line ends (their advance boxes,
    not their ink), a word ends; where a number meets a letter, at
    NUMBER_LETTER_GAP_EM more than the glyphs beside them stand apart. A word
    of pypdf's is looked for as one of PDFium's words, or several joined
    across its generated spaces; the gaps at those are measured only there.
    A rectangle that starts right against the glyph before it starts a word
    where a table's cell starts there (_cells_that_touch).
    """

    def __init__(self, textpage, page):
        import ctypes

        import pypdfium2.raw as pdfium_c

        self._c = pdfium_c
        self._raw = raw = textpage.raw
        self._full = full = _indexed_as_pdfium(textpage.get_text_range())
        self._box_before, self._box_after = pdfium_c.FS_RECTF(), pdfium_c.FS_RECTF()
        left, top, right, bottom = (ctypes.c_double() for _ in range(4))
        self._breaks = set()        # indices of FULL where a rectangle starts apart from the glyph before
        touching = []               # where one starts right against it
        for k in range(pdfium_c.FPDFText_CountRects(raw, 0, -1)):
            pdfium_c.FPDFText_GetRect(raw, k, left, top, right, bottom)
            at = pdfium_c.FPDFText_GetCharIndexAtPos(raw, left.value + 0.3, (top.value + bottom.value) / 2, 0.5, 0.5)
            if (0 < at < len(full) and not full[at - 1].isspace() and not full[at].isspace()
                    and not _DECIMAL.match(full, at if full[at] in ".," else at - 1)):  # a figure's point, set apart
                if self._apart(at - 1, at):
                    self._breaks.add(at)
                else:
                    touching.append(at)
        if touching:
            self._breaks |= _cells_that_touch(page, raw, full, touching)
        self._breaks |= _raised_marks(raw, full)
        generated = [m.start() for m in re.finditer(r"(?<=\S) (?=\S)", full)
                     if pdfium_c.FPDFText_IsGenerated(raw, m.start()) == 1]
        # FULL without its generated spaces (JOINED), and where in JOINED each one stood.
        self._joined = "".join(full[a + 1:b] for a, b in zip([-1, *generated], [*generated, len(full)]))
        self._joins = [g - n for n, g in enumerate(generated)]
        joins = set(self._joins)
        self._starts = {m.start() for m in re.finditer(r"\S+", self._joined)} | joins
        self._ends = {m.end() for m in re.finditer(r"\S+", self._joined)} | joins
        self._at_join = joins

    @property
    def text(self) -> str:
        """The page's text as PDFium reads it."""
        return self._full

    def spaced(self, word: str) -> str:
        """Return WORD with a space where its glyphs stand apart, when PDFium reads it as whole words."""
        # A line's end hyphenated: pypdf reads "sci-" and "ences" on two lines, PDFium "sci\ufffeences".
        hyphenated = word.endswith("-")
        needle = word[:-1] + _LINE_END_HYPHEN if hyphenated else word
        joined = self._joined
        at = joined.find(needle)
        while at >= 0:
            end = at + len(needle)
            if ((at in self._starts or joined[at - 1:at] == _LINE_END_HYPHEN)
                    and (end in self._ends or hyphenated)):
                pieces = [word[0]]
                for j in range(at + 1, end):
                    k = j + bisect.bisect_right(self._joins, j)         # its index in FULL
                    if k in self._breaks or (j in self._at_join and self._apart(k - 2, k)):
                        pieces.append(" ")
                    pieces.append(word[j - at])
                return "".join(pieces)
            at = joined.find(needle, at + 1)
        return word

    def _gap(self, before: int, after: int) -> float | None:
        """The space between two glyphs on one line, or None."""
        c, box_before, box_after = self._c, self._box_before, self._box_after
        if not (0 <= before < after < len(self._full) and c.FPDFText_GetLooseCharBox(self._raw, before, box_before)
                and c.FPDFText_GetLooseCharBox(self._raw, after, box_after)):
            return None
        if min(box_before.top, box_after.top) <= max(box_before.bottom, box_after.bottom):
            return None
        return box_after.left - box_before.right

    def _apart(self, before: int, after: int) -> bool:
        """Tell whether glyphs BEFORE and AFTER stand a word's gap apart."""
        space = self._gap(before, after)
        if space is None:
            return False
        em = _font_size_on_page(self._raw, after)
        if space >= WORD_GAP_EM * em:
            return True
        full = self._full
        if full[before].isdigit() == full[after].isdigit() or not (full[before] + full[after]).isalnum():
            return False
        # A number against a letter: apart by NUMBER_LETTER_GAP_EM more than the glyphs on either side.
        around = [g for g in (self._gap(before - 1, before), self._gap(after, after + 1)) if g is not None]
        return space - max([0.0, *around]) >= NUMBER_LETTER_GAP_EM * em


def _cells_that_touch(page, raw, full: str, touching: list[int]) -> set[int]:
    """Return the positions of TOUCHING where a table's cell starts: a rule between the glyphs, or a column.

    TOUCHING are positions in FULL, the text of PDFium text page RAW of
    PAGE, where a text rectangle starts right against the glyph before it on
    its line. A cell starts there when a vertical rule stands between the two
    glyphs (RULE_SLACK_EM), or when a number glued to a word there is one of
    a column of such (COLUMN_MIN_OTHER_LINES).
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    rules = _vertical_rules(page)
    lefts = [rule[0] for rule in rules]
    before, after = pdfium_c.FS_RECTF(), pdfium_c.FS_RECTF()
    x, y, flags = ctypes.c_double(), ctypes.c_double(), ctypes.c_int()
    starts, glued_numbers = set(), []
    for at in touching:
        if not (pdfium_c.FPDFText_GetLooseCharBox(raw, at - 1, before)
                and pdfium_c.FPDFText_GetLooseCharBox(raw, at, after)):
            continue
        low, high = max(before.bottom, after.bottom), min(before.top, after.top)
        if high <= low:
            continue                                    # not on one line (or a glyph without a box)
        em = _font_size_on_page(raw, at)
        slack = RULE_SLACK_EM * em
        # Rules in left-to-right order: those whose left edge may stand in the gap.
        for k in range(bisect.bisect_left(lefts, before.right - slack), len(rules)):
            rule_left, rule_bottom, rule_right, rule_top = rules[k]
            if rule_left > after.left + slack:
                break
            if (rule_right <= after.left + slack and rule_right - rule_left <= RULE_MAX_WIDTH_EM * em
                    and rule_bottom <= low + slack and rule_top >= high - slack):
                starts.add(at)
                break
        if (at not in starts and full[at - 1].isdigit() and _LETTERS.match(full, at)
                and pdfium_c.FPDFText_GetCharOrigin(raw, at, x, y)):
            pdfium_c.FPDFText_GetFontInfo(raw, at, None, 0, flags)
            if not flags.value & 1:                     # the font descriptor's FixedPitch flag
                glued_numbers.append((at, x.value, y.value))
    glued_numbers.sort(key=lambda glued: glued[1])
    xs = [glued[1] for glued in glued_numbers]
    for at, x0, y0 in glued_numbers:
        column = glued_numbers[bisect.bisect_left(xs, x0 - COLUMN_TOLERANCE_PT):
                               bisect.bisect_right(xs, x0 + COLUMN_TOLERANCE_PT)]
        if len({round(y1) for _, _, y1 in column if abs(y1 - y0) >= 1}) >= COLUMN_MIN_OTHER_LINES:
            starts.add(at)
    return starts


def _vertical_rules(page) -> list[tuple[float, float, float, float]]:
    """Return the bounds (left, bottom, right, top) of PAGE's paths taller than wide, left to right.

    Only the page's own objects, not those of forms it draws: office suites
    and browsers draw a table's rules so. Read through PDFium's C API, as
    pypdfium2's objects cost a Python object for each of a page's thousands
    of text objects (Chromium makes one for a few glyphs).
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    rules = []
    for k in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, k)
        if (pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_PATH
                and pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
                and top.value - bottom.value > right.value - left.value):
            rules.append((left.value, bottom.value, right.value, top.value))
    rules.sort()
    return rules


def _font_size_on_page(raw, index: int) -> float:
    """Return the size of character INDEX of text page RAW in page space, where its glyph boxes are.

    PDFium gives the size the content stream sets (Tf); the text and page
    matrices scale it: Chromium draws its text at 12 Tf under a 0.75 matrix
    (CSS pixels to points), a 9-point font.
    """
    import math

    import pypdfium2.raw as pdfium_c

    size = pdfium_c.FPDFText_GetFontSize(raw, index)
    matrix = pdfium_c.FS_MATRIX()
    if pdfium_c.FPDFText_GetMatrix(raw, index, matrix):
        size *= math.hypot(matrix.c, matrix.d)
    return size


def _raised_marks(raw, full: str) -> set[int]:
    """Positions in FULL, the text of PDFium text page RAW, where a footnote mark starts: digits
    set smaller and raised right after a letter ("cooperation¹", which every reader gives as
    "cooperation1"). A chemical formula's subscript ("CO₂") is lowered, and stays."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    x, letter_y, mark_y = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    marks = set()
    for at in range(1, len(full)):
        if not (full[at].isdigit() and full[at - 1].isalpha()):
            continue
        letter_size = _font_size_on_page(raw, at - 1)
        if not _font_size_on_page(raw, at) <= FOOTNOTE_MARK_MAX_SIZE * letter_size:
            continue
        if (pdfium_c.FPDFText_GetCharOrigin(raw, at - 1, x, letter_y)
                and pdfium_c.FPDFText_GetCharOrigin(raw, at, x, mark_y)
                and mark_y.value - letter_y.value >= FOOTNOTE_MARK_MIN_RISE * letter_size):
            marks.add(at)
    return marks


def _pdfium_figures(full: str) -> dict[str, str]:
    """Map each figure of PDFium's text FULL with a decimal point ("11,062.6") from its reading with
    a space before the point ("11,062 .6"), as pypdf reads a point a font maps to " ."."""
    figures: dict[str, str] = {}
    for word in full.split():
        for point in _DECIMAL.finditer(word):
            figures[word[:point.start()] + " " + word[point.start():]] = word
    return figures


def _shared_share(ours: Counter, theirs: Counter) -> float:
    """Return the share of the larger of two counts of characters that the other holds too (1 when both are empty)."""
    larger = max(sum(ours.values()), sum(theirs.values()))
    return sum((ours & theirs).values()) / larger if larger else 1.0


def _other_letters(text: str, alt: str) -> bool:
    """Tell whether TEXT and ALT, two readings of a page, differ in their letters, not only in spacing or order."""
    ours, theirs = (Counter(ch for ch in unicodedata.normalize("NFKC", t) if ch.isalnum()) for t in (text, alt))
    return _shared_share(ours, theirs) < SAME_LETTERS_MIN_SHARE


def _clears_other_chars(other_chars: int, alt: str, length: int, alt_length: int) -> bool:
    """Tell whether ALT, PDFium's reading of a page with OTHER_CHARS of other alphabets in pypdf's, clears them up."""
    return (other_chars >= FEW_OTHER_CHARS and alt_length >= OTHER_READING_MIN_LENGTH * length
            and other_alphabet_chars(alt) <= other_chars / 2 and _reads_well(alt))


def _other_scripts_both_read(text: str, alt: str) -> bool:
    """Tell whether TEXT (pypdf's) mixes scripts only by letters ALT (PDFium's) shows too, of one
    other script or of several kept to words of their own.

    Greek letters in formulas beside Chinese or Japanese make a page a mix
    (cleaning.mixed_scripts), as a font decoded through the wrong table may; two
    readers that decode fonts each their own way and find the same letters
    there show they are on the page. A font neither reader decodes gives the
    same letters in both too, but spread over many scripts inside each word
    (cleaning.words_keep_to_one_script).
    """
    if looks_garbled(text) or implausible_chinese(text):
        return False
    # Arabic's presentation forms (pypdf) are its letters (PDFium), and a Devanagari conjunct
    # may be read with a letter more or less: the letters must agree almost all.
    letters = other_script_letters(unicodedata.normalize("NFKC", text))
    shown = other_script_letters(unicodedata.normalize("NFKC", alt))
    if _shared_share(letters, shown) < OTHER_LETTERS_AGREEMENT:
        return False
    return len({script_of(ch) for ch in letters}) == 1 or words_keep_to_one_script(text)


def _reads_well(text: str) -> bool:
    """Tell whether TEXT reads as a page: not garbled, not a mix of scripts, Chinese that is Chinese."""
    return not looks_garbled(text) and not mixed_scripts(text) and not implausible_chinese(text)


def page_ocr_languages(configured: str, script: str) -> str:
    """The Tesseract languages of CONFIGURED ("eng+fra+chi_sim") that read SCRIPT (OSD's name), or all of them.

    A Latin page gets the Latin languages; a CJK page its CJK languages and
    LATIN_BESIDE_CJK; an unknown script, or one no configured language reads, all, the CJK ones first.
    """
    langs = [lang for lang in configured.split("+") if lang]
    non_latin = set().union(*SCRIPT_LANGUAGES.values())
    # OSD tells the CJK scripts apart poorly (Chinese seen as Korean): the family is what counts.
    family = set().union(*(SCRIPT_LANGUAGES[name] for name in CJK_SCRIPTS if name in SCRIPT_LANGUAGES))
    cjk = [lang for lang in langs if lang in family]
    if script == "Latin":
        chosen = [lang for lang in langs if lang not in non_latin]
    elif script in CJK_SCRIPTS:
        chosen = cjk + [lang for lang in langs if lang in LATIN_BESIDE_CJK] if cjk else []
    else:
        chosen = [lang for lang in langs if lang in SCRIPT_LANGUAGES.get(script, ())]
    if not chosen:
        # All of them, the CJK ones first: Tesseract favours its first language, and an English
        # model first reads a Chinese line as junk letters, where a Chinese one reads English well.
        chosen = cjk + [lang for lang in langs if lang not in cjk]
    return "+".join(chosen)


_HAN = re.compile("[\u3400-\u9fff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
# A first OCR reading whose Han characters are fewer than this share of its Han and Latin letters
# is of a Latin page: Latin letters and rules read as Chinese give a few ("BAIONA 和二", "一一一"
# for a dashed line); a Chinese page, even one with an English paragraph, gives far more.
LATIN_PAGE_MAX_HAN_SHARE = 0.1


def _reads_as_latin(text: str) -> bool:
    """Tell whether TEXT, a page's first OCR reading in every language, is of a page in Latin letters."""
    han, latin = len(_HAN.findall(text)), len(_LATIN_LETTER.findall(text))
    return han < LATIN_PAGE_MAX_HAN_SHARE * (han + latin) or (han == 0)

# Script detection reads the page at this resolution at most: at 150 dpi it
# mistakes Chinese for Korean.
OSD_DPI = 300
OSD_MARGIN = 40             # white pixels around the inked part of the page


def _detect_script(image, scale: float, timeout: float) -> str:
    """Return the script Tesseract's OSD sees on IMAGE, rendered at SCALE x 72 dpi ("Latin", "Han", ...), or ""."""
    import pytesseract

    if "osd" not in _installed_tesseract_languages():
        return ""
    from PIL import ImageOps

    shrink = OSD_DPI / (72 * scale)
    if shrink < 1:
        image = image.resize((max(1, int(image.width * shrink)), max(1, int(image.height * shrink))))
    # Only the inked part, with a margin: Tesseract's time grows with the pixels it is given.
    inked = ImageOps.invert(image.convert("L")).getbbox()
    if inked is None:
        return ""
    image = ImageOps.expand(image.crop(inked), border=OSD_MARGIN, fill=255)
    try:
        osd = pytesseract.image_to_osd(image, output_type=pytesseract.Output.DICT, timeout=timeout,
                                       config=f"--dpi {min(OSD_DPI, round(72 * scale))}")
    except pytesseract.TesseractError:
        return ""                   # too few characters to tell
    return str(osd.get("script", ""))


# Tesseract's confidence in a word (0-100): at this or more the word counts as read, under
# OCR_DOUBTFUL_WORD it is more often a misreading (Chinese read with English: "ARR AB Apt").
OCR_CONFIDENT_WORD = 60
OCR_DOUBTFUL_WORD = 50
# A reading with this share of its characters in doubtful words is in doubt: clean scans in
# English, French, German and Chinese stay under 0.2, a handwritten form near it.
OCR_DOUBTFUL_PAGE_SHARE = 0.2
# A further reading replaces the first only with this many times its confident characters.
OCR_BETTER_BY = 1.25
# A Chinese character carries about what two letters do (a word is two or three of them).
HAN_WEIGHT = 2
# Gray levels between the lightest and the darkest paper among a page's tiles from which its
# background counts as uneven (a lamp's shadow, tinted or textured paper, a dark cover): clean
# scans stay under 45, such pages measure 70 and more.
UNEVEN_BACKGROUND_SPREAD = 64


@dataclass
class _OcrReading:
    """One OCR reading of a page, and how far Tesseract trusts it."""

    text: str
    langs: str
    sauvola: bool
    confident: float        # weighted characters of the words read with confidence
    doubtful_share: float   # share of the weighted characters in words in doubt

    @property
    def in_doubt(self) -> bool:
        return self.doubtful_share >= OCR_DOUBTFUL_PAGE_SHARE

    @property
    def how(self) -> str:
        return f"Tesseract languages: {self.langs}" + ("; Sauvola thresholding" if self.sauvola else "")

    def or_better(self, other: "_OcrReading") -> "_OcrReading":
        """Return OTHER, a further reading of the page, where it reads clearly more than this one, else this one."""
        return other if other.confident >= OCR_BETTER_BY * self.confident and other.confident > 0 else self


def _ocr_reading(image, langs: str, *, dpi: int, timeout: float, sauvola: bool = False) -> _OcrReading:
    """Read IMAGE (rendered at DPI) with Tesseract in LANGS; SAUVOLA thresholds it locally."""
    import pytesseract

    # Tesseract reads no resolution from the image it is given and guesses one; a wrong
    # guess breaks the page's layout (a line of Chinese read as scattered blocks).
    config = f"--dpi {dpi}" + (" -c thresholding_method=2" if sauvola else "")
    data = pytesseract.image_to_data(image, lang=langs, timeout=timeout, config=config,
                                     output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], list[str]] = {}
    confident = doubtful = total = 0.0
    for word, conf, block, par, line in zip(data["text"], data["conf"], data["block_num"], data["par_num"],
                                            data["line_num"]):
        if not word.strip():
            continue
        lines.setdefault((block, par, line), []).append(word)
        weight = len(word) + (HAN_WEIGHT - 1) * len(_HAN.findall(word))
        total += weight
        confident += weight if float(conf) >= OCR_CONFIDENT_WORD else 0
        doubtful += weight if float(conf) < OCR_DOUBTFUL_WORD else 0
    # Tesseract's own text output: words by spaces, lines by a line break, paragraphs by a blank line.
    text, last = [], None
    for key, words in lines.items():
        if last is not None:
            text.append("\n\n" if key[:2] != last[:2] else "\n")
        text.append(" ".join(words))
        last = key
    return _OcrReading("".join(text), langs, sauvola, confident, doubtful / total if total else 0.0)


def _uneven_background(image, grid: int = 8) -> bool:
    """Tell whether IMAGE's paper is unevenly lit or tinted: the light level of its tiles' paper differs."""
    tile = 16
    small = image.convert("L").resize((grid * tile, grid * tile))
    levels = []
    for row in range(grid):
        for column in range(grid):
            histogram = small.crop((column * tile, row * tile, (column + 1) * tile, (row + 1) * tile)).histogram()
            # The paper is the light end of the tile: the level under which 90 % of its pixels lie.
            seen, wanted = 0, 0.9 * tile * tile
            for level, count in enumerate(histogram):
                seen += count
                if seen >= wanted:
                    levels.append(level)
                    break
    return max(levels) - min(levels) >= UNEVEN_BACKGROUND_SPREAD


def _page_fonts(page) -> dict:
    """The fonts PAGE's text may use (its own and its forms'): font dictionary by object number."""
    found: dict = {}
    try:
        node, resources = page, page.get("/Resources")
        for _ in range(32):                         # resources may be inherited from the page tree
            if resources is not None or node.get("/Parent") is None:
                break
            node = node["/Parent"]
            resources = node.get("/Resources")
        _collect_fonts(resources, found, depth=0)
    except Exception:  # noqa: BLE001 - a damaged resource dictionary: no fonts to look at
        return {}
    return found


def _collect_fonts(resources, found: dict, depth: int) -> None:
    if resources is None or depth > 2:
        return
    resources = resources.get_object()
    fonts = resources.get("/Font")
    if fonts is not None:
        fonts = fonts.get_object()
        for name in fonts:
            ref = fonts.raw_get(name)
            font = ref.get_object()
            if isinstance(font, pypdf.generic.DictionaryObject):
                found[getattr(ref, "idnum", None) or id(font)] = font
    xobjects = resources.get("/XObject")
    if xobjects is not None:
        for name, xobject in xobjects.get_object().items():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                _collect_fonts(xobject.get("/Resources"), found, depth + 1)


# Annotation flags that keep an annotation off the page (PDF 32000-1, 12.5.3): Invisible, Hidden, NoView.
_UNSHOWN_ANNOTATION = 1 | 2 | 32


def _free_text_notes(page) -> str:
    """The text of PAGE's shown typewriter (FreeText) annotations, as Acrobat's "Add text" writes a form's answers."""
    try:
        annots = page.get("/Annots")
        notes = []
        for ref in (annots.get_object() if annots is not None else []):
            annot = ref.get_object()
            if (not isinstance(annot, pypdf.generic.DictionaryObject) or annot.get("/Subtype") != "/FreeText"
                    or int(annot.get("/F", 0)) & _UNSHOWN_ANNOTATION):
                continue
            contents = annot.get("/Contents")
            if isinstance(contents, str) and contents.strip():
                notes.append(clean_text(contents))
        return "\n\n".join(notes)
    except Exception:  # noqa: BLE001 - a malformed annotation leaves the page's own text
        return ""


def _reencoded_fonts(page_fonts: dict) -> frozenset:
    """The embedded Type1 fonts among PAGE_FONTS whose PDF /Differences override their program's encoding.

    The PDF's encoding wins (PDF 32000-1, 9.6.6.1), but pypdf reads a Type1 font
    program's own encoding over it: where a subset was re-encoded (Acrobat
    Distiller numbers its glyphs from 0) the text comes out as letters in the
    wrong places ("SrsndsepS"). Without a ToUnicode map, such a font is read by
    PDFium too until the two agree (TRUSTED_AFTER_PAGES).
    """
    found = set()
    for key, font in page_fonts.items():
        encoding = font.get("/Encoding")
        if font.get("/Subtype") not in ("/Type1", "/MMType1") or "/ToUnicode" in font or encoding is None:
            continue
        encoding, descriptor = encoding.get_object(), font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        if (isinstance(encoding, pypdf.generic.DictionaryObject) and "/Differences" in encoding
                and ("/FontFile" in descriptor or "/FontFile3" in descriptor)):
            found.add(key)
    return frozenset(found)


def _composite_fonts(page_fonts: dict) -> frozenset:
    """The composite (Type0) fonts among PAGE_FONTS (_page_fonts), by object number."""
    return frozenset(key for key, font in page_fonts.items() if font.get("/Subtype") == "/Type0")


# A simple font without /Widths, not embedded and not one of the standard 14, leaves
# pypdf to guess every glyph 500/1000 em wide; where a producer sets a word's glyphs in
# runs (kerning pairs, one Tj a run), the next run then starts where pypdf sees a gap,
# and a space splits the word ("C ompany"). Such a font is lent the metrics of the
# standard font of its kind (fixed-pitch: Courier, serif: Times, else Helvetica; bold,
# italic), as poppler substitutes one, so pypdf decides spaces from real widths
# (docs/DECISIONS.md, "Words split inside").
_STANDARD_FAMILIES = {   # family -> (regular, bold, italic, bold italic)
    "Helvetica": ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique"),
    "Times": ("Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic"),
    "Courier": ("Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique"),
}
_STANDARD_FONTS = frozenset(n for names in _STANDARD_FAMILIES.values() for n in names) | {"Symbol", "ZapfDingbats"}
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
_SERIF_NAME = re.compile(r"times|georgia|garamond|palatino|cambria|minion|bookman|century|(?<!sans)serif")
_FIXED_NAME = re.compile(r"courier|mono|consol")
_BOLD_NAME = re.compile(r"bold|black|heavy|demi")
_ITALIC_NAME = re.compile(r"italic|oblique")
# PDF 32000-1, table 123: the font descriptor's flags.
_FIXED_PITCH, _SERIF, _SYMBOLIC, _NONSYMBOLIC, _ITALIC, _FORCE_BOLD = 1, 2, 4, 32, 64, 1 << 18


def _lend_standard_widths(page_fonts: dict) -> None:
    """Give each simple font of PAGE_FONTS that has no glyph widths the standard font readers substitute."""
    for font in page_fonts.values():
        if (font.get("/Subtype") not in ("/Type1", "/MMType1", "/TrueType") or "/Widths" in font
                or not isinstance(font.get("/BaseFont"), str)):
            continue
        name = _SUBSET_PREFIX.sub("", font["/BaseFont"].lstrip("/"))
        if name in _STANDARD_FONTS:
            continue
        descriptor = font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        flags = descriptor.get("/Flags", 0)
        flags = flags if isinstance(flags, int) else 0
        weight = descriptor.get("/FontWeight", 400)
        weight = weight if isinstance(weight, (int, float)) else 400
        if "/FontFile" in descriptor or "/FontFile2" in descriptor or "/FontFile3" in descriptor:
            continue    # embedded without /Widths (the standard requires them): its metrics may be anything
        if flags & _SYMBOLIC and not flags & _NONSYMBOLIC:
            continue    # a symbol font's glyphs have no standard metrics
        key = re.sub(r"[^a-z]", "", name.lower())
        family = ("Courier" if _FIXED_NAME.search(key) or flags & _FIXED_PITCH else
                  "Times" if _SERIF_NAME.search(key) or flags & _SERIF else "Helvetica")
        bold = bool(_BOLD_NAME.search(key) or flags & _FORCE_BOLD or weight >= 600)
        italic = bool(_ITALIC_NAME.search(key) or flags & _ITALIC)
        font[pypdf.generic.NameObject("/BaseFont")] = pypdf.generic.NameObject(
            "/" + _STANDARD_FAMILIES[family][2 * italic + bold])


def _score(text: str) -> int:
    good, bad = text_quality(text)
    return good - 4 * bad


def _declared_page_count(reader) -> int:
    """Return the /Count of the page tree (what the file claims), or 0."""
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
        return int(count) if 0 < int(count) < 1_000_000 else 0
    except Exception:  # noqa: BLE001
        return 0


def _plausible_title(value: str) -> str:
    """Return a metadata title worth showing: not "untitled", without "Microsoft Word - "."""
    title = " ".join(clean_metadata(value).split())
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    return "" if title.lower() in ("untitled", "untitled document", "title") else title


def _pdf_date(value: str) -> str:
    """Return the ISO date of a PDF date string "D:20120503...", or ""."""
    m = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", value.strip())
    if not m or not 1900 < int(m.group(1)) < 2200:
        return ""
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month and day and 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
        return f"{year}-{month}-{day}"
    return f"{year}-{month}" if month and 1 <= int(month) <= 12 else year


@functools.lru_cache(maxsize=1)
def _installed_tesseract_languages() -> frozenset[str]:
    if shutil.which("tesseract") is None:
        return frozenset()
    try:
        import pytesseract

        return frozenset(pytesseract.get_languages(config=""))
    except Exception as exc:  # noqa: BLE001 - OCR is optional
        log.warning("tesseract is installed but unusable: %s", exc)
        return frozenset()


# --- Word ------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_BREAK = object()


def _read_docx(file: OpenFile, settings: Settings, tally: _Tally) -> None:
    """Read a .docx with the standard library; sections stand in for pages."""
    try:
        archive = zipfile.ZipFile(file.path)
    except zipfile.BadZipFile as exc:
        raise Refusal(FAILED, f"not a Word document: damaged ZIP archive ({exc})") from None
    with archive:
        names = set(archive.namelist())
        if "word/document.xml" not in names:
            raise Refusal(FAILED, "not a Word document: a ZIP archive without word/document.xml")
        title, date = _docx_core(archive, names)
        tally.record(("meta", title, date))
        with archive.open("word/document.xml") as fh:
            items = list(_docx_items(fh))
        for extra in ("word/footnotes.xml", "word/endnotes.xml"):
            if extra in names:
                with archive.open(extra) as fh:
                    notes = [item for item in _docx_items(fh) if item is not _BREAK and item[0].strip()]
                items.extend(notes)
    _emit_sections(_sections(items), "docx", tally)


def _docx_items(fh) -> Iterator:
    """Yield (paragraph text, is_heading) and _BREAK markers from a WordprocessingML part."""
    rendered = explicit = False
    parts: list[str] = []
    heading = False
    for event, elem in ElementTree.iterparse(fh, events=("start", "end")):
        tag = elem.tag
        if event == "start":
            if tag == f"{_W}lastRenderedPageBreak":
                rendered = True
            continue
        if tag == f"{_W}t":
            parts.append(elem.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}cr",):
            parts.append("\n")
        elif tag == f"{_W}br":
            if elem.get(f"{_W}type") == "page":
                explicit = True
            else:
                parts.append("\n")
        elif tag == f"{_W}pageBreakBefore" and elem.get(f"{_W}val", "true") not in ("0", "false"):
            explicit = True
        elif tag == f"{_W}pStyle":
            style = (elem.get(f"{_W}val") or "").lower()
            heading = style.startswith(("heading", "title")) or style in ("1", "2", "3")
        elif tag == f"{_W}outlineLvl":
            heading = True
        elif tag == f"{_W}p":
            # A break anywhere in a paragraph puts the paragraph on the new page.
            if rendered or explicit:
                yield _BREAK
            yield ("".join(parts), heading)
            parts, heading, rendered, explicit = [], False, False, False
            elem.clear()
        elif tag == f"{_W}tc":
            elem.clear()


def _docx_core(archive: zipfile.ZipFile, names: set[str]) -> tuple[str, str]:
    if "docProps/core.xml" not in names:
        return "", ""
    try:
        root = ElementTree.fromstring(archive.read("docProps/core.xml"))
    except ElementTree.ParseError:
        return "", ""
    title = " ".join(clean_metadata(root.findtext(f"{_DC}title") or "").split())
    created = (root.findtext(f"{_DCTERMS}created") or "").strip()
    return title, created[:10] if re.match(r"\d{4}-\d{2}-\d{2}", created) else ""


def _sections(items: Iterable) -> Iterator[str]:
    """Group paragraphs into sections: at page breaks, headings or about every 3,000 characters."""
    current: list[str] = []
    size = 0
    for item in items:
        if item is _BREAK:
            if size:
                yield "\n".join(current)
                current, size = [], 0
            continue
        text, heading = item
        if size and (size >= SECTION_MAX_CHARS or (heading and size >= SECTION_MIN_CHARS)):
            yield "\n".join(current)
            current, size = [], 0
        current.append(text)
        size += len(text.strip())
    if size:
        yield "\n".join(current)


def _emit_sections(sections: Iterable[str], extractor: str, tally: _Tally) -> None:
    # Paragraph ends are real here, unlike a PDF's line ends: keep them between Chinese lines.
    texts = [clean_text(s, join_cjk_lines=False) for s in sections]
    texts = [t for t in texts if t]
    tally.count(len(texts))
    for number, text in enumerate(texts, start=1):
        tally.page(number, text, extractor)


def _read_doc(file: OpenFile, settings: Settings, tally: _Tally) -> None:
    """Read a legacy .doc with catdoc (antiword as a second try)."""
    path = file.path
    if _ole_is_encrypted(path):
        raise Refusal(ENCRYPTED, "encrypted: needs a password")
    commands = []
    if shutil.which("catdoc"):
        # -w: one line per paragraph; UTF-8 output keeps Chinese text.
        commands.append(["catdoc", "-d", "utf-8", "-w", str(path)])
    if shutil.which("antiword"):
        commands.append(["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)])
    if not commands:
        raise Refusal(FAILED, "reading .doc files needs catdoc (Debian package catdoc)")
    errors = []
    for command in commands:
        try:
            # The open file is passed down under its number, so /proc/self/fd/N names it in the child too.
            run = subprocess.run(command, capture_output=True, timeout=settings.extract_timeout_s,
                                 stdin=subprocess.DEVNULL, pass_fds=(file.fd,))
        except subprocess.TimeoutExpired:
            errors.append(f"{command[0]} timed out after {settings.extract_timeout_s:g} s")
            continue
        text = run.stdout.decode("utf-8", "replace")
        if run.returncode == 0 and text.strip():
            items: list = []
            for block in text.split("\f"):
                items.append(_BREAK)
                items.extend((line, False) for line in block.split("\n"))
            _emit_sections(_sections(items), "doc", tally)
            return
        message = " ".join(run.stderr.decode("utf-8", "replace").split())[:200]
        errors.append(f"{command[0]}: {message or 'no text'}")
    raise Refusal(FAILED, "cannot be read as a Word document: " + "; ".join(errors))


def _ole_is_encrypted(path: Path) -> bool:
    """Tell whether an Office (OLE) file is password-protected (an encrypted .docx, say)."""
    name = "EncryptedPackage".encode("utf-16-le")
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    return name in head


# --- uploads -------------------------------------------------------------------------------------

# Limits of the process that opens an uploaded PDF with pypdf.
CHECK_TIMEOUT_S = 30.0
CHECK_MEMORY_MB = 1024

# What every page of an uploaded PDF may inflate to, together, and the largest image a page may draw:
# a reader's browser decodes them all (pdf.js), and a small file that inflates to gigabytes or holds an
# image of a billion pixels would take the reader's memory, not only ours.
CHECK_INFLATED_MB = 256
CHECK_IMAGE_PIXELS = 100_000_000

# Run by the checking process: exit 0 and print the page count, or exit 2 with a reason. Every page's
# content streams and image or form streams are decoded once (pypdf's own decompression limit applies
# to each) and their sizes added up; nothing is kept.
_CHECK_PDF_SCRIPT = r"""
import json, sys
try:
    import resource
    limit = int(sys.argv[2]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except Exception:
    pass
import logging
logging.disable(logging.CRITICAL)
inflated_limit, pixel_limit = int(sys.argv[3]) * 1024 * 1024, int(sys.argv[4])

def inflates(reason):
    print(json.dumps({"error": "inflates", "detail": reason})); sys.exit(2)

try:
    import pypdf
    from pypdf.errors import LimitReachedError
    reader = pypdf.PdfReader(sys.argv[1], strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        print(json.dumps({"error": "encrypted"})); sys.exit(2)
    pages = len(reader.pages)
    total, seen = 0, set()
    def add_streams(resources, depth=0):
        global total
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, dict) else None
        if xobjects is None or depth > 10:
            return
        for ref in xobjects.get_object().values():
            key = getattr(ref, "idnum", None)
            if key is not None and key in seen:
                continue
            seen.add(key)
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                width, height = int(obj.get("/Width", 0) or 0), int(obj.get("/Height", 0) or 0)
                if width * height > pixel_limit:
                    inflates("image")
            total += len(obj.get_data())
            if total > inflated_limit:
                inflates("total")
            if obj.get("/Subtype") == "/Form":
                add_streams(obj.get("/Resources"), depth + 1)
    for page in reader.pages:
        contents = page.get_contents()
        if contents is not None:
            total += len(contents.get_data())
            if total > inflated_limit:
                inflates("total")
        add_streams(page.get("/Resources"))
except LimitReachedError:
    inflates("stream")
except MemoryError:
    print(json.dumps({"error": "memory"})); sys.exit(2)
except SystemExit:
    raise
except Exception as exc:
    print(json.dumps({"error": "unreadable", "detail": type(exc).__name__})); sys.exit(2)
print(json.dumps({"pages": pages}))
"""


def _check_pdf_upload(path: Path) -> int:
    """Check that PATH is a PDF pypdf can open, every page of which decodes within the limits; return its
    page count or raise UploadError.

    pypdf runs in a child process with a time and memory limit: a crafted file
    can make a parser loop or allocate without end, and the web server must not.
    """
    try:
        proc = subprocess.run([sys.executable, "-I", "-c", _CHECK_PDF_SCRIPT, str(path), str(CHECK_MEMORY_MB),
                               str(CHECK_INFLATED_MB), str(CHECK_IMAGE_PIXELS)],
                              capture_output=True, text=True, timeout=CHECK_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise UploadError("The PDF could not be opened within the time limit.", "unreadable_pdf") from None
    try:
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        answer = {"error": "unreadable"}
    if answer.get("error") == "encrypted":
        raise UploadError("The PDF is protected by a password: upload a copy without one.", "encrypted_pdf")
    if answer.get("error") in ("inflates", "memory"):
        raise UploadError(f"The PDF's pages would inflate beyond {CHECK_INFLATED_MB} MB (or hold an image of more "
                          f"than {CHECK_IMAGE_PIXELS // 1_000_000} million pixels) when shown: it is refused.",
                          "inflating_pdf", limit_mb=CHECK_INFLATED_MB)
    if "pages" not in answer or proc.returncode != 0:
        raise UploadError("The file starts like a PDF but cannot be opened: it is damaged or not a PDF.",
                          "unreadable_pdf")
    if answer["pages"] < 1:
        raise UploadError("The PDF has no pages.", "unreadable_pdf")
    return answer["pages"]


# --- the registry's entries ----------------------------------------------------------------------

register_format(FileFormat(
    key="pdf", name="a PDF", label="PDF", suffixes=(".pdf",), sniff=_sniff_pdf, read=_read_pdf,
    mimetype="application/pdf", check_upload=_check_pdf_upload))
register_format(FileFormat(
    key="doc", name="a Word document", label="Word 97-2003", suffixes=(".doc",), sniff=_sniff_doc, read=_read_doc,
    mimetype="application/msword"))
register_format(FileFormat(
    key="docx", name="a Word document", label="Word", suffixes=(".docx",), sniff=_sniff_docx, read=_read_docx,
    mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
