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
    """For monitoring: 200 when the index opens and updates succeed; else 503 with the reason (and its age)."""
    try:
        st = snapshot().status(check_disk=False)
    except IndexMissingError:
        update = archive().status(check_disk=False).update
        return jsonify({"status": "unavailable", "index": False, "reason": "no index has been built yet",
                        "update": update}), 503
    except Exception:  # noqa: BLE001 - a health check reports any failure to open the index
        log.exception("health check: the index does not open")
        return jsonify({"status": "unavailable", "index": False, "reason": "the index does not open"}), 503
    body = {"status": "ok", "index": True, "documents": st.documents, "pages": st.pages,
            "last_update": st.last_update, "version_ok": st.version_ok, "update": st.update}
    if st.update and not st.update.get("healthy", True):
        # The site still answers from the last good index, but updates are not getting through:
        # someone must act (free the disk, fix the catalogue, confirm or undo removals).
        held = st.update.get("error_kind") == "removals_held"
        body.update(status="removals_held" if held else "failing", reason=st.update.get("error", ""),
                    failing_for_s=st.update.get("failing_for_s"))
        return jsonify(body), 503
    return jsonify(body)
