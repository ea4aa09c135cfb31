"""The OpenAPI 3 description of the JSON API, served at /api/openapi.json.

Written by hand, next to the code it describes (webapp/api.py, status.py and
serialize.py build the answers): a test validates it against the OpenAPI
specification and checks real answers against its schemas, and schemathesis
generates requests from it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from indexer.service import FACETS, KINDS, LANGUAGES, PROGRAMMES, SORTS

from .api import BROWSE_ORDERS
from .documents import DOC_ID
from .params import MAX_PAGE, MAX_VALUE_CHARS, MAX_VALUES_PER_FILTER
from .site import settings

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.0.3"


def _string(**extra) -> dict:
    return {"type": "string", **extra}


def _array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def _object(properties: dict, required: list[str] | None = None, **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    schema["required"] = list(properties) if required is None else required
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return {"$ref": f"#/components/responses/{description}"}


STR, INT, NUM, BOOL = _string(), {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
NULLABLE_STR = {"type": "string", "nullable": True}

SCHEMAS = {
    "Error": _object({"error": _object({
        "status": INT, "title": STR, "message": _string(description="What went wrong, to be shown to the user."),
        "kind": _string(description="query (the user's query or parameters), not_found, index, or error."),
        "request_id": _string(description="Also in the X-Request-Id header and the server's logs."),
    })}),
    "PageHit": _object({
        "page": INT, "score": NUM,
        "snippet_html": _string(description="Escaped text with <mark> around the matched words."),
        "snippet": _string(description="The snippet as plain text."),
        "url": _string(description="The document page at this page."), "pdf_url": STR,
    }),
    "FileHit": _object({
        "file": STR, "lang": STR,
        "matched_pages": INT, "other_pages": INT, "pdf_url": STR,
        "pages": _array(_ref("PageHit"), description="The best matching pages, best first."),
    }),
    "DocumentHit": _object({
        "id": STR, "title": STR, "title_zh": STR, "date": STR, "kind": STR, "programme": STR, "event": STR,
        "place": STR, "languages": _array(STR), "score": NUM, "title_matched": BOOL, "matched_pages": INT,
        "url": STR, "api_url": STR, "files": _array(_ref("FileHit")),
    }),
    "FacetValue": _object({"value": STR, "count": INT}),
    "Translation": _object({
        "word": _string(description="The word as typed (a Chinese word: as segmented)."),
        "terms": _array(STR, description="The other language's terms searched for it (any of them)."),
        "source": _string(enum=["glossary", "dictionary"],
                          description="The collection's glossary, or the bilingual dictionary (CC-CEDICT)."),
    }),
    "SearchResult": _object({
        "query": STR, "total": INT, "page": INT, "pages": INT, "page_size": INT,
        "sort": _string(enum=list(SORTS)),
        "expand": BOOL,
        "filters": _object({"kind": _array(STR), "year": _array(STR), "lang": _array(STR),
                            "programme": _array(STR), "place": _array(STR), "from": STR, "to": STR}),
        "facets": _object({name: _array(_ref("FacetValue")) for name in FACETS},
                          description="Per facet, each value's count among the documents matching every "
                                      "other facet's filter (what picking the value as well would add)."),
        "also_searched": _array(STR, description="Terms of the other language also searched (every translation's)."),
        "translations": _array(_ref("Translation"), description="For each word of the query translated, what was "
                               "searched besides it."),
        "any_word_fallback": BOOL,
        "did_you_mean": STR,
        "results": _array(_ref("DocumentHit")),
        "links": _object({"self": STR, "html": STR, "csv": STR, "json": STR, "prev": STR, "next": STR},
                         required=["self", "html", "csv", "json"]),
    }),
    "ListedFile": _object({"file": STR, "lang": STR, "format": STR, "url": STR}),
    "ListedDocument": _object({
        "id": STR, "title": STR, "title_zh": STR, "date": STR, "kind": STR, "programme": STR, "event": STR,
        "place": STR, "summary": STR, "languages": _array(STR), "files": _array(_ref("ListedFile")),
        "added_at": STR, "catalogued": BOOL, "url": STR,
    }),
    "DocumentList": _object({"order": _string(enum=list(BROWSE_ORDERS)), "total": INT,
                             "documents": _array(_ref("ListedDocument"))}),
    "DocumentFile": _object({
        "file": STR, "lang": STR, "format": STR,
        "status": _string(description="indexed, partial, failed, encrypted, needs_ocr, waiting…"),
        "reason": STR, "pages": INT, "chars": INT, "extractor": STR, "failed_pages": _array(INT),
        "reading": _string(description="Which pages needed another reader (PDFium, OCR) and why; empty if none."),
        "available": {**BOOL, "description": "Whether the file is in the archive."},
        "url": NULLABLE_STR, "download_url": NULLABLE_STR,
        "matched_pages": _array(_object({"page": INT, "url": STR, "pdf_url": STR})),
        "page_texts": _array(_object({"page": INT, "html": STR, "text": STR}),
                             description="Left out with ?pages=0."),
    }, required=["file", "lang", "format", "status", "reason", "pages", "chars", "extractor", "failed_pages",
                 "available", "url", "download_url", "matched_pages"]),
    "Document": _object({
        "id": STR, "title": STR, "title_zh": STR, "date": STR, "kind": STR, "programme": STR, "event": STR,
        "place": STR, "summary": STR, "catalogued": BOOL, "added_at": STR, "languages": _array(STR),
        "query": STR, "url": STR, "files": _array(_ref("DocumentFile")),
        "related": _array(_object({"id": STR, "title": STR, "url": STR, "api_url": STR})),
    }),
    "Suggestions": _object({"query": STR, "suggestions": _array(STR)}),
    "OpenSearchSuggestions": _array({"oneOf": [STR, _array(STR)]}, minItems=2, maxItems=2,
                                    description="[query, [completions]] (the OpenSearch suggestions format)."),
    "FileStatus": _object({
        "path": STR, "doc_id": STR, "status": STR, "reason": STR, "pages": INT, "chars": INT, "extractor": STR,
        "failed_pages": _array(INT), "indexed_at": STR,
        "readers": _array(_object({"extractor": STR, "why": STR, "pages": _array(INT)}),
                          description="Which reader gave which pages, and why (empty why: the first reader, "
                                      "without trouble)."),
        "reading": _string(description="The readers that needed a reason, in a sentence; empty if none."),
    }),
    "Status": _object({
        "built": BOOL, "documents": INT, "pages": INT, "files": _array(_ref("FileStatus")),
        "last_update": STR, "version": STR, "version_ok": BOOL,
        "waiting": _array(STR, description="Files on disk not (yet) indexed as they are."),
        "missing": _array(STR, description="Files indexed but gone from the archive."),
        "generation": STR, "counts": {"type": "object", "additionalProperties": INT},
        "update": _ref("UpdateOutcome"),
    }),
    "UpdateOutcome": _object({
        "ended_at": STR, "ok": BOOL, "healthy": BOOL, "error": STR,
        "error_kind": _string(enum=["", "disk_full", "disk", "catalogue", "config", "locked", "removals_held",
                                    "other"]),
        "failing_since": STR, "failures": INT, "failing_for_s": {"type": "integer", "nullable": True},
        "last_success": STR,
        "held_removals": _array(STR, description="Files gone from the archive, kept in the index until confirmed."),
        "held_reason": STR,
    }, description="How the last update ended: its error and since when updates fail, or the removals it held back."),
    "Health": _object({"status": _string(enum=["ok"]), "index": BOOL, "documents": INT, "pages": INT,
                       "last_update": STR, "version_ok": BOOL, "update": _ref("UpdateOutcome")}),
    "Unhealthy": _object({"status": _string(enum=["unavailable", "failing", "removals_held"]), "index": BOOL,
                          "reason": STR, "documents": INT, "pages": INT, "last_update": STR, "version_ok": BOOL,
                          "failing_for_s": {"type": "integer", "nullable": True}, "update": _ref("UpdateOutcome")},
                         required=["status", "index", "reason"]),
}


def _filter_param(name: str, description: str, values=None) -> dict:
    items = _string(maxLength=MAX_VALUE_CHARS, **({"enum": list(values)} if values else {}))
    return {"name": name, "in": "query", "required": False, "description": description, "style": "form",
            "explode": True, "schema": _array(items, maxItems=MAX_VALUES_PER_FILTER)}


def openapi_document(max_query_chars: int) -> dict:
    """The OpenAPI document; MAX_QUERY_CHARS is the configured longest query."""
    q = {"name": "q", "in": "query", "required": False, "schema": _string(maxLength=max_query_chars),
         "description": "The query: words, \"phrases\", Chinese terms, AND/OR/NOT, -word, +word, "
                        "field:word (title:, place:, event:, kind:…), word* (not at the start). Empty with a filter: "
                        "every document under the filters, newest first unless sort says otherwise."}
    expand = {"name": "expand", "in": "query", "required": False, "schema": BOOL,
              "description": "Also search the glossary's terms in the other language (default from the settings)."}
    date = {"pattern": r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"}
    query_error = _error("QueryError")
    unavailable = _error("Unavailable")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "EU–China Regional Policy Dialogue Archive API",
            "version": "1",
            "description": "Full-text search of the archive's documents in English and Chinese, the documents' "
                           "metadata and page texts, and the state of the index. Every answer is JSON; errors "
                           "have the Error shape. The same data as the HTML pages.",
        },
        "paths": {
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "Search the documents; one result per document with its matching pages.",
                "parameters": [
                    q,
                    _filter_param("kind", "Only documents of these kinds.", KINDS),
                    _filter_param("year", "Only documents of these years (YYYY, or \"undated\")."),
                    _filter_param("lang", "Only documents with pages in these languages.", list(LANGUAGES)),
                    _filter_param("programme", "Only documents of these programmes.", list(PROGRAMMES)),
                    _filter_param("place", "Only documents of these places (the catalogue's place)."),
                    {"name": "from", "in": "query", "required": False, "schema": _string(**date),
                     "description": "Dated on or after (YYYY, YYYY-MM or YYYY-MM-DD)."},
                    {"name": "to", "in": "query", "required": False, "schema": _string(**date),
                     "description": "Dated on or before (YYYY, YYYY-MM or YYYY-MM-DD)."},
                    {"name": "page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
                    {"name": "sort", "in": "query", "required": False,
                     "schema": _string(enum=list(SORTS), default="relevance")},
                    expand,
                ],
                "responses": {"200": _json(_ref("SearchResult"), "A page of results."),
                              "400": query_error, "503": unavailable},
            }},
            "/api/documents": {"get": {
                "operationId": "listDocuments",
                "summary": "Every document's metadata.",
                "parameters": [{"name": "order", "in": "query", "required": False,
                                "schema": _string(enum=list(BROWSE_ORDERS), default="date")}],
                "responses": {"200": _json(_ref("DocumentList"), "All documents."),
                              "400": _error("BadRequest"), "503": unavailable},
            }},
            "/api/documents/{id}": {"get": {
                "operationId": "getDocument",
                "summary": "One document: metadata, files with their status, page texts; with q, its matching pages.",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": _string(pattern=DOC_ID.pattern)},
                    q, expand,
                    {"name": "pages", "in": "query", "required": False, "schema": BOOL,
                     "description": "false leaves out the page texts."},
                ],
                "responses": {"200": _json(_ref("Document"), "The document."),
                              "404": _error("NotFound"), "503": unavailable},
            }},
            "/api/suggest": {"get": {
                "operationId": "suggest",
                "summary": "Completions of what is being typed (English words or Chinese words of the index).",
                "parameters": [
                    {"name": "q", "in": "query", "required": False, "schema": _string(maxLength=max_query_chars)},
                    {"name": "format", "in": "query", "required": False, "schema": _string(enum=["opensearch"]),
                     "description": "opensearch: the OpenSearch suggestions format."},
                ],
                "responses": {
                    "200": {"description": "The completions.", "content": {
                        "application/json": {"schema": _ref("Suggestions")},
                        "application/x-suggestions+json": {"schema": _ref("OpenSearchSuggestions")},
                    }},
                    "503": unavailable,
                },
            }},
            "/api/status": {"get": {
                "operationId": "status",
                "summary": "What the index holds: counts, last update, files waiting, every failed file with its reason.",
                "responses": {"200": _json(_ref("Status"), "The status (also when no index has been built).")},
            }},
            "/healthz": {"get": {
                "operationId": "health",
                "summary": "For monitoring: whether the index opens and updates succeed, its document count and last update.",
                "responses": {"200": _json(_ref("Health"), "The index opens and the last update succeeded."),
                              "503": _json(_ref("Unhealthy"), "The index is missing or does not open (unavailable), "
                                           "updates fail (failing), or removals wait for a confirmation "
                                           "(removals_held); `reason` says which, the site answers meanwhile.")},
            }},
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                "QueryError": _json(_ref("Error"), "The query or a parameter cannot be used; the message says why."),
                "BadRequest": _json(_ref("Error"), "A parameter has a value that is not allowed."),
                "NotFound": _json(_ref("Error"), "There is no such document."),
                "Unavailable": _json(_ref("Error"), "No index has been built yet."),
            },
        },
    }


@bp.get("/api/openapi.json")
def document():
    """The OpenAPI document of the JSON API, with the site's sub-path as its server."""
    doc = openapi_document(settings().max_query_chars)
    if request.script_root:
        doc["servers"] = [{"url": request.script_root}]
    return jsonify(doc)
