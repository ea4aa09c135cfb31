"""Generated PDFs that reproduce how real-world files mislead a text extractor.

Each case is a real PDF written here byte by byte (or with reportlab), with
the text a reader sees on the page known in advance:
- `write_cid_pdf`: a composite (Type0, Identity-H) font embedded from a CJK
  font Debian ships (WenQuanYi Micro Hei), whose character codes are the
  glyph numbers of the whole font, as TeX's dvipdfmx writes them, with no
  ToUnicode map (or one that maps some glyphs to private-use code points, or
  to CJK radicals as Chromium does, or one that lies). A reader must go to the
  font's own cmap to find the text.
- `write_table_pdf`: a table whose cells are placed by text moves, closer than a space
  (in Helvetica or a composite font, under a scaling matrix as Chromium draws).
- `write_scan_pdf`: a page that is only an image of text (a scan).
- `write_accented_pdf`: accents set before their letters, as TeX sets them.
- `write_builtin_encoding_pdf`: a CFF Type1 font whose own encoding alone names a ligature (TeX's OT1).
- `write_kerned_runs_pdf`: words set in runs (one Tj a kerning pair), in a font
  that is neither embedded nor given glyph widths: a reader must know the
  font's metrics to see that the runs touch.
`page_words` and `agreement` compare extracted text with an oracle's
(poppler's `pdftotext`) word by word.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import unicodedata
import zlib
from collections import Counter
from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# Adobe's character collection for simplified Chinese, one Unicode value per CID (Debian poppler-data).
ADOBE_GB1 = Path("/usr/share/poppler/cidToUnicode/Adobe-GB1")


def cjk_font_available() -> bool:
    """Tell whether the CJK font the CID cases embed is installed (Debian fonts-wqy-microhei)."""
    return CJK_FONT.exists()


def pdftotext_available() -> bool:
    """Tell whether poppler's pdftotext (Debian poppler-utils) and its CID tables (poppler-data) are installed."""
    return shutil.which("pdftotext") is not None and ADOBE_GB1.exists()


def adobe_gb1_cids() -> dict[str, int]:
    """Map each character of the Adobe-GB1 collection to its lowest CID."""
    cids: dict[str, int] = {}
    for cid, line in enumerate(ADOBE_GB1.read_text().splitlines()):
        value = line.strip()
        if value and len(value) <= 6:
            cids.setdefault(chr(int(value, 16)), cid)
    return cids


def pdftotext(path: Path, page: int) -> str:
    """Return poppler's text of page PAGE (from 1) of PATH."""
    run = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, check=True)
    return run.stdout.decode("utf-8")


# --- comparing texts ------------------------------------------------------------------------

_CJK_CHAR = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_WORD = re.compile(f"[{_CJK_CHAR}]|[^\\s{_CJK_CHAR}]+")
_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$")


def page_words(text: str) -> list[str]:
    """Split TEXT into the words compared: each CJK character, each other run between spaces.

    Case, NFKC width and punctuation at a word's edges are ignored: they are
    not what makes a page findable, and extractors differ on them.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    words = (_EDGE_PUNCTUATION.sub("", w) for w in _WORD.findall(text))
    return [w for w in words if w]


def agreement(extracted: str, oracle: str) -> float:
    """Return the share of words the two texts have in common (as multisets), over the longer one."""
    a, b = Counter(page_words(extracted)), Counter(page_words(oracle))
    longest = max(sum(a.values()), sum(b.values()))
    if not longest:
        return 1.0
    return sum((a & b).values()) / longest


def side_by_side(extracted: str, oracle: str, width: int = 60) -> str:
    """Both texts in two columns, for a failing comparison's message."""
    left, right = extracted.splitlines() or [""], oracle.splitlines() or [""]
    rows = [f"{'extracted':<{width}} | pdftotext", "-" * (2 * width + 3)]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        rows.append(f"{a[:width]:<{width}} | {b[:width]}")
    return "\n".join(rows)


# --- a TrueType subset with a Unicode cmap ---------------------------------------------------------

class CjkSubset:
    """The glyphs of some characters of the CJK font, as an embeddable TrueType font.

    `full_gid[ch]` is the character's glyph number in the whole font (what a
    dvipdfmx file uses as character code), `gid[ch]` its number in the
    subset, `width[ch]` its advance in 1/1000 em. The subset's cmap maps
    Unicode to subset glyphs, plus the EXTRA_CMAP code points given (a rare
    character the font draws with the glyph of another).
    """

    def __init__(self, text: str, extra_cmap: dict[str, str] | None = None):
        from reportlab.pdfbase.ttfonts import TTFontFile

        font = TTFontFile(str(CJK_FONT), subfontIndex=0)
        rare = extra_cmap or {}
        chars = sorted({ch for ch in text if ch not in "\n" and ch not in rare} | set(rare.values()), key=ord)
        missing = [ch for ch in chars if ord(ch) not in font.charToGlyph]
        if missing:
            raise ValueError(f"the font lacks {missing}")
        self.full_gid = {ch: font.charToGlyph[ord(ch)] for ch in chars}
        self.width = {ch: int(font.charWidths.get(ord(ch), 1000)) for ch in chars}
        # makeSubset numbers the glyphs in the order first met, after .notdef.
        order: dict[int, int] = {0: 0}
        for ch in chars:
            order.setdefault(self.full_gid[ch], len(order))
        self.gid = {ch: order[self.full_gid[ch]] for ch in chars}
        mapping = {ord(ch): self.gid[ch] for ch in chars}
        for rare_char, drawn_as in rare.items():
            # The glyph is the rare character's alone: the font's cmap names it, not the other.
            if drawn_as not in text:
                del mapping[ord(drawn_as)]
            mapping[ord(rare_char)] = self.gid[drawn_as]
            self.gid[rare_char], self.width[rare_char] = self.gid[drawn_as], self.width[drawn_as]
            self.full_gid[rare_char] = font.numGlyphs + len(self.full_gid)     # a code of its own
        subset = font.makeSubset([ord(ch) for ch in chars])
        self.data = _replace_table(subset, b"cmap", _unicode_cmap(mapping))


