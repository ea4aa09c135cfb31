"""Crash safety: a real `python -m indexer update` killed with SIGKILL at several points.

After each kill the index must open, hold a consistent state (every file
record with all its pages and its document, no page without its file), hold
whole batches only (what the last completed commit held), answer searches,
and the next update must finish the job: every file indexed, none twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import make_settings, write_config, write_pdf
from indexer.config import PROJECT_ROOT
from indexer.engine.schema import RECORD_DOC, RECORD_FILE, RECORD_PAGE
from indexer.search import search
from indexer.generations import GEN_PATTERN, current_generation
from indexer.readers import open_searcher

N_FILES = 60
BATCH = 5
ENV = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
PROGRESS = re.compile(r"(\d+)/(\d+) files")



@pytest.fixture(scope="module")
def crash_archive(tmp_path_factory):
    """Settings and config file of an archive of N_FILES small two-page PDFs, committed every BATCH files."""
    root = tmp_path_factory.mktemp("crash")
    settings = make_settings(root, commit_every_files=BATCH, userdict=str(root / "no-userdict.txt"),
                             glossary=str(root / "no-glossary.toml"), expand_glossary=False)
    for i in range(N_FILES):
        write_pdf(Path(settings.archive_dir) / f"doc-{i:03d}.pdf",
                  [f"Report number {i} on regional policy, keyword topic{i:03d}.", f"第{i}页：区域政策。"])
    return settings, write_config(settings, root / "config.toml")


class Run:
    """A `python -m indexer` process whose progress lines are read as they come."""

    def __init__(self, config: Path, command: str = "update"):
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "indexer", "--config", str(config), command],
                                     env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.done = 0
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.err.append(line)
            m = PROGRESS.search(line)
            if m:
                self.done = max(self.done, int(m.group(1)))

    def kill_when(self, files: int | None = None, seconds: float | None = None, limit: float = 60.0) -> bool:
        """SIGKILL once FILES are reported done or SECONDS have passed; False if it finished first."""
        while self.proc.poll() is None:
            elapsed = time.monotonic() - self.started
            if (files is not None and self.done >= files) or (seconds is not None and elapsed >= seconds):
                self.proc.send_signal(signal.SIGKILL)
                self.finish()
                return True
            assert elapsed < limit, "the update neither progressed nor ended"
            time.sleep(0.005)
        self.finish()
        return False

    def finish(self) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=120)
        self._reader.join(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, out


def index_state(settings) -> dict[str, int]:
    """Check the live index is consistent; return the indexed files with their page counts."""
    if current_generation(settings.index_dir) is None:
        return {}
    with open_searcher(settings.index_dir) as s:
        records = list(s.all_stored_fields())
        keys = [r["key"] for r in records]
        assert len(keys) == len(set(keys)), "a record is in the index twice"
        files = {r["path"]: json.loads(r["data"]) for r in records if r["record"] == RECORD_FILE}
        docs = {r["doc_id"] for r in records if r["record"] == RECORD_DOC}
        pages: dict[str, list[int]] = {}
        for r in records:
            if r["record"] == RECORD_PAGE:
                pages.setdefault(r["path"], []).append(r["page"])
        assert set(pages) <= set(files), f"pages without their file record: {set(pages) - set(files)}"
        for path, info in files.items():
            assert info["status"] == "indexed", (path, info)
            assert sorted(pages.get(path, [])) == [1, 2], f"{path} has pages {pages.get(path)}"
            assert Path(path).stem in docs, f"{path} is indexed but its document record is missing"
        # Searches work, and find every committed file (by its own word) and nothing else.
        for path in sorted(files)[:3] + sorted(files)[-3:]:
            word = "topic" + Path(path).stem[-3:]
            assert [h.doc_id for h in search(s, word, settings).hits] == [Path(path).stem]
        all_hits = search(s, "regional", settings, page_size=1000)
        assert {h.doc_id for h in all_hits.hits} == {Path(p).stem for p in files}
    return {path: len(pages[path]) for path in files}


def test_an_update_killed_at_any_moment_leaves_a_consistent_index_and_the_next_one_finishes(crash_archive):
    settings, config = crash_archive
    indexed = index_state(settings)
    assert indexed == {}
    # Kill points: by progress reported (mid-run, batches committed; at the
    # very first file, none), and by time (during start-up, or wherever the
    # update has got to after 1.5 s).
    kills = [dict(files=12), dict(files=1), dict(files=9), dict(seconds=0.3), dict(files=7), dict(seconds=1.5)]
    killed_mid_run = 0
    killed_pids = set()
    for point in kills:
        before = len(indexed)
        if before == N_FILES:
            break
        run = Run(config)
        was_killed = run.kill_when(**point)
        state = index_state(settings)
        assert set(indexed) <= set(state), "a committed file was lost"
        gained = len(state) - before
        if was_killed:
            # Only whole batches: exactly what the last completed commit held.
            assert gained % BATCH == 0 or len(state) == N_FILES, (point, gained)
            # Every batch the progress output had reported done (and one more
            # being committed, perhaps) is there.
            assert gained >= (run.done // BATCH) * BATCH - BATCH, (point, run.done, gained)
            killed_mid_run += 0 < gained < N_FILES - before
            killed_pids.add(run.proc.pid)
            lock = Path(settings.index_dir) / "writer.lock"
            if lock.exists() and lock.read_text():
                # Left by a killed process (perhaps an earlier one, when this one
                # died before taking the lock): the next update clears it.
                assert json.loads(lock.read_text())["pid"] in killed_pids
        indexed = state
    assert killed_mid_run >= 2, "no kill landed between two commits: make the archive bigger"

    code, out = Run(config).finish()

    assert code == 0, out
    remaining = N_FILES - len(indexed)
    assert f"{remaining} added, 0 updated" in out and f"{remaining} files read" in out
    final = index_state(settings)
    assert sorted(final) == [f"doc-{i:03d}.pdf" for i in range(N_FILES)]
    assert all(n == 2 for n in final.values())
    # And nothing is left to do.
    code, out = Run(config).finish()
    assert code == 0 and "0 added, 0 updated" in out and "0 files read" in out


def test_a_killed_rebuild_leaves_the_live_index_serving(crash_archive):
    settings, config = crash_archive
    if len(index_state(settings)) < N_FILES:
        code, out = Run(config).finish()
        assert code == 0, out
    live = current_generation(settings.index_dir)

    assert Run(config, "rebuild").kill_when(files=12)

    assert current_generation(settings.index_dir) == live
    assert len(index_state(settings)) == N_FILES
    leftovers = [p.name for p in Path(settings.index_dir).iterdir() if GEN_PATTERN.match(p.name) and p != live]
    assert len(leftovers) == 1                     # the half-built generation, unused
    code, out = Run(config, "rebuild").finish()
    assert code == 0 and "Built a new index (requested)" in out
    assert [p.name for p in Path(settings.index_dir).iterdir() if GEN_PATTERN.match(p.name)] == [
        current_generation(settings.index_dir).name]
    assert len(index_state(settings)) == N_FILES
