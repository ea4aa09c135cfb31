"""Costly queries wait their turn: one client runs few at once, and one process runs one at a time.

A query with a * or ? (a prefix or a wildcard) stands for many terms, and
costs up to the limits of indexer.engine.cost; a plain search costs a few
milliseconds. Two rules keep the costly ones from crowding out the rest:
- each client address may run `expensive_per_client` of them at once, in all
  the web workers together (a SharedTable); one more is answered 429 at once;
- each worker process runs one of them at a time, so that its other threads
  stay free for plain searches (with `threads` > 1, a plain search shares the
  core with at most one costly query, not with all of them). Another costly
  query waits for its turn only while a thread would still be free for the
  rest; else it is answered 429 at once (a waiting request holds a thread).
"""

from __future__ import annotations

import os
import threading
import time

from flask import Flask, current_app, g, request

from indexer.config import Settings

from . import i18n
from .errors import render_error
from .shared import SharedTable

# The endpoints that run a search from the "q" argument.
SEARCH_ENDPOINTS = {"search.results", "api.search", "export.csv", "export.json"}
# A row older than the query time limit plus this is from a process that died mid-query.
STALE_AFTER_S = 30.0


def is_expensive(q: str) -> bool:
    """Whether query text Q holds a prefix or wildcard word (the parser reads * and ? as such)."""
    return "*" in q or "?" in q


class ExpensiveQueries:
    """Costly queries running now: per client address (shared by the workers), and in this process."""

    def __init__(self, settings: Settings, shared_fd: int | None = None):
        self._table = SharedTable(shared_fd)    # client -> ((pid, started), ...)
        self._per_client = max(1, settings.expensive_per_client)
        self._stale_s = settings.query_time_limit_s + STALE_AFTER_S
        self._wait_s = settings.query_time_limit_s
        self._threads = settings.threads
        self._this_process = threading.Lock()
        self._in_progress = 0                   # requests this process is answering, of any kind
        self._count_lock = threading.Lock()

    def request_started(self) -> None:
        """Count a request this process answers (a costly query may wait only while a thread is left)."""
        with self._count_lock:
            self._in_progress += 1

    def request_ended(self) -> None:
        with self._count_lock:
            self._in_progress -= 1

    def start(self, client: str) -> float | None:
        """Count one costly query of CLIENT and wait for this process's turn; return its start (for
        finish), or None if CLIENT runs too many already or the turn did not come within the time limit."""
        now = time.time()
        with self._table.rows() as rows:
            running = [r for r in rows.get(client, ()) if now - r[1] < self._stale_s]
            if len(running) >= self._per_client:
                return None
            rows[client] = tuple(running) + ((os.getpid(), now),)
        with self._count_lock:
            # Every request in progress holds a thread (this one and the costly one running included):
            # waiting is allowed only while at least one more stays free for the rest.
            may_wait = self._in_progress < self._threads
        if not self._this_process.acquire(timeout=self._wait_s if may_wait else 0):
            self._forget(client, now)
            return None
        return now

    def finish(self, client: str, started: float) -> None:
        """The costly query of CLIENT started at STARTED is over."""
        self._this_process.release()
        self._forget(client, started)

    def _forget(self, client: str, started: float) -> None:
        with self._table.rows() as rows:
            left = tuple(r for r in rows.get(client, ()) if tuple(r) != (os.getpid(), started))
            if left:
                rows[client] = left
            else:
                rows.pop(client, None)


def init_app(app: Flask, settings: Settings) -> None:
    """Hold costly searches of APP to their limits."""
    app.extensions["archive_expensive_queries"] = ExpensiveQueries(settings)
    app.before_request(_before)
    app.teardown_request(_after)


def _before():
    queries: ExpensiveQueries = current_app.extensions["archive_expensive_queries"]
    queries.request_started()
    g.counted_request = True
    if request.endpoint not in SEARCH_ENDPOINTS or not is_expensive(request.args.get("q", "")):
        return None
    client = request.remote_addr or "unknown"
    started = queries.start(client)
    if started is None:
        body, status = render_error(429, i18n.translate("error_429"), i18n.translate("busy_costly_query"),
                                    kind="busy")
        return body, status, {"Retry-After": "5"}
    g.costly_query = (client, started)
    return None


def _after(exc=None):
    queries: ExpensiveQueries = current_app.extensions["archive_expensive_queries"]
    running = g.pop("costly_query", None)
    if running is not None:
        queries.finish(*running)
    if g.pop("counted_request", False):
        queries.request_ended()
