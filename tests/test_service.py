"""The web app's one object, indexer.service.ArchiveService, through its own API on a real index."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from conftest import make_settings, write_pdf
from indexer.build import rebuild, update
from indexer.errors import IndexMissingError, UploadError
from indexer.service import (
    ArchiveService,
    DocumentDetail,
    IndexSnapshot,
    IndexStatus,
    SearchResult,
    UploadFields,
)

CATALOGUE = """
[[document]]
id = "mou-2006"
title = "Memorandum of Understanding on Regional Policy Cooperation"
title_zh = "区域政策合作谅解备忘录"
date = "2006-05-15"
kind = "memorandum of understanding"

[[document.files]]
lang = "en"
file = "mou.en.pdf"

[[document.files]]
lang = "zh"
file = "mou.zh.pdf"

[[document]]
id = "study-2011"
title = "Comparative study of urbanisation"
date = "2011-03"
kind = "study"

[[document.files]]
lang = "en"
file = "study.en.pdf"

[[document]]
id = "seminar-2015"
title = "High-level seminar on urban development"
title_zh = "城市发展高层研讨会"
date = "2015-10-20"
kind = "high-level seminar"

[[document.files]]
lang = "zh"
file = "seminar.zh.pdf"
"""

# Each word is on known pages of known documents (see the exact-result tests).
PDFS = {
    "mou.en.pdf": ["The parties agree to exchange views on regional policy.", "Experts discuss cohesion in Dublin."],
    "mou.zh.pdf": ["双方同意在区域政策领域开展交流。", "专家讨论城镇化问题。"],
    "study.en.pdf": ["A comparative study of urbanisation and cohesion.", "Chengdu and Wuhan grow quickly."],
    "seminar.zh.pdf": ["研讨会在成都举行。", "会议讨论了城镇化与区域合作。"],
}


def write_archive(settings) -> None:
    """Write the PDFs and the catalogue of this module's archive (not indexed)."""
    for name, pages in PDFS.items():
        write_pdf(Path(settings.archive_dir) / name, pages)
    (Path(settings.archive_dir) / "catalogue.toml").write_text(CATALOGUE, encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Settings of this module's archive, indexed."""
    settings = make_settings(tmp_path_factory.mktemp("service"))
    write_archive(settings)
    update(settings)
    return settings


@pytest.fixture(scope="module")
def archive(built):
    service = ArchiveService(built)
    yield service
    service.close()


def found(result: SearchResult) -> list[tuple[str, list[tuple[str, list[int]]]]]:
    """(document, [(language, best pages)]) of each hit, in rank order."""
    return [(h.doc_id, [(f.lang, [p.page for p in f.pages]) for f in h.files]) for h in result.hits]


# --- search ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("cohesion", {("study-2011", (("en", (1,)),)), ("mou-2006", (("en", (2,)),))}),
    ("Dublin", {("mou-2006", (("en", (2,)),))}),
    ("城镇化", {("seminar-2015", (("zh", (2,)),)), ("mou-2006", (("zh", (2,)),))}),
    ("合作", {("seminar-2015", (("zh", (2,)),)), ("mou-2006", ())}),
])
def test_search_finds_exactly_the_documents_and_pages_that_hold_the_words(archive, query, expected):
    # Only the words as typed: translation (tested below and in test_translation.py) adds other documents.
    result = archive.snapshot().search(query, expand=False)
    assert isinstance(result, SearchResult)
    assert result.query == query and result.total == len(expected)
    assert {(doc, tuple((lang, tuple(pages)) for lang, pages in files)) for doc, files in found(result)} == expected


def test_search_translates_a_word_into_the_other_language(archive):
    # 城镇化 is a glossary term (urbanisation): the English-only study comes after the Chinese documents.
    result = archive.snapshot().search("城镇化")
    assert [h.doc_id for h in result.hits][2:] == ["study-2011"]
    assert {h.doc_id for h in result.hits[:2]} == {"seminar-2015", "mou-2006"}
    assert [(t.word, t.terms) for t in result.translations] == [("城镇化", ("urbanisation",))]


