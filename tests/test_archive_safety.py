"""Nothing lost, nothing silent (issue 25): the mass-removal guard and the archive's facts kept outside the index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import write_pdf
from indexer import ledger
from indexer.build import rebuild, update
from indexer.errors import RemovalsHeldError
from indexer.readers import open_searcher
from indexer.search import list_documents, search


def titles(settings) -> set[str]:
    with open_searcher(settings.index_dir) as s:
        return {d["id"] for d in list_documents(s)}


def added(settings) -> dict[str, str]:
    with open_searcher(settings.index_dir) as s:
        return {d["id"]: d["added_at"] for d in list_documents(s)}


def hits(settings, text: str) -> set[str]:
    with open_searcher(settings.index_dir) as s:
        return {h.doc_id for h in search(s, text, settings).hits}


@pytest.fixture
def eight(settings):
    """An archive of eight small reports, indexed."""
    for n in range(8):
        write_pdf(Path(settings.archive_dir) / f"report-{n}.pdf", [f"Report {n} on the Tianjin pilot zone."])
    update(settings)
    return settings


# --- 1. mass removal needs a yes ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["renamed", "emptied"])
def test_a_missing_or_empty_archive_folder_removes_nothing_until_confirmed(eight, how):
    settings = eight
    archive = Path(settings.archive_dir)
    if how == "renamed":
        archive.rename(archive.with_name("archive-unmounted"))
    else:
        for f in archive.iterdir():
            f.unlink()
    before = titles(settings)

    report = update(settings)

    assert report.removed == [] and len(report.held_removals) == 8
    assert ("is missing" if how == "renamed" else "holds no documents") in report.held_reason
    assert titles(settings) == before and len(hits(settings, "Tianjin")) == 8
    outcome = ledger.read_outcome(settings)
    assert not outcome.ok and not outcome.healthy and outcome.error_kind == "removals_held"
    assert len(outcome.held_removals) == 8 and str(archive) in outcome.error
    # A rebuild would empty the site just the same: refused too.
    with pytest.raises(RemovalsHeldError, match="--allow-removals"):
        rebuild(settings)
    assert titles(settings) == before

    # The share comes back: the next update finds everything and the warning ends.
    if how == "renamed":
        archive.with_name("archive-unmounted").rename(archive)
        report = update(settings)
        assert report.removed == report.held_removals == []
        assert ledger.read_outcome(settings).ok
    else:
        report = update(settings, allow_removals=True)
        assert len(report.removed) == 8 and titles(settings) == set()
        assert ledger.read_outcome(settings).healthy


def test_removing_more_than_the_share_waits_while_additions_go_on(eight):
    settings = eight.replace(removal_guard_files=2)
    archive = Path(settings.archive_dir)
    for n in range(3):
        (archive / f"report-{n}.pdf").unlink()
    write_pdf(archive / "new.pdf", ["A new report on Harbin."])

    report = update(settings)

    assert report.added == ["new.pdf"] and report.removed == []
    assert report.held_removals == ["report-0.pdf", "report-1.pdf", "report-2.pdf"]
    assert "3 of the 8 indexed files" in report.held_reason and "38%" in report.held_reason
    assert hits(settings, "Harbin") == {"new"} and len(hits(settings, "Tianjin")) == 8
    # Waiting: the next update holds them again, and says so.
    assert update(settings).held_removals == report.held_removals
    assert ledger.read_outcome(settings).failures == 2

    report = update(settings, allow_removals=True)
    # In the index's order of records: compared as a set.
    assert sorted(report.removed) == ["report-0.pdf", "report-1.pdf", "report-2.pdf"] and report.held_removals == []
    assert len(hits(settings, "Tianjin")) == 5
    assert ledger.read_outcome(settings).ok


def test_a_few_removals_need_no_confirmation(eight):
    settings = eight
    (Path(settings.archive_dir) / "report-0.pdf").unlink()
    report = update(settings)
    assert report.removed == ["report-0.pdf"] and report.held_removals == []


# --- 2. archive facts outlive the index ---------------------------------------------------------


def test_rebuild_and_a_deleted_index_keep_every_added_date(eight, monkeypatch):
    settings = eight
    before = added(settings)
    assert len(before) == 8 and all(before.values())
    facts = json.loads(ledger.facts_path(settings).read_text(encoding="utf-8"))
    assert facts["added_at"] == before

    # Later clocks: a date taken from the clock instead of the facts would differ.
    from indexer import build
    monkeypatch.setattr(build, "_now", lambda: "2099-01-01T00:00:00+00:00")
    rebuild(settings)
    assert added(settings) == before

    shutil.rmtree(settings.index_dir)
    update(settings)
    assert added(settings) == before

    # Only a document new to the archive gets a new date.
    write_pdf(Path(settings.archive_dir) / "late.pdf", ["A late report."])
    update(settings)
    assert added(settings) == dict(before, late="2099-01-01T00:00:00+00:00")


def test_an_index_made_before_the_facts_file_gives_its_dates_to_a_rebuild(eight, monkeypatch):
    settings = eight
    before = added(settings)
    ledger.facts_path(settings).unlink()
    from indexer import build
    monkeypatch.setattr(build, "_now", lambda: "2099-01-01T00:00:00+00:00")
    rebuild(settings)
    assert added(settings) == before
    assert ledger.added_dates(settings) == before


def test_the_facts_file_is_replaced_whole(settings, tmp_path):
    ledger.record_added_dates(settings, {"a": "2020-01-01T00:00:00+00:00"})
    ledger.record_added_dates(settings, {"a": "2030-01-01T00:00:00+00:00", "b": "2021-01-01T00:00:00+00:00"})
    assert ledger.added_dates(settings) == {"a": "2020-01-01T00:00:00+00:00", "b": "2021-01-01T00:00:00+00:00"}
    assert [p.name for p in ledger.facts_path(settings).parent.iterdir() if p.name.endswith(".tmp")] == []


# --- 4. health tells the truth ----------------------------------------------------------------


def test_a_failing_update_turns_healthz_and_the_status_page_to_the_reason(eight, monkeypatch):
    import errno

    from whoosh.filedb.filestore import FileStorage

    from indexer.errors import CatalogueError
    from webapp import create_app

    settings = eight
    client = create_app(settings).test_client()
    assert client.get("/healthz").status_code == 200

    # A broken catalogue: the update stops, the site keeps answering from the last index.
    catalogue = Path(settings.catalogue)
    catalogue.write_text('[[document]]\nid = "q"\ntitle = "Q"\nkind = "novel"\n', encoding="utf-8")
    write_pdf(Path(settings.archive_dir) / "late.pdf", ["A late report."])
    with pytest.raises(CatalogueError):
        update(settings)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "failing" and body["index"] is True
    assert "the catalogue is invalid" in body["reason"] and "novel" in body["reason"]
    assert body["failing_for_s"] is not None and body["documents"] == 8
    page = client.get("/status").get_data(as_text=True)
    assert "The last update failed: the catalogue is invalid" in page and "1 in a row" in page
    catalogue.unlink()

    # A full disk (the file system answers ENOSPC to Whoosh's next file).
    def full(self, name, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", name)
    with monkeypatch.context() as patch:
        patch.setattr(FileStorage, "create_file", full)
        with pytest.raises(OSError):
            update(settings)
    body = client.get("/healthz").get_json()
    assert body["status"] == "failing" and body["reason"].startswith("the disk is full")
    assert body["update"]["failures"] == 2 and body["update"]["error_kind"] == "disk_full"
    assert "the disk is full" in client.get("/api/status").get_json()["update"]["error"]

    update(settings)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert response.get_json()["documents"] == 9


def test_held_removals_show_on_the_status_page_and_healthz(eight):
    from webapp import create_app

    settings = eight
    archive = Path(settings.archive_dir)
    archive.rename(archive.with_name("unmounted"))
    update(settings)
    client = create_app(settings).test_client()
    body = client.get("/healthz").get_json()
    assert body["status"] == "removals_held" and "is missing" in body["reason"]
    page = client.get("/status").get_data(as_text=True)
    assert "Nothing was removed from the index" in page and "--allow-removals" in page
    # The status page counts the files gone from the archive as missing, not as indexed.
    assert client.get("/api/status").get_json()["counts"] == {"missing": 8}
    assert "No file is waiting; 8 indexed files are gone from the archive" in page


# --- 6. failed files are not news -------------------------------------------------------------


def test_a_document_whose_files_all_failed_is_not_announced(settings):
    from webapp import create_app

    archive = Path(settings.archive_dir)
    write_pdf(archive / "good.pdf", ["A good report on Tianjin."])
    (archive / "broken.pdf").write_bytes(b"%PDF-1.4\n this is no PDF at all \n%%EOF\n")
    report = update(settings)
    assert [path for path, _reason in report.failed] == ["broken.pdf"]

    client = create_app(settings).test_client()
    assert [d["id"] for d in client.get("/api/documents").get_json()["documents"]] == ["good"]
    feed = client.get("/feed.atom").get_data(as_text=True)
    assert "good" in feed and "broken" not in feed
    browse = client.get("/browse").get_data(as_text=True)
    assert "/documents/good" in browse and "/documents/broken" not in browse
    # It stays on the status page, with its reason.
    status = client.get("/status").get_data(as_text=True)
    assert "broken.pdf" in status


# --- 10. messages people can trust -------------------------------------------------------------


def test_a_reversed_date_range_is_swapped_and_a_bad_date_names_its_field(settings):
    from webapp import create_app

    for year in (2009, 2011, 2013):
        write_pdf(Path(settings.archive_dir) / f"report-{year}.pdf", [f"Report of {year} on the Tianjin pilot zone."])
    update(settings)
    client = create_app(settings).test_client()

    def ids(**args):
        response = client.get("/api/search", query_string=dict(q="Tianjin", **args))
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(r["id"] for r in response.get_json()["results"])

    assert ids(**{"from": "2010", "to": "2012"}) == ids(**{"from": "2012", "to": "2010"}) == ["report-2011"]
    page = client.get("/search", query_string={"q": "Tianjin", "from": "2012", "to": "2010"})
    assert page.status_code == 200 and 'value="2010"' in page.get_data(as_text=True)

    response = client.get("/search", query_string={"q": "Tianjin", "to": "20xx"})
    assert response.status_code == 400 and "“to”" in response.get_data(as_text=True)
