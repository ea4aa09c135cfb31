"""What every page shares: the archive service, template helpers, the interface-language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, request, url_for

from indexer.config import Settings
from indexer.service import ArchiveService, IndexSnapshot

from . import i18n, links
from .links import document_url, file_url, link_url, static_url
from .params import page_window

bp = Blueprint("site", __name__)

# The interface-language cookie lives for a year.
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def init_app(app: Flask, service: ArchiveService) -> None:
    """Attach the archive service, the link cache and the template helpers to APP."""
    app.extensions["archive"] = service
    links.init_app(app)
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
    """Read what searches keep in memory before APP's server answers (see ArchiveService.warm_up)."""
    app.extensions["archive"].warm_up()


def archive() -> ArchiveService:
    """The archive service of the running application."""
    return current_app.extensions["archive"]


def settings() -> Settings:
    """The settings of the running application."""
    return current_app.extensions["archive"].settings


def snapshot() -> IndexSnapshot:
    """This request's view of the index: the newest committed state, taken once per request.

    Every answer of one request then comes from one index state, and the
    X-Index-Generation header names it. Raises IndexMissingError before the
    first build.
    """
    if "index_snapshot" not in g:
        g.index_snapshot = current_app.extensions["archive"].snapshot()
        g.index_generation = g.index_snapshot.generation
    return g.index_snapshot


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


def language_switch_url() -> str:
    """Link that switches the interface to the other language and comes back to this page."""
    lang = "zh" if i18n.current_language() == "en" else "en"
    here = request.full_path if request.query_string else request.path
    return url_for("site.language", set=lang, next=here)


def safe_next(target: str | None) -> str:
    """TARGET if it is a path inside this site, else the home page (no open redirects)."""
    # Control characters (CR, LF) would split the Location header: such a target is not followed.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable()):
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
