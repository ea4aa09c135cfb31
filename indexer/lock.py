"""The one-writer lock on the index."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import sys
import time
from pathlib import Path

from .errors import IndexLockedError

log = logging.getLogger(__name__)


def flock_within(fh, timeout: float) -> bool:
    """Take an exclusive flock on FH, waiting up to TIMEOUT seconds; False if it stayed taken."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


class WriterLock:
    """An exclusive lock on the index for one writing process.

    flock locks die with their process, so a lock left by a killed update is
    never stale for the kernel; the pid file is only for telling users who
    holds it.
    """

    def __init__(self, index_dir: Path, timeout: float = 10.0, what: str = ""):
        self.path = Path(index_dir) / "writer.lock"
        self.timeout = timeout
        self.what = what or " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))
        self._fh = None
        self.cleared_stale: str = ""

    def acquire(self) -> "WriterLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        if not flock_within(fh, self.timeout):
            holder = self._holder(fh)
            fh.close()
            raise IndexLockedError(f"an update is already running ({holder}); try again when it has finished")
        fh.seek(0)
        previous = fh.read().strip()
        if previous:
            # The lock was free but the file still names a holder: that process
            # died without cleaning up. flock already released it; say so.
            self.cleared_stale = previous
            log.warning("cleared a stale writer lock left by %s", previous)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "what": self.what, "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        fh.flush()
        self._fh = fh
        return self

    @staticmethod
    def _holder(fh) -> str:
        fh.seek(0)
        try:
            info = json.loads(fh.read() or "{}")
        except ValueError:
            info = {}
        if not info:
            return "held by another process"
        return f"process {info.get('pid')}: {info.get('what', '?')}, since {info.get('since', '?')}"

    def release(self) -> None:
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.flush()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

