"""The indexer's dataclasses as JSON-ready dicts, for the API and the exports (links from webapp.links)."""

from __future__ import annotations

import html
import re

from flask import url_for

from indexer.service import DocumentDetail, DocumentHit, SearchResult

from .links import document_url, file_url
from .params import SearchParams
from .site import settings

MARK_TAG = re.compile(r"</?mark>")


def plain_text(snippet_html: str) -> str:
    """A snippet's text without the highlight tags."""
    return html.unescape(MARK_TAG.sub("", snippet_html))


def hit_dict(hit: DocumentHit, params: SearchParams) -> dict:
    """One result: the document's metadata and, per matching file, its pages with snippets."""
    return {
        "id": hit.doc_id,
        "title": hit.title,
        "title_zh": hit.title_zh,
        "date": hit.date,
        "kind": hit.kind,
        "programme": hit.programme,
        "event": hit.event,
        "place": hit.place,
        "languages": hit.languages,
        "score": hit.score,
        "title_matched": hit.title_matched,
        "matched_pages": hit.matched_pages,
        "url": document_url(hit.doc_id, params.q, params.expand),
        "api_url": url_for("api.document", doc_id=hit.doc_id, **_q_args(params)),
        "files": [
            {
                "file": f.path,
                "lang": f.lang,
                "matched_pages": f.matched_pages,
                "other_pages": f.other_pages,
                "pdf_url": file_url(hit.doc_id, f.lang),
                "pages": [
                    {
                        "page": p.page,
                        "score": p.score,
                        "snippet_html": p.snippet,
                        "snippet": plain_text(p.snippet),
                        "url": document_url(hit.doc_id, params.q, params.expand, f.lang, p.page),
                        "pdf_url": file_url(hit.doc_id, f.lang, p.page),
                    }
                    for p in f.pages
                ],
            }
            for f in hit.files
        ],
    }


def result_dict(result: SearchResult, params: SearchParams) -> dict:
    """A page of search results with facets, paging links and what the search added or corrected."""
    links = {"self": url_for("api.search", **params.to_args()),
             "html": url_for("search.results", **params.to_args()),
             "csv": url_for("export.csv", **params.to_args(page=1)),
             "json": url_for("export.json", **params.to_args(page=1))}
    if result.page > 1:
        links["prev"] = url_for("api.search", **params.to_args(page=result.page - 1))
    if result.page < result.pages:
        links["next"] = url_for("api.search", **params.to_args(page=result.page + 1))
    return {
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "page_size": result.page_size,
        "sort": result.sort,
        # Whether translations (glossary, dictionary) were searched (the configured default unless ?expand= says).
        "expand": params.expand if params.expand is not None else settings().expand_glossary,
        "filters": filters_dict(params),
        "facets": {name: [{"value": v, "count": n} for v, n in values] for name, values in result.facets.items()},
        "also_searched": result.also_searched,
        "translations": [{"word": tr.word, "terms": list(tr.terms), "source": tr.source} for tr in result.translations],
        "any_word_fallback": result.any_word_fallback,
        "did_you_mean": result.did_you_mean,
        "results": [hit_dict(h, params) for h in result.hits],
        "links": links,
    }


def filters_dict(params: SearchParams) -> dict:
    """The active filters under their URL parameter names."""
    f = params.filters
    return {"kind": list(f.kind), "year": list(f.year), "lang": list(f.lang), "programme": list(f.programme),
            "place": list(f.place), "from": f.date_from, "to": f.date_to}


def document_dict(doc: DocumentDetail, q: str = "", expand: bool | None = None, with_pages: bool = True) -> dict:
    """Everything about one document: metadata, files with their status, matching pages, page texts."""
    files = []
    for f in doc.files:
        entry = {
            "file": f.path,
            "lang": f.lang,
            "format": f.format,
            "status": f.status,
            "reason": f.reason,
            "pages": f.pages,
            "chars": f.chars,
            "extractor": f.extractor,
            "failed_pages": f.failed_pages,
            "reading": f.reading,
            "available": f.exists,
            "url": file_url(doc.doc_id, f.lang) if f.exists else None,
            "download_url": file_url(doc.doc_id, f.lang, download=True) if f.exists else None,
            "matched_pages": [
                {"page": n, "url": document_url(doc.doc_id, q, expand, f.lang, n),
                 "pdf_url": file_url(doc.doc_id, f.lang, n)}
                for n in doc.matched.get(f.path, [])
            ],
        }
        if with_pages:
            entry["page_texts"] = [{"page": n, "html": h, "text": plain_text(h)}
                                   for n, h in doc.page_texts.get(f.path, [])]
        files.append(entry)
    return {
        "id": doc.doc_id,
        "title": doc.title,
        "title_zh": doc.title_zh,
        "date": doc.date,
        "kind": doc.kind,
        "programme": doc.programme,
        "event": doc.event,
        "place": doc.place,
        "summary": doc.summary,
        "catalogued": doc.catalogued,
        "added_at": doc.added_at,
        "languages": sorted({f.lang for f in doc.files}),
        "query": q,
        "url": document_url(doc.doc_id, q, expand),
        "files": files,
        "related": [{"id": d, "title": title, "url": document_url(d), "api_url": url_for("api.document", doc_id=d)}
                    for d, title in doc.related],
    }


def listing_dict(doc: dict) -> dict:
    """One entry of the document list (browse, feed, API)."""
    return {
        "id": doc.get("id", ""),
        "title": doc.get("title", ""),
        "title_zh": doc.get("title_zh", ""),
        "date": doc.get("date", ""),
        "kind": doc.get("kind", ""),
        "programme": doc.get("programme", ""),
        "event": doc.get("event", ""),
        "place": doc.get("place", ""),
        "summary": doc.get("summary", ""),
        "languages": sorted({f.get("lang", "") for f in doc.get("files", [])}),
        "files": [{"file": f.get("file", ""), "lang": f.get("lang", ""), "format": f.get("format", ""),
                   "url": file_url(doc.get("id", ""), f.get("lang", ""))} for f in doc.get("files", [])],
        "added_at": doc.get("added_at", ""),
        "catalogued": doc.get("catalogued", True),
        "url": document_url(doc.get("id", "")),
    }


def _q_args(params: SearchParams) -> dict:
    args = {"q": params.q} if params.q else {}
    if params.expand is not None:
        args["expand"] = "1" if params.expand else "0"
    return args
