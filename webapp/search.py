"""The search page: the query box, results with their matching pages, facets; and the query help."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, render_template, request

from indexer.service import DICTIONARY_LICENCE, DICTIONARY_NAME, DICTIONARY_URL

from .params import SearchParams
from .site import snapshot

bp = Blueprint("search", __name__)

# What the help page says of the bilingual dictionary (its licence asks to be named).
DICTIONARY = SimpleNamespace(name=DICTIONARY_NAME, licence=DICTIONARY_LICENCE, url=DICTIONARY_URL)

# Documents listed on the home page.
HOME_LATEST = 6


@bp.get("/")
def home():
    """The home page; with ?q= or a filter it is the results page (so `/?q=…` links work too)."""
    params = SearchParams.from_args(request.args)
    if params.q or params.has_filters:
        return _results_page(params)
    index = snapshot()
    return render_template("search/home.html", params=params, status=index.status(check_disk=False),
                           latest=index.list_documents(order="date")[:HOME_LATEST])


@bp.get("/search")
def results():
    """Results of the query in ?q= with the filters, sort and page of the URL; filters alone list their documents."""
    params = SearchParams.from_args(request.args)
    if not params.q and not params.has_filters:
        return home()
    return _results_page(params)


def _results_page(params: SearchParams):
    result = snapshot().search(params.q, params.filters, params.page, params.sort, params.expand)
    return render_template("search/results.html", params=params, result=result)


@bp.get("/help", endpoint="help")
def query_help():
    """How to write queries, with examples that are links."""
    return render_template("search/help.html", params=SearchParams(), dictionary=DICTIONARY)
