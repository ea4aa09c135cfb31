"""The archive ends at its folder (issue 24, point 3): links out of it are skipped, and no reason quotes a file.

The deploy guide lets the people who add reports write to the archive folder.
A link there to an outside PDF must not make its text searchable, and a link
to any other file must not put its first bytes on the public /status page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import write_pdf
from indexer.build import OUTSIDE_ARCHIVE, scan_archive, update
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
