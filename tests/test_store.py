"""The index on disk: one writer at a time, stale locks, readers during rebuilds and updates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest

from conftest import make_settings, write_config, write_pdf
from indexer.build import rebuild, update
from indexer.config import PROJECT_ROOT
from indexer.errors import IndexLockedError
from indexer.search import search
from indexer.readers import IndexReaderPool, open_searcher
from indexer.lock import WriterLock
from indexer.generations import current_generation, new_generation, swap_current



def indexer_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "indexer", "--config", str(config), *args]


ENV = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))

HOLD_LOCK = """
import sys, time
from indexer.lock import WriterLock
lock = WriterLock(sys.argv[1], what="test holder").acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def lock_holder(settings):
    """Start a process that holds the writer lock; yields it, kills it at the end."""
    procs = []

    def start() -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(settings.index_dir)],
                             stdout=subprocess.PIPE, text=True, env=ENV)
        procs.append(p)
        assert p.stdout.readline().strip() == "held"
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# --- one writer at a time -----------------------------------------------------------


def test_a_second_writer_waits_then_names_the_process_holding_the_lock(settings, pdf, lock_holder):
    pdf("a.pdf", ["Some text."])
    holder = lock_holder()
    settings = settings.replace(lock_timeout_s=1.0)

    started = time.monotonic()
    with pytest.raises(IndexLockedError) as exc:
        update(settings)
    waited = time.monotonic() - started

    assert 1.0 <= waited < 5.0
    message = str(exc.value)
    assert f"process {holder.pid}" in message and "test holder" in message
    assert "already running" in message
    # Nothing was written while the lock was held.
    assert current_generation(settings.index_dir) is None


def test_a_rebuild_is_refused_too_while_an_update_runs(settings, pdf, lock_holder):
    pdf("a.pdf", ["Some text."])
    update(settings)
    live = current_generation(settings.index_dir)
    holder = lock_holder()

    with pytest.raises(IndexLockedError, match=f"process {holder.pid}"):
        rebuild(settings.replace(lock_timeout_s=0.3))

    assert current_generation(settings.index_dir) == live
    assert sorted(p.name for p in Path(settings.index_dir).iterdir() if p.name.startswith("gen-")) == [live.name]


def test_a_second_writer_goes_ahead_once_the_first_finishes(settings, pdf):
    pdf("a.pdf", ["Some text about Qingdao."])
    first = WriterLock(settings.index_dir, what="first").acquire()
    releaser = threading.Timer(0.5, first.release)
    releaser.start()

    started = time.monotonic()
    report = update(settings.replace(lock_timeout_s=5.0))

    assert time.monotonic() - started >= 0.5
    assert report.added == ["a.pdf"]
    releaser.join()


def test_a_lock_left_by_a_killed_update_is_cleared(settings, pdf, lock_holder):
    pdf("a.pdf", ["Some text."])
    holder = lock_holder()
    holder.kill()
    holder.wait()
    lock_file = Path(settings.index_dir) / "writer.lock"
    assert json.loads(lock_file.read_text())["pid"] == holder.pid      # the dead process's record stays

    started = time.monotonic()
    with WriterLock(settings.index_dir, timeout=5.0) as lock:
        assert time.monotonic() - started < 1.0                         # no waiting for a dead process
        assert f'"pid": {holder.pid}' in lock.cleared_stale
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
    assert lock_file.read_text() == ""                                   # released: no holder named
    assert update(settings).added == ["a.pdf"]


def test_a_stale_pid_file_of_a_dead_process_does_not_block(settings, pdf):
    pdf("a.pdf", ["Some text."])
    Path(settings.index_dir).mkdir(parents=True)
    pid = dead_pid()
    (Path(settings.index_dir) / "writer.lock").write_text(
        json.dumps({"pid": pid, "what": "indexer update", "since": "2020-01-01 00:00:00"}))

    started = time.monotonic()
    report = update(settings.replace(lock_timeout_s=5.0))

    assert time.monotonic() - started < 4.0
    assert report.added == ["a.pdf"]
    assert (Path(settings.index_dir) / "writer.lock").read_text() == ""


# --- readers --------------------------------------------------------------------------


def test_the_reader_pool_sees_each_committed_update(settings, pdf):
    pdf("a.pdf", ["Cohesion in Tianjin."])
    update(settings)
    pool = IndexReaderPool(settings.index_dir)
    try:
        assert [h.doc_id for h in search(pool.searcher(), "Tianjin", settings).hits] == ["a"]
        assert search(pool.searcher(), "Xiamen", settings).hits == []

        pdf("b.pdf", ["Cohesion in Xiamen."])
        update(settings)
        assert [h.doc_id for h in search(pool.searcher(), "Xiamen", settings).hits] == ["b"]

        rebuild(settings)
        assert [h.doc_id for h in search(pool.searcher(), "Xiamen", settings).hits] == ["b"]
    finally:
        pool.close()


