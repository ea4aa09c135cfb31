"""Generators of hostile and good test documents, written into a folder.

Every function takes the path to write and returns it, so tests (and a later
end-to-end test dropping the whole set into an archive) can build the files in
tmp_path. The PDFs are real: reportlab and pypdf for the well-formed ones, raw
bytes for the broken ones. Nothing here is read from the network or the repo.
"""

from __future__ import annotations

import os
import signal
import time
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

# Words the tests search for, one per generated file.
ENGLISH_WORD = "cohesion"
CHINESE_WORD = "区域政策"
LAST_PAGE_WORD = "zanzibarite"
CJK_TTF = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")        # Debian: fonts-wqy-microhei
# Fonts that can draw Chinese into an image (PIL reads both TrueType and CFF outlines).
_CJK_IMAGE_FONTS = [CJK_TTF,
                    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian: fonts-noto-cjk
                    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")]            # Debian: fonts-wqy-zenhei
CJK_FONT = next((f for f in _CJK_IMAGE_FONTS if f.exists()), CJK_TTF)
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")    # Debian: fonts-dejavu-core


# --- raw PDF bytes -------------------------------------------------------------------------

def stream_object(data: bytes, extra: bytes = b"", *, compress: bool = False) -> bytes:
    """Return the body of a stream object holding DATA."""
    if compress:
        data = zlib.compress(data)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def raw_pdf(objects: list[bytes], *, root: int = 1, trailer: bytes = b"") -> bytes:
    """Assemble object bodies (numbered from 1) into a PDF with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer, xref_at)
    return bytes(out)


def _text_page_objects(texts: list[str], first: int = 3) -> tuple[list[bytes], list[int]]:
    """Return a font, then page and content objects (numbered from FIRST), one line of text each."""
    objects = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    page_numbers = []
    for i, text in enumerate(texts):
        page_no, content_no = first + 1 + 2 * i, first + 2 + 2 * i
        page_numbers.append(page_no)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (first, content_no))
        line = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        objects.append(stream_object(b"BT /F1 12 Tf 72 760 Td (%s) Tj ET" % line.encode("latin-1")))
    return objects, page_numbers


def simple_pdf_bytes(texts: list[str]) -> bytes:
    """Return a valid PDF with one page per text, written as raw bytes (fast for thousands)."""
    objects, pages = _text_page_objects(texts)
    kids = b" ".join(b"%d 0 R" % n for n in pages)
    head = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages))]
    return raw_pdf(head + objects)


# --- good files ----------------------------------------------------------------------------

def english_pdf(path: Path, pages: int = 2) -> Path:
    """Write a born-digital English report with reportlab, ENGLISH_WORD on page 1."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Regional policy dialogue report")
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 12)
        y = 780
        lines = [f"Page {n} of the regional policy report.",
                 f"Territorial {ENGLISH_WORD} and urban development in the EU and China." if n == 1
                 else "Pilot regions exchanged experience on innovation strategies."]
        for line in lines:
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    c.save()
    return path