def _unicode_cmap(mapping: dict[int, int]) -> bytes:
    """A cmap table with a format 4 (BMP) and a format 12 (all planes) subtable for MAPPING."""
    bmp = sorted((c, g) for c, g in mapping.items() if c <= 0xFFFF)
    segments = [(c, c, g) for c, g in bmp] + [(0xFFFF, 0xFFFF, 0)]
    n = len(segments)
    search = 2 ** (n.bit_length() - 1)
    ends = b"".join(struct.pack(">H", e) for _, e, _ in segments)
    starts = b"".join(struct.pack(">H", s) for s, _, _ in segments)
    deltas = b"".join(struct.pack(">h", ((g - s) + 0x8000) % 0x10000 - 0x8000) if g else struct.pack(">h", 1)
                      for s, _, g in segments)
    offsets = b"\x00\x00" * n
    body = ends + b"\x00\x00" + starts + deltas + offsets
    fmt4 = struct.pack(">HHHHHHH", 4, 14 + len(body), 0, 2 * n, 2 * search,
                       search.bit_length() - 1, 2 * n - 2 * search) + body
    groups = sorted(mapping.items())
    fmt12 = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups)) + b"".join(
        struct.pack(">III", c, c, g) for c, g in groups)
    header = struct.pack(">HH", 0, 2) + struct.pack(">HHI", 3, 1, 4 + 16) + struct.pack(">HHI", 3, 10,
                                                                                          4 + 16 + len(fmt4))
    return header + fmt4 + fmt12


def _replace_table(font: bytes, tag: bytes, table: bytes) -> bytes:
    """FONT (a TrueType file) with table TAG replaced by TABLE, the others copied."""
    num_tables = struct.unpack(">H", font[4:6])[0]
    tables = {}
    for i in range(num_tables):
        name, _checksum, offset, length = struct.unpack(">4sIII", font[12 + 16 * i:28 + 16 * i])
        tables[name] = font[offset:offset + length]
    tables[tag] = table
    names = sorted(tables)
    out_dir, out_data = [], []
    offset = 12 + 16 * len(names)
    for name in names:
        data = tables[name]
        padded = data + b"\x00" * (-len(data) % 4)
        checksum = sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF
        out_dir.append(struct.pack(">4sIII", name, checksum, offset, len(data)))
        out_data.append(padded)
        offset += len(padded)
    return font[:4] + struct.pack(">H", len(names)) + font[6:12] + b"".join(out_dir) + b"".join(out_data)


# --- a PDF with a composite font ---------------------------------------------------------------

class _PdfWriter:
    def __init__(self):
        self.objects: list[bytes] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def reserve(self) -> int:
        return self.add(b"null")

    def set(self, number: int, body: bytes) -> None:
        self.objects[number - 1] = body

    def stream(self, data: bytes, extra: bytes = b"") -> int:
        packed = zlib.compress(data)
        return self.add(b"<< /Length %d /Filter /FlateDecode %s >>\nstream\n" % (len(packed), extra)
                        + packed + b"\nendstream")

    def write_one_page(self, path: Path, catalog: int, page_tree: int, font: int, ops: list[bytes]) -> Path:
        """Write an A4 page drawing OPS with FONT as /F1, under the reserved CATALOG and PAGE_TREE, to PATH."""
        content = self.stream(b"\n".join(ops))
        page = self.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (page_tree, content, font))
        self.set(page_tree, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
        self.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree)
        return self.write(path, catalog)

    def write(self, path: Path, root: int) -> Path:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(self.objects) + 1, root, xref)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(out))
        return path