def test_the_first_searcher_of_a_process_freezes_what_is_alive_once(settings, pdf):
    """readers._freeze_long_lived: a process's first searcher leaves the objects alive so far out of the
    garbage collector's full collections; later searchers (after an update) do not freeze again."""
    pdf("a.pdf", ["Cohesion in Tianjin."])
    update(settings)
    code = f"""
import gc
from indexer.readers import IndexReaderPool
before = gc.get_freeze_count()
pool = IndexReaderPool({str(settings.index_dir)!r})
pool.searcher()
frozen = gc.get_freeze_count()
later_objects = [[n] for n in range(5000)]
pool.close()
pool.searcher()
collected_still = any(obj is later_objects[0] for obj in gc.get_objects())
print(before, frozen, gc.get_freeze_count(), int(collected_still))
"""
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    before, frozen, later, collected_still = map(int, out.stdout.split())
    assert before == 0 and frozen > 5000
    # Not frozen again: the objects made since are still the collector's (the first searcher's
    # frozen objects went when it was closed).
    assert collected_still == 1 and later <= frozen


def test_the_reader_pool_never_shows_replaced_or_deleted_records(settings, pdf):
    # Each update replaces records (delete + add) and Whoosh merges segments
    # now and then: a refreshed searcher must hold exactly what a fresh one holds.
    pdf("a.pdf", ["Version 0 of a note on Zhuhai."])
    update(settings)
    pool = IndexReaderPool(settings.index_dir)
    try:
        pool.searcher()
        for i in range(1, 8):
            pdf("a.pdf", [f"Version {i} of a note on Zhuhai."])
            pdf(f"extra-{i}.pdf", [f"Extra note {i}."])
            if i > 1:
                (Path(settings.archive_dir) / f"extra-{i - 1}.pdf").unlink()
            update(settings)
            s = pool.searcher()
            with open_searcher(settings.index_dir) as fresh:
                assert s.doc_count() == fresh.doc_count()
                assert sorted(f["key"] for f in s.all_stored_fields()) == sorted(
                    f["key"] for f in fresh.all_stored_fields())
            [hit] = search(s, "Zhuhai", settings).hits
            assert f"Version {i} " in hit.files[0].pages[0].snippet
    finally:
        pool.close()


class Searching(threading.Thread):
    """Search without pause until stopped; record every answer and every error."""

    def __init__(self, settings, query: str, fresh: bool):
        super().__init__(daemon=True)
        self.settings, self.query, self.fresh = settings, query, fresh
        self.answers: list[set[str]] = []
        self.errors: list[str] = []
        self.halt = threading.Event()

    def run(self):
        pool = IndexReaderPool(self.settings.index_dir)
        try:
            while not self.halt.is_set():
                try:
                    if self.fresh:      # a new worker: opens the live index every time
                        with open_searcher(self.settings.index_dir) as s:
                            hits = search(s, self.query, self.settings).hits
                    else:               # a long-running worker: one searcher, refreshed
                        hits = search(pool.searcher(), self.query, self.settings).hits
                    self.answers.append({h.doc_id for h in hits})
                except Exception:  # noqa: BLE001 - every failure is a test failure
                    self.errors.append(traceback.format_exc())
        finally:
            pool.close()


