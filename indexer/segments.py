"""Index segments written by worker processes, for large updates.

Whoosh analyses and writes an index in the one Python process that holds the
writer; measured, that process was the whole bottleneck of a build (analysis
and posting lists at ~40 ms of CPU a page while the extraction workers
idled). Here worker processes each write complete segments of a chunk of
files, in a staging folder of their own; the process holding the index lock
moves a finished segment into the index and commits it with its deletions
and document records. Whoosh's MpWriter does the like, but forks (unsafe in
the threaded server), and drops a sub-writer's segment that is a second
late; a failure here is an exception, and a chunk is committed whole or not
at all.

The staging folders start with "." because Whoosh, at every commit, deletes
the index folder's segment files that the new table of contents does not
list, and skips names starting with a dot: a segment still being written
must not be in the index folder then.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from whoosh.writing import SegmentWriter

from . import analysis, sandbox
from .store import ArchiveCodec, _fsync_dir, create_index

STAGING_PREFIX = ".staging-"


@dataclass
class StagedSegment:
    folder: str            # the staging folder holding the segment's files
    segment: object        # whoosh.codec.base.Segment
    files: list[str]


def remove_stale_staging(index_folder: Path) -> None:
    """Remove staging folders left by an update that was killed (call with the writer lock held)."""
    for child in Path(index_folder).glob(STAGING_PREFIX + "*"):
        shutil.rmtree(child, ignore_errors=True)


class SegmentWriters:
    """A pool of PROCESSES worker processes writing segments for the index in INDEX_FOLDER."""

    def __init__(self, index_folder: Path, userdict: Path | None, processes: int, limitmb: int = 256):
        self.index_folder = Path(index_folder)
        self.staging = self.index_folder / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir()
        self.limitmb = limitmb
        self.pool = ProcessPoolExecutor(processes, mp_context=sandbox.context(), initializer=_start_worker,
                                        initargs=(str(userdict) if userdict else None, os.getpid()))

    def submit(self, records: list[dict]) -> Future:
        """Write RECORDS (field dicts) as one new segment; the future's result is a StagedSegment."""
        return self.pool.submit(_write_segment, str(self.staging), records, self.limitmb)

    def adopt(self, staged: StagedSegment):
        """Move a finished segment's files into the index folder; return its segment for the commit."""
        for name in staged.files:
            os.replace(Path(staged.folder) / name, self.index_folder / name)
        _fsync_dir(self.index_folder)
        shutil.rmtree(staged.folder, ignore_errors=True)
        return staged.segment

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.staging, ignore_errors=True)


def commit_with_segments(writer, segments: list, mergetype) -> None:
    """Commit WRITER (its deletions and additions) with SEGMENTS added to the index, in one new generation."""
    # SegmentWriter.commit, with the adopted segments listed in the same table of contents.
    writer._check_state()
    final = writer._merge_segments(mergetype, None, None)
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    final.extend(segments)
    writer._commit_toc(final)
    writer._finish()


# --- in the worker process ------------------------------------------------------------


def _start_worker(userdict: str | None, updater_pid: int) -> None:
    analysis.configure_segmenter(Path(userdict) if userdict else None)
    threading.Thread(target=_exit_with, args=(updater_pid,), daemon=True).start()


def _exit_with(pid: int) -> None:
    """End this worker when the update that started it is gone (killed, say).

    A pool worker waits on a queue whose write end it holds itself, so it
    never sees its parent go; left alone it would live on, holding the
    killed update's output pipes open. A killed process stays a zombie until
    its parent reaps it, which a parent reading those pipes does only once
    they close: so a zombie counts as gone.
    """
    while True:
        time.sleep(0.5)
        if not _alive(pid):
            os._exit(1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            # "pid (command) state ...": the state follows the last ")".
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:             # no /proc here: ask the process table
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


def _write_segment(staging: str, records: list[dict], limitmb: int) -> StagedSegment:
    folder = Path(staging) / uuid.uuid4().hex
    folder.mkdir()
    # A throw-away index of the same schema: only its new segment is kept.
    ix = create_index(folder)
    writer = SegmentWriter(ix, _lk=False, codec=ArchiveCodec(), limitmb=limitmb)
    try:
        for fields in records:
            writer.add_document(**fields)
        segment = writer._finalize_segment()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise
    writer._finish()
    prefix = segment.segment_id() + "."
    files = [name for name in os.listdir(folder) if name.startswith(prefix)]
    return StagedSegment(str(folder), segment, files)