def _to_unicode_cmap(entries: dict[int, str], code_bytes: int = 2) -> bytes:
    """A ToUnicode CMap mapping codes of CODE_BYTES bytes (a composite font's 2, a simple font's 1) to the strings given."""
    digits = 2 * code_bytes
    lines = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
             b"1 begincodespacerange <%s> <%s> endcodespacerange" % (b"0" * digits, b"F" * digits)]
    items = sorted(entries.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        for code, text in chunk:
            lines.append(b"<%0*X> <%s>" % (digits, code, text.encode("utf-16-be").hex().upper().encode()))
        lines.append(b"endbfchar")
    lines += [b"endcmap CMapName currentdict /CMap defineresource pop end end"]
    return b"\n".join(lines)


# Ideographs a simplified Chinese font draws with the glyph of a CJK radical (Noto Sans CJK SC),
# which Chromium's ToUnicode maps name as the radical.
RADICAL_OF = {"页": "\u2eda", "长": "\u2ed3", "门": "\u2ed4", "户": "\u2f3e"}


def _shown_with_actual_text(ch: str, code: int) -> bytes:
    """Show character CH (font code CODE); one RADICAL_OF draws inside an ActualText span, as Chromium writes it."""
    shown = b"<%04X> Tj" % code
    if ch not in RADICAL_OF:
        return shown
    return b"/Span << /ActualText <FEFF%s> >> BDC %s EMC" % (ch.encode("utf-16-be").hex().upper().encode(), shown)


def _type0_font(w: _PdfWriter, font: CjkSubset, codes: dict[str, int], to_unicode: dict[int, str] | None,
                gb1: bool = False) -> int:
    """Add FONT as a composite font (Type0, Identity-H) whose character codes are CODES; return its object number.

    TO_UNICODE maps codes to the text a ToUnicode map gives (None: no map);
    GB1 declares the codes CIDs of Adobe-GB1, else of the font (Identity).
    """
    font_file = w.stream(font.data, b"/Length1 %d" % len(font.data))
    descriptor = w.add(b"<< /Type /FontDescriptor /FontName /AAAAAA+WenQuanYiMicroHei /Flags 4 "
                       b"/FontBBox [-100 -200 1100 900] /ItalicAngle 0 /Ascent 800 /Descent -200 "
                       b"/CapHeight 700 /StemV 80 /FontFile2 %d 0 R >>" % font_file)
    system_info = (b"/Registry (Adobe) /Ordering (GB1) /Supplement 5" if gb1
                   else b"/Registry (Adobe) /Ordering (Identity) /Supplement 0")
    gid_map = bytearray(2 * (max(codes.values()) + 1))
    for ch, code in codes.items():
        gid_map[2 * code:2 * code + 2] = struct.pack(">H", font.gid[ch])
    cid_to_gid = w.stream(bytes(gid_map))
    widths = b" ".join(b"%d [%d]" % (codes[ch], font.width[ch]) for ch in sorted(codes, key=codes.get))
    cid_font = w.add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+WenQuanYiMicroHei "
                     b"/CIDSystemInfo << %s >> "
                     b"/FontDescriptor %d 0 R /DW 1000 /W [%s] /CIDToGIDMap %d 0 R >>"
                     % (system_info, descriptor, widths, cid_to_gid))
    extra = b"" if to_unicode is None else b"/ToUnicode %d 0 R" % w.stream(_to_unicode_cmap(to_unicode))
    return w.add(b"<< /Type /Font /Subtype /Type0 /BaseFont /AAAAAA+WenQuanYiMicroHei /Encoding /Identity-H "
                 b"/DescendantFonts [%d 0 R] %s >>" % (cid_font, extra))


