"""Run a function on many inputs in worker processes that can be killed.

`multiprocessing.Pool` cannot stop one hung task, and a worker killed while it
writes to a shared queue can corrupt that queue for everyone. So this is a small
pool of our own: each worker has its own pipe; the parent waits on all pipes
and process sentinels at once, kills a worker that exceeds its time limit or
dies, starts a fresh one and carries on with the next input.

A task reports progress by calling `emit(chunk)`; every chunk resets its time
limit, so the limit bounds the time between two steps (opening a file, one
page), not the length of a 3,000-page report. Chunks received before a worker
died are handed back with the failure, so the caller can keep partial work.

The worker's memory is capped with RLIMIT_AS: an allocation over the limit
raises MemoryError in Python code, or crashes a C library, and either way only
that worker is lost.

`WorkerPool` keeps idle workers alive between runs (the watcher and the upload
page call update() again and again in the server): a one-file update then
pays no process start-up and no imports (pypdf). `run_isolated` is a run with
a pool of its own, closed when it ends. `shared_pool()` gives the process's
pool for a task function; it is stopped at interpreter exit, replaced when the
settings change, and forgotten (never killed, never used) in a forked child:
a worker belongs to the process that started it.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.process
import os
import signal
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator

# Failure kinds.
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"
ERROR = "error"

# A new worker's first task gets this much extra time: starting the process and
# importing the task's module (pypdf, PDFium) can be slow on a loaded machine.
STARTUP_GRACE_S = 30.0

# A worker is replaced after this many tasks, so that memory a library leaks
# (pypdf caches, PDFium fonts) never accumulates over a large archive.
MAX_TASKS_PER_WORKER = 50


@dataclass
class Failure:
    """Why a task did not finish."""

    kind: str        # TIMEOUT, MEMORY, CRASH or ERROR
    message: str


@dataclass
class Outcome:
    """The result of one task: its value, or a failure plus what it emitted before."""

    key: Any
    value: Any = None
    chunks: list = field(default_factory=list)
    failure: Failure | None = None


_forked = False          # True in a child made by os.fork after this module was imported


def context() -> multiprocessing.context.BaseContext:
    """Return the start method used for workers: forkserver where it exists, else spawn.

    Both are safe in a process with threads (the web server, the file
    watcher); plain fork is not.
    """
    methods = multiprocessing.get_all_start_methods()
    # A child made by fork cannot use its parent's fork server (multiprocessing
    # fails with ChildProcessError): it spawns its workers.
    usable = "forkserver" in methods and not _forked
    return multiprocessing.get_context("forkserver" if usable else "spawn")


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space at MEGABYTES (no-op where unsupported)."""
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:                  # not on Windows
        return
    limit = megabytes * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(conn: Connection, func: Callable, memory_mb: int) -> None:
    """Serve tasks from CONN until told to stop or the pipe closes."""
    # Ctrl-C goes to the whole process group: the parent decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_memory(memory_mb)
    # FUNC's module has been imported by now: the parent starts the task's clock from here.
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, payload = message

        def emit(chunk, _task_id=task_id):
            conn.send(("chunk", _task_id, chunk))

        try:
            value = func(payload, emit)
            reply = ("done", task_id, value)
        except MemoryError:
            reply = ("fail", task_id, MEMORY, "")
        except BaseException as exc:  # noqa: BLE001 - the boundary: report everything
            reply = ("fail", task_id, ERROR, _describe(exc))
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("fail", task_id, MEMORY, ""))
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send(("fail", task_id, ERROR, _describe(exc)))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    if not text:
        frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" in {frame[0].name}" if frame else ""
        return f"{name}{where}"
    return f"{name}: {text}"


class _Worker:
    def __init__(self, ctx, func: Callable, memory_mb: int):
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, func, memory_mb), daemon=True,
                                   name="extract-worker")
        self.process.start()
        child.close()
        # Only the process that started a worker may stop it (see _forget_after_fork).
        self.owner = os.getpid()
        self.tasks_done = 0
        self.ready = False
        self.task: tuple | None = None       # (task_id, key)
        self.chunks: list = []
        self.deadline = 0.0

    def assign(self, task_id: int, key, payload, timeout_s: float) -> None:
        self.task = (task_id, key)
        self.chunks = []
        self.deadline = time.monotonic() + timeout_s + (0 if self.ready else STARTUP_GRACE_S)
        self.conn.send((task_id, payload))

    def usable(self) -> bool:
        """Tell whether an idle worker can take a task: alive, its pipe open, nothing unexpected on it."""
        if self.conn.closed or not self.process.is_alive():
            return False
        try:
            while self.conn.poll():
                message = self.conn.recv()
                if message[0] != "ready":
                    return False
                self.ready = True
        except (EOFError, OSError):
            return False
        return True

    def kill(self) -> None:
        if os.getpid() != self.owner:
            return
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        if os.getpid() != self.owner:
            return
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(1)
        self.kill()

    def abandon(self) -> None:
        """In a forked child: close this process's copies of the worker's pipe and sentinel, touch nothing else.

        The parent keeps using the worker; a copy of its pipe left open here
        would keep it from seeing its parent go away.
        """
        try:
            self.conn.close()
        except OSError:
            pass
        popen = getattr(self.process, "_popen", None)
        finalizer = getattr(popen, "finalizer", None)
        if finalizer is not None:
            finalizer()                  # closes the sentinel copies, once
        multiprocessing.process._children.discard(self.process)


