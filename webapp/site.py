"""What every page shares: the index reader, template helpers, the interface-language switch."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, current_app, g, has_request_context, redirect, request, url_for

from indexer import search as index_search
from indexer.config import Settings
from indexer.errors import IndexMissingError
from indexer.readers import IndexReaderPool

from . import i18n

bp = Blueprint("site", __name__)
log = logging.getLogger(__name__)

# The interface-language cookie lives for a year.
LANG_COOKIE_SECONDS = 365 * 24 * 3600


@dataclass
class ArchiveState:
    """Per-application state: the settings and one reader pool (a searcher per thread)."""

    settings: Settings
    readers: IndexReaderPool
    # link_url's: each endpoint's path arguments, and the paths built.
    rule_arguments: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the reader pool and the template helpers to APP."""
    app.extensions["archive"] = ArchiveState(settings, IndexReaderPool(settings.index_dir))
    from .params import page_window
    from .serialize import document_url, file_url

    app.jinja_env.globals.update(
        document_url=document_url,
        file_url=file_url,
        page_window=page_window,
        t=i18n.translate,
        label=i18n.label,
        plural=i18n.plural,
        static_url=static_url,
        # The templates' url_for, faster for their many links (see link_url).
        url_for=link_url,
        language_switch_url=language_switch_url,
    )
    app.context_processor(_template_context)
    app.after_request(_index_generation_header)
    app.register_blueprint(bp)


def warm_up(app: Flask) -> None:
    """Read what searches keep in memory (indexer.search.warm_up) before a server answers, so that
    its first searches are as fast as the next ones. Without an index yet, nothing is read; a
    failure is logged and the server starts all the same (its searches then say what is wrong)."""
    readers = app.extensions["archive"].readers
    try:
        index_search.warm_up(readers.searcher())
    except IndexMissingError:
        pass
    except Exception:   # noqa: BLE001 - warming is an optimisation: it must never keep the site down
        log.warning("could not read the index ahead of the first search", exc_info=True)
    finally:
        # Request threads open their own searchers; what warming read stays shared per segment.
        readers.close()


def settings() -> Settings:
    """The settings of the running application."""
    return current_app.extensions["archive"].settings


def searcher():
    """This request's searcher, on the newest committed index (opened once per request)."""
    if "searcher" not in g:
        readers = current_app.extensions["archive"].readers
        g.searcher = readers.searcher()
        g.index_generation = readers.generation()
    return g.searcher


def _index_generation_header(response):
    """X-Index-Generation: which index generation answered (a rebuild makes a new one); for load tests and support."""
    if g.get("index_generation"):
        response.headers["X-Index-Generation"] = g.index_generation
    return response


def _template_context() -> dict:
    lang = i18n.current_language()
    return {
        "ui_lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "other_ui_lang": "zh" if lang == "en" else "en",
    }


# werkzeug's query-string encoding (werkzeug.urls._urlencode): these stay as they are.
_QUERY_SAFE = "!$'()*,/:;?@"
# Paths kept per application; a results page links to ten documents, an archive has a few thousand.
_PATHS_KEPT = 20_000


def link_url(endpoint: str, /, **values) -> str:
    """url_for(ENDPOINT, **VALUES) for a link of this site, with the path of each (endpoint, path
    arguments) built once; the other values make the query string, as url_for makes it.

    A results page holds about 130 links; werkzeug builds each in about 20 µs,
    most of it the rule's path. Options (_external, _anchor, ...) and
    blueprint-relative endpoints go to url_for itself.
    """
    if endpoint[:1] == "." or any(key[:1] == "_" for key in values) or not has_request_context():
        return url_for(endpoint, **values)
    state = current_app.extensions["archive"]
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


def language_switch_url() -> str:
    """Link that switches the interface to the other language and comes back to this page."""
    lang = "zh" if i18n.current_language() == "en" else "en"
    here = request.full_path if request.query_string else request.path
    return url_for("site.language", set=lang, next=here)


def safe_next(target: str | None) -> str:
    """TARGET if it is a path inside this site, else the home page (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return request.script_root + target
    return url_for("search.home")


@bp.get("/language")
def language():
    """Switch the interface language (remembered in a cookie) and go back."""
    lang = request.args.get("set", "")
    response = redirect(safe_next(request.args.get("next")), code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=LANG_COOKIE_SECONDS, path=request.script_root or "/",
                            samesite="Lax", httponly=True, secure=request.is_secure)
    return response