def write_cid_pdf(path: Path, pages: list[list[str]], *, to_unicode: str = "none",
                  rare: dict[str, str] | None = None, font_size: float = 14, ordering: str = "Identity",
                  latin: list[list[str]] | None = None) -> Path:
    """Write PAGES (each a list of lines) in a composite font, without a usable ToUnicode map.

    ORDERING "Identity": the character codes are the glyph numbers of the
    whole font; "GB1": they are CIDs of Adobe's simplified Chinese collection
    (Adobe-GB1), as dvipdfmx and some Chinese typesetters write them: a
    reader must know the collection to find the text.

    TO_UNICODE: "none" (no ToUnicode map: the dvipdfmx case), "true" (a
    correct map: the twin a reader gets right), "pua" (the
    characters of RARE map to private-use code points, the others to
    themselves), "lie" (every glyph mapped to the character of another glyph:
    a broken map that yields plausible but wrong text), "swapped" (each
    character's two bytes in the wrong order), "signs" (every glyph mapped to
    an ASCII sign), "radicals" (the characters of RADICAL_OF map to CJK
    radicals, the ideograph given in an ActualText span around the glyph, as
    Chromium writes it). RARE maps a rare
    character (CJK Extension B, or a mathematical letter) to the character
    whose glyph draws it here.

    LATIN, if given, holds lines for each page set in Helvetica below the
    composite font's (an English page with a Chinese heading); every page
    lists both fonts, as TeX's drivers list a document's fonts.
    """
    text = "".join("".join(lines) for lines in pages)
    font = CjkSubset(text, extra_cmap=rare)
    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    if ordering == "GB1":
        gb1 = adobe_gb1_cids()
        codes = {ch: gb1[ch] for ch in font.gid}
    else:
        codes = {ch: font.full_gid[ch] for ch in font.gid}
    entries = None
    if to_unicode != "none":
        if to_unicode == "true":
            entries = {code: ch for ch, code in codes.items()}
        elif to_unicode == "radicals":
            # A glyph the font shares with a radical maps to the radical; the
            # ideograph is given in an ActualText span around it (below).
            entries = {code: RADICAL_OF.get(ch, ch) for ch, code in codes.items()}
        elif to_unicode == "pua":
            entries = {code: ch for ch, code in codes.items()}
            for i, ch in enumerate(sorted(rare or {}, key=ord)):
                entries[codes[ch]] = chr(0xE000 + i)
        elif to_unicode == "lie":
            # Each glyph maps to the character of the next one (a shifted table, as a broken
            # converter writes it): CJK stays CJK, Latin stays Latin, the words are wrong.
            by_code = sorted(codes.items(), key=lambda item: item[1])
            entries = {}
            for kind in (True, False):
                group = [(ch, code) for ch, code in by_code if (ord(ch) > 0x2E80) == kind and not ch.isspace()]
                for (ch, code), (other, _) in zip(group, group[1:] + group[:1]):
                    entries[code] = other
            entries.update({code: ch for ch, code in codes.items() if ch.isspace()})
        elif to_unicode == "swapped":
            # Each character's UTF-16 bytes in the wrong order, as a buggy converter writes them:
            # "M" (U+004D) becomes "䴀" (U+4D00).
            entries = {code: chr((ord(ch) & 0xFF) << 8 | ord(ch) >> 8) for ch, code in codes.items()}
        elif to_unicode == "signs":
            # Every glyph mapped to an ASCII sign: a font whose codes say nothing ('"7+%-').
            signs = '"#$%&*+<=>?@^~'
            entries = {code: signs[i % len(signs)] for i, (ch, code) in enumerate(sorted(codes.items()))}
        else:
            raise ValueError(to_unicode)
    type0 = _type0_font(w, font, codes, entries, gb1=ordering == "GB1")
    helvetica = _helvetica(w)
    kids = []
    for number, lines in enumerate(pages):
        ops = [b"BT /F1 %g Tf %g TL 50 780 Td" % (font_size, font_size * 1.6)]
        for line in lines:
            if to_unicode == "radicals":
                ops.append(b" ".join(_shown_with_actual_text(ch, codes[ch]) for ch in line) + b" T*")
            else:
                ops.append(b"<%s> Tj T*" % b"".join(b"%04X" % codes[ch] for ch in line))
        ops.append(b"/F2 11 Tf 16 TL")
        for line in (latin[number] if latin else ()):
            ops.append(b"(%s) Tj T*" % line.encode("latin-1"))
        ops.append(b"ET")
        content = w.stream(b"\n".join(ops))
        kids.append(w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                          b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
                          % (page_tree, content, type0, helvetica)))
    w.set(page_tree, b"<< /Type /Pages /Kids [%s] /Count %d >>"
          % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    w.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree)
    return w.write(path, catalog)


# --- a table, and a scan -------------------------------------------------------------------------