def chinese_pdf(path: Path) -> Path:
    """Write a born-digital Chinese page with an embedded TrueType font (or a CID font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    if CJK_TTF.exists():
        from reportlab.pdfbase.ttfonts import TTFont
        pdfmetrics.registerFont(TTFont("WQY", str(CJK_TTF), subfontIndex=0))
        font = "WQY"
    else:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        font = "STSong-Light"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(font, 14)
    c.drawString(72, 780, f"中欧{CHINESE_WORD}对话")
    c.drawString(72, 760, "城镇化与区域协调发展合作")
    c.showPage()
    c.save()
    return path


def thousands_of_pages(path: Path, pages: int = 3000) -> Path:
    """Write a PDF of PAGES pages; LAST_PAGE_WORD appears only on the last one."""
    texts = [f"Page {n} of the long annual report." for n in range(1, pages)]
    texts.append(f"Final page mentions {LAST_PAGE_WORD}.")
    path.write_bytes(simple_pdf_bytes(texts))
    return path


def _pdf_via_pypdf(source: Path, path: Path, **encrypt) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(**encrypt)
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def user_password_pdf(path: Path) -> Path:
    """Write an AES-256 PDF that needs the password "secret" to open."""
    src = english_pdf(path.with_suffix(".src.pdf"), pages=1)
    try:
        return _pdf_via_pypdf(src, path, user_password="secret", owner_password="owner", algorithm="AES-256")
    finally:
        src.unlink()


def owner_password_pdf(path: Path) -> Path:
    """Write an RC4-128 PDF with only an owner password (opens without one)."""
    src = english_pdf(path.with_suffix(".src.pdf"), pages=1)
    try:
        return _pdf_via_pypdf(src, path, user_password="", owner_password="owner", algorithm="RC4-128")
    finally:
        src.unlink()


def empty_password_pdf(path: Path) -> Path:
    """Write an AES-128 PDF whose user and owner passwords are both empty."""
    src = english_pdf(path.with_suffix(".src.pdf"), pages=1)
    try:
        return _pdf_via_pypdf(src, path, user_password="", algorithm="AES-128")
    finally:
        src.unlink()


def _scan_image(lines: list[str], font_path: Path, size: int = 40):
    from PIL import Image, ImageDraw, ImageFont

    # A4 at 200 dpi: large enough for Tesseract, small enough to stay fast.
    img = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(font_path), size)
    y = 200
    for line in lines:
        draw.text((150, y), line, font=font, fill=0)
        y += int(size * 1.8)
    return img


def scanned_english_pdf(path: Path) -> Path:
    """Write an image-only PDF (no text layer) of an English memo."""
    img = _scan_image(["MEMORANDUM", f"Regional {ENGLISH_WORD} funds", "for pilot cities"], LATIN_FONT)
    img.save(path, "PDF", resolution=200.0)
    return path


def scanned_chinese_pdf(path: Path) -> Path:
    """Write an image-only PDF (no text layer) of a Chinese memo; needs CJK_FONT."""
    img = _scan_image(["会议纪要", f"中欧{CHINESE_WORD}合作", "试点城市名单"], CJK_FONT)
    img.save(path, "PDF", resolution=200.0)
    return path


def _paragraph(text: str, style: str = "", page_break_before: bool = False) -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    brk = '<w:r><w:br w:type="page"/></w:r>' if page_break_before else ""
    return f'<w:p>{ppr}{brk}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def docx_file(path: Path, sections: list[list[tuple[str, str]]] | None = None, title: str = "") -> Path:
    """Write a minimal valid .docx; SECTIONS are lists of (style, text), split by page breaks."""
    if sections is None:
        sections = [
            [("Heading1", "EU-China regional policy dialogue"),
             ("", f"Territorial {ENGLISH_WORD} is a shared goal of both partners."),
             ("", "A table follows.")],
            [("Heading1", "中欧区域政策合作"),
             ("", f"双方就{CHINESE_WORD}与城镇化交流了经验。")],
        ]
    body = []
    for i, section in enumerate(sections):
        for j, (style, text) in enumerate(section):
            body.append(_paragraph(text, style, page_break_before=(i > 0 and j == 0)))
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f'<w:body>{"".join(body)}<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Table cell text</w:t></w:r></w:p>'
                '</w:tc></w:tr></w:tbl><w:sectPr/></w:body></w:document>')
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{escape(title)}</dc:title>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2012-05-03T09:00:00Z</dcterms:created>'
            '</cp:coreProperties>')
    content_types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     '<Override PartName="/word/document.xml" ContentType="application/'
                     'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                     '<Override PartName="/docProps/core.xml" ContentType="application/'
                     'vnd.openxmlformats-package.core-properties+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", document)
        z.writestr("docProps/core.xml", core)
    return path


# --- broken files ---------------------------------------------------------------------------

def zero_byte(path: Path) -> Path:
    """Write an empty file."""
    path.write_bytes(b"")
    return path


def text_named_pdf(path: Path) -> Path:
    """Write a plain-text file with a .pdf name."""
    path.write_text("This is a plain text note, saved with the wrong extension.\n", encoding="utf-8")
    return path


def truncated_pdf(path: Path) -> Path:
    """Write a 12-page PDF cut off halfway, as by an interrupted download."""
    data = simple_pdf_bytes([f"Page {n}: {ENGLISH_WORD} report, truncated download." for n in range(1, 13)])
    path.write_bytes(data[: len(data) // 2])
    return path


def garbage_xref_pdf(path: Path) -> Path:
    """Write a 3-page PDF whose xref table and startxref are overwritten with garbage."""
    data = simple_pdf_bytes([f"Page {n}: {ENGLISH_WORD} survives a broken xref." for n in range(1, 4)])
    at = data.rindex(b"xref\n0 ")
    tail = data[at:]
    garbage = bytes((i * 37 + 11) % 256 for i in range(len(tail) - 40))
    path.write_bytes(data[:at] + garbage + b"\nstartxref\n999999\n%%EOF\n")
    return path


def self_referencing_pages(path: Path) -> Path:
    """Write a PDF whose page tree lists itself as its own kid."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
               stream_object(b"BT /F1 12 Tf 72 760 Td (A page inside a looping tree) Tj ET"),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    path.write_bytes(raw_pdf(objects))
    return path


