"""Structured logs: the access log and the error log as JSON lines, each line with its request id.

`init_app` writes `access.log` and `error.log` in `settings.log_dir` (created
if missing), or JSON lines on standard error when log_dir is empty. Loggers
are process-wide while apps are not (tests build many), so handlers are kept
in a registry (one per file, added once) and each drops records emitted
inside another app, whose logs go to its own folder.

What is never logged: query strings (the access log has the path only; an
exception message has the request's parameter values blanked out) and PDF
text (the web process never logs page content).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, current_app, g, has_app_context, has_request_context, request

from indexer.config import Settings

ACCESS_LOGGER = "webapp.access"
# Loggers whose warnings and errors go to error.log.
ERROR_LOGGERS = ("webapp", "indexer", "waitress")
# An exception message in the error log is cut here.
MAX_ERROR_CHARS = 500
# Request parameter values shorter than this are not blanked out of messages (they would blank out
# common words and numbers).
MIN_REDACT_CHARS = 3
APP_KEY = "ARCHIVE_LOG_DIR"
# waitress warns "Task queue depth is N" for each request that waits for a free thread of its process:
# on a busy server that is most requests, and the lines bury the errors. One such line a minute still says that requests are waiting.
QUEUE_LOGGER = "waitress.queue"
QUEUE_WARNING_EVERY_S = 60.0

# The attributes every LogRecord has; anything else was passed through `extra` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_lock = threading.Lock()
_handlers: dict[tuple[str, str], logging.Handler] = {}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request id and the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if "request_id" not in entry and has_request_context():
            entry["request_id"] = g.get("request_id", "")
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = describe_exception(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def describe_exception(exc_info) -> dict:
    """An exception as type, message (parameter values blanked, cut) and the stack frames."""
    kind, value, tb = exc_info
    frames = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]
    return {"type": kind.__name__, "message": redact(str(value))[:MAX_ERROR_CHARS], "frames": frames[-20:]}


def redact(text: str) -> str:
    """TEXT with the values of this request's URL parameters blanked out (they may be queries)."""
    if not has_request_context():
        return text
    values = {v for vs in request.args.listvalues() for v in vs}
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= MIN_REDACT_CHARS:
            text = text.replace(value, "[…]")
    return text


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever sys.stderr is at the time (pytest swaps it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class AtMostEvery(logging.Filter):
    """Pass one record per SECONDS; the next one passed tells, as its `held_back` field, how many
    were dropped since the last."""

    def __init__(self, seconds: float, clock=time.monotonic):
        super().__init__()
        self.seconds = seconds
        self.clock = clock
        self.last: float | None = None
        self.held_back = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        with self._lock:
            if self.last is not None and now - self.last < self.seconds:
                self.held_back += 1
                return False
            self.last, held_back, self.held_back = now, self.held_back, 0
        if held_back:
            record.held_back = held_back
        return True


class _ThisAppOnly(logging.Filter):
    """Pass records emitted outside any app, or inside an app that logs to LOG_DIR."""

    def __init__(self, log_dir: str):
        super().__init__()
        self.log_dir = log_dir

    def filter(self, record: logging.LogRecord) -> bool:
        if has_app_context():
            return current_app.config.get(APP_KEY) == self.log_dir
        return True


def log_folder(settings: Settings) -> Path | None:
    """The folder of the log files; None when log_dir is empty (log to standard error)."""
    value = settings.log_dir
    if value is None or str(value) in ("", "."):
        return None
    return Path(value)


def init_app(app: Flask, settings: Settings) -> None:
    """Send APP's access and error logs to SETTINGS' log folder (or standard error); idempotent."""
    app.config[APP_KEY] = init_process(settings)


def init_process(settings: Settings) -> str:
    """Send this process's access and error logs to SETTINGS' log folder (or standard error); idempotent.

    For a process without an app too (the launcher of several web workers runs the watcher, whose
    warnings belong in error.log). Returns the key that marks an app's records as its own.
    """
    folder = log_folder(settings)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # The site must come up all the same; it says where its logs went instead.
            print(f"warning: cannot create the log folder {folder} ({exc.strerror}): logging to standard error",
                  file=sys.stderr)
            folder = None
    key = str(folder.resolve()) if folder else ""
    if folder is not None:
        access = lambda: logging.FileHandler(folder / "access.log", encoding="utf-8", delay=True)  # noqa: E731
        errors = lambda: logging.FileHandler(folder / "error.log", encoding="utf-8", delay=True)  # noqa: E731
    else:
        access = errors = _StderrHandler
    _install(("access", key), access, (ACCESS_LOGGER,), logging.INFO)
    _install(("error", key), errors, ERROR_LOGGERS, logging.WARNING)
    # The access logger's INFO lines must pass whatever the process's default level is.
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    with _lock:
        queue = logging.getLogger(QUEUE_LOGGER)
        if not any(isinstance(f, AtMostEvery) for f in queue.filters):
            queue.addFilter(AtMostEvery(QUEUE_WARNING_EVERY_S))
    return key


def _install(key: tuple[str, str], make, loggers: tuple[str, ...], level: int) -> None:
    with _lock:
        if key in _handlers:
            return
        handler = make()
        handler.setLevel(level)
        handler.setFormatter(JsonLinesFormatter())
        handler.addFilter(_ThisAppOnly(key[1]))
        for name in loggers:
            logging.getLogger(name).addHandler(handler)
        _handlers[key] = handler
