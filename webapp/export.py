"""The current result list as CSV or JSON (metadata, matched pages, links), or as citations (webapp.cite)."""

from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, jsonify, request

from . import cite
from .links import document_url, file_url
from .params import SearchParams
from .serialize import result_dict
from .site import snapshot

bp = Blueprint("export", __name__)

# Most documents in one export; the archive is a few thousand documents at most.
EXPORT_MAX = 500
CSV_COLUMNS = ("id", "title", "title_zh", "date", "kind", "programme", "event", "place", "languages",
               "score", "matched_pages", "pages", "url", "pdf_urls")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet may start a new cell when it guesses the separator (";" in many locales, "," "\t"
# "|" in others): a formula start after one of them, or at the start, gets an apostrophe before it.
FORMULA_AFTER_SEPARATOR = re.compile(r"(^|[,;\t|])([ ]*)(?=[=+\-@\t\r])")


def _all_results(params: SearchParams):
    return snapshot().search(params.q, params.filters, 1, params.sort, params.expand, page_size=EXPORT_MAX)


@bp.get("/export.csv", endpoint="csv")
def csv_export():
    """One row per document; its best matching pages as "en: 2, 5 (+3 more); zh: 1"."""
    params = SearchParams.from_args(request.args)
    result = _all_results(params)
    out = io.StringIO()
    # Every field quoted: a reader that splits on another separator still sees one field per column.
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    root = request.host_url.rstrip("/")
    for hit in result.hits:
        pages = "; ".join(_file_pages(f) for f in hit.files)
        writer.writerow([neutralise(str(v)) for v in (
            hit.doc_id, hit.title, hit.title_zh, hit.date, hit.kind, hit.programme, hit.event, hit.place,
            " ".join(hit.languages), hit.score, hit.matched_pages, pages,
            root + document_url(hit.doc_id, params.q, params.expand),
            " ".join(root + file_url(hit.doc_id, f.lang) for f in hit.files),
        )])
    # The byte order mark makes spreadsheet programs read the Chinese titles as UTF-8.
    body = "\ufeff" + out.getvalue()
    return body, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": 'attachment; filename="search-results.csv"'}


@bp.get("/export.json", endpoint="json")
def json_export():
    """All results (up to EXPORT_MAX) in the format of /api/search."""
    params = SearchParams.from_args(request.args)
    response = jsonify(result_dict(_all_results(params), params))
    response.headers["Content-Disposition"] = 'attachment; filename="search-results.json"'
    return response


@bp.get("/export.ris", endpoint="ris")
def ris_export():
    """All results (up to EXPORT_MAX), in their order, as RIS citations."""
    return _citations("ris")


@bp.get("/export.bib", endpoint="bibtex")
def bibtex_export():
    """All results (up to EXPORT_MAX), in their order, as BibTeX entries."""
    return _citations("bibtex")


@bp.get("/export.csl.json", endpoint="csl")
def csl_export():
    """All results (up to EXPORT_MAX), in their order, as CSL-JSON items."""
    return _citations("csl")


def _citations(fmt: str):
    params = SearchParams.from_args(request.args)
    root = request.host_url.rstrip("/")
    return cite.response([cite.from_hit(hit, root) for hit in _all_results(params).hits], fmt, "search-results")


def _file_pages(f) -> str:
    """"en: 2, 5" — the best matching pages of one file, and how many others matched."""
    text = f"{f.lang}: {', '.join(str(p.page) for p in f.pages)}"
    return text + (f" (+{f.other_pages} more)" if f.other_pages > 0 else "")


def neutralise(cell: str) -> str:
    """CELL with an apostrophe before each part a spreadsheet would read as a formula, whatever it splits on."""
    return FORMULA_AFTER_SEPARATOR.sub(r"\1\2'", cell)