def _helvetica(w: _PdfWriter, space_width: int = 0) -> int:
    """Add Helvetica to W; SPACE_WIDTH (1/1000 em), if given, is its space's width in its /Widths."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    widths = b""
    if space_width:
        advances = [space_width] + [round(stringWidth(chr(code), "Helvetica", 1000)) for code in range(33, 127)]
        widths = b"/FirstChar 32 /LastChar 126 /Widths [%s]" % b" ".join(b"%d" % a for a in advances)
    return w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding %s >>" % widths)


def write_table_pdf(path: Path, rows: list[list[str]], gap: float = 1.0, font_size: float = 9, *,
                    composite: bool = False, scale: float = 1.0, space_width: int = 0) -> Path:
    """Write a table, one text object a row, each cell GAP points after the one before (a text move, Td).

    Report generators write tables so: no space is drawn between cells, only
    the move says they are apart, and a narrow column leaves less room than
    a space (Helvetica's is 0.28 em: 2.5 points at 9).
    COMPOSITE sets the table in a composite font (Type0, Identity-H, with a
    true ToUnicode map), as browsers and office suites embed fonts, instead
    of Helvetica. SCALE draws the table under that matrix (cm), FONT_SIZE and
    GAP being text-space sizes: Chromium sets 12 Tf under 0.75, a 9-point font.
    SPACE_WIDTH (1/1000 em), if given, is the space's width in Helvetica's
    /Widths, as wide as a CJK font's (LibreOffice sets Latin cells in AR PL
    UMing): pypdf wants that much to see a word gap.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    if composite:
        subset = CjkSubset("".join(cell for row in rows for cell in row))
        font = _type0_font(w, subset, {ch: subset.full_gid[ch] for ch in subset.gid},
                           {subset.full_gid[ch]: ch for ch in subset.gid})

        def shown(cell: str) -> bytes:
            return b"<%s> Tj" % b"".join(b"%04X" % subset.full_gid[ch] for ch in cell)

        def width(cell: str) -> float:
            return sum(subset.width[ch] for ch in cell) / 1000 * font_size
    else:
        font = _helvetica(w, space_width)

        def shown(cell: str) -> bytes:
            return b"(%s) Tj" % cell.encode("latin-1")

        def width(cell: str) -> float:
            wider = (space_width - stringWidth(" ", "Helvetica", 1000)) * cell.count(" ") if space_width else 0
            return stringWidth(cell, "Helvetica", font_size) + wider / 1000 * font_size
    ops, y = [b"q %g 0 0 %g 0 0 cm" % (scale, scale)], 800.0 / scale
    for row in rows:
        ops.append(b"BT /F1 %g Tf %g %g Td" % (font_size, 50 / scale, y))
        previous = 0.0
        for cell in row:
            if previous:
                ops.append(b"%.2f 0 Td" % (previous + gap))
            ops.append(shown(cell))
            previous = width(cell)
        ops.append(b"ET")
        y -= font_size * 2
    ops.append(b"Q")
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_touching_cells_pdf(path: Path, rows: list[list[str]], edges: list[float], font_size: float = 8, *,
                             rule_width: float = 0.0, font: str = "Helvetica", fixed_pitch: bool = False,
                             by_glyph: bool = False, drawn: tuple[bytes, ...] = ()) -> Path:
    """Write a table whose neighbouring cells touch, as LibreOffice Writer exports one without cell padding.

    Each cell is a text object of its own (a Tj at an absolute text matrix):
    a cell written ">920.68" ends at the right edge of its column, any other
    starts at its left edge (EDGES: each column's left edge, then the last
    one's right), so a right-aligned amount's last glyph ends where the next
    cell's first one begins; rows are 1.15 em apart. With RULE_WIDTH, a
    vertical rule that wide is drawn on each inner edge across each row, as
    a cell border, and the cells keep clear of it (half its width on either
    side). FONT is a standard font's name (FIXED_PITCH gives it a font
    descriptor with that flag); BY_GLYPH sets every glyph as a text object
    of its own, as Chromium does; DRAWN are more drawing operators (other lines).
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    descriptor = b""
    if fixed_pitch:
        widths = b" ".join(b"%d" % round(stringWidth(chr(code), font, 1000)) for code in range(32, 127))
        descriptor = b" /FirstChar 32 /LastChar 126 /Widths [%s] /FontDescriptor %d 0 R" % (widths, w.add(
            b"<< /Type /FontDescriptor /FontName /%s /Flags 33 /FontBBox [-23 -250 715 805] /ItalicAngle 0 "
            b"/Ascent 629 /Descent -157 /CapHeight 562 /StemV 51 >>" % font.encode()))
    font_id = w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding%s >>"
                    % (font.encode(), descriptor))
    ops, baseline, row_height = [], 780.0, font_size * 1.15
    for row in rows:
        for column, cell in enumerate(row):
            right_aligned = cell.startswith(">")
            text = cell[1:] if right_aligned else cell
            inset = rule_width / 2 if 0 < column or right_aligned else 0.0
            x = (edges[column + 1] - inset - stringWidth(text, font, font_size) if right_aligned
                 else edges[column] + inset)
            for run in (list(text) if by_glyph else [text]):
                ops.append(b"BT /F1 %g Tf 1 0 0 1 %.3f %.3f Tm (%s) Tj ET"
                           % (font_size, x, baseline, run.encode("latin-1")))
                x += stringWidth(run, font, font_size)
        if rule_width:
            bottom = baseline - 0.25 * font_size
            ops += [b"%.3f %.3f %.3f %.3f re f" % (edge - rule_width / 2, bottom, rule_width, row_height)
                    for edge in edges[1:-1]]
        baseline -= row_height
    ops += drawn
    return w.write_one_page(path, catalog, page_tree, font_id, ops)


def write_subset_table_pdf(path: Path, rows: list[list[str]], font_size: float = 8.1) -> Path:
    """Write a table as a word processor exports one: each cell a text object of its own, placed by
    an absolute text matrix in a coordinate system of 1/20 point turned upside down, in a font
    subset whose codes are numbered from 33 in the order the characters first appear (a
    ToUnicode map says which is which). pypdf scales its guess of the space's width wrongly
    there, and runs neighbouring cells together.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    chars = list(dict.fromkeys("".join("".join(row) for row in rows)))
    code = {ch: 33 + i for i, ch in enumerate(chars)}
    widths = b" ".join(b"%d" % round(stringWidth(ch, "Helvetica", 1000)) for ch in chars)
    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    to_unicode = w.stream(_to_unicode_cmap({code[ch]: ch for ch in chars}, code_bytes=1))
    descriptor = w.add(b"<< /Type /FontDescriptor /FontName /Arial /Flags 4 /FontBBox [-665 -325 2000 1006] "
                       b"/ItalicAngle 0 /Ascent 905 /Descent -212 /CapHeight 716 /StemV 80 /AvgWidth 441 "
                       b"/MaxWidth 2000 >>")
    font = w.add(b"<< /Type /Font /Subtype /TrueType /BaseFont /Arial /FirstChar 33 /LastChar %d "
                 b"/Widths [%s] /FontDescriptor %d 0 R /ToUnicode %d 0 R >>"
                 % (32 + len(chars), widths, descriptor, to_unicode))
    ops, y = [], 780.0
    for row in rows:
        x = 40.0
        for cell in row:
            data = bytes(code[ch] for ch in cell).replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            # In units of 1/20 point with y from the top: the page's coordinates turned upside down.
            ops.append(b"q 0.05 0 0 -0.05 0 842 cm BT %g 0 0 -%g %g %g Tm /F1 1 Tf (%s) Tj ET Q"
                       % (font_size * 20, font_size * 20, x * 20, (842 - y) * 20, data))
            x += stringWidth(cell, "Helvetica", font_size) + 10.7
        y -= font_size * 2
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_decimal_column_pdf(path: Path, rows: list[list[str]], font_size: float = 6) -> Path:
    """Write a table of figures aligned on the decimal point as a layout program exports it: each
    figure a tagged span, the point marked content with its own ActualText, and the font's
    ToUnicode map giving the point as " ." (a space and the point).
    """
    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    chars = set("".join("".join(row) for row in rows)) | {" "}
    to_unicode = w.stream(_to_unicode_cmap({ord(ch): " ." if ch == "." else ch for ch in chars}, code_bytes=1))
    font = w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
                 b"/ToUnicode %d 0 R >>" % to_unicode)
    ops, y = [], 780.0
    for row in rows:
        x = 40.0
        for cell in row:
            # Each figure a tagged span of the structure tree (MCID), as tagged PDF writes them.
            ops.append(b"/Span <</MCID %d >>BDC BT /F1 1 Tf %g 0 0 %g %g %g Tm"
                       % (len(ops), font_size, font_size, x, y))
            whole, point, fraction = cell.partition(".")
            ops.append(b"(%s)Tj" % whole.encode("latin-1"))
            if point:
                ops.append(b"/Span<</ActualText<FEFF002E>>> BDC (.)Tj EMC (%s)Tj" % fraction.encode("latin-1"))
            ops.append(b"ET EMC")
            x += 60 if cell[:1].isdigit() else 90
        y -= font_size * 3
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_footnote_marks_pdf(path: Path, lines: list[tuple], spaced: bool = False) -> Path:
    """Write lines of (text, mark, text[, rise]), each mark set in 7 points RISE (4) points above
    the 11-point line and run into the word before it, as a footnote mark is (lowered for a
    negative rise, as a subscript is). SPACED puts a space before each mark: the twin whose words
    a reader should give.
    """
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), invariant=1)
    y = 780
    for before, mark, after, *rise in lines:
        text = c.beginText(50, y)
        text.setFont("Times-Roman", 11)
        text.textOut(before + (" " if spaced else ""))
        text.setFont("Times-Roman", 7)
        text.setRise(rise[0] if rise else 4)
        text.textOut(mark)
        text.setRise(0)
        text.setFont("Times-Roman", 11)
        text.textOut(after)
        c.drawText(text)
        y -= 20
    c.showPage()
    c.save()
    return path


