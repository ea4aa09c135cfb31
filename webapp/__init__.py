"""The web front end of the archive: a thin Flask layer over the indexer library.

`create_app(settings)` builds the application; importing this package has no
side effects. Views parse the request, call one `indexer` function that
returns plain dataclasses, and render a template or JSON.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask

from indexer.config import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web application for SETTINGS (default: config.toml or $ARCHIVE_CONFIG)."""
    from indexer.engine import analysis
    from . import admin, api, browse, documents, errors, export, logs, openapi, search, security, site, status

    settings = settings or load_settings()
    app = Flask(__name__)
    # Settings are mapped explicitly: Flask's from_mapping drops lower-case keys.
    app.config.update(
        ARCHIVE_SETTINGS=settings,
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        APPLICATION_ROOT=normalize_prefix(settings.url_prefix) or "/",
        MAX_CONTENT_LENGTH=settings.upload_max_mb * 1024 * 1024,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        SESSION_COOKIE_HTTPONLY=True,
        # The only cookie session is the admin's (webapp/admin.py): never sent from another site.
        SESSION_COOKIE_SAMESITE="Strict",
        # Static files carry a content hash in their URL (see site.static_url), so they may be cached long.
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=7),
    )
    # Chinese stays readable in JSON answers; "<" needs no escaping in application/json served with nosniff.
    app.json.ensure_ascii = False
    app.jinja_env.lstrip_blocks = True

    logs.init_app(app, settings)
    site.init_app(app, settings)
    security.init_app(app, settings)
    errors.init_app(app)
    admin.init_app(app)
    for module in (search, documents, api, browse, export, status, admin, openapi):
        app.register_blueprint(module.bp)

    # Queries are segmented with the same jieba dictionary as the index; loading it
    # now (about a second) keeps that delay out of the first Chinese search.
    analysis.configure_segmenter(settings.userdict)
    return app


def normalize_prefix(prefix: str) -> str:
    """"/archive" from "archive/", "/archive/" or "/archive"; "" for the root."""
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""
