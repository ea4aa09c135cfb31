#!/usr/bin/env python3
"""Render the stand-in PDFs of the archive from catalogue.toml and standins.toml.

The original documents of the EU-China regional policy dialogue could not be
downloaded. Every file named in archive/catalogue.toml gets a stand-in PDF
instead, whose page texts come from archive/standins.toml (one list item per
page). English files are set in Helvetica, Chinese files in ReportLab's
built-in CID font STSong-Light, so no font files are needed.

The output is byte-for-byte reproducible (ReportLab's invariant mode and a
fixed creation date taken from the catalogue). Stand-ins carry a marker in
their /Subject and /Producer metadata; a PDF in archive/ without that marker
is a real document somebody put there, and is never overwritten.

Usage:
    python archive/make_standins.py            # (re)write the stand-ins that changed
    python archive/make_standins.py --check    # exit 1 if any is missing or differs
    python archive/make_standins.py --only mou-2006
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
MARKER = "EU-China archive stand-in"

PAGE_W, PAGE_H = A4
MARGIN_X = 25 * mm
MARGIN_TOP = 25 * mm
MARGIN_BOTTOM = 22 * mm
TEXT_W = PAGE_W - 2 * MARGIN_X
BULLET_INDENT = 6 * mm

ZH_FONT = "STSong-Light"


@dataclass(frozen=True)
class Style:
    body: str
    heading: str
    size: float
    heading_size: float
    leading: float
    para_space: float


STYLES = {
    "en": Style("Helvetica", "Helvetica-Bold", 10.5, 12.5, 15.0, 7.0),
    "zh": Style(ZH_FONT, ZH_FONT, 10.5, 13.0, 17.0, 7.0),
}

# Characters that must not start a line (Chinese line-breaking rules, simplified).
NO_LINE_START = set("，。、；：？！）》」』”’%·…—,.;:?!)]")
# Characters that must not end a line.
NO_LINE_END = set("（《「『“‘([")

CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2014\u2018\u2019\u201c\u201d\u2026\u00b7]")


class StandinError(Exception):
    """The catalogue or the stand-in text is incomplete or malformed."""


def _register_fonts() -> None:
    """Register the Chinese CID font once (it ships with ReportLab; no font file needed)."""
    if ZH_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(ZH_FONT))


# --- text layout --------------------------------------------------------------


def _units(text: str, lang: str) -> list[str]:
    """Break TEXT into the smallest pieces a line may be broken between.

    English: words followed by their trailing spaces. Chinese: each CJK
    character on its own, runs of Latin letters/digits kept together.
    """
    if lang == "en":
        return re.findall(r"\S+\s*", text)
    units: list[str] = []
    for piece in re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-/]*\s*|\s+|.", text):
        units.append(piece)
    return units


def wrap(text: str, font: str, size: float, width: float, lang: str) -> list[str]:
    """Greedy line wrapping of one paragraph."""
    lines: list[str] = []
    line = ""
    for unit in _units(text, lang):
        candidate = line + unit
        if not line or pdfmetrics.stringWidth(candidate.rstrip(), font, size) <= width:
            line = candidate
            continue
        if lang == "zh" and unit[0] in NO_LINE_START:
            # Move the last character down with the punctuation, unless that
            # would leave an empty line; otherwise let the punctuation hang.
            if len(line) > 1 and CJK.match(line[-1]):
                lines.append(line[:-1].rstrip())
                line = line[-1] + unit
                continue
            line = candidate
            continue
        if lang == "zh" and line and line[-1] in NO_LINE_END:
            lines.append(line[:-1].rstrip())
            line = line[-1] + unit
            continue
        lines.append(line.rstrip())
        line = unit.lstrip() if lang == "en" else unit
    if line.strip():
        lines.append(line.rstrip())
    return lines


def paragraphs(page: str, lang: str) -> list[tuple[str, list[str]]]:
    """Split a page text into ("heading"|"para"|"bullets", texts) blocks."""
    blocks = []
    for raw in re.split(r"\n\s*\n", page.strip()):
        lines = [ln.strip() for ln in raw.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            blocks.append(("heading", [" ".join(lines)[3:].strip()]))
        elif all(ln.startswith("- ") for ln in lines):
            blocks.append(("bullets", [ln[2:].strip() for ln in lines]))
        else:
            joiner = " " if lang == "en" else ""
            blocks.append(("para", [joiner.join(lines)]))
    return blocks


def draw_page(c: canvas.Canvas, page: str, lang: str, number: int, total: int) -> None:
    """Draw one page of text; raise if it does not fit."""
    st = STYLES[lang]
    y = PAGE_H - MARGIN_TOP
    first = True
    for kind, texts in paragraphs(page, lang):
        if not first:
            y -= st.para_space
        first = False
        if kind == "heading":
            y -= 4
            for line in wrap(texts[0], st.heading, st.heading_size, TEXT_W, lang):
                y -= st.leading + 1
                c.setFont(st.heading, st.heading_size)
                c.drawString(MARGIN_X, y, line)
            continue
        for text in texts:
            indent = BULLET_INDENT if kind == "bullets" else 0
            for i, line in enumerate(wrap(text, st.body, st.size, TEXT_W - indent, lang)):
                y -= st.leading
                if kind == "bullets" and i == 0:
                    c.setFont("Helvetica", st.size)
                    c.drawString(MARGIN_X + 1.5 * mm, y, "\u2022")
                c.setFont(st.body, st.size)
                c.drawString(MARGIN_X + indent, y, line)
        if y < MARGIN_BOTTOM:
            raise StandinError(f"page {number} overflows; shorten it or split it in two")
    c.setFont("Helvetica", 8.5)
    c.drawCentredString(PAGE_W / 2, MARGIN_BOTTOM / 2, f"- {number} / {total} -")


# --- PDF metadata -------------------------------------------------------------


class _UndatedInfo(pdfdoc.PDFInfo):
    """Document info without CreationDate/ModDate, for documents the seed gives no date."""

    def format(self, document):
        D = {
            "Title": pdfdoc.PDFString(self.title),
            "Author": pdfdoc.PDFString(self.author),
            "Producer": pdfdoc.PDFString(self.producer),
            "Creator": pdfdoc.PDFString(self.creator),
            "Subject": pdfdoc.PDFString(self.subject),
            "Keywords": pdfdoc.PDFString(self.keywords),
            "Trapped": pdfdoc.PDFName(self.trapped),
        }
        return pdfdoc.PDFDictionary(D).format(document)


def pdf_date(iso: str) -> str | None:
    """Catalogue date ("2015", "2018-07", "2013-11-21") as a PDF date of the same precision."""
    if not iso:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", iso):
        raise StandinError(f"bad catalogue date {iso!r}")
    return "D:" + iso.replace("-", "")


def render(entry: dict, fileinfo: dict, pages: list[str]) -> bytes:
    """The stand-in PDF of one file of ENTRY, as bytes."""
    lang = fileinfo["lang"]
    if lang not in STYLES:
        raise StandinError(f"{fileinfo['file']}: unsupported language {lang!r}")
    if len(pages) < 2:
        raise StandinError(f"{fileinfo['file']}: a stand-in needs at least 2 pages")
    _register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    title = entry.get("title_zh") if lang == "zh" and entry.get("title_zh") else entry["title"]
    c.setTitle(title)
    c.setAuthor("EU-China regional policy dialogue archive")
    c.setSubject(f"{MARKER}: {entry['id']} ({lang}); the original could not be included")
    c.setCreator("archive/make_standins.py")
    c.setProducer(f"{MARKER} (ReportLab)")
    c.setKeywords(f"{MARKER}, {entry['kind']}")
    date = pdf_date(entry.get("date", ""))
    if date:
        c.setDateFormatter(lambda *_args, _d=date: _d)
    else:
        info = _UndatedInfo()
        info.__dict__.update(c._doc.info.__dict__)
        c._doc.info = info
    for number, page in enumerate(pages, start=1):
        draw_page(c, page, lang, number, len(pages))
        c.showPage()
    c.save()
    return buf.getvalue()


# --- files --------------------------------------------------------------------


def is_standin(path: Path) -> bool:
    """True when PATH is a PDF this script made (it carries the marker)."""
    data = path.read_bytes()
    if MARKER.encode() in data:
        return True
    try:
        import pypdf

        meta = pypdf.PdfReader(io.BytesIO(data)).metadata or {}
        return any(MARKER in str(meta.get(k) or "") for k in ("/Subject", "/Producer"))
    except Exception:  # noqa: BLE001 - an unreadable file is not ours either
        return False


def load(archive: Path) -> tuple[list[dict], dict[str, list[str]]]:
    with open(archive / "catalogue.toml", "rb") as fh:
        catalogue = tomllib.load(fh)
    with open(archive / "standins.toml", "rb") as fh:
        standins = tomllib.load(fh)
    return catalogue.get("document", []), standins


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a stand-in is missing or differs from what would be generated")
    ap.add_argument("--only", metavar="ID", action="append",
                    help="only the files of this catalogue id (repeatable)")
    ap.add_argument("--archive", type=Path, default=HERE, help="archive folder (default: %(default)s)")
    args = ap.parse_args(argv)

    documents, standins = load(args.archive)
    ids = {d["id"] for d in documents}
    for wanted in args.only or ():
        if wanted not in ids:
            ap.error(f"no document with id {wanted!r} in catalogue.toml")

    catalogued = {f["file"] for d in documents for f in d.get("files", [])}
    orphans = sorted(set(standins) - catalogued)
    if orphans:
        print(f"warning: standins.toml has text for files not in the catalogue: {', '.join(orphans)}",
              file=sys.stderr)

    problems = written = same = skipped = 0
    for entry in documents:
        if args.only and entry["id"] not in args.only:
            continue
        for fileinfo in entry.get("files", []):
            name = fileinfo["file"]
            target = args.archive / name
            if target.exists() and not is_standin(target):
                print(f"skip   {name}: a real document (no stand-in marker), left alone")
                skipped += 1
                continue
            pages = standins.get(name)
            if pages is None:
                print(f"error: {name}: no text in standins.toml", file=sys.stderr)
                problems += 1
                continue
            try:
                data = render(entry, fileinfo, pages)
            except StandinError as exc:
                print(f"error: {name}: {exc}", file=sys.stderr)
                problems += 1
                continue
            current = target.read_bytes() if target.exists() else None
            if current == data:
                same += 1
                continue
            if args.check:
                print(f"{'missing' if current is None else 'differs'} {name}")
                problems += 1
                continue
            target.write_bytes(data)
            print(f"wrote  {name} ({len(pages)} pages)")
            written += 1

    verb = "checked" if args.check else "done"
    print(f"{verb}: {written} written, {same} up to date, {skipped} real documents skipped, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