class WorkerPool:
    """Up to SIZE workers running FUNC, kept alive between runs.

    A run gives its tasks to idle workers first and starts new ones only when
    there are none left. Every safety of a one-off run holds: a worker that
    hangs, crashes or exceeds MEMORY_MB is killed during its task and never
    goes back to the pool; an idle worker found dead (killed from outside) is
    dropped and another started; a worker is retired after
    MAX_TASKS_PER_WORKER tasks. Runs may overlap (threads): each takes the
    idle workers it needs and starts others when none is left; at most SIZE
    idle workers are kept, the others are stopped.
    """

    def __init__(self, func: Callable, size: int, memory_mb: int = 0, keep: bool = True):
        self.func = func
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.keep = keep
        self.closed = False
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._owner = os.getpid()

    def idle_pids(self) -> list[int]:
        """Process ids of the idle workers (for tests and status)."""
        with self._lock:
            return [w.process.pid for w in self._idle]

    def prestart(self, count: int | None = None) -> None:
        """Start workers until COUNT (default SIZE) are idle; does not wait for them to be ready."""
        count = self.size if count is None else min(count, self.size)
        with self._lock:
            while not self.closed and os.getpid() == self._owner and len(self._idle) < count:
                self._idle.append(_Worker(context(), self.func, self.memory_mb))

    def close(self) -> None:
        """Stop the idle workers; workers busy in a run are stopped when it ends."""
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _take(self) -> _Worker | None:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.usable():
                    return worker
                worker.kill()
        return None

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if self.keep and not self.closed and len(self._idle) < self.size:
                self._idle.append(worker)
                return
        worker.stop()

    def run(self, tasks: Iterable[tuple[Any, Any]], *, workers: int | None = None, timeout_s: float = 120.0,
            on_chunk: Callable[[Any, Any], None] | None = None) -> Iterator[Outcome]:
        """Run FUNC(payload, emit) for each (key, payload) of TASKS on at most WORKERS workers.

        As `run_isolated`; closing the generator early kills the workers busy
        with a task and keeps the idle ones.
        """
        workers = min(self.size, max(1, workers or self.size))
        queue = deque(tasks)
        active: list[_Worker] = []
        lost = 0
        next_id = 0
        memory_mb = self.memory_mb
        try:
            while queue or any(w.task for w in active):
                # Hand out work: idle workers of this run, then warm ones of the pool, then new ones.
                while queue:
                    worker = next((w for w in active if w.task is None), None)
                    if worker is None:
                        if len(active) >= workers:
                            break
                        worker = self._take() or _Worker(context(), self.func, memory_mb)
                        active.append(worker)
                    key, payload = queue.popleft()
                    try:
                        worker.assign(next_id, key, payload, timeout_s)
                    except OSError:
                        # The worker died while idle (killed from outside): replace it, retry.
                        active.remove(worker)
                        worker.kill()
                        queue.appendleft((key, payload))
                        continue
                    next_id += 1

                busy = [w for w in active if w.task]
                if not busy:
                    continue
                now = time.monotonic()
                wait_s = max(0.0, min(w.deadline for w in busy) - now)
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=wait_s))

                for worker in busy:
                    outcome = None
                    if worker.conn in ready or worker.process.sentinel in ready:
                        outcome = _drain(worker, timeout_s, memory_mb, on_chunk)
                    if outcome is None and worker.task and time.monotonic() > worker.deadline:
                        # One last look: the answer may have arrived just now.
                        outcome = _drain(worker, timeout_s, memory_mb, on_chunk) if worker.conn.poll() else None
                        if outcome is None and worker.task:
                            outcome = _finish(worker, Failure(TIMEOUT, f"timed out after {_seconds(timeout_s)}"))
                            worker.kill()
                    if outcome is None:
                        continue
                    if not worker.process.is_alive() or worker.conn.closed:
                        worker.kill()
                        active.remove(worker)
                        lost += 1
                    elif worker.tasks_done >= MAX_TASKS_PER_WORKER:
                        worker.stop()
                        active.remove(worker)
                        lost += 1
                    yield outcome
                # Workers killed for a time-out have finished their task but not left the run.
                for worker in [w for w in active if w.conn.closed]:
                    active.remove(worker)
                    lost += 1
        finally:
            for worker in active:
                if worker.task or worker.conn.closed or not worker.process.is_alive():
                    worker.kill()
                else:
                    self._give_back(worker)
            # A worker lost to a crash or a time-out is replaced now, while
            # nobody waits, rather than at the start of the next run.
            if self.keep and lost:
                with self._lock:
                    want = min(self.size, len(self._idle) + lost)
                self.prestart(want)


