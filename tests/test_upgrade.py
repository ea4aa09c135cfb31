"""Upgrades rebuild: an index whose stamp differs from this code's, has none, or cannot be opened is rebuilt by update()."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from conftest import write_pdf
from indexer.build import update
from indexer.engine.stamp import STAMP_FILE, current_stamp, read_stamp
from indexer.engine.storage import INDEX_NAME
from indexer.generations import current_generation
from indexer.readers import open_searcher
from indexer.search import search
from indexer.status import index_status

CATALOGUE = """
[[document]]
id = "mou"
title = "Memorandum on Regional Policy"
date = "2006"
kind = "memorandum of understanding"

[[document.files]]
lang = "en"
file = "mou.en.pdf"

[[document.files]]
lang = "zh"
file = "mou.zh.pdf"
"""


@pytest.fixture
def built(settings, reads):
    """An archive of an English and a Chinese file, indexed once; the reads list emptied."""
    Path(settings.catalogue).write_text(CATALOGUE, encoding="utf-8")
    write_pdf(Path(settings.archive_dir) / "mou.en.pdf", ["Experts meet in Dublin to discuss cohesion."])
    write_pdf(Path(settings.archive_dir) / "mou.zh.pdf", ["专家讨论城镇化问题。"])
    update(settings)
    reads.clear()
    return current_generation(settings.index_dir)


def found(settings, text: str) -> set[str]:
    with open_searcher(settings.index_dir) as s:
        return {h.doc_id for h in search(s, text, settings, expand=False).hits}


def set_stamp(generation: Path, **entries: str) -> None:
    stamp = read_stamp(generation)
    (generation / STAMP_FILE).write_text(json.dumps(dict(stamp, **entries)), encoding="utf-8")


def assert_rebuilt(settings, reads, first: Path, report) -> None:
    """REPORT is a rebuild that read every file into a new generation, which answers searches."""
    assert report.rebuilt
    assert sorted(reads) == ["mou.en.pdf", "mou.zh.pdf"]
    gen = current_generation(settings.index_dir)
    assert gen != first and not first.exists()
    assert read_stamp(gen) == current_stamp()
    assert found(settings, "Dublin") == {"mou"} and found(settings, "城镇化") == {"mou"}
    # The new generation carries this code's stamp: the next update is incremental again.
    reads.clear()
    again = update(settings)
    assert not again.rebuilt and reads == []


def test_a_new_index_holds_this_codes_stamp_in_a_file(settings, built):
    stamp = json.loads((built / STAMP_FILE).read_text(encoding="utf-8"))
    assert stamp == current_stamp()
    assert set(stamp) == {"schema", "analysis", "codec", "whoosh", "jieba", "jieba_dictionary"}
    assert index_status(settings).version_ok


@pytest.mark.parametrize("key, other, says", [
    ("whoosh", "2.7.4", "index made with whoosh-reloaded 2.7.4 differs from this code's 2.7.5"),
    ("jieba", "0.42.0", "index made with jieba 0.42.0 differs from this code's 0.42.1"),
    ("jieba_dictionary", "0123456789abcdef", "index made with jieba dictionary hash 0123456789abcdef differs"),
    ("codec", "0", "index made with codec version 0 differs from this code's"),
])
def test_an_index_made_with_other_libraries_or_codec_is_rebuilt(settings, built, reads, caplog, key, other, says):
    set_stamp(built, **{key: other})
    status = index_status(settings)
    assert not status.version_ok and other in status.version

    with caplog.at_level(logging.WARNING, logger="indexer.build"):
        report = update(settings)

    assert says in report.rebuild_reason
    assert f"{report.rebuild_reason}: rebuilding" in caplog.messages
    assert_rebuilt(settings, reads, built, report)


def test_an_index_without_a_stamp_file_is_rebuilt(settings, built, reads, caplog):
    (built / STAMP_FILE).unlink()
    assert not index_status(settings).version_ok

    with caplog.at_level(logging.WARNING, logger="indexer.build"):
        report = update(settings)

    assert report.rebuild_reason == "index has no stamp file (made before stamps were written)"
    assert f"{report.rebuild_reason}: rebuilding" in caplog.messages
    assert_rebuilt(settings, reads, built, report)


def _move_pickled_class(generation: Path, old: bytes, new: bytes) -> None:
    """Rename a module path pickled into the latest table of contents, as if its class had moved."""
    assert len(old) == len(new)     # the pickle's own lengths stay right
    toc = max(generation.glob(f"_{INDEX_NAME}_*.toc"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    data = toc.read_bytes()
    assert old in data
    toc.write_bytes(data.replace(old, new))


def test_an_index_whose_schema_cannot_be_unpickled_is_rebuilt_not_a_crash(settings, built, reads, caplog):
    # The analyzers pickled into the schema name a module that does not exist.
    _move_pickled_class(built, b"indexer.engine.analysis", b"indexer.engine.gone_mod")

    with caplog.at_level(logging.WARNING, logger="indexer.build"):
        report = update(settings)

    assert report.rebuild_reason.startswith("index cannot be opened (ModuleNotFoundError:")
    assert "indexer.engine.gone_mod" in report.rebuild_reason
    assert f"{report.rebuild_reason}: rebuilding" in caplog.messages
    assert_rebuilt(settings, reads, built, report)


def test_an_index_whose_codec_class_moved_is_rebuilt(settings, built, reads):
    # Each segment's codec is pickled into the table of contents by import path too.
    _move_pickled_class(built, b"SplitBlockCodec", b"SplitBlockCodex")

    report = update(settings)

    assert report.rebuild_reason.startswith("index cannot be opened (AttributeError:")
    assert_rebuilt(settings, reads, built, report)


def test_status_of_an_index_that_cannot_be_opened_says_it_is_outdated(settings, built):
    set_stamp(built, whoosh="3.0.0")
    _move_pickled_class(built, b"indexer.engine.analysis", b"indexer.engine.gone_mod")

    status = index_status(settings)

    assert status.built and not status.version_ok and "whoosh=3.0.0" in status.version


def test_an_index_with_this_codes_stamp_is_not_rebuilt(settings, built, reads):
    write_pdf(Path(settings.archive_dir) / "extra.en.pdf", ["An annex on Chengdu."])

    report = update(settings)

    assert not report.rebuilt and report.rebuild_reason == ""
    assert reads == ["extra.en.pdf"]
    assert current_generation(settings.index_dir) == built
    assert found(settings, "Chengdu") == {"extra-en"}


def test_a_disk_error_opening_the_index_is_raised_not_rebuilt_over(settings, built, reads):
    """An index that cannot be read for a reason of the disk (here its table of contents is a folder)
    is not replaced by a rebuild of the whole archive: the error reaches the caller, the generation stays."""
    toc = next(built.glob("_MAIN_*.toc"))
    saved = toc.read_bytes()
    toc.unlink()
    toc.mkdir()
    with pytest.raises(OSError):
        update(settings)
    assert current_generation(settings.index_dir) == built and reads == []
    toc.rmdir()
    toc.write_bytes(saved)
    assert not update(settings).rebuilt
