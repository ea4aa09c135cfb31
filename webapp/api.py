"""The JSON API: the same data as the pages, for scripts and other tools."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from .documents import load_document
from .params import SearchParams, parse_bool
from .serialize import document_dict, listing_dict, result_dict
from .site import snapshot

bp = Blueprint("api", __name__, url_prefix="/api")

BROWSE_ORDERS = ("date", "kind", "added")


@bp.get("/search", endpoint="search")
def search_json():
    """Search: ?q=&kind=&year=&lang=&programme=&from=&to=&page=&sort=&expand=."""
    params = SearchParams.from_args(request.args)
    result = snapshot().search(params.q, params.filters, params.page, params.sort, params.expand)
    return jsonify(result_dict(result, params))


@bp.get("/documents")
def documents():
    """Every document's metadata: ?order=date|kind|added."""
    order = request.args.get("order", "date")
    if order not in BROWSE_ORDERS:
        abort(400, description=f"order must be one of {', '.join(BROWSE_ORDERS)}")
    docs = snapshot().list_documents(order=order)
    return jsonify({"order": order, "total": len(docs), "documents": [listing_dict(d) for d in docs]})


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    """One document; with ?q= its matching pages; ?pages=0 leaves out the page texts."""
    q = request.args.get("q", "").strip()
    expand = parse_bool(request.args.get("expand"))
    doc = load_document(doc_id, text=q, expand=expand)
    return jsonify(document_dict(doc, q, expand, with_pages=parse_bool(request.args.get("pages")) is not False))


@bp.get("/suggest")
def suggestions():
    """Completions of what is being typed; ?format=opensearch gives the OpenSearch suggestions format."""
    q = request.args.get("q", "")
    found = snapshot().suggest(q)
    if request.args.get("format") == "opensearch":
        response = jsonify([q, found])
        response.mimetype = "application/x-suggestions+json"
        return response
    return jsonify({"query": q, "suggestions": found})
