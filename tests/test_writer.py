"""open_writer: a writer commits when its block ends and cancels when the block raises."""

from __future__ import annotations

import pytest
from whoosh.query import Term

from indexer.engine.schema import RECORD_PAGE
from indexer.engine.storage import create_index
from indexer.engine.writer import open_writer


def _keys(ix) -> list[str]:
    with ix.searcher() as s:
        return sorted(h["key"] for h in s.search(Term("record", RECORD_PAGE), limit=None))


def _add_page(writer, n: int) -> None:
    text = f"Regional policy seminar number {n}, 区域政策研讨会。"
    writer.add_document(record=RECORD_PAGE, key=f"page:{n}", path="a.pdf", page=n, body=text, content=text)


def test_a_block_that_ends_commits(tmp_path):
    ix = create_index(tmp_path)
    generation = ix.latest_generation()
    with open_writer(ix) as writer:
        _add_page(writer, 1)
    assert writer.is_closed
    assert ix.latest_generation() == generation + 1
    assert _keys(ix) == ["page:1"]


def test_an_exception_in_the_block_leaves_the_index_as_it_was_and_releases_the_writer(tmp_path):
    ix = create_index(tmp_path)
    with open_writer(ix) as writer:
        _add_page(writer, 1)
    generation = ix.latest_generation()
    with pytest.raises(RuntimeError, match="stop here"):
        with open_writer(ix) as writer:
            writer.delete_by_term("key", "page:1")
            _add_page(writer, 2)
            raise RuntimeError("stop here")
    assert writer.is_closed
    assert ix.latest_generation() == generation
    assert _keys(ix) == ["page:1"]
    # The lock is free: the next writer opens at once (Whoosh would raise LockError otherwise).
    with open_writer(ix) as writer:
        _add_page(writer, 3)
    assert _keys(ix) == ["page:1", "page:3"]


def test_a_block_that_cancels_commits_nothing(tmp_path):
    ix = create_index(tmp_path)
    generation = ix.latest_generation()
    with open_writer(ix) as writer:
        writer.cancel()
    assert ix.latest_generation() == generation
    assert _keys(ix) == []


def test_a_segment_written_for_another_index_is_committed_there_whole(tmp_path):
    """segment_only writes the block's documents as a segment without committing; adopt_segments
    lists it in another index's commit (as indexer.segments and build do for worker processes)."""
    (tmp_path / "index").mkdir()
    (tmp_path / "staging").mkdir()
    ix = create_index(tmp_path / "index")
    staging = create_index(tmp_path / "staging")
    with open_writer(staging, segment_only=True, _lk=False) as writer:
        _add_page(writer, 1)
        _add_page(writer, 2)
    segment = writer.finished_segment
    assert _keys(staging) == []          # nothing committed in the staging index
    prefix = segment.segment_id() + "."
    for path in (tmp_path / "staging").iterdir():
        if path.name.startswith(prefix):
            path.rename(tmp_path / "index" / path.name)
    with open_writer(ix) as writer:
        _add_page(writer, 3)
        writer.adopt_segments([segment])
    assert _keys(ix) == ["page:1", "page:2", "page:3"]
