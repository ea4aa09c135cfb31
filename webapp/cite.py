"""Citations of documents and result lists: RIS, BibTeX and CSL-JSON, the formats reference managers import.

A `Reference` is made from what the service returns (a document page's
DocumentDetail or a result's DocumentHit) and rendered by one function per
format. Only the catalogue's fields are cited: titles (the Chinese one as a
parallel title), date, kind, event, place, programme and summary; the
catalogue names no authors or issuing bodies, so none are made up. Each
reference carries the archive page's URL and the URLs of its files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from indexer.service import DocumentDetail, DocumentHit

from . import i18n
from .links import document_url, file_url

# Each format: (file suffix, media type).
FORMATS = {
    "ris": ("ris", "application/x-research-info-systems"),
    "bibtex": ("bib", "application/x-bibtex"),
    "csl": ("json", "application/vnd.citationstyles.csl+json"),
}
# What each kind of document is in the three formats' vocabularies: (RIS type, BibTeX type, CSL type).
# Reports and studies are reports; the agreements and conclusions of the dialogue are government documents.
KIND_TYPES = {
    "study": ("RPRT", "techreport", "report"),
    "training report": ("RPRT", "techreport", "report"),
    "programme report": ("RPRT", "techreport", "report"),
    "high-level seminar": ("CONF", "misc", "paper-conference"),
    "memorandum of understanding": ("GOVDOC", "misc", "document"),
    "addendum": ("GOVDOC", "misc", "document"),
    "joint statement": ("GOVDOC", "misc", "document"),
    "joint declaration": ("GOVDOC", "misc", "document"),
    "joint conclusions": ("GOVDOC", "misc", "document"),
}
OTHER_TYPES = ("GEN", "misc", "document")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Characters TeX reads as commands, and what stands for each of them in a BibTeX value.
TEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}"}
TEX_SPECIAL = re.compile(r"[\\{}$&#^_%~]")


@dataclass(frozen=True)
class Reference:
    """One document as a citation names it."""

    doc_id: str
    title: str
    title_zh: str
    date: str              # as precise as the catalogue: YYYY, YYYY-MM or YYYY-MM-DD
    kind: str
    event: str
    place: str
    programme: str
    summary: str
    languages: tuple[str, ...]
    url: str               # the document's page in the archive
    file_urls: tuple[tuple[str, str], ...]    # (language, URL) of each file

    @property
    def date_parts(self) -> list[int]:
        """The date as [year, month, day], as far as it is known."""
        return [int(part) for part in self.date.split("-") if part.isdigit()]


def from_detail(doc: DocumentDetail, root: str) -> Reference:
    """The reference of a document page's DOCUMENT; ROOT is the site's scheme and host."""
    return Reference(
        doc_id=doc.doc_id, title=doc.title, title_zh=doc.title_zh, date=doc.date, kind=doc.kind,
        event=doc.event, place=doc.place, programme=doc.programme, summary=doc.summary,
        languages=tuple(sorted({f.lang for f in doc.files})), url=root + document_url(doc.doc_id),
        file_urls=tuple((f.lang, root + file_url(doc.doc_id, f.lang)) for f in doc.files if f.exists))


def from_hit(hit: DocumentHit, root: str) -> Reference:
    """The reference of one search result HIT; ROOT is the site's scheme and host."""
    return Reference(
        doc_id=hit.doc_id, title=hit.title, title_zh=hit.title_zh, date=hit.date, kind=hit.kind,
        event=hit.event, place=hit.place, programme=hit.programme, summary=hit.summary,
        languages=tuple(hit.languages), url=root + document_url(hit.doc_id),
        file_urls=tuple((lang, root + file_url(hit.doc_id, lang)) for lang in hit.languages))


def _kind_label(kind: str) -> str:
    """The kind's English name (citations are in the catalogue's language, whatever the interface's)."""
    return i18n.label("kind", kind, "en") if kind else ""


def _one_line(text: str) -> str:
    """TEXT on one line: the line-based formats end a field at a line break."""
    return " ".join(text.split())


# --- RIS ---------------------------------------------------------------------------


