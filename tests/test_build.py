"""Archive -> index: page-by-page extraction, incremental updates, rebuilds, the real archive."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from indexer import build
from indexer.build import rebuild, update
from indexer.catalogue import load_catalogue
from indexer.errors import CatalogueError
from indexer.engine.schema import RECORD_DOC, RECORD_FILE, RECORD_PAGE, RECORD_TEXT
from indexer.search import Filters, search
from indexer.generations import current_generation
from indexer.readers import open_searcher

CATALOGUE = """
[[document]]
id = "mou-2006"
title = "Memorandum of Understanding on Regional Policy"
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
title = "Comparative study of regional disparities"
date = "2011"
kind = "study"

[[document.files]]
lang = "en"
file = "study.en.pdf"
"""

MOU_EN = ["The parties agree to exchange views on regional policy.",
          "Experts meet in Dublin every year to discuss cohesion."]
MOU_ZH = ["双方同意在区域政策领域开展交流。", "专家每年举行会议，讨论城镇化问题。"]
STUDY_EN = ["This comparative study describes regional disparities.",
            "Chengdu and Wuhan show urbanisation in western and central China.",
            "Annex: statistical sources."]


# --- helpers ----------------------------------------------------------------------


@pytest.fixture
def archive(settings, pdf):
    """The three catalogued files of CATALOGUE, written into the archive."""
    Path(settings.catalogue).write_text(CATALOGUE, encoding="utf-8")
    pdf("mou.en.pdf", MOU_EN)
    pdf("mou.zh.pdf", MOU_ZH)
    pdf("study.en.pdf", STUDY_EN)
    return Path(settings.archive_dir)


def records(settings) -> dict[str, list[dict]]:
    """Every stored record of the live index, by record kind."""
    out: dict[str, list[dict]] = {RECORD_DOC: [], RECORD_TEXT: [], RECORD_PAGE: [], RECORD_FILE: []}
    with open_searcher(settings.index_dir) as s:
        for fields in s.all_stored_fields():
            out.setdefault(fields.get("record", ""), []).append(fields)
    return out


def pages_of(settings) -> dict[str, dict[int, str]]:
    """Stored page texts: path -> page number -> text."""
    out: dict[str, dict[int, str]] = {}
    for r in records(settings)[RECORD_PAGE]:
        out.setdefault(r["path"], {})[r["page"]] = r["content"]
    return out


def file_info(settings) -> dict[str, dict]:
    return {r["path"]: dict(json.loads(r["data"]), doc_id=r["doc_id"]) for r in records(settings)[RECORD_FILE]}


def docs(settings) -> dict[str, dict]:
    return {r["doc_id"]: json.loads(r["data"]) for r in records(settings)[RECORD_DOC]}


def found(settings, text: str) -> dict[str, dict[str, list[int]]]:
    """Matching documents -> file -> page numbers shown."""
    with open_searcher(settings.index_dir) as s:
        result = search(s, text, settings, expand=False, page_size=100)
    return {h.doc_id: {f.path: sorted(p.page for p in f.pages) for f in h.files} for h in result.hits}


def set_pdf_metadata(path: Path, **meta: str) -> None:
    """Replace a PDF's document information (Title, CreationDate, ...) with META only."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(path))
    info = writer._info.get_object() if writer._info is not None else None
    if info is not None:
        for key in list(info.keys()):
            del info[key]
    writer.add_metadata({f"/{k}": v for k, v in meta.items()})
    with open(path, "wb") as fh:
        writer.write(fh)


