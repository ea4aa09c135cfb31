"""The one place that turns errors into answers: an HTML page or, for API clients, JSON.

A query the indexer cannot run (SearchQueryError) is the user's mistake: 400
with the indexer's message, which is written to be shown. A missing index is
503 with how to build it. Anything else is logged with the request id and
answered with a generic 500 that shows no PDF text and no query.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer.errors import IndexMissingError, SearchQueryError

from . import i18n

log = logging.getLogger(__name__)

# Paths whose errors are always JSON, whatever the Accept header says.
JSON_PATHS = ("/api/", "/healthz", "/export.json")


def init_app(app: Flask) -> None:
    """Register the handlers on APP."""
    app.register_error_handler(SearchQueryError, _query_error)
    app.register_error_handler(IndexMissingError, _index_missing)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def wants_json() -> bool:
    """True for API paths, and for clients that prefer JSON to HTML."""
    if request.path.startswith(JSON_PATHS):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(status: int, title: str, message: str, kind: str = "error"):
    """An error answer as JSON or as the HTML error page."""
    request_id = g.get("request_id", "")
    if wants_json():
        body = {"error": {"status": status, "title": title, "message": message, "kind": kind,
                          "request_id": request_id}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=title, message=message, kind=kind,
                           request_id=request_id), status


def _query_error(exc: SearchQueryError):
    return render_error(400, i18n.translate("query_error"), i18n.error_message(exc), kind="query")


def _index_missing(exc: IndexMissingError):
    return render_error(503, i18n.translate("error_503"), i18n.translate("status_not_built"), kind="index")


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if status == 404:
        return render_error(404, i18n.translate("error_404"), i18n.translate("error_404_text"), kind="not_found")
    if status >= 500:
        return render_error(status, i18n.translate("error_500"), i18n.translate("error_500_text"))
    key = f"error_{status}"
    title = i18n.translate(key) if key in i18n.MESSAGES else exc.name
    response = render_error(status, title, exc.description or "")
    if status == 405 and exc.get_response().headers.get("Allow"):
        body, code = response
        return body, code, {"Allow": exc.get_response().headers["Allow"]}
    return response


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error (request id %s)", g.get("request_id", ""))
    return _http_error(InternalServerError())
