"""For people who don't know what to search for: the list of documents, the Atom feed, OpenSearch."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from itertools import groupby

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for

from . import i18n
from .params import SearchParams
from .site import snapshot

bp = Blueprint("browse", __name__)

ORDERS = ("date", "kind")
# Entries in the Atom feed: the most recently added documents.
FEED_ENTRIES = 50
# Namespace of the feed's entry ids: stable whatever host name the site is reached by.
FEED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:eu-china-regional-policy-archive")


@bp.get("/browse")
def index():
    """All documents, grouped by year (?order=date) or by kind (?order=kind)."""
    order = request.args.get("order", "date")
    if order not in ORDERS:
        abort(400, description=f"order must be one of {', '.join(ORDERS)}")
    docs = snapshot().list_documents(order=order)
    if order == "kind":
        groups = [(i18n.label("kind", k), list(items)) for k, items in groupby(docs, key=lambda d: d.get("kind", ""))]
    else:
        groups = [(year or i18n.translate("undated"), list(items))
                  for year, items in groupby(docs, key=lambda d: (d.get("date") or "")[:4])]
    return render_template("browse/index.html", order=order, groups=groups, total=len(docs))


# What XML 1.0 forbids anywhere in a document: C0 controls but tab, newline and carriage return;
# lone surrogates; U+FFFE and U+FFFF. The indexer keeps them out of metadata; an index made before
# that, or a summary, may still hold one, and one such character makes the whole feed unreadable.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """TEXT without the characters XML 1.0 forbids."""
    return NOT_IN_XML.sub("", text)


@bp.get("/feed.atom")
def feed():
    """Atom feed of the documents most recently added; with ?q= or filters (the search page's
    parameters), of that search's documents, newest first: an alert a feed reader can follow."""
    params = SearchParams.from_args(request.args)
    index = snapshot()
    if params.q or params.has_filters:
        result = index.search(params.q, params.filters, 1, "newest", params.expand, page_size=FEED_ENTRIES)
        by_id = {doc.get("id"): doc for doc in index.list_documents()}
        docs = [by_id[hit.doc_id] for hit in result.hits if hit.doc_id in by_id]
        search_args = params.to_args(page=1, sort="relevance")
        title = (i18n.translate("feed_query_title", q=params.q) if params.q else
                 i18n.translate("feed_filters_title", filters=", ".join(
                     f"{i18n.translate('facet_' + name)}{i18n.translate('colon')}{i18n.label(name, value)}"
                     for name, value in params.filters.active())))
        # The same search, however its parameters are ordered, is the same feed.
        feed_key = "feed?" + urlencode(sorted((k, v) for k, vs in search_args.items()
                                              for v in (vs if isinstance(vs, list) else [vs])))
        self_url = url_for("browse.feed", _external=True, **search_args)
        html_url = url_for("search.results", _external=True, **search_args)
    else:
        docs = index.list_documents(order="added")[:FEED_ENTRIES]
        title, feed_key = i18n.translate("feed_title"), "feed"
        self_url = url_for("browse.feed", _external=True)
        html_url = url_for("browse.index", _external=True)
    entries = [dict(doc, updated=rfc3339(doc.get("added_at", "")),
                    entry_id=uuid.uuid5(FEED_NAMESPACE, doc.get("id", "")).urn) for doc in docs]
    updated = max((e["updated"] for e in entries), default=rfc3339(""))
    body = xml_safe(render_template("browse/feed.xml", entries=entries, updated=updated, title=title,
                                    self_url=self_url, html_url=html_url,
                                    feed_id=uuid.uuid5(FEED_NAMESPACE, feed_key).urn))
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}


@bp.get("/opensearch.xml")
def opensearch():
    """OpenSearch description, so browsers can add the archive as a search engine."""
    base = url_for("search.results", _external=True)
    body = render_template("browse/opensearch.xml", search_template=base + "?q={searchTerms}",
                           suggest_template=url_for("api.suggestions", _external=True)
                           + "?format=opensearch&q={searchTerms}",
                           feed_template=url_for("browse.feed", _external=True) + "?q={searchTerms}")
    return body, 200, {"Content-Type": "application/opensearchdescription+xml; charset=utf-8"}


def rfc3339(stamp: str) -> str:
    """An index time stamp (local time, no zone) as an RFC 3339 date-time; now if empty or unreadable."""
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        moment = datetime.now(timezone.utc)
    return moment.isoformat(timespec="seconds")
