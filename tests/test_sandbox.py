"""Warm extraction workers: reused between calls, and still killed and replaced when a file misbehaves."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hostile
from indexer import sandbox
from indexer.config import Settings
from indexer.extract import INDEXED, extract_many

ROOT = Path(__file__).resolve().parent.parent


def _pid_or_misbehave(payload, emit):
    """A task: returns its worker's pid, or hangs, crashes or allocates too much."""
    hostile.misbehave(payload, emit)
    emit("step")
    return os.getpid()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0: look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < end, f"worker {pid} still alive"
        time.sleep(0.05)


def run(pool, *payloads, timeout_s: float = 30.0) -> dict:
    return {o.key: o for o in pool.run([(p, p) for p in payloads], timeout_s=timeout_s)}


@pytest.fixture
def pool():
    pool = sandbox.WorkerPool(_pid_or_misbehave, 1, memory_mb=256)
    yield pool
    pool.close()


@pytest.fixture(autouse=True)
def no_warm_workers_left():
    yield
    sandbox.close_shared_pools()


def test_the_same_worker_serves_successive_runs(pool):
    first = run(pool, "a")["a"]
    second = run(pool, "b")["b"]
    assert first.failure is None and second.failure is None
    assert first.value == second.value
    assert pool.idle_pids() == [first.value]


def test_the_same_worker_serves_two_calls_of_extract_many(tmp_path):
    settings = Settings(archive_dir=tmp_path, index_dir=tmp_path / "index", workers=1, ocr=False,
                        extract_memory_mb=1024)
    one = hostile.english_pdf(tmp_path / "one.pdf")
    two = hostile.english_pdf(tmp_path / "two.pdf")
    assert [r.status for _, r in extract_many([one], settings)] == [INDEXED]
    warm = sandbox.shared_idle_pids()
    assert len(warm) == 1
    assert [r.status for _, r in extract_many([two], settings)] == [INDEXED]
    assert sandbox.shared_idle_pids() == warm


def test_a_worker_killed_while_idle_is_replaced_and_the_next_file_is_not_blamed(pool):
    old = run(pool, "a")["a"].value
    os.kill(old, signal.SIGKILL)
    wait_dead(old)
    outcome = run(pool, "b")["b"]
    assert outcome.failure is None
    assert outcome.value != old
    assert pool.idle_pids() == [outcome.value]


def test_a_hung_worker_is_killed_with_the_same_reason_and_replaced(pool):
    before = run(pool, "a")["a"].value
    outcomes = run(pool, "hang", "b", timeout_s=1.0)
    assert (outcomes["hang"].failure.kind, outcomes["hang"].failure.message) == (sandbox.TIMEOUT, "timed out after 1 s")
    assert outcomes["hang"].chunks == ["started"]
    wait_dead(before)                     # the warm worker took the hanging file and was killed
    assert outcomes["b"].failure is None and outcomes["b"].value != before
    after = run(pool, "c")["c"]
    assert after.failure is None and alive(after.value)
    assert before not in pool.idle_pids()


def test_a_crash_and_a_memory_overrun_keep_their_reasons_and_the_pool_recovers(pool):
    run(pool, "a")
    outcomes = run(pool, "crash", "allocate", "b")
    crash = outcomes["crash"].failure
    assert crash.kind == sandbox.CRASH and crash.message.startswith("the reader crashed (SIGSEGV)")
    assert (outcomes["allocate"].failure.kind, outcomes["allocate"].failure.message) == \
        (sandbox.MEMORY, "exceeded the memory limit (256 MiB)")
    assert outcomes["b"].failure is None
    assert all(alive(pid) for pid in pool.idle_pids()) and len(pool.idle_pids()) == 1


def test_closing_a_run_early_kills_the_busy_worker_and_keeps_the_idle_one():
    pool = sandbox.WorkerPool(_pid_or_misbehave, 2)
    try:
        outcomes = pool.run([("a", "a"), ("hang", "hang")], timeout_s=60)
        first = next(outcomes)
        assert first.key == "a"
        busy = [p.pid for p in multiprocessing.active_children()
                if p.name == "extract-worker" and p.pid != first.value]
        outcomes.close()
        assert pool.idle_pids() == [first.value]
        for pid in busy:
            wait_dead(pid)
    finally:
        pool.close()
    wait_dead(first.value)


def test_other_settings_replace_the_shared_pool():
    one = sandbox.shared_pool(_pid_or_misbehave, 1, 256)
    pid = run(one, "a")["a"].value
    assert sandbox.shared_pool(_pid_or_misbehave, 1, 256) is one
    other = sandbox.shared_pool(_pid_or_misbehave, 1, 512)
    assert other is not one and one.closed
    wait_dead(pid)
    assert run(other, "b")["b"].value != pid


def test_runs_from_two_threads_at_once_do_not_share_a_worker():
    shared = sandbox.shared_pool(_pid_or_misbehave, 2, 0)
    results = {}

    def worker(name):
        results[name] = run(shared, name)[name]

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(o.failure is None for o in results.values())
    assert len(shared.idle_pids()) <= 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_neither_uses_nor_stops_the_parents_workers():
    shared = sandbox.shared_pool(_pid_or_misbehave, 1, 0)
    parent_worker = run(shared, "a")["a"].value
    read, write = os.pipe()
    child = os.fork()
    if child == 0:                       # the child: report, then leave without cleanup
        try:
            inherited = sandbox.shared_idle_pids()
            own = run(sandbox.shared_pool(_pid_or_misbehave, 1, 0), "b")["b"].value
            sandbox.close_shared_pools()
            os.write(write, f"{inherited} {own}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        report = fh.read()
    os.waitpid(child, 0)
    inherited, own = report.rsplit(" ", 1)
    assert inherited == "[]"
    assert int(own) != parent_worker
    # The parent's worker survived the child's exit and still serves it.
    assert alive(parent_worker)
    assert run(shared, "c")["c"].value == parent_worker


def test_warm_workers_end_with_the_interpreter(tmp_path):
    script = (
        "import sys; sys.path[:0] = [%r, %r]\n"
        "from indexer import sandbox\n"
        "from test_sandbox import _pid_or_misbehave\n"
        "if __name__ == '__main__':\n"
        "    pool = sandbox.shared_pool(_pid_or_misbehave, 1, 0)\n"
        "    print(next(iter(pool.run([('a', 'a')]))).value, flush=True)\n"
    ) % (str(ROOT), str(ROOT / "tests"))
    path = tmp_path / "exit.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    wait_dead(int(out.stdout.split()[-1]))