def _deflate_zeros(total: int) -> bytes:
    """Return a zlib stream of TOTAL zero bytes, built without compressing them all."""
    chunk = 1 << 20
    c = zlib.compressobj(9)
    first = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor's state repeats: every further chunk deflates the same.
    steady = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    count = total // chunk
    adler = ((total % 65521) << 16) | 1      # adler32 of zeros: A stays 1, B counts the bytes
    # An empty final fixed-Huffman block (bits 1, 01, then end-of-block 0000000) closes the stream.
    return first + steady * (count - 1) + b"\x03\x00" + adler.to_bytes(4, "big")


def inflating_stream_pdf(path: Path, gigabytes: float = 2.0) -> Path:
    """Write a 2-page PDF: page 1 fine, page 2's content stream inflates to GIGABYTES of zeros."""
    bomb = _deflate_zeros(int(gigabytes * (1 << 30)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 7 0 R >> >> /Contents 4 0 R >>",
               stream_object(f"BT /F1 12 Tf 72 760 Td (Intact first page on {ENGLISH_WORD}) Tj ET".encode()),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 7 0 R >> >> /Contents 6 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(bomb), bomb),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    path.write_bytes(raw_pdf(objects))
    return path


def many_inflating_pages_pdf(path: Path, pages: int = 6, megabytes: int = 50) -> Path:
    """Write a PDF of PAGES pages, each content stream inflating to MEGABYTES of zeros: each under
    pypdf's limit of one stream, together more than a reader's browser should decode."""
    bomb = _deflate_zeros(megabytes << 20)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages)).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)]
    for i in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % (4 + 2 * i))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(bomb), bomb))
    path.write_bytes(raw_pdf(objects))
    return path


def huge_image_pdf(path: Path, side: int = 40_000) -> Path:
    """Write a one-page PDF drawing a SIDE × SIDE grey image held in a few bytes (a viewer's memory bomb)."""
    pixels = _deflate_zeros(1 << 20)     # far fewer bytes than the image claims: the viewer allocates the rest
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
               stream_object(b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
               b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
               b"/BitsPerComponent 8 /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
               % (side, side, len(pixels), pixels)]
    path.write_bytes(raw_pdf(objects))
    return path


def deeply_nested_pdf(path: Path, depth: int = 100_000) -> Path:
    """Write a 2-page PDF whose second page's content nests DEPTH arrays."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 7 0 R >> >> /Contents 4 0 R >>",
               stream_object(f"BT /F1 12 Tf 72 760 Td (Readable page about {ENGLISH_WORD}) Tj ET".encode()),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 7 0 R >> >> /Contents 6 0 R >>",
               stream_object(b"BT /F1 12 Tf 72 760 Td " + b"[" * depth + b"(x)" + b"]" * depth
                             + b" TJ ET", compress=True),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    path.write_bytes(raw_pdf(objects))
    return path


def slow_pdf(path: Path, operators: int = 5_000_000) -> Path:
    """Write a 1-page PDF whose content holds millions of no-op operators: slow, not broken."""
    content = b"BT /F1 12 Tf 72 760 Td (slow) Tj ET\n" + b"q Q " * operators
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
               stream_object(content, compress=True),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    path.write_bytes(raw_pdf(objects))
    return path


def garbled_pdf(path: Path) -> Path:
    """Write a page whose font maps its codes to private-use characters (broken ToUnicode)."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
            b"/CMapName /Broken def 1 begincodespacerange <00> <FF> endcodespacerange "
            b"1 beginbfrange <20> <7E> <E020> endbfrange endcmap "
            b"CMapName currentdict /CMap defineresource pop end end")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
               b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
               stream_object(f"BT /F1 12 Tf 72 760 Td (Regional {ENGLISH_WORD} report) Tj ET".encode()),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
               stream_object(cmap)]
    path.write_bytes(raw_pdf(objects))
    return path


