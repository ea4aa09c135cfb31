"""The site's links: its sub-path, fast url_for for the templates' many links, documents, files, static files.

The HTML pages, the JSON API and the exports all build their links here, so
a page hit links to the same place everywhere. This module imports no other
module of the web app: every one of them may import it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request, url_for

# werkzeug's query-string encoding (werkzeug.urls._urlencode): these stay as they are.
_QUERY_SAFE = "!$'()*,/:;?@"
# Paths kept per application; a results page links to ten documents, an archive has a few thousand.
_PATHS_KEPT = 20_000


@dataclass
class LinkCache:
    """link_url's memory, per application: each endpoint's path arguments, and the paths built."""

    rule_arguments: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)


def init_app(app: Flask) -> None:
    """Give APP the memory link_url keeps."""
    app.extensions["archive_links"] = LinkCache()


def normalize_prefix(prefix: str) -> str:
    """"/archive" from "archive/", "/archive/" or "/archive"; "" for the root."""
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


def link_url(endpoint: str, /, **values) -> str:
    """url_for(ENDPOINT, **VALUES) for a link of this site, with the path of each (endpoint, path
    arguments) built once; the other values make the query string, as url_for makes it.

    A results page holds about 130 links, and werkzeug spends most of each
    url_for on the rule's path. Options (_external, _anchor, ...) and
    blueprint-relative endpoints go to url_for itself.
    """
    if endpoint[:1] == "." or any(key[:1] == "_" for key in values) or not has_request_context():
        return url_for(endpoint, **values)
    state = current_app.extensions["archive_links"]
    names = state.rule_arguments.get(endpoint)
    if names is None:
        # Only an endpoint of one rule without defaults: werkzeug picks among
        # several rules, and drops a value equal to a default, by the values.
        try:
            rules = list(current_app.url_map.iter_rules(endpoint))
        except KeyError:    # no such endpoint: url_for raises its BuildError
            rules = []
        names = state.rule_arguments[endpoint] = (
            frozenset(rules[0].arguments) if len(rules) == 1 and not rules[0].defaults else False)
    if names is False:
        return url_for(endpoint, **values)
    path_values = tuple(sorted((k, v) for k, v in values.items() if k in names)) if names else ()
    key = (request.script_root, endpoint, path_values)
    try:
        path = state.paths.get(key)
    except TypeError:       # a path value that is not hashable: url_for says what is wrong
        return url_for(endpoint, **values)
    if path is None:
        path = url_for(endpoint, **dict(path_values))
        if len(state.paths) >= _PATHS_KEPT:
            state.paths.clear()
        state.paths[key] = path
    query = []
    for name, value in values.items():
        if name in names or value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            query.extend(_query_pair(name, v) for v in value if v is not None)
        else:
            query.append(_query_pair(name, value))
    return f"{path}?{'&'.join(query)}" if query else path


def _query_pair(name: str, value) -> str:
    """"name=value" as urlencode() encodes the pair in a query string (which joins its pairs with "&")."""
    try:
        return _encoded_pair(name, value)
    except TypeError:       # a value that is not hashable
        return urlencode([(name, value)], safe=_QUERY_SAFE)


# The links of a results page repeat the query and its filters in every link (about 130 pairs a
# page, quoting the same words each time). Typed: 1 and True are different values here.
@lru_cache(maxsize=8192, typed=True)
def _encoded_pair(name: str, value) -> str:
    return urlencode([(name, value)], safe=_QUERY_SAFE)


def static_url(filename: str) -> str:
    """URL of a static file with a content hash, so browsers re-fetch it only when it changes."""
    return link_url("static", filename=filename, v=_static_version(current_app.static_folder, filename))


@lru_cache(maxsize=64)
def _static_version(folder: str, filename: str) -> str:
    try:
        return hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def document_url(doc_id: str, q: str = "", expand: bool | None = None, lang: str = "", page: int | None = None,
                 external: bool = False) -> str:
    """The document page, optionally with the query's highlights, a language version and a page anchor."""
    args = {}
    if q:
        args["q"] = q
    if expand is not None:
        args["expand"] = "1" if expand else "0"
    if lang:
        args["lang"] = lang
    if page:
        args["page"] = page
    url = (url_for("documents.show", doc_id=doc_id, _external=True, **args) if external
           else link_url("documents.show", doc_id=doc_id, **args))
    return f"{url}#page-{page}" if page else url


def file_url(doc_id: str, lang: str, page: int | None = None, download: bool = False,
             external: bool = False) -> str:
    """The file of one language version; browsers' PDF viewers open it at #page=N."""
    args = {"download": "1"} if download else {}
    url = (url_for("documents.file", doc_id=doc_id, lang=lang, _external=True, **args) if external
           else link_url("documents.file", doc_id=doc_id, lang=lang, **args))
    return f"{url}#page={page}" if page else url