def bump_mtime(path: Path) -> None:
    """Make a rewritten file look changed even on file systems with coarse timestamps."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


# --- extraction, page by page ------------------------------------------------------


def test_english_and_chinese_pdfs_are_indexed_page_by_page(settings, archive, reads):
    report = update(settings)

    assert sorted(report.added) == ["mou.en.pdf", "mou.zh.pdf", "study.en.pdf"]
    assert report.extracted == 3 and sorted(reads) == sorted(report.added)
    assert report.failed == []
    pages = pages_of(settings)
    assert {path: sorted(p) for path, p in pages.items()} == {
        "mou.en.pdf": [1, 2], "mou.zh.pdf": [1, 2], "study.en.pdf": [1, 2, 3]}
    assert "Dublin" in pages["mou.en.pdf"][2] and "Dublin" not in pages["mou.en.pdf"][1]
    assert "城镇化" in pages["mou.zh.pdf"][2] and "区域政策" in pages["mou.zh.pdf"][1]
    langs = {(r["path"], r["page"]): r.get("page_lang") for r in records(settings)[RECORD_PAGE]}
    assert langs[("mou.zh.pdf", 1)] == "zh"
    assert langs[("study.en.pdf", 2)] == "en"
    info = file_info(settings)
    assert {p: (i["status"], i["pages"], i["doc_id"]) for p, i in info.items()} == {
        "mou.en.pdf": ("indexed", 2, "mou-2006"),
        "mou.zh.pdf": ("indexed", 2, "mou-2006"),
        "study.en.pdf": ("indexed", 3, "study-2011"),
    }
    assert set(docs(settings)) == {"mou-2006", "study-2011"}


def test_an_english_and_a_chinese_word_find_their_document_and_page(settings, archive):
    update(settings)

    assert found(settings, "Dublin") == {"mou-2006": {"mou.en.pdf": [2]}}
    assert found(settings, "Chengdu") == {"study-2011": {"study.en.pdf": [2]}}
    assert found(settings, "城镇化") == {"mou-2006": {"mou.zh.pdf": [2]}}
    assert found(settings, "Shanghai") == {}
    assert found(settings, "北京") == {}


# --- incremental updates --------------------------------------------------------------


def test_update_adds_reindexes_and_drops_without_rereading_the_others(settings, archive, pdf, reads):
    update(settings)
    reads.clear()

    pdf("new-report.pdf", ["A new report on Harbin."])                     # added
    pdf("study.en.pdf", STUDY_EN[:1] + ["Chengdu was replaced by Kunming."])  # changed
    bump_mtime(archive / "study.en.pdf")
    (archive / "mou.en.pdf").unlink()                                        # deleted
    report = update(settings)

    assert report.added == ["new-report.pdf"]
    assert report.updated == ["study.en.pdf"]
    assert report.removed == ["mou.en.pdf"]
    assert report.renamed == []
    assert report.extracted == 2
    assert sorted(reads) == ["new-report.pdf", "study.en.pdf"]
    assert sorted(file_info(settings)) == ["mou.zh.pdf", "new-report.pdf", "study.en.pdf"]
    assert sorted(pages_of(settings)["study.en.pdf"]) == [1, 2]
    assert found(settings, "Harbin") == {"new-report": {"new-report.pdf": [1]}}
    assert found(settings, "Kunming") == {"study-2011": {"study.en.pdf": [2]}}
    assert found(settings, "Wuhan") == {}
    assert found(settings, "Dublin") == {}
    # The deleted file's document stays (it is catalogued), without the deleted file.
    assert "mou-2006" in docs(settings)
    assert found(settings, "城镇化") == {"mou-2006": {"mou.zh.pdf": [2]}}


def test_an_unchanged_archive_reads_nothing(settings, archive, reads):
    update(settings)
    reads.clear()
    bump_mtime(archive / "study.en.pdf")        # touched, same bytes

    report = update(settings)

    assert reads == [] and report.extracted == 0
    assert not (report.added or report.updated or report.removed or report.renamed)
    # The touched file's new timestamp is remembered: it is not hashed again next time.
    assert file_info(settings)["study.en.pdf"]["mtime_ns"] == (archive / "study.en.pdf").stat().st_mtime_ns


def test_files_read_by_an_older_extraction_are_read_again_and_only_they(settings, archive, pdf, reads,
                                                                         monkeypatch):
    """An upgrade that changes extraction (extract.EXTRACTION_VERSION) reaches the files already
    indexed: those an older extraction read are read again by the next update, file by file, without
    a rebuild; those the current one read are not."""
    from indexer import extract
    from indexer.status import index_status

    current = extract.EXTRACTION_VERSION
    monkeypatch.setattr(extract, "EXTRACTION_VERSION", current - 1)    # the extraction of the release before
    update(settings)
    monkeypatch.setattr(extract, "EXTRACTION_VERSION", current)
    pdf("new-report.pdf", ["A new report on Kunming and the Mekong."])
    bump_mtime(archive / "mou.en.pdf")
    before = file_info(settings)
    assert {info["extraction"] for info in before.values()} == {current - 1}
    generation = current_generation(settings.index_dir)
    assert sorted(index_status(settings).waiting) == ["mou.en.pdf", "mou.zh.pdf", "new-report.pdf", "study.en.pdf"]
    reads.clear()

    report = update(settings)

    assert sorted(reads) == ["mou.en.pdf", "mou.zh.pdf", "new-report.pdf", "study.en.pdf"]
    assert not report.rebuilt and current_generation(settings.index_dir) == generation
    assert report.added == ["new-report.pdf"]
    assert sorted(report.updated) == ["mou.en.pdf", "mou.zh.pdf", "study.en.pdf"]
    after = file_info(settings)
    assert {info["extraction"] for info in after.values()} == {current}
    assert {p: after[p]["hash"] for p in before} == {p: before[p]["hash"] for p in before}
    assert found(settings, "Wuhan") == {"study-2011": {"study.en.pdf": [2]}}
    assert index_status(settings).waiting == []

    # The same version: nothing is read again.
    reads.clear()
    report = update(settings)
    assert reads == [] and report.extracted == 0 and not report.changed


def test_a_renamed_file_read_by_an_older_extraction_is_read_again(settings, archive, reads, monkeypatch):
    from indexer import extract

    current = extract.EXTRACTION_VERSION
    monkeypatch.setattr(extract, "EXTRACTION_VERSION", current - 1)
    update(settings)
    monkeypatch.setattr(extract, "EXTRACTION_VERSION", current)
    (archive / "study.en.pdf").rename(archive / "study-moved.pdf")
    reads.clear()

    report = update(settings)

    assert "study-moved.pdf" in reads and report.renamed == []
    assert "study-moved.pdf" in report.added and "study.en.pdf" in report.removed
    assert file_info(settings)["study-moved.pdf"]["extraction"] == current


def test_a_renamed_file_is_recognised_by_its_hash_and_not_read_again(settings, archive, pdf, reads):
    pdf("loose-notes.pdf", ["Notes on Lanzhou and regional planning."])
    update(settings)
    reads.clear()

    (archive / "loose-notes.pdf").rename(archive / "field-notes-lanzhou.pdf")
    (archive / "sub").mkdir()
    (archive / "study.en.pdf").rename(archive / "sub" / "study-moved.pdf")
    report = update(settings)

    assert reads == [] and report.extracted == 0
    assert sorted(report.renamed) == [("loose-notes.pdf", "field-notes-lanzhou.pdf"),
                                      ("study.en.pdf", "sub/study-moved.pdf")]
    assert report.added == [] and report.removed == []
    assert found(settings, "Lanzhou") == {"field-notes-lanzhou": {"field-notes-lanzhou.pdf": [1]}}
    # The moved file left its catalogue entry: it is now a document of its own.
    assert found(settings, "Wuhan") == {"study-moved": {"sub/study-moved.pdf": [2]}}
    assert sorted(file_info(settings)) == ["field-notes-lanzhou.pdf", "mou.en.pdf", "mou.zh.pdf",
                                           "sub/study-moved.pdf"]
    assert "loose-notes" not in docs(settings)


def test_a_catalogue_only_edit_reads_no_pdf(settings, archive, reads):
    update(settings)
    reads.clear()

    catalogue = Path(settings.catalogue)
    catalogue.write_text(catalogue.read_text(encoding="utf-8")
                         .replace("Comparative study of regional disparities", "Comparative study of Xinjiang")
                         .replace('date = "2011"', 'date = "2012-03"'), encoding="utf-8")
    report = update(settings)

    assert reads == [] and report.extracted == 0
    assert report.added == report.updated == report.removed == []
    assert "study.en.pdf" in report.metadata_updated
    assert "doc:study-2011" in report.metadata_updated
    assert found(settings, "Xinjiang") == {"study-2011": {}}
    assert docs(settings)["study-2011"]["date"] == "2012-03"
    # The file's text record carries the document's metadata for filters.
    texts = [r for r in records(settings)[RECORD_TEXT] if r["path"] == "study.en.pdf"]
    assert [(r["year"], r["date"]) for r in texts] == [("2012", "2012-03")]
    # The page text is still there (rewritten from the stored text).
    assert found(settings, "Chengdu") == {"study-2011": {"study.en.pdf": [2]}}


def test_a_changed_user_dictionary_reanalyses_chinese_pages_without_reading(settings, archive, reads, tmp_path):
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("区域政策 100 n\n", encoding="utf-8")
    settings = settings.replace(userdict=userdict)
    update(settings)
    reads.clear()

    userdict.write_text("区域政策 100 n\n城镇化 100 n\n", encoding="utf-8")
    report = update(settings)

    assert reads == [] and report.extracted == 0
    assert report.reanalysed_pages == 2          # the two pages of the Chinese file
    assert found(settings, "城镇化") == {"mou-2006": {"mou.zh.pdf": [2]}}
    # The re-analysed text record was written alone, away from its page records:
    # the snippet's page text is still found (by the page's key).
    assert snippet_pages(settings, "城镇化", "mou.zh.pdf") == ({}, ["专家每年举行会议，讨论<mark>城镇化</mark>问题。"])


def snippet_pages(settings, text: str, path: str):
    """(the page records search finds next to PATH's text record, the snippets shown for PATH)."""
    from indexer.search import _page_records_before

    with open_searcher(settings.index_dir) as s:
        result = search(s, text, settings, expand=False)
        text_docnum = s.document_number(key=f"text:{path}")
        siblings = _page_records_before(s, text_docnum, path)
    return siblings, [p.snippet for h in result.hits for f in h.files if f.path == path for p in f.pages]


def test_snippets_come_from_the_page_records_written_with_the_text_record(settings, archive):
    update(settings)
    siblings, snippets = snippet_pages(settings, "城镇化", "mou.zh.pdf")
    assert sorted(siblings) == [1, 2]
    assert snippets == ["专家每年举行会议，讨论<mark>城镇化</mark>问题。"]


@pytest.mark.parametrize("stamp", ["indexer.engine.schema.SCHEMA_VERSION", "indexer.engine.analysis.ANALYSIS_VERSION"])
def test_a_schema_or_analysis_version_change_triggers_a_rebuild(settings, archive, reads, monkeypatch, stamp):
    update(settings)
    first = current_generation(settings.index_dir)
    reads.clear()

    monkeypatch.setattr(stamp, 999)
    report = update(settings)

    assert report.rebuilt
    assert "differs" in report.rebuild_reason and "999" in report.rebuild_reason
    assert sorted(reads) == ["mou.en.pdf", "mou.zh.pdf", "study.en.pdf"]
    assert current_generation(settings.index_dir) != first
    assert not first.exists()
    assert found(settings, "Dublin") == {"mou-2006": {"mou.en.pdf": [2]}}
    # The new index carries the new stamp: the next update is incremental again.
    reads.clear()
    assert not update(settings).rebuilt and reads == []


def test_rebuild_reads_everything_into_a_new_generation(settings, archive, reads):
    update(settings)
    first = current_generation(settings.index_dir)
    reads.clear()

    report = rebuild(settings)

    assert report.rebuilt and report.rebuild_reason == "requested"
    assert report.extracted == 3 and len(reads) == 3
    assert current_generation(settings.index_dir).name != first.name
    assert found(settings, "Chengdu") == {"study-2011": {"study.en.pdf": [2]}}


# --- files without a catalogue entry ------------------------------------------------


def test_an_uncatalogued_pdf_takes_its_title_from_its_metadata(settings, pdf):
    path = pdf("scan0042.pdf", ["Minutes of the meeting in Guiyang."], title="Minutes of the Guiyang workshop")
    set_pdf_metadata(path, Title="Minutes of the Guiyang workshop")
    update(settings)

    doc = docs(settings)["scan0042"]
    assert doc["title"] == "Minutes of the Guiyang workshop"
    assert doc["kind"] == "document" and doc["catalogued"] is False
    assert found(settings, "Guiyang") == {"scan0042": {"scan0042.pdf": [1]}}


def test_an_uncatalogued_pdf_without_metadata_is_named_and_dated_by_its_file_name(settings, pdf):
    path = pdf("Field_visit-Harbin_2018.pdf", ["Report of a field visit."])
    set_pdf_metadata(path)          # no title, no dates
    update(settings)

    doc = docs(settings)["field-visit-harbin-2018"]
    assert doc["title"] == "Field visit Harbin 2018"
    assert doc["date"] == "2018"
    assert found(settings, "Harbin") == {"field-visit-harbin-2018": {}}
    with open_searcher(settings.index_dir) as s:
        result = search(s, "field visit", settings, Filters(year=("2018",)), expand=False)
    assert [h.doc_id for h in result.hits] == ["field-visit-harbin-2018"]


def test_an_uncatalogued_pdf_takes_its_date_from_its_metadata(settings, pdf):
    path = pdf("untitled-scan.pdf", ["Notes from Nanning."])
    set_pdf_metadata(path, Title="Nanning notes", CreationDate="D:20170304120000Z")
    update(settings)

    doc = docs(settings)["untitled-scan"]
    assert doc["title"] == "Nanning notes"
    assert doc["date"] == "2017-03-04"


def test_a_catalogue_error_stops_the_update_and_leaves_the_index_as_it_was(settings, archive, reads):
    update(settings)
    reads.clear()
    before = records(settings)
    catalogue = Path(settings.catalogue)
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace('kind = "study"', 'kind = "novel"'),
                         encoding="utf-8")

    with pytest.raises(CatalogueError) as exc:
        update(settings)

    message = str(exc.value)
    assert "document 2 (study-2011)" in message and "kind" in message and "novel" in message
    assert reads == []
    assert records(settings) == before