def write_scan_pdf(path: Path, source: Path, dpi: int = 300, shadow: int | None = None) -> Path:
    """Write a PDF whose pages are images of SOURCE's pages (rendered at DPI), with no text layer.

    SHADOW: the paper darkens towards the left edge down to this gray level (0-255), as a page
    photographed under a lamp.
    """
    import pypdfium2
    from PIL import Image, ImageChops
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    doc = pypdfium2.PdfDocument(str(source))
    c = canvas.Canvas(str(path), invariant=1)
    try:
        for index in range(len(doc)):
            page = doc[index]
            width, height = page.get_size()
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            c.setPageSize((width, height))
            image = bitmap.to_pil()
            if shadow is not None:
                light = Image.linear_gradient("L").rotate(90, expand=True).resize(image.size)
                image = ImageChops.multiply(image.convert("L"),
                                            light.point(lambda v: shadow + v * (255 - shadow) // 255))
            c.drawImage(ImageReader(image), 0, 0, width, height)
            c.showPage()
            bitmap.close()
            page.close()
    finally:
        doc.close()
    c.save()
    return path


def write_outlined_text_pdf(path: Path, lines: list[str], font_size: float = 24,
                            frame_only: bool = False) -> Path:
    """Write a page showing LINES as the outlines of the CJK font's glyphs (paths, no text layer).

    FRAME_ONLY: the page draws a table's frame (a rectangle and two rules) and no letters.
    """
    from fontTools.pens.basePen import BasePen
    from fontTools.ttLib import TTFont
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), invariant=1)
    if frame_only:
        c.rect(50, 600, 495, 150)
        c.line(50, 700, 545, 700)
        c.line(300, 600, 300, 750)
    else:
        font = TTFont(str(CJK_FONT), fontNumber=0)
        glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
        scale = font_size / font["head"].unitsPerEm

        class _Outline(BasePen):
            def __init__(self, path_, x, y):
                super().__init__(glyphs)
                self.path, self.x, self.y = path_, x, y

            def _point(self, pt):
                return self.x + pt[0] * scale, self.y + pt[1] * scale

            def _moveTo(self, pt):
                self.path.moveTo(*self._point(pt))

            def _lineTo(self, pt):
                self.path.lineTo(*self._point(pt))

            def _curveToOne(self, p1, p2, p3):
                self.path.curveTo(*self._point(p1), *self._point(p2), *self._point(p3))

            def _closePath(self):
                self.path.close()

        for row, line in enumerate(lines):
            x, y = 50.0, 780 - row * font_size * 1.5
            for ch in line:
                name = cmap[ord(ch)]
                outline = c.beginPath()
                glyphs[name].draw(_Outline(outline, x, y))
                c.drawPath(outline, stroke=0, fill=1)
                x += glyphs[name].width * scale
    c.showPage()
    c.save()
    return path


