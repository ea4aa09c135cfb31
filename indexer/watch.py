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

At each rescan the watcher also checks that the index opens, and builds a
missing or unreadable one again (`build.repair`, in a new generation). An update
whose removals the guard holds back (the archive folder missing or mostly gone:
`build.removal_refusal`) keeps every file indexed, records why
(indexer.ledger, read by the status page and /healthz) and waits for the next
change or a confirmation.

Each addition writes one small segment, and many small segments slow
searches. Once updates have changed the index and the archive has been
quiet for `settings.merge_idle_s`, the watcher merges them
(`build.merge_segments`, under the writer lock) in a separate process, so
the server's threads keep their core and a merge can be stopped: the
watcher kills it as soon as it sees a change in the archive (a killed merge
leaves the last commit intact, as a killed update does) and runs the update.
So an addition does not wait for a merge: with file events it is seen within
`poll_s` (0.5 s at most), and the settle time runs meanwhile; an update from
another process (command line, upload page) waits for the lock as for any
writer, up to `lock_timeout_s`, unless its file lands in the archive first
(uploads do), which stops the merge.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
import time
from pathlib import Path
from typing import Callable

from . import sandbox
from .build import MERGE_FACTOR, UpdateReport, index_problem, merge_segments, repair, scan_archive, update
from .config import Settings
from .extract import warm_up as extract_warm_up
from .errors import CatalogueError, ConfigError, IndexLockedError
from .generations import current_generation
from .engine.storage import open_index, segment_count

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


def merge_worthwhile(settings: Settings) -> bool:
    """Tell whether the live index has enough segments for a tier to be full (cheap: reads the TOC)."""
    gen = current_generation(settings.index_dir)
    if gen is None:
        return False
    ix = open_index(gen)
    try:
        return segment_count(ix) >= MERGE_FACTOR
    finally:
        ix.close()


