"""Several waitress processes on one listening socket, and the launcher that keeps them running.

A search is CPU work in Python: one process answers one search at a time
(the GIL), however many threads it has. So `python -m webapp` binds the port
once and starts `web_workers` processes (`python -m webapp.workers`), each a
waitress server with `threads` threads accepting from that socket; the
kernel hands each connection to one of them. The launcher itself serves
nothing: it runs the archive watcher (once, not per worker), replaces a
worker that dies, and on SIGTERM or Ctrl+C stops every worker before it
exits.

Workers are started with fork+exec (subprocess), not a bare fork: the
launcher has threads (the watcher), and forking a process with threads can
leave a lock held forever in the child. Each worker reads its settings,
including the session-signing key, from a pipe on its standard input: the
key made at start (when `secret_key` is empty) is the same in every worker,
and it is never written to a file, the command line or the environment.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from indexer.config import Settings

from . import shared

log = logging.getLogger("webapp")

# How long workers get to finish their requests after SIGTERM before they are killed.
STOP_TIMEOUT_S = 10.0
# How long the launcher waits for its workers to be ready (it serves if one is, and gives up if none is).
START_TIMEOUT_S = 120.0
# A worker that dies this soon after its start counts as a failed start; this many in a row stop the server
# (a broken installation would otherwise be restarted forever).
EARLY_DEATH_S = 5.0
MAX_EARLY_DEATHS = 5
# The folder holding the webapp package: workers import it from there whatever the launcher's sys.path was.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for HOST:PORT, as waitress would bind them (every address HOST resolves to)."""
    from waitress.adjustments import Adjustments

    adj = Adjustments(host=host, port=port)
    sockets = []
    try:
        for family, socktype, proto, sockaddr in adj.listen:
            sock = socket.socket(family, socktype, proto)
            sockets.append(sock)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(adj.backlog)
            # Inherited by the workers (subprocess closes every other descriptor).
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class Launcher:
    """Starts, watches and stops the worker processes serving SOCKETS with SETTINGS."""

    def __init__(self, settings: Settings, sockets: list[socket.socket], processes: int):
        self.settings = settings
        self.sockets = sockets
        self.processes = processes
        self.workers: dict[int, tuple[subprocess.Popen, float]] = {}   # slot -> (process, started at)
        self.stopping = threading.Event()
        self.stopped = False
        self.early_deaths = 0
        # Each worker writes one byte here once it serves: the launcher knows when the site is up.
        self._ready_r, self._ready_w = os.pipe()
        # The tables the workers share (webapp/shared.py: failed logins, open admin sessions, costly queries
        # running): files without a name, gone with the last process that holds them.
        self._tables = {name: tempfile.TemporaryFile() for name in shared.TABLES}

    def start(self) -> bool:
        """Start every worker and wait until they serve; False if none came up."""
        for slot in range(self.processes):
            self._spawn(slot)
        deadline = time.monotonic() + START_TIMEOUT_S
        ready = 0
        while ready < self.processes and time.monotonic() < deadline:
            if select.select([self._ready_r], [], [], 0.2)[0]:
                ready += len(os.read(self._ready_r, 64))
            elif all(p.poll() is not None for p, _ in self.workers.values()):
                break
            elif self.stopping.is_set():
                break
        # One that died on the way is replaced by supervise().
        return ready > 0

    def _spawn(self, slot: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]))
        fds = [s.fileno() for s in self.sockets]
        table_fds = {name: f.fileno() for name, f in self._tables.items()}
        # A process group of its own: Ctrl+C in a terminal reaches the launcher only, which stops the
        # workers with SIGTERM (a SIGINT in the middle of a worker's imports would print a traceback).
        proc = subprocess.Popen([sys.executable, "-m", "webapp.workers"], stdin=subprocess.PIPE,
                                pass_fds=fds + [self._ready_w, *table_fds.values()], env=env, process_group=0)
        # Through the pipe, not argv or the environment: the settings hold the session key.
        payload = {"settings": self.settings, "fds": fds, "ready_fd": self._ready_w, "table_fds": table_fds,
                   "parent": os.getpid()}
        try:
            proc.stdin.write(pickle.dumps(payload))
            proc.stdin.close()
        except BrokenPipeError:
            pass    # it died at once; supervise() sees it
        self.workers[slot] = (proc, time.monotonic())

    def supervise(self) -> int:
        """Replace dead workers until stop(); then stop them all (shutdown). Return the exit code."""
        code = 0
        while not self.stopping.wait(0.5):
            for slot, (proc, started) in list(self.workers.items()):
                if proc.poll() is None or self.stopping.is_set():
                    continue
                early = time.monotonic() - started < EARLY_DEATH_S
                self.early_deaths = self.early_deaths + 1 if early else 0
                log.warning("web worker %d (pid %d) exited with %s; starting another", slot, proc.pid, proc.returncode)
                if self.early_deaths >= MAX_EARLY_DEATHS:
                    log.error("web workers keep dying right after their start: stopping")
                    self.stopping.set()
                    code = 1
                    break
                self._spawn(slot)
        self.shutdown()
        return code

    def stop(self) -> None:
        """Ask supervise() to stop (safe in a signal handler)."""
        self.stopping.set()

    def shutdown(self) -> None:
        """Stop every worker: SIGTERM, then SIGKILL after STOP_TIMEOUT_S. Idempotent."""
        self.stopping.set()
        if self.stopped:
            return
        self.stopped = True
        procs = [p for p, _ in self.workers.values()]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for fd in (self._ready_r, self._ready_w):
            os.close(fd)
        for table in self._tables.values():
            table.close()

    def pids(self) -> list[int]:
        return [p.pid for p, _ in self.workers.values()]


# --- the worker process ------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Have the kernel send us SIGTERM when the launcher dies, even by SIGKILL (Linux); no orphans."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:      # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def worker_main() -> int:
    """One web worker: the settings from standard input, then waitress on the inherited sockets."""
    payload = pickle.loads(sys.stdin.buffer.read())
    # Stopping: SIGTERM from the launcher (or SIGINT, if someone sends it).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(0))
    _die_with_parent(payload["parent"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import admin, create_app, limits, site
    from .serving import create_archive_server

    settings: Settings = payload["settings"]
    sockets = [socket.socket(fileno=fd) for fd in payload["fds"]]
    app = create_app(settings)
    site.warm_up(app)
    # One lock-out table for all workers: a guesser gets no more tries by landing on another process.
    tables = payload["table_fds"]
    app.extensions["archive_login_throttle"] = admin.LoginThrottle(tables["throttle"])
    app.extensions["archive_admin_sessions"] = admin.AdminSessions(tables["sessions"])
    app.extensions["archive_expensive_queries"] = limits.ExpensiveQueries(settings, tables["expensive"])
    server = create_archive_server(app, settings, sockets=sockets)
    os.write(payload["ready_fd"], b"1")
    os.close(payload["ready_fd"])
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        app.extensions["archive"].close()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