def write_kerned_runs_pdf(path: Path, lines: list[str], base_font: str = "TimesNewRomanPSMT",
                          metrics: str = "Times-Roman", subtype: str = "TrueType", flags: int | None = None,
                          kern: float = 0.25, font_size: float = 11) -> Path:
    """Write LINES with each word cut into runs where it has a "|", each run placed by a text move (Td).

    The font (BASE_FONT, SUBTYPE) is not embedded and has no /Widths, as some
    office exports and report generators write it; FLAGS, if given, go into a
    font descriptor. The moves follow the METRICS font's glyph widths (what the
    producer's font measured), each run KERN points after the end of the one
    before (kerned apart, far less than a space), each word a space after the
    last. Return PATH; the text shown is LINES without the "|".
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    descriptor = b""
    if flags is not None:
        descriptor = b" /FontDescriptor %d 0 R" % w.add(
            b"<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [-200 -250 1200 950] /ItalicAngle 0 "
            b"/Ascent 900 /Descent -250 /CapHeight 700 /StemV 80 >>" % (base_font.encode(), flags))
    font = w.add(b"<< /Type /Font /Subtype /%s /BaseFont /%s /Encoding /WinAnsiEncoding%s >>"
                 % (subtype.encode(), base_font.encode(), descriptor))
    space = stringWidth(" ", metrics, font_size)
    ops, y = [], 780.0
    for line in lines:
        ops.append(b"BT /F1 %g Tf 50 %g Td" % (font_size, y))
        advance = 0.0
        for n, word in enumerate(line.split(" ")):
            for k, run in enumerate(word.split("|")):
                if n or k:
                    ops.append(b"%.3f 0 Td" % (advance + (kern if k else space)))
                ops.append(b"(%s) Tj" % run.encode("latin-1"))
                advance = stringWidth(run, metrics, font_size)
        ops.append(b"ET")
        y -= font_size * 1.8
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_accented_pdf(path: Path, lines: list[list[tuple[str, ...]]], font_size: float = 11) -> Path:
    """Write LINES with accents set as TeX sets them: the accent glyph, then the letter placed under it.

    Each line is a list of runs; a run alternates text and a spacing accent
    (WinAnsi's "\\xa8" dieresis, "\\xb4" acute...), each accent centred over
    the first letter of the text after it by moves inside a TJ array, as
    TeX's \\accent does with kerns. Helvetica, one TJ a line.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def escaped(text: str) -> bytes:
        return text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    font = _helvetica(w)
    ops, y = [], 780.0
    for line in lines:
        items = []
        for run in line:
            for k, part in enumerate(run):
                if k % 2 == 0:
                    items.append(b"(%s)" % escaped(part))
                    continue
                accent = stringWidth(part, "Helvetica", 1000)
                letter = stringWidth(run[k + 1][0], "Helvetica", 1000)
                offset = (letter - accent) / 2
                items.append(b"%.1f (%s) %.1f" % (-offset, escaped(part), accent + offset))
        ops.append(b"BT /F1 %g Tf 50 %g Td [%s] TJ ET" % (font_size, y, b" ".join(items)))
        y -= font_size * 1.8
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_builtin_encoding_pdf(path: Path, text: bytes, encoding: dict[int, str],
                               differences: dict[int, str] | None = None) -> Path:
    """Write TEXT (character codes) in an embedded CFF Type1 font whose own ENCODING (code -> glyph name) names its glyphs.

    As pdfTeX and dvipdfmx embed TeX's OT1 fonts: no /Encoding in the PDF,
    the ligature "fi" at code 12, which only the font program names. The
    glyphs are boxes; only their names matter to a reader. DIFFERENCES, if
    given, is the PDF's own /Encoding (on MacRoman), which overrides the font
    program's, as Acrobat Distiller re-encodes a subset.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    names = [".notdef", *sorted(set(encoding.values()))]
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({})
    charstrings = {}
    for name in names:
        pen = T2CharStringPen(500, None)
        if name != "space":
            pen.moveTo((50, 0))
            pen.lineTo((450, 0))
            pen.lineTo((450, 700))
            pen.lineTo((50, 700))
            pen.closePath()
        charstrings[name] = pen.getCharString()
    builder.setupCFF("AAAAAA+CMR10", {"FullName": "CMR10"}, charstrings, {})
    builder.setupHorizontalMetrics({name: (500, 50) for name in names})
    cff = builder.font["CFF "].cff
    cff.topDictIndex[0].Encoding = [encoding.get(code, ".notdef") for code in range(256)]
    data = io.BytesIO()
    cff.compile(data, builder.font)
    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    font_file = w.stream(data.getvalue(), b"/Subtype /Type1C")
    descriptor = w.add(b"<< /Type /FontDescriptor /FontName /AAAAAA+CMR10 /Flags 4 /FontBBox [0 -200 1000 800] "
                       b"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile3 %d 0 R >>"
                       % font_file)
    pdf_encoding = b""
    if differences:
        pdf_encoding = b"/Encoding << /Type /Encoding /BaseEncoding /MacRomanEncoding /Differences [%s] >>" % (
            b" ".join(b"%d /%s" % (code, name.encode()) for code, name in sorted(differences.items())))
    font = w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /AAAAAA+CMR10 /FirstChar 0 /LastChar 255 "
                 b"/Widths [%s] /FontDescriptor %d 0 R %s >>" % (b" ".join([b"500"] * 256), descriptor, pdf_encoding))
    text = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return w.write_one_page(path, catalog, page_tree, font, [b"BT /F1 12 Tf 50 700 Td (%s) Tj ET" % text])


def write_type3_numbered_glyphs_pdf(path: Path, lines: list[str], font_size: float = 11) -> Path:
    """Write LINES in a Type3 font whose /Differences name each glyph by its character code ("/65" for A).

    As an insurer's report exported through a Type3 font came: no ToUnicode map,
    so a reader must take the number for the code; pypdf printed the names
    ("/65/115/115"). The glyphs are boxes; only their names matter to a reader.
    """
    codes = sorted({ord(ch) for line in lines for ch in line})
    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    box = w.stream(b"500 0 50 0 450 700 d1 50 0 400 700 re f")
    space = w.stream(b"500 0 0 0 0 0 d1")
    procs = b" ".join(b"/%d %d 0 R" % (code, space if code == 32 else box) for code in codes)
    first, last = codes[0], codes[-1]
    widths = b" ".join(b"500" if code in codes else b"0" for code in range(first, last + 1))
    font = w.add(b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 500 700] /FontMatrix [0.001 0 0 0.001 0 0] "
                 b"/CharProcs << %s >> /Encoding << /Type /Encoding /Differences [%s] >> "
                 b"/FirstChar %d /LastChar %d /Widths [%s] /Resources << >> >>"
                 % (procs, b" ".join(b"%d /%d" % (code, code) for code in codes), first, last, widths))
    ops = [b"BT /F1 %g Tf %g TL 50 780 Td" % (font_size, font_size * 1.6)]
    for line in lines:
        escaped = line.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        ops.append(b"(%s) Tj T*" % escaped)
    ops.append(b"ET")
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_justified_pdf(path: Path, lines: list[str], word_gap: int = 212, font_size: float = 9.465,
                        space_width: int = 605) -> Path:
    """Write LINES in Helvetica as a book typeset tightly justified: each line one TJ array whose
    words are WORD_GAP/1000 em apart by the array's adjustments, with no space drawn.

    As iText set a book on analytical sciences: a subset font without a space glyph
    whose /Widths give code 32 SPACE_WIDTH (another glyph's), so pypdf, which
    wants a third of that for a word break, runs a line's words together.
    """
    w = _PdfWriter()
    catalog, page_tree = w.reserve(), w.reserve()
    font = _helvetica(w, space_width)
    ops = []
    y = 780.0
    for line in lines:
        words = b" ".join(b"(%s)" % word.encode("latin-1") for word in line.split())
        ops.append(b"BT /F1 1 Tf %g 0 0 %g 68 %g Tm [%s] TJ ET"
                   % (font_size, font_size, y, words.replace(b") (", b") -%d (" % word_gap)))
        y -= font_size * 1.3
    return w.write_one_page(path, catalog, page_tree, font, ops)


def write_free_text_pdf(path: Path, lines: list[str], notes: list[str], hidden: str = "") -> Path:
    """Write LINES as the page's text and NOTES as typewriter (FreeText) annotations over it, each
    with the appearance a viewer draws; HIDDEN, if given, is one more note flagged hidden.

    As an officer fills a scanned or printed form with Acrobat's "Add text" tool.
    """
    w = _PdfWriter()
    catalog, page_tree, page = w.reserve(), w.reserve(), w.reserve()
    font = _helvetica(w)
    ops = [b"BT /F1 11 Tf 14 TL 50 780 Td"] + [b"(%s) Tj T*" % line.encode("latin-1") for line in lines] + [b"ET"]
    content = w.stream(b"\n".join(ops))
    annots = []
    for n, (note, flags) in enumerate([(note, 4) for note in notes] + ([(hidden, 4 | 2)] if hidden else [])):
        y = 600 - 40 * n
        appearance = w.stream(b"BT /F1 11 Tf 2 8 Td (%s) Tj ET" % note.encode("latin-1"),
                              b"/Type /XObject /Subtype /Form /BBox [0 0 400 24] /Resources << /Font << /F1 %d 0 R >> >>"
                              % font)
        annots.append(w.add(b"<< /Type /Annot /Subtype /FreeText /Rect [50 %d 450 %d] /F %d /Contents (%s) "
                            b"/DA (/F1 11 Tf 0 g) /AP << /N %d 0 R >> >>"
                            % (y, y + 24, flags, note.encode("latin-1"), appearance)))
    w.set(page, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Annots [%s] >>"
                % (page_tree, content, font, b" ".join(b"%d 0 R" % a for a in annots)))
    w.set(page_tree, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    w.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree)
    return w.write(path, catalog)