_shared: dict[Callable, WorkerPool] = {}
_shared_lock = threading.Lock()


def shared_pool(func: Callable, size: int, memory_mb: int = 0) -> WorkerPool:
    """The warm pool of this process for FUNC; one of another size or memory limit is closed and replaced."""
    with _shared_lock:
        pool = _shared.get(func)
        if pool is not None and (pool.size, pool.memory_mb) != (max(1, size), memory_mb):
            pool.close()
            pool = None
        if pool is None:
            pool = _shared[func] = WorkerPool(func, size, memory_mb)
        return pool


def shared_idle_pids() -> list[int]:
    """Process ids of every idle worker of the shared pools."""
    with _shared_lock:
        pools = list(_shared.values())
    return sorted(pid for pool in pools for pid in pool.idle_pids())


def close_shared_pools() -> None:
    """Stop every idle worker of the shared pools (at interpreter exit; tests)."""
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()


def _forget_after_fork() -> None:
    """In a child made by fork: the parent's workers are not ours; drop them without a signal."""
    global _shared_lock, _forked
    _forked = True
    _shared_lock = threading.Lock()      # another thread may have held it at the fork
    for pool in _shared.values():
        pool.closed = True
        pool._lock = threading.Lock()
        for worker in pool._idle:
            worker.abandon()
        pool._idle = []
    _shared.clear()


atexit.register(close_shared_pools)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def run_isolated(func: Callable[[Any, Callable], Any], tasks: Iterable[tuple[Any, Any]], *,
                 workers: int = 1, timeout_s: float = 120.0, memory_mb: int = 0,
                 on_chunk: Callable[[Any, Any], None] | None = None) -> Iterator[Outcome]:
    """Run FUNC(payload, emit) for each (key, payload) of TASKS in WORKERS fresh processes.

    FUNC must be a module-level function (it is pickled by name). Yields one
    Outcome per task as it finishes, in any order. A task with no progress for
    TIMEOUT_S seconds is killed; each worker is capped at MEMORY_MB (0: no cap).
    ON_CHUNK(key, chunk) is called for each chunk a task emits, as it arrives.
    Every worker is stopped when the run ends; closing the generator early kills them.
    """
    pool = WorkerPool(func, workers, memory_mb, keep=False)
    try:
        yield from pool.run(tasks, workers=workers, timeout_s=timeout_s, on_chunk=on_chunk)
    finally:
        pool.close()


def _drain(worker: _Worker, timeout_s: float, memory_mb: int,
           on_chunk: Callable[[Any, Any], None] | None = None) -> Outcome | None:
    """Read every message waiting on WORKER's pipe; return an Outcome once its task ends."""
    while worker.task:
        try:
            if not worker.conn.poll():
                if worker.process.is_alive():
                    return None
                # No message and the process is gone: it crashed mid-task.
                worker.process.join(5)
                return _finish(worker, _crash(worker.process.exitcode, memory_mb))
            message = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            return _finish(worker, _crash(worker.process.exitcode, memory_mb))
        kind, task_id = message[0], message[1]
        if kind == "ready":
            worker.ready = True
            worker.deadline = time.monotonic() + timeout_s
            continue
        if task_id != worker.task[0]:
            continue                       # left over from an earlier task: ignore
        if kind == "chunk":
            worker.chunks.append(message[2])
            worker.deadline = time.monotonic() + timeout_s
            if on_chunk is not None:
                on_chunk(worker.task[1], message[2])
        elif kind == "done":
            return _finish(worker, None, message[2])
        elif kind == "fail":
            failure_kind, text = message[2], message[3]
            if failure_kind == MEMORY:
                text = memory_message(memory_mb)
            return _finish(worker, Failure(failure_kind, text))
    return None


def _finish(worker: _Worker, failure: Failure | None, value=None) -> Outcome:
    _task_id, key = worker.task
    outcome = Outcome(key=key, value=value, chunks=worker.chunks, failure=failure)
    worker.task = None
    worker.chunks = []
    worker.tasks_done += 1
    return outcome


def memory_message(memory_mb: int) -> str:
    """Return the reason recorded for a file that needed more than MEMORY_MB."""
    return f"exceeded the memory limit ({memory_mb} MiB)" if memory_mb > 0 else "ran out of memory"


def _crash(exitcode: int | None, memory_mb: int) -> Failure:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            # Killed from outside, most often by the kernel's out-of-memory killer.
            return Failure(MEMORY, f"the reader was killed ({name}), probably out of memory")
        hint = f"; the file may be damaged or need more than the memory limit ({memory_mb} MiB)" \
            if memory_mb > 0 else "; the file may be damaged"
        return Failure(CRASH, f"the reader crashed ({name}){hint}")
    return Failure(CRASH, f"the reader exited unexpectedly (exit code {exitcode})")


def _seconds(value: float) -> str:
    return f"{value:g} s"