def test_a_rebuild_swaps_while_readers_keep_getting_answers(settings, pdf, tmp_path):
    for i in range(6):
        pdf(f"doc-{i}.pdf", [f"Cohesion policy note {i}.", "Second page."])
    update(settings)
    config = write_config(settings, tmp_path / "config.toml")
    readers = [Searching(settings, "cohesion", fresh=False), Searching(settings, "cohesion", fresh=True)]
    for r in readers:
        r.start()
    try:
        generations = []
        for round_ in range(2):
            if round_ == 1:
                pdf("doc-new.pdf", ["Cohesion policy, a new note."])
            before = sum(len(r.answers) for r in readers)
            done = subprocess.run(indexer_command(config, "rebuild"), env=ENV, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stderr
            assert "Built a new index (requested)" in done.stdout
            generations.append(current_generation(settings.index_dir).name)
            time.sleep(0.3)
            assert sum(len(r.answers) for r in readers) > before      # answers kept coming
    finally:
        for r in readers:
            r.halt.set()
        for r in readers:
            r.join(timeout=10)

    assert len(set(generations)) == 2
    old = {f"doc-{i}" for i in range(6)}
    for r in readers:
        assert r.errors == []
        assert r.answers and all(a in (old, old | {"doc-new"}) for a in r.answers)
        # The swap is seen without a restart, and never undone.
        assert r.answers[-1] == old | {"doc-new"}
        first_new = r.answers.index(old | {"doc-new"})
        assert all(a == old | {"doc-new"} for a in r.answers[first_new:])


def test_readers_opening_the_index_while_generations_are_swapped_never_fail(settings, pdf):
    # The window between reading `current` and opening the folder it names,
    # which a swap may delete meanwhile, is tiny: swap many times to hit it.
    pdf("a.pdf", ["Cohesion in Ningbo."])
    update(settings)
    readers = [Searching(settings, "Ningbo", fresh=True) for _ in range(2)]
    readers.append(Searching(settings, "Ningbo", fresh=False))
    for r in readers:
        r.start()
    try:
        # At least 2 s and 40 swaps, whatever the host's speed; a minute at most.
        start = time.monotonic()
        swaps = 0
        while (swaps < 40 or time.monotonic() < start + 2.0) and time.monotonic() < start + 60:
            gen = new_generation(settings.index_dir)
            gen.rmdir()
            shutil.copytree(current_generation(settings.index_dir), gen)
            swap_current(settings.index_dir, gen)
            swaps += 1
    finally:
        for r in readers:
            r.halt.set()
        for r in readers:
            r.join(timeout=10)
    assert swaps >= 40
    for r in readers:
        assert r.errors[:3] == [], "\n".join(r.errors[:1])
        assert r.answers and all(a == {"a"} for a in r.answers)


def test_a_commit_is_on_disk_before_it_becomes_visible(tmp_path, monkeypatch):
    """Every file of a commit is fsynced before the table of contents is renamed into place, then the folder."""
    from indexer.engine import storage

    settings = make_settings(tmp_path)
    write_pdf(tmp_path / "archive" / "a.pdf", ["Power cuts happen."])
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, storage.FileStorage.rename_file

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(self, oldname, newname, safe=False):
        events.append(("rename", os.path.join(self.folder, newname)))
        return real_rename(self, oldname, newname, safe=safe)

    monkeypatch.setattr(storage.os, "fsync", fsync)
    monkeypatch.setattr(storage.FileStorage, "rename_file", rename)
    update(settings)

    gen = current_generation(settings.index_dir)
    renames = [i for i, (kind, path) in enumerate(events) if kind == "rename" and path.endswith(".toc")]
    assert renames, events
    last = renames[-1]
    synced_before = {path for kind, path in events[:last] if kind == "fsync"}
    for f in gen.iterdir():
        if f.suffix != ".toc" and not f.name.endswith(".lock") and f.stat().st_size:
            assert str(f) in synced_before, f"{f.name} was not synced before the commit became visible"
    assert ("fsync", str(gen)) in events[last:], "the folder is synced after the rename"


def test_stored_records_are_the_searchers_own_across_segments_and_deletions(settings, pdf):
    """store.stored_records (kept per segment) gives what searcher.documents(record=...) gives, and
    reading.stored_records_data the same with each record's data parsed: on an empty index, after
    additions in several segments, after a file is replaced (its old records deleted from an older
    segment) and after one is removed; asked twice each time."""
    from indexer.engine.schema import RECORD_DOC, RECORD_FILE, RECORD_PAGE
    from indexer.engine.reading import stored_records, stored_records_data

    def same(settings):
        with open_searcher(settings.index_dir) as s:
            for kind in (RECORD_FILE, RECORD_DOC, RECORD_PAGE):
                expected = sorted(json.dumps(d, sort_keys=True) for d in s.documents(record=kind))
                parsed = sorted(json.dumps([d, json.loads(d.get("data") or "{}")], sort_keys=True)
                                for d in s.documents(record=kind))
                for _ in range(2):
                    assert sorted(json.dumps(d, sort_keys=True) for d in stored_records(s, kind)) == expected
                    assert sorted(json.dumps([d, data], sort_keys=True)
                                  for d, data in stored_records_data(s, kind)) == parsed
                yield len(expected)

    update(settings)
    assert list(same(settings)) == [0, 0, 0]
    pdf("a.pdf", ["Regional policy in Chengdu", "second page"])
    update(settings)
    pdf("b.pdf", ["Urbanisation study"])
    update(settings)
    assert list(same(settings)) == [2, 2, 3]
    pdf("a.pdf", ["Regional policy in Chongqing"])         # replaced: the first segment's records are deleted
    update(settings)
    (Path(settings.archive_dir) / "b.pdf").unlink()
    update(settings)
    counts = list(same(settings))
    assert counts == [1, 1, 1]
    with open_searcher(settings.index_dir) as s:
        (record,) = stored_records(s, RECORD_PAGE)
        assert "Chongqing" in record["content"]