# --- interrupted updates -------------------------------------------------------------


class Interrupt(Exception):
    pass


def _interrupt_after(n: int):
    def progress(done, total, path):
        if done >= n:
            raise Interrupt(path)
    return progress


def test_an_interrupted_first_build_keeps_what_it_committed(settings, pdf, reads):
    settings = settings.replace(commit_every_files=2)
    for i in range(7):
        pdf(f"doc-{i}.pdf", [f"Document about topic{i}."])

    with pytest.raises(Interrupt):
        update(settings, progress=_interrupt_after(5))

    # Two commits of two files each made it; the fifth file's batch did not.
    assert current_generation(settings.index_dir) is not None
    assert len(file_info(settings)) == 4
    # What was committed is found already, with its document (files are
    # read in parallel: which four made it depends on who finished first).
    committed = {Path(p).stem for p in file_info(settings)}
    for i in range(7):
        expected = {f"doc-{i}": {f"doc-{i}.pdf": [1]}} if f"doc-{i}" in committed else {}
        assert found(settings, f"topic{i}") == expected
    reads.clear()
    report = update(settings)
    assert report.extracted == 3 and len(reads) == 3
    assert sorted(file_info(settings)) == [f"doc-{i}.pdf" for i in range(7)]
    assert len(records(settings)[RECORD_PAGE]) == 7
    assert found(settings, "topic6") == {"doc-6": {"doc-6.pdf": [1]}}


