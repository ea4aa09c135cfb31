"""Placeholder of the upload page (issue 4): says whether uploads are on; the upload itself comes later."""

from __future__ import annotations

from flask import Blueprint, render_template

from .site import settings

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def index():
    """Uploads are off unless admin_password_hash is set in the configuration."""
    enabled = bool(settings().admin_password_hash)
    return render_template("admin/index.html", enabled=enabled), (501 if enabled else 403)