def test_search_with_no_match_finds_nothing(archive):
    result = archive.snapshot().search("quokka")
    assert (result.total, result.hits) == (0, [])


def test_the_glossary_adds_the_other_language_and_its_pages(archive):
    result = archive.snapshot().search("Chengdu")
    assert result.also_searched == ["成都"]
    assert found(result) == [("study-2011", [("en", [2])]), ("seminar-2015", [("zh", [1])])]
    # Without the glossary only the English word is searched.
    assert found(archive.snapshot().search("Chengdu", expand=False)) == [("study-2011", [("en", [2])])]


def test_search_takes_filters_page_size_and_sort(archive):
    from indexer.service import Filters

    snapshot = archive.snapshot()
    assert [h.doc_id for h in snapshot.search("cohesion", Filters(year=("2006",))).hits] == ["mou-2006"]
    newest = snapshot.search("cohesion", sort="newest", page_size=1)
    assert (newest.total, newest.pages, [h.doc_id for h in newest.hits]) == (2, 2, ["study-2011"])
    assert [h.doc_id for h in snapshot.search("cohesion", sort="newest", page=2, page_size=1).hits] == ["mou-2006"]


# --- one document, suggestions, the listing, a page ------------------------------------------------


def test_a_document_with_its_files_matching_pages_and_highlights(archive):
    doc = archive.snapshot().get_document("mou-2006", text="cohesion")
    assert isinstance(doc, DocumentDetail)
    assert (doc.title, doc.title_zh, doc.date) == (
        "Memorandum of Understanding on Regional Policy Cooperation", "区域政策合作谅解备忘录", "2006-05-15")
    assert [(f.lang, f.path, f.pages, f.status, f.exists) for f in doc.files] == [
        ("en", "mou.en.pdf", 2, "indexed", True), ("zh", "mou.zh.pdf", 2, "indexed", True)]
    assert doc.matched == {"mou.en.pdf": [2]}
    assert doc.page_texts["mou.en.pdf"] == [(1, "The parties agree to exchange views on regional policy."),
                                            (2, "Experts discuss <mark>cohesion</mark> in Dublin.")]
    assert doc.page_texts["mou.zh.pdf"] == [(1, "双方同意在区域政策领域开展交流。"), (2, "专家讨论城镇化问题。")]
    assert archive.snapshot().get_document("no-such-document") is None


def test_a_document_without_its_pages(archive):
    doc = archive.snapshot().get_document("seminar-2015", with_pages=False)
    assert [f.path for f in doc.files] == ["seminar.zh.pdf"]
    assert (doc.page_texts, doc.matched, doc.related) == ({}, {}, [])


@pytest.mark.parametrize("prefix, expected", [
    ("coh", ["cohesion"]),
    ("Chen", ["chengdu"]),
    ("城", ["城镇化"]),
    ("zzz", []),
    ("", []),
])
def test_suggestions_complete_english_and_chinese_words_of_the_index(archive, prefix, expected):
    assert archive.snapshot().suggest(prefix) == expected


def test_the_listing_in_each_order(archive):
    snapshot = archive.snapshot()
    assert [d["id"] for d in snapshot.list_documents()] == ["seminar-2015", "study-2011", "mou-2006"]
    assert [d["id"] for d in snapshot.list_documents("kind")] == ["seminar-2015", "mou-2006", "study-2011"]
    assert {d["id"] for d in snapshot.list_documents("added")} == {"seminar-2015", "study-2011", "mou-2006"}


def test_one_page_text(archive):
    snapshot = archive.snapshot()
    assert snapshot.page_text("mou-2006", "mou.en.pdf", 2) == "Experts discuss cohesion in Dublin."
    # A page of another document's file, or past its end, is not there.
    assert snapshot.page_text("study-2011", "mou.en.pdf", 2) is None
    assert snapshot.page_text("mou-2006", "mou.en.pdf", 3) is None


# --- status and generations ------------------------------------------------------------------------