def test_an_interrupted_update_keeps_what_it_committed(settings, pdf, reads):
    settings = settings.replace(commit_every_files=2)
    pdf("base.pdf", ["The first file."])
    update(settings)
    for i in range(5):
        pdf(f"doc-{i}.pdf", [f"Document about topic{i}."])

    with pytest.raises(Interrupt):
        update(settings, progress=_interrupt_after(3))

    assert len(file_info(settings)) == 3          # base + one batch of two
    reads.clear()
    report = update(settings)
    assert report.extracted == 3
    assert len(file_info(settings)) == 6 and len(records(settings)[RECORD_PAGE]) == 6


def test_an_interrupted_rebuild_leaves_the_live_index_alone(settings, archive, reads):
    update(settings)
    live = current_generation(settings.index_dir)

    with pytest.raises(Interrupt):
        rebuild(settings.replace(commit_every_files=1), progress=_interrupt_after(2))

    assert current_generation(settings.index_dir) == live
    assert [p.name for p in Path(settings.index_dir).iterdir() if p.name.startswith("gen-")] == [live.name]
    assert found(settings, "Dublin") == {"mou-2006": {"mou.en.pdf": [2]}}


# --- the project's own archive --------------------------------------------------------


def test_the_real_archive_indexes_every_catalogued_file(repo_archive_settings):
    s = repo_archive_settings
    catalogue = load_catalogue(s.catalogue)
    catalogued = {f.file: e.id for e in catalogue.entries.values() for f in e.files}
    assert catalogued, "the archive's catalogue lists no files"

    info = file_info(s)
    missing = sorted(set(catalogued) - set(info))
    assert missing == [], f"catalogued files not indexed: {missing}"
    not_indexed = {p: (i["status"], i.get("reason")) for p, i in info.items()
                   if p in catalogued and i["status"] != "indexed"}
    assert not_indexed == {}
    assert {p: info[p]["doc_id"] for p in catalogued} == catalogued
    # Every catalogue entry is a document of the index, with or without files.
    assert set(catalogue.entries) <= set(docs(s))
    # Each stand-in has at least two pages with text, so that page numbers matter.
    pages = pages_of(s)
    assert all(len(pages.get(p, {})) >= 2 for p in catalogued), {p: len(pages.get(p, {})) for p in catalogued}


