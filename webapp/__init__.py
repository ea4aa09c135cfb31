"""The web front end of the archive: a thin Flask layer over the indexer library.

`create_app(settings)` builds the application; importing this package has no
side effects. The application holds one `indexer.service.ArchiveService`
(webapp.site hands it out): views parse the request, ask it, get plain
dataclasses back, and render a template or JSON.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask

from indexer.config import Settings, load_settings

from .links import normalize_prefix

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web application for SETTINGS (default: config.toml or $ARCHIVE_CONFIG)."""
    from indexer.service import ArchiveService

    from . import admin, api, browse, documents, errors, export, limits, logs, openapi, search, security, site, status

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
        # Static files carry a content hash in their URL (see links.static_url), so they may be cached long.
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=7),
    )
    # Chinese stays readable in JSON answers; "<" needs no escaping in application/json served with nosniff.
    app.json.ensure_ascii = False
    app.jinja_env.lstrip_blocks = True

    logs.init_app(app, settings)
    # Loads the jieba dictionary of the index now (slow, once per process), not in the first Chinese search.
    site.init_app(app, ArchiveService(settings))
    security.init_app(app, settings)
    errors.init_app(app)
    admin.init_app(app)
    limits.init_app(app, settings)
    for module in (search, documents, api, browse, export, status, admin, openapi):
        app.register_blueprint(module.bp)
    return app
