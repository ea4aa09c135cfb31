"""The watcher: new, changed, renamed and deleted files are indexed by themselves, half-copied ones are not."""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

import pytest

from conftest import write_pdf
from indexer import build
from indexer.errors import IndexMissingError
from indexer.search import search
from indexer.lock import WriterLock
from indexer.readers import open_searcher
from indexer.watch import start_watcher, take_snapshot

DEADLINE_S = 15.0


def wait_for(condition, timeout: float = DEADLINE_S, what: str = ""):
    """Poll CONDITION until it returns something true; fail after TIMEOUT seconds."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"not within {timeout:g} s: {what or condition}")
        time.sleep(0.1)


def found(settings, text: str) -> set[str] | None:
    """Ids of the documents matching TEXT; None before the first build."""
    try:
        with open_searcher(settings.index_dir) as s:
            return {h.doc_id for h in search(s, text, settings, expand=False).hits}
    except IndexMissingError:
        return None


def becomes(settings, text: str, expected: set[str]):
    wait_for(lambda: found(settings, text) == expected, what=f"{text!r} finds {sorted(expected)}")


@pytest.fixture
def reads(monkeypatch):
    """(file name, its size when read) for every file the indexer reads."""
    seen: list[tuple[str, int]] = []
    real = build._extract_many

    def spy(paths, settings, *rest):
        sizes = {Path(p).name: Path(p).stat().st_size for p in paths}
        for path, extraction in real(paths, settings, *rest):
            seen.append((Path(path).name, sizes[Path(path).name]))
            yield path, extraction

    monkeypatch.setattr(build, "_extract_many", spy)
    return seen


def thread_stack(thread) -> str:
    """Where THREAD is now (to tell why a watcher did not stop)."""
    frame = sys._current_frames().get(thread.ident)
    return "".join(traceback.format_stack(frame)) if frame else "(no frame)"


@pytest.fixture
def watching(settings):
    """Factory: start a watcher on the archive, with events or with rescans only; stopped at the end."""
    watchers = []

    def start(use_events: bool, **overrides):
        values = dict(settle_s=0.5, rescan_interval_s=60.0 if use_events else 0.3)
        values.update(overrides)
        s = settings.replace(**values)
        w = start_watcher(s, use_events=use_events)
        watchers.append(w)
        return w, s

    yield start
    for w in watchers:
        w.stop(timeout=30)
        assert not w.alive, "the watcher did not stop:\n" + thread_stack(w._thread)


@pytest.mark.parametrize("use_events", [True, False], ids=["events", "rescan-only"])
def test_the_watcher_picks_up_new_changed_renamed_and_deleted_files(watching, pdf, use_events, reads):
    pdf("a.pdf", ["A note on Qingdao."])
    watcher, settings = watching(use_events)
    archive = Path(settings.archive_dir)
    becomes(settings, "Qingdao", {"a"})                       # the first run indexes what is there

    pdf("b.pdf", ["A note on Lhasa."])
    becomes(settings, "Lhasa", {"b"})

    pdf("b.pdf", ["A note on Xining, no longer on the other city."])
    becomes(settings, "Xining", {"b"})
    assert found(settings, "Lhasa") == set()

    reads.clear()
    (archive / "b.pdf").rename(archive / "c.pdf")
    becomes(settings, "Xining", {"c"})
    assert reads == []                                        # recognised by its hash, not read again
    # The index shows the change before update() returns its report.
    wait_for(lambda: any(r.renamed == [("b.pdf", "c.pdf")] for r in list(watcher.reports)), what="the rename report")

    (archive / "a.pdf").unlink()
    becomes(settings, "Qingdao", set())
    assert list(watcher.errors) == []
    assert watcher.alive


def test_a_catalogue_edit_is_picked_up_too(watching, pdf):
    pdf("a.pdf", ["A note on Qingdao."])
    watcher, settings = watching(use_events=True)
    becomes(settings, "Qingdao", {"a"})

    Path(settings.catalogue).write_text(
        '[[document]]\nid = "qingdao-note"\ntitle = "Qingdao note"\nkind = "study"\n'
        '[[document.files]]\nlang = "en"\nfile = "a.pdf"\n', encoding="utf-8")
    becomes(settings, "Qingdao", {"qingdao-note"})


@pytest.mark.parametrize("use_events", [True, False], ids=["events", "rescan-only"])
def test_a_file_being_copied_is_read_only_once_complete(watching, settings, tmp_path, use_events, reads):
    source = write_pdf(tmp_path / "source.pdf", ["A long report on Yinchuan."] * 20)
    data = source.read_bytes()
    watcher, settings = watching(use_events, settle_s=1.0)
    wait_for(lambda: watcher.runs >= 1 and watcher.reports, what="the first run")

    # Copy in six chunks with pauses shorter than settle_s, as a slow network copy does.
    target = Path(settings.archive_dir) / "slow.pdf"
    chunks = [data[i:i + len(data) // 6 + 1] for i in range(0, len(data), len(data) // 6 + 1)]
    with open(target, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            fh.flush()
            time.sleep(0.4)
    becomes(settings, "Yinchuan", {"slow"})

    assert [r for r in reads if r[0] == "slow.pdf"] == [("slow.pdf", len(data))]
    assert all(not r.failed for r in list(watcher.reports))


def test_the_watcher_waits_for_another_writer_and_tries_again(watching, pdf, settings):
    pdf("a.pdf", ["A note on Qingdao."])
    holder = WriterLock(settings.index_dir, what="python -m indexer update").acquire()
    try:
        watcher, s = watching(use_events=True, lock_timeout_s=0.2)
        wait_for(lambda: watcher.errors, what="the watcher meets the lock")
        assert "already running" in watcher.errors[0]
        time.sleep(1.0)
        assert found(s, "Qingdao") is None and watcher.alive
    finally:
        holder.release()
    becomes(s, "Qingdao", {"a"})


def test_a_catalogue_error_is_reported_and_the_watcher_goes_on(watching, pdf, settings):
    pdf("a.pdf", ["A note on Qingdao."])
    watcher, s = watching(use_events=True)
    becomes(s, "Qingdao", {"a"})

    catalogue = Path(s.catalogue)
    catalogue.write_text('[[document]]\nid = "q"\ntitle = "Q"\nkind = "novel"\n', encoding="utf-8")
    pdf("b.pdf", ["A note on Lhasa."])
    wait_for(lambda: watcher.errors, what="the catalogue error")
    assert "document 1 (q)" in watcher.errors[0] and "novel" in watcher.errors[0]
    assert watcher.alive

    catalogue.write_text('[[document]]\nid = "q"\ntitle = "Q"\nkind = "study"\n', encoding="utf-8")
    becomes(s, "Lhasa", {"b"})


def test_the_snapshot_covers_archive_files_catalogue_and_dictionary(settings, pdf, tmp_path):
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("区域政策\n", encoding="utf-8")
    settings = settings.replace(userdict=userdict)
    pdf("a.pdf", ["x"])
    (Path(settings.archive_dir) / "notes.txt").write_text("not a document")
    Path(settings.catalogue).write_text("")

    snapshot = take_snapshot(settings)

    assert sorted(snapshot) == sorted(["a.pdf", "\0" + str(settings.catalogue), "\0" + str(userdict)])


def test_a_deleted_or_damaged_index_is_built_again_by_itself(watching, pdf, settings):
    import shutil

    from indexer import ledger
    from indexer.generations import current_generation

    pdf("a.pdf", ["A note on Qingdao."])
    watcher, s = watching(use_events=True, rescan_interval_s=1.0)
    becomes(s, "Qingdao", {"a"})
    added = ledger.added_dates(s)

    # Gone at once (a rename), then deleted: the watcher may start building again at any moment.
    gone = Path(s.index_dir).with_name("index-deleted")
    Path(s.index_dir).rename(gone)
    shutil.rmtree(gone)
    # Back within two rescans, with its facts.
    wait_for(lambda: found(s, "Qingdao") == {"a"}, timeout=2 * s.rescan_interval_s + 10, what="the index is back")
    assert ledger.added_dates(s) == added
    assert watcher.reports[-1].rebuilt
    assert watcher.reports[-1].rebuild_reason in ("the index is missing", "no index yet")

    # A damaged table of contents: the live generation no longer opens.
    generation = current_generation(s.index_dir)
    for toc in generation.glob("_MAIN_*.toc"):
        toc.write_bytes(b"not a table of contents")
    wait_for(lambda: current_generation(s.index_dir) not in (None, generation) and found(s, "Qingdao") == {"a"},
             timeout=2 * s.rescan_interval_s + 10, what="the damaged index is replaced")
    assert watcher.alive


def test_an_archive_folder_that_goes_away_keeps_the_index_and_says_why(watching, pdf, settings):
    from indexer import ledger

    for n in range(3):
        pdf(f"a{n}.pdf", [f"A note {n} on Qingdao."])
    watcher, s = watching(use_events=False)
    becomes(s, "Qingdao", {"a0", "a1", "a2"})

    archive = Path(s.archive_dir)
    archive.rename(archive.with_name("unmounted"))
    wait_for(lambda: ledger.read_outcome(s).error_kind == "removals_held", what="the removals are held")
    assert "is missing" in ledger.read_outcome(s).error
    assert found(s, "Qingdao") == {"a0", "a1", "a2"}

    archive.with_name("unmounted").rename(archive)
    wait_for(lambda: ledger.read_outcome(s).ok, what="the warning ends when the folder is back")
    assert found(s, "Qingdao") == {"a0", "a1", "a2"} and watcher.alive


def test_the_watcher_watches_a_replaced_archive_folder_again(watching, pdf, settings):
    import os
    import shutil

    pdf("a.pdf", ["A note on Qingdao."])
    watcher, s = watching(use_events=True, rescan_interval_s=1.0)
    becomes(s, "Qingdao", {"a"})
    # The share unmounts and mounts again: the folder in place is another folder (another inode),
    # which inotify, still following the old one, would never report on.
    archive = Path(s.archive_dir)
    archive.rename(archive.with_name("unmounted"))
    time.sleep(1.5)
    shutil.copytree(archive.with_name("unmounted"), archive)
    st = os.stat(archive)
    wait_for(lambda: watcher._watched_folder == (st.st_dev, st.st_ino), what="file events from the new folder")
    pdf("b.pdf", ["A note on Lhasa."])
    becomes(s, "Lhasa", {"b"})
