"""The upload page (issue 4): an administrator adds a PDF and its catalogue entry, and it is indexed at once.

Off unless `admin_password_hash` is set. Protection:
- the password is checked with werkzeug's check_password_hash (a salted hash,
  compared in constant time); after each failed attempt from an address, the
  next attempt from it must wait, doubling up to 30 s (in memory; the web workers
  of `python -m webapp` share one table, see LoginThrottle);
- the session is Flask's signed cookie (`secret_key`), HttpOnly, SameSite=Strict,
  Secure when the request came over https; it ends `session_minutes` after the
  login, checked on the server, whatever the browser keeps, and at logout: the
  cookie holds a session id that counts only while the server's table of open
  sessions has it (AdminSessions), so a saved copy of the cookie is refused;
- admin pages are sent with `Cache-Control: no-store`;
- every form that changes something (log in, log out, upload) carries a CSRF
  token bound to the session. Our own twenty lines rather than Flask-WTF: the
  site has three small forms and no other use for WTForms; a token from
  `secrets`, kept in the signed session and compared with hmac.compare_digest,
  is all Flask-WTF's CSRFProtect would do here.

The checks of the file itself and the all-or-nothing write live in
indexer.ingest; this module only handles the request.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import time

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.security import check_password_hash

from indexer.config import load_settings
from indexer.errors import CatalogueError, ConfigError, IndexerError, IndexLockedError, IndexMissingError, UploadError
from indexer.service import EDITABLE_FIELDS, KINDS, LANGUAGES, PROGRAMMES, UploadFields

from . import i18n
from .errors import render_error
from .shared import SharedTable
from .site import archive, settings

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Lock-out after failed logins: 1 s after the first, doubling up to 30 s; forgotten after 15 quiet minutes.
LOCKOUT_BASE_S = 1.0
LOCKOUT_MAX_S = 30.0
LOCKOUT_FORGET_S = 15 * 60
# Addresses remembered at most (a flood of addresses cannot fill the memory).
LOCKOUT_MAX_CLIENTS = 10_000
# Kinds offered in the form: "document" is what the indexer gives files without an entry.
UPLOAD_KINDS = tuple(k for k in KINDS if k != "document")
FIELD_NAMES = ("title", "title_zh", "date", "kind", "lang", "programme", "version_of")
# The longest value accepted in a text field.
MAX_FIELD_CHARS = 500


def wall_clock() -> float:
    """Seconds since the epoch (a function, so tests can move time on)."""
    return time.time()


def monotonic() -> float:
    """Monotonic seconds for the lock-out (a function, so tests can move time on)."""
    return time.monotonic()


class AdminSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, SameSite=Strict, and Secure whenever the request is https."""

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Strict"

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class LoginThrottle:
    """Failed login attempts per client address, and how long each must wait before the next.

    A SharedTable: the web workers of `python -m webapp` share one (webapp/workers.py).
    """

    def __init__(self, shared_fd: int | None = None):
        self._table = SharedTable(shared_fd)   # address -> (failures, allowed at, last failure)

    def _state(self):
        return self._table.rows()

    def wait(self, client: str) -> float:
        """Seconds CLIENT must still wait before trying again (0: may try now)."""
        with self._state() as clients:
            failures, allowed_at, _ = clients.get(client, (0, 0.0, 0.0))
        return max(0.0, allowed_at - monotonic()) if failures else 0.0

    def failed(self, client: str) -> float:
        """Record a failure; return the delay before CLIENT's next attempt."""
        now = monotonic()
        with self._state() as clients:
            failures, _, last = clients.get(client, (0, 0.0, 0.0))
            if failures and now - last > LOCKOUT_FORGET_S:
                failures = 0
            failures += 1
            delay = min(LOCKOUT_MAX_S, LOCKOUT_BASE_S * 2 ** (failures - 1))
            clients[client] = (failures, now + delay, now)
            if len(clients) > LOCKOUT_MAX_CLIENTS:
                self._forget_oldest(clients, now)
            return delay

    def succeeded(self, client: str) -> None:
        """Forget CLIENT's failures."""
        with self._state() as clients:
            clients.pop(client, None)

    @staticmethod
    def _forget_oldest(clients: dict, now: float) -> None:
        quiet = [c for c, (_, _, last) in clients.items() if now - last > LOCKOUT_FORGET_S]
        for c in quiet or sorted(clients, key=lambda c: clients[c][2])[:LOCKOUT_MAX_CLIENTS // 10]:
            del clients[c]


class AdminSessions:
    """The admin sessions that are open, by id: a cookie counts only while its id is here.

    The cookie is signed, so only the server could have made it, but a signed cookie stays
    valid until it expires; logging out removes its id here, and a saved copy of the cookie is
    refused from then on. A SharedTable: every web worker sees a logout at once. It lives as long
    as the server, so a restart ends every session.
    """

    # Open sessions kept at most (each login adds one; the oldest go first).
    MAX_SESSIONS = 1000

    def __init__(self, shared_fd: int | None = None):
        self._table = SharedTable(shared_fd)   # session id -> (opened at,)

    def open(self, lifetime_s: float) -> str:
        """Record a new session and return its id; forget those older than LIFETIME_S."""
        session_id = secrets.token_urlsafe(32)
        now = wall_clock()
        with self._table.rows() as rows:
            for old in [k for k, (opened,) in rows.items() if now - opened > lifetime_s]:
                del rows[old]
            while len(rows) >= self.MAX_SESSIONS:
                del rows[min(rows, key=lambda k: rows[k][0])]
            rows[session_id] = (now,)
        return session_id

    def is_open(self, session_id) -> bool:
        """Whether SESSION_ID is a session that was opened and not closed."""
        if not isinstance(session_id, str) or not session_id:
            return False
        with self._table.rows() as rows:
            return session_id in rows

    def close(self, session_id) -> None:
        """End SESSION_ID: its cookie is refused from now on."""
        with self._table.rows() as rows:
            rows.pop(session_id, None)


def init_app(app: Flask) -> None:
    """Use the admin session cookie settings; keep the login throttle and the open sessions of APP."""
    app.session_interface = AdminSessionInterface()
    app.extensions["archive_login_throttle"] = LoginThrottle()
    app.extensions["archive_admin_sessions"] = AdminSessions()


def _throttle() -> LoginThrottle:
    return current_app.extensions["archive_login_throttle"]


def _sessions() -> AdminSessions:
    return current_app.extensions["archive_admin_sessions"]


# --- guards ----------------------------------------------------------------------------------


_password_hash_cache: dict[str, tuple[tuple, str]] = {}


def password_hash() -> str:
    """The admin password hash as the configuration file says now: a new password works without a restart.

    Read again when the file changed (its size and modification time); a file that
    no longer loads keeps the hash the server started with (and the log says why).
    """
    configured = settings().admin_password_hash
    path = settings().config_file
    if path is None:
        return configured
    try:
        st = os.stat(path)
    except OSError:
        return configured
    key = (st.st_size, st.st_mtime_ns)
    hit = _password_hash_cache.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        value = load_settings(path).admin_password_hash
    except ConfigError as exc:
        current_app.logger.warning("the configuration no longer loads; keeping the admin password: %s", exc)
        value = hit[1] if hit is not None else configured
    _password_hash_cache[str(path)] = (key, value)
    return value


@bp.before_request
def _require_enabled():
    """Every admin page is off (403, with how to turn it on) without an admin password hash."""
    if not password_hash():
        return render_template("admin/off.html"), 403
    return None


@bp.after_request
def _not_stored(response):
    """Admin pages hold a CSRF token and the catalogue: no browser or proxy cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(sent and expected) and hmac.compare_digest(sent.encode(), expected.encode())


def logged_in() -> bool:
    """Whether this session holds a login younger than session_minutes."""
    since = session.get("admin_since")
    if not isinstance(since, (int, float)):
        return False
    return 0 <= wall_clock() - since < settings().session_minutes * 60 and _sessions().is_open(session.get("sid"))


def _refuse(status: int, key: str, **values):
    """An admin error page: the message, and the way back to the login or the form."""
    return render_template("admin/refused.html", status=status, message=i18n.translate(key, **values),
                           logged_in=logged_in()), status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    limit = settings().upload_max_mb
    return render_error(413, i18n.translate("error_413"), i18n.translate("upload_too_large", limit_mb=limit))


# --- pages -----------------------------------------------------------------------------------


@bp.get("/")
def index():
    """The upload form, or the login form."""
    if not logged_in():
        return redirect(url_for("admin.login"), code=303)
    return _form()


@bp.get("/upload")
def upload_form():
    """The upload form at the address the README gives (/admin/upload), too."""
    return index()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with the admin password."""
    if request.method == "GET":
        if logged_in():
            return redirect(url_for("admin.index"), code=303)
        return render_template("admin/login.html", csrf=csrf_token())
    client = request.remote_addr or "unknown"
    wait = _throttle().wait(client)
    if wait > 0:
        seconds = int(wait) + 1
        body, status = render_template("admin/login.html", csrf=csrf_token(), error=i18n.translate(
            "login_wait", seconds=seconds)), 429
        return body, status, {"Retry-After": str(seconds)}
    if not _csrf_ok():
        return _refuse(400, "csrf_failed")
    password = request.form.get("password", "")
    if not password or not check_password_hash(password_hash(), password):
        delay = _throttle().failed(client)
        current_app.logger.warning("failed admin login", extra={"remote": client, "lockout_s": delay})
        return render_template("admin/login.html", csrf=csrf_token(),
                               error=i18n.translate("login_failed", seconds=int(delay))), 401
    _throttle().succeeded(client)
    # A fresh session: nothing from before the login carries over, and a new CSRF token.
    session.clear()
    session.permanent = True
    session["admin_since"] = wall_clock()
    session["sid"] = _sessions().open(settings().session_minutes * 60)
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(url_for("admin.index"), code=303)


@bp.post("/logout")
def logout():
    """End the session."""
    if not _csrf_ok():
        return _refuse(400, "csrf_failed")
    _sessions().close(session.get("sid"))
    session.clear()
    return redirect(url_for("admin.login"), code=303)


@bp.post("/upload")
def upload():
    """Check the upload, add it to the archive and the catalogue, index it, and show its page."""
    # The session is checked before the body is read: an anonymous client cannot make us parse a large upload.
    if not logged_in():
        expired = "admin_since" in session
        session.pop("admin_since", None)
        return _refuse(403, "session_expired" if expired else "login_required")
    if not _csrf_ok():
        return _refuse(400, "csrf_failed")
    values = {name: request.form.get(name, "").strip()[:MAX_FIELD_CHARS] for name in FIELD_NAMES}
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return _form(values, error=i18n.translate("upload_no_file"), status=400)
    fields = UploadFields(**values)
    try:
        added = archive().add_upload(storage.stream, storage.filename, fields)
    except UploadError as exc:
        return _form(values, error=upload_message(exc), status=409 if exc.code == "duplicate" else 400,
                     duplicate=exc.params.get("doc_id") if exc.code == "duplicate" else None)
    current_app.logger.info("upload saved", extra={"doc_id": added.doc_id, "file": added.file})
    try:
        archive().update()
    except IndexLockedError:
        return render_template("admin/saved.html", added=added, reason="locked"), 202
    except Exception:  # noqa: BLE001 - the file is saved whatever went wrong; say so rather than show a 500
        current_app.logger.exception("indexing the upload failed")
        return render_template("admin/saved.html", added=added, reason="failed"), 202
    return redirect(url_for("documents.show", doc_id=added.doc_id), code=303)


def _form(values: dict | None = None, error: str = "", status: int = 200, duplicate: str | None = None,
          notice: str = ""):
    values = values or {}
    try:
        entries = archive().catalogue_entries()
    except CatalogueError as exc:
        entries, error = [], error or i18n.translate("upload_catalogue_broken", detail=without_paths(str(exc)))
    entries.sort(key=lambda e: (e.date or "0000", e.id), reverse=True)
    try:
        documents = archive().snapshot().list_documents(order="date", with_unreadable=True)
    except IndexMissingError:
        documents = []
    update = archive().status(check_disk=False).update
    return render_template("admin/index.html", csrf=csrf_token(), values=values, error=error, duplicate=duplicate,
                           entries=entries, kinds=UPLOAD_KINDS, programmes=PROGRAMMES, languages=tuple(LANGUAGES),
                           limit_mb=settings().upload_max_mb, minutes=settings().session_minutes,
                           documents=documents, catalogued={e.id for e in entries}, trash=archive().trash_items(),
                           update=update, notice=notice), status


def _guard():
    """A refusal when the session or its CSRF token is not valid for a change, else None."""
    if not logged_in():
        expired = "admin_since" in session
        session.pop("admin_since", None)
        return _refuse(403, "session_expired" if expired else "login_required")
    if not _csrf_ok():
        return _refuse(400, "csrf_failed")
    return None


def _update_after_change(allow_removals: bool = False) -> str:
    """Bring the index in line after a change of the archive; return a notice when it could not be done now."""
    try:
        archive().update(allow_removals=allow_removals)
    except IndexLockedError:
        return i18n.translate("admin_update_later")
    except IndexerError as exc:
        return i18n.translate("admin_update_failed", detail=str(exc))
    except OSError as exc:
        current_app.logger.exception("updating the index after an admin change failed")
        return i18n.translate("admin_update_failed", detail=str(exc))
    return ""


@bp.post("/propose")
def propose():
    """Read the chosen file and propose its language, title and date for the upload form (JSON; nothing kept)."""
    if not logged_in():
        return jsonify({"error": i18n.translate("login_required")}), 403
    if not _csrf_ok():
        return jsonify({"error": i18n.translate("csrf_failed")}), 400
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return jsonify({"error": i18n.translate("upload_no_file")}), 400
    try:
        proposal = archive().propose_upload_fields(storage.stream, storage.filename)
    except UploadError as exc:
        return jsonify({"error": upload_message(exc)}), 400
    return jsonify({"lang": proposal.lang, "title": proposal.title, "date": proposal.date})


@bp.post("/allow-removals")
def allow_removals():
    """Confirm the removals an update held back (the files were deleted on purpose) and update the index."""
    refused = _guard()
    if refused:
        return refused
    current_app.logger.warning("admin confirmed held removals")
    notice = _update_after_change(allow_removals=True) or i18n.translate("admin_removals_done")
    return _form(notice=notice)


@bp.post("/documents/<doc_id>/remove")
def remove(doc_id: str):
    """Move a document's files to the archive's trash (restorable) and update the index."""
    refused = _guard()
    if refused:
        return refused
    try:
        item = archive().remove_document(doc_id)
    except UploadError as exc:
        return _form(error=upload_message(exc), status=404 if exc.code == "unknown_document" else 400)
    current_app.logger.info("document removed to the trash", extra={"doc_id": doc_id, "trash": item.name})
    notice = _update_after_change(allow_removals=True)
    return _form(notice=notice or i18n.translate("admin_removed", id=doc_id))


@bp.post("/trash/<name>/restore")
def restore(name: str):
    """Put a removed document back from the trash, update the index and show the document."""
    refused = _guard()
    if refused:
        return refused
    try:
        doc_id = archive().restore_document(name)
    except UploadError as exc:
        return _form(error=upload_message(exc), status=409 if exc.code == "restore_taken" else 404)
    current_app.logger.info("document restored from the trash", extra={"doc_id": doc_id, "trash": name})
    notice = _update_after_change()
    if notice:
        return _form(notice=notice)
    return redirect(url_for("documents.show", doc_id=doc_id), code=303)


@bp.route("/documents/<doc_id>/edit", methods=["GET", "POST"])
def edit(doc_id: str):
    """Correct a document's catalogue fields; the catalogue is rewritten atomically, its previous version kept."""
    if not logged_in():
        return redirect(url_for("admin.login"), code=303)
    entries = {e.id: e for e in _entries_or_empty()}
    entry = entries.get(doc_id)
    if entry is None:
        return _refuse(404, "upload_unknown_document", doc_id=doc_id)
    if request.method == "GET":
        return _edit_form(doc_id, {k: getattr(entry, k) for k in EDITABLE_FIELDS})
    refused = _guard()
    if refused:
        return refused
    values = {k: request.form.get(k, "").strip()[:MAX_FIELD_CHARS * 4] for k in EDITABLE_FIELDS}
    try:
        archive().edit_entry(doc_id, values)
    except UploadError as exc:
        return _edit_form(doc_id, values, error=upload_message(exc), status=400)
    current_app.logger.info("catalogue entry edited", extra={"doc_id": doc_id})
    notice = _update_after_change()
    if notice:
        return _edit_form(doc_id, values, notice=notice)
    return redirect(url_for("documents.show", doc_id=doc_id), code=303)


def _entries_or_empty() -> list:
    try:
        return archive().catalogue_entries()
    except CatalogueError:
        return []


def _edit_form(doc_id: str, values: dict, error: str = "", notice: str = "", status: int = 200):
    return render_template("admin/edit.html", csrf=csrf_token(), doc_id=doc_id, values=values, error=error,
                           notice=notice, kinds=KINDS, programmes=PROGRAMMES), status


def upload_message(exc: UploadError) -> str:
    """EXC's message in the interface language (the indexer's own words when there is no translation)."""
    key = f"upload_{exc.code}"
    detail = without_paths(str(exc))
    if key in i18n.MESSAGES:
        return i18n.translate(key, **dict(exc.params, detail=detail))
    return detail


# An absolute path in a message: the server's folders are not the visitor's business.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s/:'\"]+/)+([^\s/:'\"]+)")


def without_paths(message: str) -> str:
    """MESSAGE with each absolute path shortened to its file name."""
    return ABSOLUTE_PATH.sub(r"\1", message)

