"""The archive ends at its folder (issue 24, point 3): links out of it are skipped, and no reason quotes a file.

The deploy guide lets the people who add reports write to the archive folder.
A link there to an outside PDF must not make its text searchable, and a link
to any other file must not put its first bytes on the public /status page.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from conftest import write_pdf
from indexer.build import OUTSIDE_ARCHIVE, UpdateReport, scan_archive, update
from indexer.extract import LINKED_OUT
from indexer.readers import open_searcher
from indexer.search import search
from webapp import create_app

SECRET_TEXT = "root:x:0:0:root:/root:/bin/bash\nCONFIDENTIAL_TOKEN=hunter2\n"


def hits(settings, q: str) -> set[str]:
    with open_searcher(settings.index_dir) as s:
        return {h.doc_id for h in search(s, q, settings, expand=False).hits}


@pytest.fixture
def outside(tmp_path):
    """Files next to the archive, not in it: a PDF and a text file with secrets."""
    folder = tmp_path / "outside"
    write_pdf(folder / "private.pdf", ["Salaries of the private office, quarterly."])
    (folder / "passwd").parent.mkdir(exist_ok=True)
    (folder / "passwd").write_text(SECRET_TEXT)
    return folder


def test_links_out_of_the_archive_are_listed_as_skipped_and_never_read(settings, outside):
    archive = Path(settings.archive_dir)
    write_pdf(archive / "report.pdf", ["Regional policy report."])
    (archive / "private.pdf").symlink_to(outside / "private.pdf")
    (archive / "sub").mkdir()
    (archive / "sub" / "passwd.pdf").symlink_to(outside / "passwd")
    (archive / "relative.pdf").symlink_to(os.path.relpath(outside / "private.pdf", archive))

    assert sorted(scan_archive(archive)) == ["private.pdf", "relative.pdf", "report.pdf", "sub/passwd.pdf"]
    report = update(settings)
    assert sorted(report.failed) == [("private.pdf", OUTSIDE_ARCHIVE), ("relative.pdf", OUTSIDE_ARCHIVE),
                                     ("sub/passwd.pdf", OUTSIDE_ARCHIVE)]
    assert hits(settings, "salaries") == set()
    assert hits(settings, "regional") == {"report"}

    client = create_app(settings).test_client()
    for url in ("/status", "/api/status"):
        page = client.get(url).get_data(as_text=True)
        assert "root:x" not in page and "CONFIDENTIAL" not in page and "Salaries" not in page


def test_a_link_inside_the_archive_is_followed(settings):
    archive = Path(settings.archive_dir)
    write_pdf(archive / "originals" / "study.pdf", ["A study of cross-border cooperation."])
    (archive / "study-link.pdf").symlink_to(Path("originals") / "study.pdf")
    report = update(settings)
    assert report.failed == []
    assert sorted(report.added) == ["originals/study.pdf", "study-link.pdf"]
    assert hits(settings, "cooperation")


def test_a_file_replaced_by_a_link_out_leaves_the_index(settings, outside):
    archive = Path(settings.archive_dir)
    write_pdf(archive / "notes.pdf", ["Minutes on the delta region."])
    update(settings)
    assert hits(settings, "delta") == {"notes"}
    (archive / "notes.pdf").unlink()
    (archive / "notes.pdf").symlink_to(outside / "private.pdf")
    report = update(settings)
    assert report.failed == [("notes.pdf", OUTSIDE_ARCHIVE)]
    assert hits(settings, "delta") == set() and hits(settings, "salaries") == set()


def test_a_file_that_is_not_what_its_name_says_is_described_not_quoted(settings):
    archive = Path(settings.archive_dir)
    (archive / "token.pdf").write_text(SECRET_TEXT)
    report = update(settings)
    assert report.failed == [("token.pdf", "failed: not a PDF: the file is text")]
    page = create_app(settings).test_client().get("/status").get_data(as_text=True)
    assert "token.pdf" in page and "root:x" not in page and "CONFIDENTIAL" not in page


def _plan_swap_apply(settings, swap) -> UpdateReport:
    """Plan an update, run SWAP (between the scan and the read), then apply the plan."""
    from indexer.build import apply_update, plan_update
    from indexer.engine.storage import open_index
    from indexer.generations import current_generation
    from indexer.lock import WriterLock

    with WriterLock(settings.index_dir):
        ix = open_index(current_generation(settings.index_dir))
        try:
            plan = plan_update(ix, settings)
            swap(plan)
            return apply_update(ix, settings, plan)
        finally:
            ix.close()


def test_a_file_replaced_by_a_link_out_after_the_scan_is_neither_read_nor_quoted(settings, outside):
    archive = Path(settings.archive_dir)
    write_pdf(archive / "report.pdf", ["Regional policy report."])
    update(settings)
    write_pdf(archive / "minutes.pdf", ["Minutes on the delta region."])
    (archive / "token.pdf").write_text("placeholder")

    def swap(plan):
        # The scan and the hash saw two files inside the archive; the workers find links out.
        assert sorted(plan.to_read) == ["minutes.pdf", "token.pdf"]
        (archive / "minutes.pdf").unlink()
        (archive / "minutes.pdf").symlink_to(outside / "private.pdf")
        (archive / "token.pdf").unlink()
        (archive / "token.pdf").symlink_to(outside / "passwd")

    report = _plan_swap_apply(settings, swap)
    assert sorted(report.failed) == [("minutes.pdf", f"failed: {LINKED_OUT}"), ("token.pdf", f"failed: {LINKED_OUT}")]
    assert hits(settings, "salaries") == set() and hits(settings, "delta") == set()
    assert hits(settings, "regional") == {"report"}
    client = create_app(settings).test_client()
    for url in ("/status", "/api/status"):
        page = client.get(url).get_data(as_text=True)
        assert "root:x" not in page and "CONFIDENTIAL" not in page and "Salaries" not in page


def test_a_folder_replaced_by_a_link_out_after_the_scan_is_not_read(settings, outside):
    """O_NOFOLLOW guards the file's own name; the opened file's real path guards the folders above it."""
    archive = Path(settings.archive_dir)
    write_pdf(archive / "report.pdf", ["Regional policy report."])
    update(settings)
    write_pdf(archive / "sub" / "private.pdf", ["Minutes on the delta region."])

    def swap(plan):
        assert sorted(plan.to_read) == ["sub/private.pdf"]
        (archive / "sub" / "private.pdf").unlink()
        (archive / "sub").rmdir()
        (archive / "sub").symlink_to(outside)

    report = _plan_swap_apply(settings, swap)
    assert report.failed == [("sub/private.pdf", f"failed: {LINKED_OUT}")]
    assert hits(settings, "salaries") == set()


def test_a_link_swapped_in_as_the_worker_opens_the_file_is_not_followed(tmp_path, outside):
    """The worker resolves links inside the archive, then opens without following one: a link put there
    after the name was resolved makes the open fail instead of reading its target."""
    from indexer.openfile import open_file

    archive = tmp_path / "archive"
    write_pdf(archive / "report.pdf", ["Regional policy report."])
    with open_file(archive / "report.pdf", archive) as file:
        assert file.name == archive / "report.pdf" and file.suffix == ".pdf"
        assert file.head(5) == b"%PDF-"
        # The descriptor's path reads the opened file even after its name points elsewhere.
        (archive / "report.pdf").unlink()
        (archive / "report.pdf").symlink_to(outside / "passwd")
        assert file.path.read_bytes().startswith(b"%PDF-")
    with pytest.raises(OSError) as raised:
        os.open(archive / "report.pdf", os.O_RDONLY | os.O_NOFOLLOW)
    assert raised.value.errno == errno.ELOOP


def test_a_fifo_in_the_archive_does_not_hang_the_update(settings):
    archive = Path(settings.archive_dir)
    write_pdf(archive / "report.pdf", ["Regional policy report."])
    os.mkfifo(archive / "pipe.pdf")
    started = time.monotonic()
    report = update(settings)
    assert time.monotonic() - started < 60
    assert report.failed == [("pipe.pdf", "cannot read the file: not a regular file (a FIFO)")]
    assert hits(settings, "regional") == {"report"}


def test_a_file_replaced_by_a_fifo_after_the_scan_does_not_hang_the_workers(settings):
    archive = Path(settings.archive_dir)
    write_pdf(archive / "report.pdf", ["Regional policy report."])
    update(settings)
    write_pdf(archive / "late.pdf", ["A late addition on the delta region."])

    def swap(plan):
        (archive / "late.pdf").unlink()
        os.mkfifo(archive / "late.pdf")

    started = time.monotonic()
    report = _plan_swap_apply(settings, swap)
    assert time.monotonic() - started < 60
    assert report.failed == [("late.pdf", "failed: not a regular file (a FIFO)")]
    assert hits(settings, "regional") == {"report"} and hits(settings, "delta") == set()


def test_a_download_is_sent_from_the_opened_file_with_ranges_and_etags(settings):
    """The file route sends the file it opened without following links (indexer.openfile): the whole
    file, a range (pdf.js), and a 304 for the ETag a path would have given."""
    import zlib

    archive = Path(settings.archive_dir)
    write_pdf(archive / "report.pdf", ["Regional policy report."] * 3)
    update(settings)
    client = create_app(settings).test_client()
    data = (archive / "report.pdf").read_bytes()
    st = (archive / "report.pdf").stat()
    response = client.get("/documents/report/file/en")
    assert response.status_code == 200 and response.data == data
    expected_etag = f"{st.st_mtime}-{st.st_size}-{zlib.adler32(os.fspath(archive.resolve() / 'report.pdf').encode())}"
    assert response.headers["ETag"] == f'"{expected_etag}"'
    part = client.get("/documents/report/file/en", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == data[:100]
    unchanged = client.get("/documents/report/file/en", headers={"If-None-Match": response.headers["ETag"]})
    assert unchanged.status_code == 304
    for answer in (response, part, unchanged):
        answer.close()      # a WSGI server closes the file so; the test client leaves it to the caller