def test_status_counts_what_the_index_holds(archive, built):
    for status in (archive.status(), archive.snapshot().status(check_disk=False)):
        assert isinstance(status, IndexStatus)
        assert (status.built, status.documents, status.pages) == (True, 3, 8)
        assert status.counts() == {"indexed": 4} and status.waiting == [] and status.missing == []
    assert archive.snapshot().generation == archive.generation() == Path(built.index_dir, "current").readlink().name


def test_before_the_first_build_the_status_lists_the_files_waiting_and_there_is_no_snapshot(settings):
    write_archive(settings)
    service = ArchiveService(settings)
    service.warm_up()       # nothing to read: no error
    status = service.status()
    assert (status.built, status.documents) == (False, 0)
    assert status.waiting == sorted(PDFS)
    assert service.generation() == ""
    with pytest.raises(IndexMissingError):
        service.snapshot()


def test_an_update_and_a_rebuild_are_seen_without_a_new_service(settings):
    write_archive(settings)
    update(settings)
    service = ArchiveService(settings)
    service.warm_up()
    first = service.snapshot()
    assert first.search("wombat").total == 0

    # An update commits into the same generation: the next snapshot sees it.
    write_pdf(Path(settings.archive_dir) / "wombat-notes.pdf", ["Wombat census in the regions."])
    update(settings)
    second = service.snapshot()
    assert second.generation == first.generation
    assert [h.doc_id for h in second.search("wombat").hits] == ["wombat-notes"]
    assert second.status(check_disk=False).documents == 4

    # A rebuild makes a new generation: the next snapshot reads it.
    rebuild(settings)
    third = service.snapshot()
    assert third.generation != first.generation
    assert third.generation == service.generation() == Path(settings.index_dir, "current").readlink().name
    assert [h.doc_id for h in third.search("wombat").hits] == ["wombat-notes"]
    service.close()


def test_each_thread_reads_through_its_own_searcher(archive):
    """Snapshots serve the thread that took them: threads never share a searcher."""
    here = archive.snapshot()
    there = []
    thread = threading.Thread(target=lambda: there.append(archive.snapshot()))
    thread.start()
    thread.join()
    assert here._searcher is not there[0]._searcher
    assert found(there[0].search("cohesion")) == found(here.search("cohesion"))


# --- uploads ----------------------------------------------------------------------------------------


def test_an_upload_through_the_service_is_searchable_after_its_update(settings, tmp_path):
    write_archive(settings)
    update(settings)
    service = ArchiveService(settings)
    upload = write_pdf(tmp_path / "upload" / "Harbin visit.pdf", ["Notes on the Harbin visit."])
    fields = UploadFields(lang="en", title="Harbin visit", date="2019", kind="study")
    with open(upload, "rb") as stream:
        added = service.add_upload(stream, upload.name, fields)
    entries = {e.id: e for e in service.catalogue_entries()}
    assert added.new_document and [f.file for f in entries[added.doc_id].files] == [added.file]
    report = service.update()
    assert report.added == [added.file]
    assert [h.doc_id for h in service.snapshot().search("Harbin").hits] == [added.doc_id]
    # The same content again is refused, and the catalogue stays as it was.
    with open(upload, "rb") as stream, pytest.raises(UploadError) as refused:
        service.add_upload(stream, "again.pdf", UploadFields(lang="en", title="Again", kind="study"))
    assert refused.value.code == "duplicate"
    assert {e.id: e for e in service.catalogue_entries()} == entries
    service.close()


# --- what the service hands out ---------------------------------------------------------------------


def test_answers_are_plain_dataclasses_without_whoosh_objects(archive):
    """Every value reachable from an answer is a dataclass, a container or a plain value."""
    snapshot = archive.snapshot()
    answers = [snapshot.search("cohesion"), snapshot.get_document("mou-2006", text="cohesion"),
               snapshot.suggest("coh"), snapshot.list_documents(), snapshot.status(check_disk=False)]
    plain = (str, int, float, bool, type(None))

    def walk(value):
        if dataclasses.is_dataclass(value):
            assert type(value).__module__.startswith("indexer."), type(value)
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        else:
            assert isinstance(value, plain), type(value)

    for answer in answers:
        walk(answer)
    assert isinstance(snapshot, IndexSnapshot)
