"""Index segments written by worker processes, for large updates.

Whoosh analyses and writes an index in the one Python process that holds the
writer, so that process would bound a build (analysis and posting lists
are pure Python, while the extraction workers idle). Here each of a few
worker processes keeps a segment writer of its own: the updating process
deals the files out one by one, and a worker writes its segment out in a
staging folder after `first_files` files, then after twice as many each time
(so that a build commits early and often at first, while the segments of a
long one stay few and large enough that nothing has to merge them: merging
costs as much as writing, in one process). The updating process, holding the
index lock, moves a finished segment in and commits it with the deletions of
the files it replaces and their document records.

Whoosh's MpWriter does the like, but forks (unsafe in the threaded server),
and drops a sub-writer's segment that is a second late. A worker's failure
here is an exception; a segment is committed whole or not at all.

The staging folders start with "." because Whoosh, at every commit, deletes
the index folder's segment files that the new table of contents does not
list, and skips names starting with a dot: a segment still being written must
not be in the index folder then.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import shutil
import signal
import threading
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from .engine import analysis
from . import sandbox
from .engine.storage import create_index, fsync_dir
from .engine.writer import open_writer

STAGING_PREFIX = ".staging-"
# Files handed to a worker and not yet added by it: beyond this the updating process waits.
MAX_QUEUED_FILES = 8


class SegmentWorkerError(RuntimeError):
    """A segment-writing worker failed or died; the files of its open segment were not committed."""


@dataclass
class StagedSegment:
    folder: str             # the staging folder holding the segment's files
    segment: object         # whoosh.codec.base.Segment
    files: list[str]


@dataclass
class _Worker:
    conn: Connection
    process: object
    tags: list = field(default_factory=list)     # what the caller said of each file in the open segment
    queued: int = 0                              # files sent, not yet acknowledged
    in_segment: int = 0                          # files in the open segment
    flush_at: int = 0
    writing: bool = False                        # told to write its segment, not done yet
    # Messages for the worker, sent by a thread of their own (see SegmentWriters._send).
    outbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    sender: threading.Thread | None = None
    send_error: BaseException | None = None


def remove_stale_staging(index_folder: Path) -> None:
    """Remove staging folders left by an update that was killed (call with the writer lock held)."""
    for child in Path(index_folder).glob(STAGING_PREFIX + "*"):
        shutil.rmtree(child, ignore_errors=True)


class SegmentWriters:
    """PROCESSES worker processes writing segments for the index in INDEX_FOLDER.

    add(records, tag) hands one file's records to a worker; finished segments
    come back from add() and finish() as (StagedSegment, [tags of its files]).
    """

    def __init__(self, index_folder: Path, userdict: Path | None, processes: int, first_files: int,
                 limitmb: int = 256):
        self.index_folder = Path(index_folder)
        self.staging = self.index_folder / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir()
        self.first_files = max(1, first_files)
        ctx = sandbox.context()
        self.workers: list[_Worker] = []
        self._by_group: dict = {}
        for _ in range(processes):
            conn, child = ctx.Pipe(duplex=True)
            process = ctx.Process(target=_worker_main, daemon=True, name="segment-writer",
                                  args=(child, str(self.staging), str(userdict) if userdict else None, limitmb))
            process.start()
            child.close()
            worker = _Worker(conn, process, flush_at=self.first_files)
            worker.sender = threading.Thread(target=_send_each, args=(worker,), daemon=True, name="segment-sender")
            worker.sender.start()
            self.workers.append(worker)

    def add(self, records: list[dict], tag, group=None) -> list[tuple[StagedSegment, list]]:
        """Give one file's RECORDS to a worker; return the segments finished meanwhile.

        Files of one GROUP (a document's language versions) go to the same
        worker, whose segments are committed in order: a file is never
        committed before its document's record, which comes with the first.
        Other files go to the least busy worker.
        """
        finished = self._collect(block=False)
        worker = self._by_group.get(group) if group is not None else None
        if worker is not None:
            while worker.queued >= MAX_QUEUED_FILES:
                finished += self._collect(block=True)
        else:
            # Never a worker writing its segment (long, for a large one) while another can
            # take the file: it reads no message meanwhile, so a second file for it would fill
            # its pipe, and the other worker and the extraction would wait with it.
            while not (ready := [w for w in self.workers if not w.writing and w.queued < MAX_QUEUED_FILES]):
                finished += self._collect(block=True)
            worker = min(ready, key=lambda w: (w.queued, w.in_segment))
            if group is not None:
                self._by_group[group] = worker
        worker.in_segment += 1
        worker.tags.append(tag)
        flush = worker.in_segment >= worker.flush_at
        self._send(worker, ("add", records, flush))
        worker.queued += 1
        if flush:
            # The next segment of this worker holds twice as many files.
            worker.flush_at *= 2
            worker.in_segment = 0
            worker.writing = True
        return finished

    def finish(self) -> list[tuple[StagedSegment, list]]:
        """Write out every open segment; return all segments not yet returned."""
        finished = []
        for worker in self.workers:
            if worker.in_segment:
                self._send(worker, ("flush", None, True))
                worker.queued += 1
                worker.in_segment = 0
        while any(w.queued for w in self.workers):
            finished += self._collect(block=True)
        return finished

    def adopt(self, staged: StagedSegment):
        """Move a finished segment's files into the index folder; return its segment for the commit."""
        for name in staged.files:
            os.replace(Path(staged.folder) / name, self.index_folder / name)
        fsync_dir(self.index_folder)
        shutil.rmtree(staged.folder, ignore_errors=True)
        return staged.segment

    def close(self) -> None:
        for worker in self.workers:
            worker.outbox.put(None)     # after what is still to send; the worker ends on it
        for worker in self.workers:
            # A worker that died (or is killed below) makes its sender's send fail: it ends too.
            worker.sender.join(timeout=5)
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
            worker.sender.join(timeout=5)
            worker.conn.close()
        shutil.rmtree(self.staging, ignore_errors=True)

    def _send(self, worker: _Worker, message) -> None:
        """Queue MESSAGE for WORKER, without waiting.

        A worker reads its next file only when it has added the last one, and
        reads nothing while it writes its segment or spills its postings to
        disk. Sent by the updating thread itself, a file that does not fit in
        the connection's buffer would keep this process waiting meanwhile, and
        the other worker and the extraction idle with it: so a thread of the
        worker's own sends it (_send_each).
        """
        if worker.send_error is not None:
            raise SegmentWorkerError(f"a segment writer stopped: {self._ended(worker)}") from worker.send_error
        worker.outbox.put(message)

    def _collect(self, block: bool) -> list[tuple[StagedSegment, list]]:
        busy = [w.conn for w in self.workers if w.queued]
        ready = wait(busy, timeout=None if block else 0) if busy else []
        finished = []
        for worker in self.workers:
            if worker.conn not in ready:
                continue
            try:
                kind, value = worker.conn.recv()
            except (EOFError, OSError):
                raise SegmentWorkerError(f"a segment writer stopped: {self._ended(worker)}") from None
            if kind == "error":
                raise SegmentWorkerError(f"a segment writer failed: {value}")
            worker.queued -= 1
            # Done writing: its segment is back, or (told to write with no segment open, which
            # it answers with "added") it has nothing left to do.
            if kind == "segment" or (kind == "added" and not worker.queued):
                worker.writing = False
            if kind == "segment":
                count = value[1]
                finished.append((value[0], worker.tags[:count]))
                del worker.tags[:count]
        return finished

    @staticmethod
    def _ended(worker: _Worker) -> str:
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        if code is None:
            return "its pipe closed"
        if code < 0:
            return f"killed by signal {-code}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
        return f"exit code {code}"


def _send_each(worker: _Worker) -> None:
    """Send WORKER's queued messages in order, until None (sent too) or a failed send."""
    while True:
        message = worker.outbox.get()
        try:
            worker.conn.send(message)
        except (OSError, ValueError) as exc:     # the worker is gone, or its connection closed
            worker.send_error = exc
            return
        if message is None:
            return


# --- in the worker process ------------------------------------------------------------


class _PipeClosed(Exception):
    """The updating process ended or was killed while a segment was open: the segment is dropped."""


def _receive(conn: Connection):
    """The next message from the updating process, or None when it is done (or gone)."""
    try:
        return conn.recv()
    except (EOFError, OSError):     # the update ended or was killed
        return None


def _worker_main(conn: Connection, staging: str, userdict: str | None, limitmb: int) -> None:
    """Add files to an open segment; write it out when told. Ends when the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C: the updating process decides
    analysis.configure_segmenter(Path(userdict) if userdict else None)
    while True:
        message = _receive(conn)
        if message is None:
            return
        try:
            if not message[1]:
                # Nothing to add and no segment open: nothing to write out either.
                conn.send(("added", None))
                continue
            conn.send(("segment", _write_segment(conn, staging, limitmb, message)))
        except _PipeClosed:
            return
        except BaseException as exc:  # noqa: BLE001 - the boundary: report everything
            with contextlib.suppress(Exception):
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            return


def _write_segment(conn: Connection, staging: str, limitmb: int, message) -> tuple[StagedSegment, int]:
    """Write one segment, from MESSAGE to the next message that says to write it out; return it and its file count."""
    segment_writer, folder = _open_segment(staging, limitmb)
    count = 0
    with segment_writer as writer:
        while True:
            _kind, records, flush = message
            if records:
                for fields in records:
                    writer.add_document(**fields)
                count += 1
                # The open segment's postings (millions of lists and tuples in a large
                # segment) live until it is written: kept out of the collector's full
                # collections, which would walk them again and again.
                gc.freeze()
            if flush:
                break
            conn.send(("added", None))
            message = _receive(conn)
            if message is None:
                raise _PipeClosed
    gc.unfreeze()
    return _staged_segment(writer.finished_segment, folder), count


def _open_segment(staging: str, limitmb: int):
    """A segment writer (open_writer(segment_only=True), to be entered) on a new index in a folder of STAGING."""
    folder = Path(staging) / uuid.uuid4().hex
    folder.mkdir()
    # A throw-away index of the same schema: only its new segment is kept.
    ix = create_index(folder)
    return open_writer(ix, segment_only=True, _lk=False, limitmb=limitmb), folder


def _staged_segment(segment, folder: Path) -> StagedSegment:
    """SEGMENT, written in FOLDER, with the names of its files."""
    prefix = segment.segment_id() + "."
    files = [name for name in os.listdir(folder) if name.startswith(prefix)]
    return StagedSegment(str(folder), segment, files)