def test_loading_the_user_dictionary_leaves_no_file_open(tmp_path):
    # jieba's load_userdict(path) opens the file and never closes it; under
    # filterwarnings=error the ResourceWarning then fails whichever test the
    # garbage collector happens to run in.
    import gc
    import warnings

    from indexer.engine import analysis
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("区域政策 100 n\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis.configure_segmenter(userdict)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_year_in_the_file_name_beats_a_metadata_date_of_another_year(settings, pdf):
    # reportlab stamps 2000-01-01 into the test PDFs: a scan or export date, not the document's
    kept = pdf("lanzhou-visit-2019.pdf", ["Notes from Lanzhou."])
    set_pdf_metadata(kept, CreationDate="D:20190512000000Z")
    pdf("xining-visit-2016.pdf", ["Notes from Xining."])
    update(settings)
    assert docs(settings)["lanzhou-visit-2019"]["date"] == "2019-05-12"     # same year: the precise date stays
    assert docs(settings)["xining-visit-2016"]["date"] == "2016"


# --- segments written by worker processes (indexer.segments) --------------------------


def _write_reports(archive: Path, numbers) -> None:
    from conftest import write_pdf

    for n in numbers:
        if n % 2:
            write_pdf(archive / f"report-{n:02d}.zh.pdf",
                      [f"第{n}号报告讨论区域政策与城镇化。", f"成都和武汉的合作项目{n}。", "附件：统计资料。"])
        else:
            write_pdf(archive / f"report-{n:02d}.en.pdf",
                      [f"Report {n} on regional policy and cohesion.", f"Chengdu pilot project number{n}.",
                       "Annex: statistical sources."])


def _stored(settings) -> dict[str, tuple]:
    with open_searcher(settings.index_dir) as s:
        return {f["key"]: (f.get("doc_id"), f.get("path"), f.get("page"), f.get("content"), f.get("year"))
                for f in s.all_stored_fields() if f.get("record") != "meta"}


def test_segments_written_in_worker_processes_give_the_same_index(tmp_path):
    from conftest import make_settings

    first = range(build.PARALLEL_MIN_FILES + 4)
    serial = make_settings(tmp_path / "serial", index_writers=1)
    parallel = make_settings(tmp_path / "parallel", index_writers=2, commit_every_files=3)
    for settings in (serial, parallel):
        _write_reports(Path(settings.archive_dir), first)
    rebuild(serial)
    report = update(parallel)

    assert report.extracted == len(first) and not report.failed
    assert _stored(serial) == _stored(parallel)
    for text in ("regional policy", '"区域政策"', "Chengdu", "number7", "成都", "statistical"):
        assert found(serial, text) == found(parallel, text), text
    assert found(parallel, "number4") == {"report-04-en": {"report-04.en.pdf": [2]}}
    # Several segments were committed (chunks of three files), and no staging folder is left.
    generation = current_generation(parallel.index_dir)
    assert not list(generation.glob(build.segments.STAGING_PREFIX + "*"))
    with open_searcher(parallel.index_dir) as s:
        assert len(s.reader().leaf_readers()) > 1

    # A staging folder left by a killed update is cleared by the next large one.
    stale = generation / (build.segments.STAGING_PREFIX + "999-dead")
    stale.mkdir()
    (stale / "MAIN_x.seg").write_bytes(b"left over")
    more = range(100, 100 + build.PARALLEL_MIN_FILES)
    _write_reports(Path(parallel.archive_dir), more)
    report = update(parallel)
    assert len(report.added) == len(more) and not stale.exists()
    assert found(parallel, "number104") == {"report-104-en": {"report-104.en.pdf": [2]}}
    assert found(parallel, "number4") == {"report-04-en": {"report-04.en.pdf": [2]}}


def test_segment_writers_give_no_file_to_a_worker_writing_its_segment(tmp_path):
    """A worker writing out its segment reads no message until it is done: a file handed to it then
    waited in its pipe, and a second one blocked the updating process (and so the other worker and
    the extraction) for as long as the writing took. Files go to a worker that can take them."""
    from indexer import segments
    from indexer.engine.storage import create_index

    folder = tmp_path / "index"
    folder.mkdir()
    create_index(folder)
    sent, writing = [], set()

    class Watched(segments.SegmentWriters):
        # Which worker each file went to, and whether it was writing a segment then: told to
        # write one (a file sent with flush) and not yet back with it (its tags handed back).
        def _send(self, worker, message):
            if message[0] == "add":
                sent.append((message[1][0]["key"], self.workers.index(worker), worker_id(worker) in writing))
                if message[2]:
                    writing.add(worker_id(worker))
            super()._send(worker, message)

        def _collect(self, block):
            before = {worker_id(w): len(w.tags) for w in self.workers}
            finished = super()._collect(block)
            writing.difference_update(i for i, w in enumerate(self.workers) if len(w.tags) < before[i])
            return finished

    worker_id = lambda worker: writers.workers.index(worker)  # noqa: E731
    writers = Watched(folder, None, processes=2, first_files=1)
    finished = []
    try:
        # Large records, so that writing a segment takes a while.
        text = " ".join(f"regional policy cohesion number{i} 区域政策 城镇化" for i in range(4000))
        for n in range(8):
            finished += writers.add([{"key": f"text:{n}", "record": RECORD_TEXT, "path": f"{n}.pdf", "body": text}],
                                    tag=n)
        finished += writers.finish()
    finally:
        writers.close()
    assert len(sent) == 8
    assert not [key for key, _worker, was_writing in sent if was_writing]
    assert {worker for _key, worker, _ in sent} == {0, 1}
    assert sorted(tag for _segment, tags in finished for tag in tags) == list(range(8))


def test_a_segment_writer_that_dies_is_an_error_not_a_hang(tmp_path):
    """A killed segment worker (out of memory, say) makes the update fail with a message saying so,
    whether the next file is still queued for it or already sent; closing does not wait on it."""
    import signal
    import time

    from indexer import segments
    from indexer.engine.storage import create_index

    folder = tmp_path / "index"
    folder.mkdir()
    create_index(folder)
    writers = segments.SegmentWriters(folder, None, processes=2, first_files=100)
    started = time.monotonic()
    try:
        record = [{"key": "text:x", "record": RECORD_TEXT, "path": "x.pdf", "body": "regional policy " * 2000}]
        writers.add(record, tag=0)
        os.kill(writers.workers[0].process.pid, signal.SIGKILL)
        writers.workers[0].process.join(timeout=10)
        with pytest.raises(segments.SegmentWorkerError, match="killed by signal 9"):
            for n in range(1, 40):
                writers.add(record, tag=n)
            writers.finish()
    finally:
        writers.close()
    assert time.monotonic() - started < 30
    assert not writers.staging.exists()


def test_the_archive_scan_skips_hidden_and_unsupported_files_and_linked_folders(tmp_path):
    """scan_archive: supported files at any depth by POSIX path relative to the archive, with their
    stat (through a link to a file in the archive; a link out of it keeps its own); hidden files and
    folders, other suffixes, links to folders and broken links left out."""
    root = tmp_path / "archive"
    (root / "2010" / "seminar").mkdir(parents=True)
    (root / ".uploads").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    for rel in ("a.pdf", "2010/B.PDF", "2010/seminar/c.pdf", ".uploads/partial.pdf", ".hidden.pdf",
                "notes.txt", "2010/readme.md"):
        (root / rel).write_bytes(b"%PDF-1.4 " + rel.encode())
    (outside / "linked.pdf").write_bytes(b"%PDF-1.4 linked")
    (outside / "inside-linked-folder.pdf").write_bytes(b"%PDF-1.4 x")
    os.symlink(outside / "linked.pdf", root / "linked.pdf")
    os.symlink(outside, root / "folder-link")
    os.symlink(tmp_path / "nowhere.pdf", root / "broken.pdf")
    os.symlink("2010/seminar/c.pdf", root / "inside-link.pdf")

    found = build.scan_archive(root)

    assert sorted(found) == ["2010/B.PDF", "2010/seminar/c.pdf", "a.pdf", "inside-link.pdf", "linked.pdf"]
    # A link to a file in the archive: the file's stat, not the link's.
    assert found["inside-link.pdf"].st_size == (root / "2010/seminar/c.pdf").stat().st_size
    # A link out of the archive (issue 24): listed with the link's own stat, so the update skips it unread.
    assert stat.S_ISLNK(found["linked.pdf"].st_mode)
    assert found["2010/seminar/c.pdf"].st_size == (root / "2010/seminar/c.pdf").stat().st_size
    assert build.scan_archive(tmp_path / "missing") == {}
    assert build.scan_archive(root / "a.pdf") == {}                    # not a folder


def test_an_update_is_planned_without_writing_then_applied(settings, archive, pdf, reads):
    """plan_update says what a new file, a rename, a deletion and a catalogue edit will do, and writes
    nothing; apply_update then does exactly that, and the next update finds nothing left to do."""
    from indexer.engine.storage import open_index
    from indexer.lock import WriterLock

    pdf("loose-notes.pdf", ["Notes on Lanzhou and regional planning."])
    update(settings)
    reads.clear()
    pdf("new-report.pdf", ["A new report on Kunming and the Mekong."])
    (archive / "loose-notes.pdf").rename(archive / "field-notes.pdf")
    (archive / "mou.zh.pdf").unlink()
    catalogue = Path(settings.catalogue)
    catalogue.write_text(catalogue.read_text(encoding="utf-8")
                         .replace("Comparative study of regional disparities", "Comparative study of Xinjiang"),
                         encoding="utf-8")
    before = records(settings)
    live = current_generation(settings.index_dir)

    with WriterLock(settings.index_dir):
        ix = open_index(live)
        try:
            generation = ix.latest_generation()
            plan = build.plan_update(ix, settings)

            assert plan.new_files == ["new-report.pdf"] and plan.changed_files == []
            assert {new: old for new, (old, _info) in plan.renamed.items()} == {"field-notes.pdf": "loose-notes.pdf"}
            assert plan.removed == ["mou.zh.pdf"]
            assert plan.relabelled == ["study.en.pdf"]
            assert plan.touched == plan.reanalysed == plan.unreadable == [] and not plan.reanalyse_all
            assert sorted(plan.unchanged) == ["mou.en.pdf", "study.en.pdf"]
            assert sorted(plan.documents_changed) == ["field-notes", "study-2011"]
            # Planning read no file and wrote nothing.
            assert reads == []
            assert ix.latest_generation() == generation
            assert records(settings) == before

            report = build.apply_update(ix, settings, plan)
        finally:
            ix.close()

    assert reads == ["new-report.pdf"]
    assert report.added == ["new-report.pdf"] and report.updated == []
    assert report.renamed == [("loose-notes.pdf", "field-notes.pdf")]
    assert report.removed == ["mou.zh.pdf"]
    assert report.metadata_updated == ["doc:study-2011", "study.en.pdf"]
    assert found(settings, "Kunming") == {"new-report": {"new-report.pdf": [1]}}
    assert found(settings, "Lanzhou") == {"field-notes": {"field-notes.pdf": [1]}}
    assert found(settings, "Xinjiang") == {"study-2011": {}}
    assert "mou.zh.pdf" not in file_info(settings)
    assert not update(settings).changed
