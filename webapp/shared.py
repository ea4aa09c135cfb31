"""Small tables the web worker processes share: failed logins, open admin sessions, running costly queries.

`python -m webapp` runs several worker processes (webapp/workers.py); a limit
kept in one process's memory would be multiplied by their number. Each table
lives in an unlinked temporary file that the launcher makes and every worker
inherits, so nothing stays on disk and the tables end with the server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading

# The tables the launcher makes for its workers, by name.
TABLES = ("throttle", "sessions", "expensive")


class SharedTable:
    """A small JSON table, in memory or with SHARED_FD in a file that several processes share.

    The file is an unlinked temporary file made by the launcher of the web workers
    (webapp/workers.py), so nothing stays on disk and the table ends with the server. Its lock
    is a POSIX record lock (fcntl.lockf), which belongs to a process, so the processes exclude
    each other on the one inherited descriptor (a flock would not).
    """

    def __init__(self, shared_fd: int | None = None):
        self._lock = threading.Lock()
        self._rows: dict[str, tuple] = {}
        self._fd = shared_fd

    @contextlib.contextmanager
    def rows(self):
        """The table's rows, read from and written back to the shared file if there is one."""
        with self._lock:
            if self._fd is None:
                yield self._rows
                return
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                data = os.pread(self._fd, os.fstat(self._fd).st_size, 0)
                rows = {k: tuple(v) for k, v in json.loads(data).items()} if data else {}
                before = dict(rows)
                yield rows
                if rows != before:
                    data = json.dumps(rows).encode()
                    os.ftruncate(self._fd, len(data))
                    os.pwrite(self._fd, data, 0)
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)