def _merge_main(settings: Settings, conn) -> None:
    """In the merge process: merge, and say how it went."""
    try:
        conn.send(("done", merge_segments(settings)))
    except IndexLockedError as exc:
        conn.send(("locked", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the watcher, which logs it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Merge:
    """build.merge_segments() running in a process of its own, which can be killed at any moment."""

    def __init__(self, settings: Settings):
        ctx = sandbox.context()
        self.conn, child = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_merge_main, args=(settings, child), daemon=True, name="index-merge")
        self.started = time.monotonic()
        self.process.start()
        child.close()

    def done(self) -> bool:
        return not self.process.is_alive() or self.conn.poll()

    def result(self) -> tuple[str, object]:
        """("done", segments left), ("locked", why) or ("error", why); waits for the process."""
        try:
            outcome = self.conn.recv() if self.conn.poll(5) else ("error", f"exit code {self.process.exitcode}")
        except (EOFError, OSError):
            outcome = ("error", f"the merge process ended with exit code {self.process.exitcode}")
        self.process.join(5)
        self.conn.close()
        return outcome

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


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
        # Merges at idle: how many ended (merged or found nothing to do), were stopped by a change, failed.
        self.merges = {"done": 0, "stopped": 0, "failed": 0}
        self._merge: _Merge | None = None
        self._last_run_end = 0.0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="archive-watcher", daemon=True)
        self._observer = None
        self._watched_folder: tuple[int, int] | None = None     # (device, inode) of the folder events come from
        self._folder_missing = False

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

    def _folder_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.settings.archive_dir)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _watch_again_if_replaced(self) -> None:
        """Watch the archive folder again when it is another folder than the one watched (a share mounted
        again, a folder renamed away and back): inotify follows the old folder, whose events are no news."""
        if not self.use_events or self._stopping.is_set():
            return
        identity = self._folder_identity()
        # While the folder is missing, look again often: no event will say it is back.
        self._folder_missing = identity is None
        if identity is None or identity == self._watched_folder:
            return
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(5)
        log.info("the archive folder %s is another folder now: watching it again", self.settings.archive_dir)
        self._observer = self._start_observer()

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
        self._watched_folder = self._folder_identity()
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
        # The loop first: it may start a new observer (the archive folder replaced) until it ends.
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
            self._observer = None
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
        try:
            self._watch()
        finally:
            if self._merge is not None:
                self._stop_merge("the watcher stops")

    def _watch(self) -> None:
        settle = self.settings.settle_s
        indexed: Snapshot | None = None      # what the last run saw; None: no run yet
        seen: Snapshot | None = None         # the latest snapshot ...
        seen_since = time.monotonic()        # ... unchanged since then
        retry_at = 0.0
        last_look = 0.0
        merge_due = False                    # an update changed the index since the last merge
        merge_retry_at = 0.0
        health_checked = time.monotonic()    # when the index was last checked to open (self-repair)
        # The first addition finds an extraction worker started and its modules imported.
        try:
            extract_warm_up(self.settings)
        except Exception:  # noqa: BLE001 - only a head start; extraction starts its own workers
            log.exception("could not start an extraction worker in advance")
        while not self._stopping.is_set():
            # Debounce: look at most every poll_s, however many events arrive.
            pause = last_look + self.poll_s - time.monotonic()
            if pause > 0 and self._stopping.wait(pause):
                break
            self._wake.clear()
            # A stop asked between the loop's test and this clear would have
            # its wake-up cleared: look again, or the wait below sleeps it out.
            if self._stopping.is_set():
                break
            last_look = now = time.monotonic()
            self._watch_again_if_replaced()
            try:
                snapshot = take_snapshot(self.settings)
            except OSError as exc:
                log.warning("cannot scan %s: %s", self.settings.archive_dir, exc)
                snapshot = seen
            if snapshot != seen:
                seen, seen_since = snapshot, now
            pending = seen != indexed
            if pending and self._merge is not None:
                # A change: the addition goes first; the merge is done again at the next idle time.
                self._stop_merge("the archive changed")
            if self._merge is not None and self._merge.done():
                merge_due, merge_retry_at = self._end_merge(merge_due, merge_retry_at)
            settled = now - seen_since >= settle
            # Self-repair: at each rescan, an index deleted or damaged behind our back is built again.
            if (not pending and self._merge is None
                    and now - health_checked >= self.settings.rescan_interval_s - self.poll_s):
                health_checked = now
                if self._repair():
                    merge_due = True
                continue
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
                    if outcome == "done" and self.reports and self.reports[-1].changed:
                        merge_due = True
                continue
            idle_for = now - max(seen_since, self._last_run_end)
            merge_at = max(seen_since, self._last_run_end) + self.settings.merge_idle_s
            if (not pending and merge_due and self._merge is None and self.settings.merge_idle_s > 0
                    and idle_for >= self.settings.merge_idle_s and now >= merge_retry_at):
                merge_due = self._start_merge()
                continue
            if pending:     # look again when it may have settled (or the index is free)
                wait = max(self.poll_s, max(seen_since + settle, retry_at) - now)
            else:
                wait = self.settings.rescan_interval_s
                if self._folder_missing:
                    wait = min(wait, self.retry_s)
                if merge_due and self._merge is None and self.settings.merge_idle_s > 0:
                    wait = min(wait, max(self.poll_s, merge_at - now, merge_retry_at - now))
            if self._merge is not None:
                self._wait_merging(wait)
            else:
                self._wake.wait(wait)

    # --- merging at idle ---

    def _start_merge(self) -> bool:
        """Start a merge if one is worth it; return whether one is still due."""
        try:
            if not merge_worthwhile(self.settings):
                return False
            self._merge = _Merge(self.settings)
        except Exception:  # noqa: BLE001 - merging is an optimisation: never stop the watcher for it
            log.exception("could not start merging the index segments")
            self.merges["failed"] += 1
            return False
        log.info("the archive has been quiet for %g s: merging small index segments", self.settings.merge_idle_s)
        return True

    def _end_merge(self, merge_due: bool, merge_retry_at: float) -> tuple[bool, float]:
        merge, self._merge = self._merge, None
        kind, detail = merge.result()
        seconds = time.monotonic() - merge.started
        if kind == "done":
            self.merges["done"] += 1
            log.info("merged index segments in %.1f s: %s segments left", seconds, detail)
            return False, 0.0
        if kind == "locked":
            # Another writer (an update from the command line): merge after it, at the next idle time.
            log.info("index busy, merging later: %s", detail)
            return merge_due, time.monotonic() + self.settings.merge_idle_s
        self.merges["failed"] += 1
        log.warning("merging index segments failed after %.1f s: %s", seconds, detail)
        self.errors.append(f"merge: {detail}")
        return False, 0.0

    def _stop_merge(self, why: str) -> None:
        merge, self._merge = self._merge, None
        if merge.done():
            self.merges["done" if merge.result()[0] == "done" else "failed"] += 1
            return
        merge.kill()
        self.merges["stopped"] += 1
        log.info("stopped merging index segments after %.1f s: %s", time.monotonic() - merge.started, why)

    def _wait_merging(self, timeout: float) -> None:
        """Wait for TIMEOUT, a file event or the end of the merge, whichever comes first."""
        end = time.monotonic() + timeout
        while self._merge is not None and not self._merge.done():
            left = end - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, 0.25)):
                return

    def _repair(self) -> bool:
        """Build the index again if it is missing or does not open; return whether it was rebuilt."""
        try:
            problem = index_problem(self.settings)
            if not problem:
                return False
            log.warning("%s: building it again from the archive", problem)
            report = repair(self.settings)
        except IndexLockedError as exc:
            log.info("index busy, checking it again at the next rescan: %s", exc)
            return False
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive any one failure
            log.exception("could not build the index again; trying at the next rescan")
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return False
        self._last_run_end = time.monotonic()
        if report is None:
            return False
        self.reports.append(report)
        log.info("index built again: %s", summary(report))
        self._report(report)
        return True

    def _report(self, report: UpdateReport) -> None:
        if self.on_update is not None:
            try:
                self.on_update(report)
            except Exception:  # noqa: BLE001 - a caller's hook must not stop the watcher
                log.exception("on_update hook failed")

    def _run(self) -> str:
        """One update; returns "done", "locked", "retry" (after an unexpected error) or "fix"."""
        self.runs += 1
        try:
            report = update(self.settings)
            self._last_run_end = time.monotonic()
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
        self._report(report)
        return "done"


def start_watcher(settings: Settings, use_events: bool = True,
                  on_update: Callable[[UpdateReport], None] | None = None) -> Watcher:
    """Start a background watcher of the archive; call `.stop()` to end it."""
    return Watcher(settings, use_events=use_events, on_update=on_update).start()
