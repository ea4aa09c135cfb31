"""One file in, page texts (or a recorded failure) out.

This is the only module that calls pypdf. Everything raised while reading a
file is caught at this boundary and turned into a status with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pypdf

# File statuses, as stored in the index and shown to users.
INDEXED = "indexed"
PARTIAL = "partial"
FAILED = "failed"
ENCRYPTED = "encrypted"
NEEDS_OCR = "needs_ocr"
WAITING = "waiting"

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".doc")


@dataclass
class PageText:
    """The text of one page (or one section of a Word file), numbered from 1."""

    number: int
    text: str
    lang: str = ""          # "en", "zh", "mixed" or "" when the page has no text
    extractor: str = "pypdf"


@dataclass
class Extraction:
    """What reading one file produced."""

    status: str
    reason: str = ""
    pages: list[PageText] = field(default_factory=list)
    page_count: int = 0
    failed_pages: list[int] = field(default_factory=list)
    extractor: str = "pypdf"
    title: str = ""          # from the file's own metadata, if any
    date: str = ""           # ISO date from the file's own metadata, if any

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pages)


def detect_language(text: str) -> str:
    """Return "zh", "en", "mixed" or "" from the share of CJK letters in TEXT."""
    cjk = latin = 0
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            cjk += 1
        elif ch.isalpha() and ch.isascii():
            latin += 1
    if not cjk and not latin:
        return ""
    # A CJK character carries about as much as a 3-4 letter English word.
    share = cjk / (cjk + latin / 4)
    if share > 0.8:
        return "zh"
    if share < 0.2:
        return "en"
    return "mixed"


def extract_file(path: Path) -> Extraction:
    """Read PATH page by page; never raises."""
    try:
        reader = pypdf.PdfReader(path)
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            pages.append(PageText(number, text, detect_language(text)))
        meta = reader.metadata or {}
        title = str(meta.get("/Title") or "")
        return Extraction(INDEXED, pages=pages, page_count=len(pages), title=title)
    except Exception as exc:  # noqa: BLE001 - pypdf raises outside its hierarchy
        return Extraction(FAILED, reason=f"{type(exc).__name__}: {exc}")