def to_ris(references: list[Reference]) -> str:
    """RIS records (one TY … ER block each), CRLF line ends as the format's specification has them."""
    lines: list[str] = []
    for ref in references:
        def tag(name: str, value: str) -> None:
            value = _one_line(value)
            if value:
                lines.append(f"{name}  - {value}")
        tag("TY", KIND_TYPES.get(ref.kind, OTHER_TYPES)[0])
        tag("ID", ref.doc_id)
        tag("TI", ref.title)
        tag("TT", ref.title_zh)
        parts = ref.date_parts
        if parts:
            tag("PY", f"{parts[0]:04d}")
            tag("DA", "/".join(f"{p:02d}" for p in parts) + "/" * (4 - len(parts)))
        tag("M3", _kind_label(ref.kind))
        tag("T2", ref.event)
        tag("T3", ref.programme)
        tag("CY", ref.place)
        for lang in ref.languages:
            tag("LA", lang)
        tag("AB", ref.summary)
        tag("UR", ref.url)
        for _lang, url in ref.file_urls:
            tag("L1", url)
        tag("DB", i18n.translate("site_name", "en"))
        lines.append("ER  - ")
        lines.append("")
    return "\r\n".join(lines)


# --- BibTeX ------------------------------------------------------------------------


def tex_escaped(text: str) -> str:
    """TEXT as a BibTeX value's content: TeX's special characters escaped, so braces always balance."""
    return TEX_SPECIAL.sub(lambda m: TEX_SPECIALS[m.group()], _one_line(text))


def bibtex_key(ref: Reference) -> str:
    """The entry's key: the document's id (a slug), unique in the archive."""
    return ref.doc_id


def to_bibtex(references: list[Reference]) -> str:
    """BibTeX entries (biblatex's date and eventtitle as well), values braced and escaped."""
    entries = []
    for ref in references:
        fields: list[tuple[str, str]] = [("title", ref.title)]
        parts = ref.date_parts
        if parts:
            fields.append(("year", f"{parts[0]:04d}"))
            if len(parts) > 1 and 1 <= parts[1] <= 12:
                fields.append(("month", MONTHS[parts[1] - 1]))
            fields.append(("date", ref.date))
        fields += [("type", _kind_label(ref.kind)), ("eventtitle", ref.event), ("address", ref.place),
                   ("series", ref.programme), ("abstract", ref.summary), ("language", " and ".join(ref.languages)),
                   ("url", ref.url),
                   ("howpublished", i18n.translate("site_name", "en"))]
        notes = []
        if ref.title_zh:
            notes.append(f"Chinese title: {ref.title_zh}")
        notes += [f"PDF ({lang}): {url}" for lang, url in ref.file_urls]
        fields.append(("note", "; ".join(notes)))
        body = ",\n".join(f"  {name} = {{{_bibtex_value(name, value)}}}" for name, value in fields if value)
        entries.append(f"@{KIND_TYPES.get(ref.kind, OTHER_TYPES)[1]}{{{bibtex_key(ref)},\n{body}\n}}\n")
    return "\n".join(entries)


def _bibtex_value(name: str, value: str) -> str:
    # A URL field is read verbatim (the url package); only braces would break it, and URLs we build have none.
    return _one_line(value) if name == "url" else tex_escaped(value)


# --- CSL-JSON ----------------------------------------------------------------------


def to_csl(references: list[Reference]) -> str:
    """A CSL-JSON array (the format of citeproc and Zotero's import)."""
    items = []
    for ref in references:
        item: dict = {"id": ref.doc_id, "type": KIND_TYPES.get(ref.kind, OTHER_TYPES)[2], "title": ref.title}
        if ref.date_parts:
            item["issued"] = {"date-parts": [ref.date_parts]}
        optional = {"genre": _kind_label(ref.kind), "event-title": ref.event, "event-place": ref.place,
                    "publisher-place": ref.place, "collection-title": ref.programme, "abstract": ref.summary,
                    "language": ", ".join(ref.languages), "URL": ref.url,
                    "archive": i18n.translate("site_name", "en")}
        item.update({k: v for k, v in optional.items() if v})
        notes = ([f"Chinese title: {ref.title_zh}"] if ref.title_zh else []) + [
            f"PDF ({lang}): {url}" for lang, url in ref.file_urls]
        if notes:
            item["note"] = "\n".join(notes)
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2)


RENDERERS = {"ris": to_ris, "bibtex": to_bibtex, "csl": to_csl}


def response(references: list[Reference], fmt: str, filename: str):
    """The (body, status, headers) answer of REFERENCES in format FMT, as a download named FILENAME.<suffix>."""
    suffix, mimetype = FORMATS[fmt]
    return RENDERERS[fmt](references), 200, {
        "Content-Type": f"{mimetype}; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}.{suffix}"'}
