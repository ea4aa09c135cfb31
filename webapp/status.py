"""What the index holds: the status page, its JSON twin, and the health check for monitoring."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template

from indexer.errors import IndexMissingError

from .site import archive, snapshot

bp = Blueprint("status", __name__)
log = logging.getLogger(__name__)


def current_status(check_disk: bool = True):
    """The index status, also when no index has been built yet."""
    try:
        index = snapshot()
    except IndexMissingError:
        return archive().status(check_disk=check_disk)
    return index.status(check_disk=check_disk)


@bp.get("/status")
def page():
    """Documents, pages, last update, files waiting, and every failed file with its reason."""
    return render_template("status/status.html", status=current_status())


@bp.get("/api/status")
def status_json():
    """The status page as JSON."""
    return jsonify(current_status().as_dict())


@bp.get("/healthz")
def healthz():
    """For monitoring: 200 when the index opens, with its document count and last update; else 503."""
    try:
        st = snapshot().status(check_disk=False)
    except IndexMissingError:
        return jsonify({"status": "unavailable", "index": False, "reason": "no index has been built yet"}), 503
    except Exception:  # noqa: BLE001 - a health check reports any failure to open the index
        log.exception("health check: the index does not open")
        return jsonify({"status": "unavailable", "index": False, "reason": "the index does not open"}), 503
    return jsonify({"status": "ok", "index": True, "documents": st.documents, "pages": st.pages,
                    "last_update": st.last_update, "version_ok": st.version_ok})
