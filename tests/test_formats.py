"""The registry of file formats (extract.FORMATS) drives the archive scan, extraction, uploads and the catalogue."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import hostile
from indexer import build, extract
from indexer.build import scan_archive, update
from indexer.extract import FAILED, INDEXED, FileFormat, extract_file, extract_many
from indexer.ingest import UploadFields, add_upload
from indexer.catalogue import parse_entry
from indexer.errors import CatalogueError, UploadError
from indexer.openfile import OpenFile
from indexer.readers import open_searcher
from indexer.search import search
from indexer.service import media_type
from indexer.status import index_status


def _plain_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes/readme.txt", "Not a Word document at all.")
    return path


def test_the_registry_names_the_archive_formats_and_drives_the_scan(settings, pdf):
    assert list(extract.FORMATS) == ["pdf", "doc", "docx"]
    assert set(extract.supported_suffixes()) == {".pdf", ".doc", ".docx"}
    archive = Path(settings.archive_dir)
    pdf("report.pdf", ["Regional policy in Ningbo."])
    hostile.docx_file(archive / "notes.docx")
    hostile.legacy_doc(archive / "old.doc")
    (archive / "notes.txt").write_text("not an archive file")
    _plain_zip(archive / "bundle.zip")
    assert sorted(scan_archive(archive)) == ["notes.docx", "old.doc", "report.pdf"]
    assert [extract.format_for(name).key for name in ("A.PDF", "b.docx", "c.doc")] == ["pdf", "docx", "doc"]
    assert extract.format_for("d.txt") is None


def test_extraction_reads_each_format_with_its_reader(settings, pdf, tmp_path):
    archive = Path(settings.archive_dir)
    files = [pdf("report.pdf", ["Regional policy in Ningbo."]), hostile.docx_file(archive / "notes.docx")]
    results = {Path(path).name: ex for path, ex in extract_many(files, settings)}
    assert {name: (ex.status, ex.extractor) for name, ex in results.items()} == {
        "report.pdf": (INDEXED, "pypdf"), "notes.docx": (INDEXED, "docx")}
    # A Word file named .doc is read by the format its bytes show.
    renamed = archive / "really-docx.doc"
    renamed.write_bytes((archive / "notes.docx").read_bytes())
    assert extract_file(renamed, settings).extractor == "docx"


@pytest.mark.parametrize("name", ["archive.docx", "archive.doc"])
def test_a_zip_that_is_not_a_word_document_is_refused_with_the_reason(settings, name):
    path = _plain_zip(Path(settings.archive_dir) / name)
    expected = (FAILED, "not a Word document: a ZIP archive without word/document.xml")
    assert (lambda r: (r.status, r.reason))(extract_file(path, settings)) == expected
    [(_, sandboxed)] = list(extract_many([path], settings))
    assert (sandboxed.status, sandboxed.reason) == expected


def test_uploads_accept_only_the_formats_with_an_upload_check(settings, tmp_path):
    docx = hostile.docx_file(tmp_path / "notes.docx")
    with pytest.raises(UploadError) as refused:
        add_upload(settings, io.BytesIO(docx.read_bytes()), "notes.docx", UploadFields(lang="en", title="Notes"))
    assert (refused.value.code, str(refused.value)) == (
        "not_pdf", "This is not a PDF: only PDF files can be uploaded.")


# A tiny extra format, registered by the tests below only: plain UTF-8 text, one page per form feed.

def sniff_text(file: OpenFile, head: bytes) -> bool:
    """Tell whether FILE is a .txt file of UTF-8 text."""
    if file.suffix != ".txt":
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_text(file: OpenFile, settings, tally) -> None:
    """Record each form-feed-separated part of FILE as a page."""
    parts = [part.strip() for part in file.path.read_text(encoding="utf-8").split("\f")]
    tally.count(len(parts))
    for number, text in enumerate(parts, start=1):
        tally.page(number, text, "text")


TEXT = FileFormat(key="txt", name="a text file", label="text", suffixes=(".txt",), sniff=sniff_text,
                  read=read_text, mimetype="text/plain")


def test_a_new_format_is_one_entry_scanned_extracted_and_searchable(settings, monkeypatch):
    monkeypatch.setitem(extract.FORMATS, "txt", TEXT)
    archive = Path(settings.archive_dir)
    (archive / "field-notes.txt").write_text("Notes on the Yangtze delta.\fA visit to Kunming in spring.",
                                             encoding="utf-8")
    (archive / "binary.txt").write_bytes(b"\xff\xfe\x00\x01 not text")
    Path(settings.catalogue).write_text(
        '[[document]]\nid = "field-notes"\ntitle = "Field notes"\nkind = "study"\n\n'
        '[[document.files]]\nlang = "en"\nfile = "field-notes.txt"\nformat = "txt"\n', encoding="utf-8")

    assert sorted(scan_archive(archive)) == ["binary.txt", "field-notes.txt"]
    report = update(settings)

    assert sorted(report.added) == ["binary.txt", "field-notes.txt"]
    assert report.failed == [("binary.txt", "failed: not a text file: the file is binary data")]
    with open_searcher(settings.index_dir) as s:
        result = search(s, "Kunming", settings, expand=False)
    assert [(h.doc_id, [(f.path, [p.page for p in f.pages]) for f in h.files]) for h in result.hits] == [
        ("field-notes", [("field-notes.txt", [2])])]
    status = {f.path: (f.status, f.extractor, f.pages) for f in index_status(settings).files}
    assert status["field-notes.txt"] == (INDEXED, "text", 2)
    assert status["binary.txt"][0] == FAILED
    # The site serves the file with the entry's type.
    assert media_type("field-notes.txt") == "text/plain"
    assert media_type("report.PDF") == "application/pdf"
    # Without the entry, the catalogue refuses the format and the scan skips the files.
    monkeypatch.delitem(extract.FORMATS, "txt")
    assert scan_archive(archive) == {}
    assert build.extract.format_for("field-notes.txt") is None
    assert media_type("field-notes.txt") == "application/octet-stream"
    with pytest.raises(CatalogueError, match="format 'txt' is not one of pdf, doc, docx"):
        parse_entry({"id": "x", "title": "X", "kind": "study", "files": [{"lang": "en", "file": "x.txt"}]}, "x")
