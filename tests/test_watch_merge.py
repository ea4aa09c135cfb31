"""The watcher merges the small segments additions leave, at idle, and a change stops the merge at once."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import write_pdf
from indexer.build import MERGE_FACTOR
from indexer.lock import WriterLock
from indexer.generations import current_generation
from indexer.engine.storage import open_index
from indexer.watch import start_watcher
from test_watch import becomes, found, thread_stack, wait_for

WORDS = ["Qingdao", "Lhasa", "Xining", "Yinchuan", "Kashgar", "Guilin", "Dalian", "Zhuhai", "Ningbo", "Urumqi",
         "Baotou"]


def segments(settings) -> int:
    ix = open_index(current_generation(settings.index_dir))
    try:
        return len(ix._segments())
    finally:
        ix.close()


def test_small_segments_are_merged_when_the_watcher_is_idle(settings):
    s = settings.replace(settle_s=0.2, rescan_interval_s=60.0, merge_idle_s=1.5)
    archive = Path(s.archive_dir)
    watcher = start_watcher(s, use_events=True)
    try:
        # One addition at a time, each searchable before the next: one small segment each.
        for i, word in enumerate(WORDS):
            write_pdf(archive / f"d{i:02d}.pdf", [f"A note on {word}."])
            becomes(s, word, {f"d{i:02d}"})
        before = segments(s)
        assert before >= MERGE_FACTOR + 1
        wait_for(lambda: watcher.merges["done"] >= 1, timeout=60, what="a merge at idle")
        after = segments(s)
        assert after < MERGE_FACTOR <= before, (before, after)
        for i, word in enumerate(WORDS):
            assert found(s, word) == {f"d{i:02d}"}
        assert list(watcher.errors) == [] and watcher.merges["failed"] == 0
        # Nothing changed since: no merge again.
        time.sleep(3 * s.merge_idle_s)
        assert watcher.merges["done"] == 1
    finally:
        watcher.stop(timeout=30)
    assert not watcher.alive, thread_stack(watcher._thread)


def test_a_change_stops_a_merge_and_the_addition_does_not_wait_for_it(settings):
    s = settings.replace(settle_s=0.2, rescan_interval_s=60.0, merge_idle_s=1.0, lock_timeout_s=60.0)
    archive = Path(s.archive_dir)
    watcher = start_watcher(s, use_events=True)
    holder = None
    try:
        for i, word in enumerate(WORDS[:MERGE_FACTOR + 1]):
            write_pdf(archive / f"d{i:02d}.pdf", [f"A note on {word}."])
            becomes(s, word, {f"d{i:02d}"})
        # Another writer holds the index: the merge process starts and waits for the lock (up to 60 s).
        holder = WriterLock(s.index_dir, what="test").acquire()
        wait_for(lambda: watcher._merge is not None, timeout=30, what="a merge started")
        merge_process = watcher._merge.process
        time.sleep(0.5)
        assert merge_process.is_alive()

        write_pdf(archive / "late.pdf", ["A note on Lanzhou."])
        wait_for(lambda: watcher.merges["stopped"] == 1, timeout=5, what="the merge stopped by the change")
        assert not merge_process.is_alive()
        holder.release()
        holder = None
        started = time.monotonic()
        becomes(s, "Lanzhou", {"late"})
        assert time.monotonic() - started < 15
        # Quiet again: the merge is done after all.
        wait_for(lambda: watcher.merges["done"] >= 1, timeout=60, what="the merge, at the next idle time")
        assert segments(s) < MERGE_FACTOR
        assert found(s, "Qingdao") == {"d00"}
    finally:
        if holder is not None:
            holder.release()
        watcher.stop(timeout=30)
    assert not watcher.alive, thread_stack(watcher._thread)
