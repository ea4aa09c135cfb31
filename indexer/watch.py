"""Watch the archive folder and re-index what changes in it, by itself.

File events (watchdog) wake the watcher at once; a rescan every
`settings.rescan_interval_s` catches what events miss (on NFS and SMB shares
they often never arrive). Either way the watcher then compares a snapshot of
the archive (size and modification time of every file, the catalogue and the
user dictionary) with the snapshot its last run saw, and calls
`build.update()` once

- something differs, and
- nothing has changed for `settings.settle_s`: a file still being copied
  keeps changing, and is not read half-written.

Many events in a row (a folder of reports copied in) make one run. When
another process holds the index (an update from the command line), the
run is retried a little later; no error stops the watcher.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
import time
from pathlib import Path
from typing import Callable

from .build import UpdateReport, scan_archive, update
from .config import Settings
from .errors import CatalogueError, ConfigError, IndexLockedError

log = logging.getLogger(__name__)

Snapshot = dict[str, tuple[int, int]]

# Watchdog events that only say a file was read (our own update reads every
# new PDF): no reason to look at the archive again.
_READ_ONLY_EVENTS = {"opened", "closed_no_write"}


def take_snapshot(settings: Settings) -> Snapshot:
    """Size and modification time of every archive file, the catalogue and the user dictionary."""
    snapshot = {path: (st.st_size, st.st_mtime_ns) for path, st in scan_archive(settings.archive_dir).items()}
    for extra in (settings.catalogue, settings.userdict):
        try:
            st = Path(extra).stat()
        except OSError:
            continue
        # A key no archive path can take (paths are relative, without NUL).
        snapshot["\0" + str(extra)] = (st.st_size, st.st_mtime_ns)
    return snapshot


def summary(report: UpdateReport) -> str:
    """One line saying what an update did."""
    parts = [f"{len(report.added)} added", f"{len(report.updated)} updated", f"{len(report.renamed)} renamed",
             f"{len(report.removed)} removed", f"{len(report.metadata_updated)} metadata updated",
             f"{len(report.failed)} failed"]
    line = ", ".join(parts) + f"; {report.extracted} files read in {report.seconds:.1f} s"
    if report.rebuilt:
        line = f"rebuilt ({report.rebuild_reason}): " + line
    return line


class Watcher:
    """A background thread that keeps the index in line with the archive until stopped."""

    def __init__(self, settings: Settings, use_events: bool = True,
                 on_update: Callable[[UpdateReport], None] | None = None):
        self.settings = settings
        self.use_events = use_events
        self.on_update = on_update
        # How often a changing archive is looked at again while it settles;
        # also the least time between two looks, however many events come.
        self.poll_s = min(0.5, max(0.05, settings.settle_s / 4))
        # How long to wait before trying again when another process holds the index.
        self.retry_s = max(1.0, settings.settle_s)
        # The latest reports and errors, for status pages and tests; bounded,
        # since a watcher runs for months.
        self.reports: deque[UpdateReport] = deque(maxlen=100)
        self.errors: deque[str] = deque(maxlen=100)
        self.runs = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="archive-watcher", daemon=True)
        self._observer = None

    # --- life cycle ---

    def start(self) -> "Watcher":
        """Start watching (events if asked for) and the loop that runs updates."""
        if self.use_events:
            self._observer = self._start_observer()
        self._thread.start()
        log.info("watching %s (%s, rescan every %g s, settle %g s)", self.settings.archive_dir,
                 "file events" if self._observer else "rescans only",
                 self.settings.rescan_interval_s, self.settings.settle_s)
        return self

    def _start_observer(self):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        wake = self._wake
        index_dir = str(Path(self.settings.index_dir).resolve())

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in _READ_ONLY_EVENTS:
                    return
                paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
                # The index may live inside the archive folder: its own writes are no news.
                if all(not p or p.startswith(index_dir) for p in paths):
                    return
                wake.set()

        observer = Observer()
        observer.daemon = True
        try:
            observer.schedule(Handler(), str(self.settings.archive_dir), recursive=True)
            observer.start()
        except OSError as exc:
            # A missing folder or too many inotify watches: the rescans still work.
            log.warning("cannot watch %s for file events (%s); relying on rescans every %g s",
                        self.settings.archive_dir, exc, self.settings.rescan_interval_s)
            return None
        return observer

    def request_stop(self) -> None:
        """Ask the loop to end after the update it may be running (for signal handlers)."""
        self._stopping.set()
        self._wake.set()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Stop watching; waits for an update in progress to finish (up to TIMEOUT)."""
        self.request_stop()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
            self._observer = None
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        log.info("stopped watching %s", self.settings.archive_dir)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the watcher stops."""
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the loop ---

    def _loop(self) -> None:
        settle = self.settings.settle_s
        indexed: Snapshot | None = None      # what the last run saw; None: no run yet
        seen: Snapshot | None = None         # the latest snapshot ...
        seen_since = time.monotonic()        # ... unchanged since then
        retry_at = 0.0
        last_look = 0.0
        while not self._stopping.is_set():
            # Debounce: look at most every poll_s, however many events arrive.
            pause = last_look + self.poll_s - time.monotonic()
            if pause > 0 and self._stopping.wait(pause):
                break
            self._wake.clear()
            last_look = now = time.monotonic()
            try:
                snapshot = take_snapshot(self.settings)
            except OSError as exc:
                log.warning("cannot scan %s: %s", self.settings.archive_dir, exc)
                snapshot = seen
            if snapshot != seen:
                seen, seen_since = snapshot, now
            pending = seen != indexed
            settled = now - seen_since >= settle
            if pending and settled and now >= retry_at:
                outcome = self._run()
                if outcome == "locked":
                    retry_at = time.monotonic() + self.retry_s
                elif outcome == "retry":
                    retry_at = time.monotonic() + self.settings.rescan_interval_s
                else:
                    # Done, or an error only an edit can fix (a bad catalogue
                    # entry): wait for the next change.
                    indexed = seen
                continue
            if pending:     # look again when it may have settled (or the index is free)
                wait = max(self.poll_s, max(seen_since + settle, retry_at) - now)
            else:
                wait = self.settings.rescan_interval_s
            self._wake.wait(wait)

    def _run(self) -> str:
        """One update; returns "done", "locked", "retry" (after an unexpected error) or "fix"."""
        self.runs += 1
        try:
            report = update(self.settings)
        except IndexLockedError as exc:
            log.info("index busy, trying again in %g s: %s", self.retry_s, exc)
            self.errors.append(str(exc))
            return "locked"
        except (CatalogueError, ConfigError) as exc:
            log.error("update not done, waiting for the next change: %s", exc)
            self.errors.append(str(exc))
            return "fix"
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive any one failure
            log.exception("update failed, trying again in %g s", self.settings.rescan_interval_s)
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return "retry"
        self.reports.append(report)
        if report.changed or report.failed:
            log.info("archive changed: %s", summary(report))
            for path, reason in report.failed:
                log.warning("could not index %s: %s", path, reason)
        else:
            log.debug("archive unchanged")
        if self.on_update is not None:
            try:
                self.on_update(report)
            except Exception:  # noqa: BLE001 - a caller's hook must not stop the watcher
                log.exception("on_update hook failed")
        return "done"


def start_watcher(settings: Settings, use_events: bool = True,
                  on_update: Callable[[UpdateReport], None] | None = None) -> Watcher:
    """Start a background watcher of the archive; call `.stop()` to end it."""
    return Watcher(settings, use_events=use_events, on_update=on_update).start()
