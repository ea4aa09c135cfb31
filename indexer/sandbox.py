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
"""

from __future__ import annotations

import multiprocessing
import signal
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


def context() -> multiprocessing.context.BaseContext:
    """Return the start method used for workers: forkserver where it exists, else spawn.

    Both are safe in a process with threads (the web server, the file
    watcher); plain fork is not.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


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

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(1)
        self.kill()


def run_isolated(func: Callable[[Any, Callable], Any], tasks: Iterable[tuple[Any, Any]], *,
                 workers: int = 1, timeout_s: float = 120.0, memory_mb: int = 0,
                 on_chunk: Callable[[Any, Any], None] | None = None) -> Iterator[Outcome]:
    """Run FUNC(payload, emit) for each (key, payload) of TASKS in WORKERS processes.

    FUNC must be a module-level function (it is pickled by name). Yields one
    Outcome per task as it finishes, in any order. A task with no progress for
    TIMEOUT_S seconds is killed; each worker is capped at MEMORY_MB (0: no cap).
    ON_CHUNK(key, chunk) is called for each chunk a task emits, as it arrives.
    Closing the generator early kills the workers.
    """
    ctx = context()
    queue = deque(tasks)
    pool: list[_Worker] = []
    next_id = 0
    try:
        while queue or any(w.task for w in pool):
            # Hand out work, starting workers as needed.
            while queue:
                worker = next((w for w in pool if w.task is None), None)
                if worker is None:
                    if len(pool) >= max(1, workers):
                        break
                    worker = _Worker(ctx, func, memory_mb)
                    pool.append(worker)
                key, payload = queue.popleft()
                try:
                    worker.assign(next_id, key, payload, timeout_s)
                except OSError:
                    # The worker died while idle (killed from outside): replace it, retry.
                    pool.remove(worker)
                    worker.kill()
                    queue.appendleft((key, payload))
                    continue
                next_id += 1

            busy = [w for w in pool if w.task]
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
                    pool.remove(worker)
                elif worker.tasks_done >= MAX_TASKS_PER_WORKER:
                    worker.stop()
                    pool.remove(worker)
                yield outcome
            # Workers killed for a time-out have finished their task but not left the pool.
            for worker in [w for w in pool if w.conn.closed]:
                pool.remove(worker)
    finally:
        for worker in pool:
            if worker.task:
                worker.kill()
            else:
                worker.stop()


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
