"""The document page (metadata, language versions, matching pages, page texts) and its files."""

from __future__ import annotations

import html
import os
import re
import zlib
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, abort, render_template, request, send_file

from indexer.service import media_type, open_archive_file

from . import cite, i18n
from .params import parse_bool
from .site import settings, snapshot

bp = Blueprint("documents", __name__, url_prefix="/documents")

# Ids are slugs (catalogue ids, or made from file names); anything else cannot exist.
DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,150}$")
LANG = re.compile(r"^[a-z]{2,3}$")
MARKED = re.compile(r"<mark>(.*?)</mark>", re.S)
# Words handed to the PDF viewer to highlight.
MAX_VIEWER_TERMS = 50


def load_document(doc_id: str, **kwargs):
    """The document DOC_ID, or a 404."""
    if not DOC_ID.match(doc_id):
        abort(404)
    doc = snapshot().get_document(doc_id, **kwargs)
    if doc is None:
        abort(404)
    return doc


@bp.get("/<doc_id>")
def show(doc_id: str):
    """One document; with ?q= its matching pages are listed and highlighted."""
    q = request.args.get("q", "").strip()
    expand = parse_bool(request.args.get("expand"))
    doc = load_document(doc_id, text=q, expand=expand)
    selected = _selected_file(doc, request.args.get("lang", ""))
    page = request.args.get("page", "")
    page = int(page) if page.isascii() and page.isdigit() and len(page) <= 6 else None
    if page is None and selected is not None and doc.matched.get(selected.path):
        page = doc.matched[selected.path][0]
    pages = doc.page_texts.get(selected.path, []) if selected else []
    terms = list(dict.fromkeys(html.unescape(m) for _, h in pages for m in MARKED.findall(h)))[:MAX_VIEWER_TERMS]
    return render_template("documents/show.html", doc=doc, q=q, expand=expand, selected=selected, page=page,
                           pages=pages, viewer_terms=terms)


def _selected_file(doc, lang: str):
    """The language version to show: the one asked for, else one that matched, else the interface language's."""
    by_lang = {f.lang: f for f in doc.files}
    if lang in by_lang:
        return by_lang[lang]
    for f in doc.files:
        if doc.matched.get(f.path):
            return f
    return by_lang.get(i18n.current_language()) or (doc.files[0] if doc.files else None)


@bp.get("/<doc_id>/cite/<fmt>")
def citation(doc_id: str, fmt: str):
    """The document's citation: fmt is ris, bibtex or csl (CSL-JSON)."""
    if fmt not in cite.FORMATS:
        abort(404)
    doc = load_document(doc_id, with_pages=False)
    return cite.response([cite.from_detail(doc, request.host_url.rstrip("/"))], fmt, doc_id)


@bp.get("/<doc_id>/file/<lang>")
def file(doc_id: str, lang: str):
    """The file of one language version, found through the catalogue (never a path from the request)."""
    if not LANG.match(lang):
        abort(404)
    doc = load_document(doc_id, with_related=False)
    entry = next((f for f in doc.files if f.lang == lang), None)
    if entry is None:
        abort(404)
    root = Path(settings().archive_dir).resolve()
    path = (root / entry.path).resolve()
    # The catalogue is trusted but checked anyway: a symlink or an odd name must not leave the archive.
    if not path.is_relative_to(root) or not path.is_file():
        abort(404)
    download = parse_bool(request.args.get("download")) is True
    try:
        with open_archive_file(path, root) as opened:
            # Sent through the opened file (send_file opens its path before returning): a name swapped
            # for a link since the check above is not followed. The ETag is the one a path would give.
            stat = os.fstat(opened.fd)
            etag = f"{stat.st_mtime}-{stat.st_size}-{zlib.adler32(os.fspath(path).encode()) & 0xFFFFFFFF}"
            response = send_file(opened.path, mimetype=media_type(path.name), conditional=True, etag=etag,
                                 last_modified=stat.st_mtime, max_age=0, download_name=path.name)
    except OSError:
        abort(404)
    response.headers["Content-Disposition"] = content_disposition(path.name, attachment=download)
    return response


def content_disposition(filename: str, attachment: bool = False) -> str:
    """inline/attachment with an ASCII fallback name and the real name in RFC 5987 form."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "document"
    disposition = "attachment" if attachment else "inline"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