def encrypted_docx(path: Path) -> Path:
    """Write what Word saves for a password-protected .docx: an OLE file with an EncryptedPackage."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = "EncryptedPackage".encode("utf-16-le") + bytes(96) + "EncryptionInfo".encode("utf-16-le")
    path.write_bytes(header + directory + bytes(4096))
    return path


def text_and_scan_pdf(path: Path) -> Path:
    """Write a 2-page PDF: page 1 born-digital English, page 2 an image-only scan."""
    from pypdf import PdfReader, PdfWriter

    text = english_pdf(path.with_suffix(".text.pdf"), pages=1)
    scan = scanned_english_pdf(path.with_suffix(".scan.pdf"))
    writer = PdfWriter()
    for source in (text, scan):
        writer.append(PdfReader(source))
    with open(path, "wb") as fh:
        writer.write(fh)
    text.unlink()
    scan.unlink()
    return path


# docx_file()'s default output converted by LibreOffice 7.4 (soffice --headless --convert-to doc),
# zlib-compressed and base64-encoded: no library writes legacy .doc files.
_LEGACY_DOC = (
    "eNrtmV9sU1Ucx3/n9s/aAVvpZsGBUEbd+LfRjYHjn2zrGKO4dtDBRBBT2o0V1nWuXcBojIlRMcFkRs0SYiIk80lDEH3RF32R"
    "JxFiwhKexAejJj6AMSY8sPr9nXsua8YGbUeMQH/Np/ecc+85v98953d/95xzr1yef/3sFxW/0BTZTCaaSNvJmlEmQKmRcRBp"
    "qmwinU4bxemCPFRyWx15DM0YPwvgMS8CNmAHxWAOmAvmgRI15g51LMjDK3sogV+K3LSdBnAcolcoF3HBYzLby6bORJbXZSsF"
    "/fnrN+J3rs9/qf4KoPnACcpAOXhC+gTRArAQPAkqwCKwGDyl9C3F0a3SlTguBx7wNKgC1WAFWAlWgdVgDagBtWAt8II6UA/W"
    "gQawHmwAz4BGsBFsku8zoi1gK3gWbANNoBm0AB9oBdtBG9gB2sFO4Ae7wHOgAwRAEHSC3WAPCIEusBfsA93gebBf3eOB/2ms"
    "FLDKVKz7kNWuSZ/4TneNNh6/jlhkKJFM9Kbc3YmhaE1r4thwvGcgJX2iI8RlrYmI9ARO1yIjz9c20t8bL7x8f18U+jQib3HC"
    "64rRyoHJmQkdgmveTGt8hC8HEN+GKE5h6ld+XOehVR7R7GGvaVlFQb+ZdgOf30Xxdrs5CXa1a9Tpt9BAu9mWAof8Vgr7F9JL"
    "7RvN97SnjSaWCtJEm3yG2qkHeqMUQ2w9Ip+eUiobu0HlYyfI6hF4QoL+IigvgvLFUqGuaDF8ucXB7TTIZ7AL7ZyQUboFdxOV"
    "MdqBnzNaLgRaxLM3dko+UWsdQjgFP1lm+GuMkqjFXTwf+UN+G3y+Eu1WiiZpnw/WDeKKGFodkPY50doJad9c2OeEXQtpg01w"
    "Vb7/F22iSt5hvaiS0WIn6kWldZwrk7V0TSyj0g4ZMKSHcUhZY9ejDKdr7XRnhjmqjpojo6BTj0IyDO1wjYhsXKILtxOHSUl0"
    "RwDH4zjya45dgG9yPdrJxudC6OY4HUZNdpx1Vdlpb4azxZSzNUNTNpVaYeVR1NlHw7A1hBy30cthLMsWfFJjDNZyTYQna3b1"
    "uqFrAEFsWPbNftR1I8TFKIJ2EkizA3N726z53Qm3muT6VbOs75ld/Ra4obC9h4j2PYa+TzbVVGF5J/M1qL9gRuTjYpWO++aI"
    "9a5Sw12rTfL9Jf27ILMI4N4H3+aUp9ud5SDlbMkbszd1Is3Op033XqTrb33y161gn+Oz9220uvrLa2zfa8oFhZrf2NU8pljN"
    "T+aoeQfP1aJqvjaouuSP20RLVNqr6hlyV7rvwpI5Ky+JpvvY/+enQnS47ejfG85vM7tRRfcS8oUT/eGBxmk612520daSyfzo"
    "fee5pfLNIVTampGeKifl/2kVM05nETv4mvIcRu6c0Hv5G3U05Dfkm7TZe8ZFkV+9aozF4Qz9Pwl9Vl6QR1MuTvG//0o0ulbo"
    "/IIU5LGW7bSXarD86JNr3DDmWkOYgh9RK0pelLgx/0jIxUkECyq3XA1zeQJXDePaeXJ1OyQXLim5Vo+pehHk+uRCTm/NLdez"
    "bqkliTNhqSuK3BGc1+sksGxyy0VbClewbr4qhdqsI0m10NeM8hTKD6NGD9K90j626Li6oiZQfWxT6OfubT37XrV1HQzOox9C"
    "X/fUHTTKSgI/du/4yBUaCzTH3w5cfv3Uac3L9zHZZgT//dKilFq7F8k9tUdO1Iq+II+lCB7/VvAVGAe/g7l23Sd4/n8r8+qZ"
    "MzdnPPNrZubso9iHPiKXRyzwiJ29POW3jVeQ+DDt8Ux3bfk/2sky+zim985xXvKldQZnzDSMW0kIk0popn49YTZKbCjpbSBT"
    "A88hXYYNJg+FPbxPypukRUa+SG6aWo2sPLeZtnipqZOopVOjpeevrHWfv7512fkzlkqwfOSMxQPqcb5uJEreQd4pXofcinoq"
    "8d5r/csl2tVLVz+uXeT4YBTr3zW3zvH+vGVK2UHSvzMIhSNjrTtTeUEm5UF+/+N+nvoNYbo6Jv5bYAQQn9yaHaQg3p1Hc98+"
    "wqhqahcuncN3taN3AlhQvrHzlWJoZ72mHPSzvcZOQ13GrCEfKVH6c/n+x7a+q/YxLRTCLCwuN8d57Hk/v/fOF5PJLwMzyQro"
    "N74ZZquf96A+V+luqStKrThGpCU90g+zlYo87n8ZMPadLHdpzq0/GvPQ/wJIPcBneDbff/8FBowtPg=="
)


def legacy_doc(path: Path) -> Path:
    """Write a small Word 97-2003 .doc holding English and Chinese text."""
    import base64

    path.write_bytes(zlib.decompress(base64.b64decode(_LEGACY_DOC)))
    return path


def html_named_pdf(path: Path) -> Path:
    """Write an HTML error page saved under a .pdf name, as a failed download leaves it."""
    path.write_text("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n", encoding="utf-8")
    return path


def hang_on_marker(payload, emit):
    """Sandbox task for tests: hang forever on files named *hang*, else extract as usual."""
    import time

    from indexer.extract import _worker_task

    if "hang" in Path(payload[0]).name:
        emit(("count", 3))
        time.sleep(3600)
    return _worker_task(payload, emit)


# --- the whole set --------------------------------------------------------------------------

GOOD = {
    "english.pdf": english_pdf,
    "chinese.pdf": chinese_pdf,
    "owner-only.pdf": owner_password_pdf,
    "empty-password.pdf": empty_password_pdf,
    "word.docx": docx_file,
    "legacy.doc": legacy_doc,
}

BROKEN = {
    "zero.pdf": zero_byte,
    "text.pdf": text_named_pdf,
    "download.pdf": html_named_pdf,
    "truncated.pdf": truncated_pdf,
    "garbage-xref.pdf": garbage_xref_pdf,
    "self-tree.pdf": self_referencing_pages,
    "inflating.pdf": inflating_stream_pdf,
    "nested.pdf": deeply_nested_pdf,
    "user-password.pdf": user_password_pdf,
}

SCANNED = {
    "scan-en.pdf": scanned_english_pdf,
    "scan-zh.pdf": scanned_chinese_pdf,
}


def write_set(folder: Path, *groups: dict) -> dict[str, Path]:
    """Write every file of GROUPS (default: good, broken and scanned) into FOLDER."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for group in groups or (GOOD, BROKEN, SCANNED):
        for name, make in group.items():
            written[name] = make(folder / name)
    return written


def misbehave(payload, emit) -> None:
    """A sandbox task's bad behaviours, by name: "hang", "crash", "allocate" (1 GiB), "raise"."""
    if payload == "hang":
        emit("started")
        time.sleep(3600)
    if payload == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if payload == "allocate":
        len(bytearray(1 << 30))
    if payload == "raise":
        raise ValueError("bad value in the file")
