"""Citations (RIS, BibTeX, CSL-JSON) of a document and of a result list, parsed back with other people's readers.

rispy and bibtexparser are what Python reference tools read these formats
with; a citation they cannot read, or read differently from the catalogue,
fails here. The sample archive is tests/test_web.py's (real PDFs, real index).
"""

from __future__ import annotations

import json

import bibtexparser
import pytest
import rispy

from test_web import SAMPLE, fetch, get_page, has_link

CATALOGUE = {doc_id: meta for doc_id, meta, _files in SAMPLE}
# Tags a record repeats: one file link (L1) and one language (LA) per language version.
RIS_LIST_TAGS = [*rispy.LIST_TYPE_TAGS, "L1", "LA"]


def ris_records(client, url: str) -> list[dict]:
    response = fetch(client, url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/x-research-info-systems"
    assert response.headers["Content-Disposition"].startswith("attachment")
    return rispy.loads(response.get_data(as_text=True), list_tags=RIS_LIST_TAGS, skip_unknown_tags=False)


def bibtex_entries(client, url: str) -> list:
    response = fetch(client, url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/x-bibtex"
    library = bibtexparser.parse_string(response.get_data(as_text=True))
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library.entries


def csl_items(client, url: str) -> list[dict]:
    response = fetch(client, url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/vnd.citationstyles.csl+json"
    return json.loads(response.get_data(as_text=True))


def test_document_page_links_its_citations(client):
    page = get_page(client, "/documents/mou-2006")
    for fmt in ("ris", "bibtex", "csl"):
        assert has_link(page, f"/documents/mou-2006/cite/{fmt}")


def test_document_ris_has_both_titles_date_kind_and_urls(client):
    (record,) = ris_records(client, "/documents/mou-2006/cite/ris")
    meta = CATALOGUE["mou-2006"]
    assert record["type_of_reference"] == "GOVDOC"
    assert record["title"] == meta["title"]
    assert record["translated_title"] == meta["title_zh"]
    assert record["year"] == "2006"
    assert record["date"] == "2006/05/15/"
    assert record["type_of_work"] == "memorandum of understanding"
    assert record["place_published"] == "Brussels"
    assert record["tertiary_title"] == "CETREGIO"
    assert record["urls"] == ["http://localhost/documents/mou-2006"]
    assert record["file_attachments1"] == ["http://localhost/documents/mou-2006/file/en",
                                           "http://localhost/documents/mou-2006/file/zh"]
    assert record["language"] == ["en", "zh"]


def test_document_bibtex_has_both_titles_date_kind_and_urls(client):
    (entry,) = bibtex_entries(client, "/documents/mou-2006/cite/bibtex")
    assert entry.key == "mou-2006"
    assert entry.entry_type == "misc"
    fields = {f.key: f.value for f in entry.fields}
    assert fields["title"] == "Memorandum of Understanding on Regional Policy"
    assert fields["year"] == "2006" and fields["month"] == "may" and fields["date"] == "2006-05-15"
    assert fields["type"] == "memorandum of understanding"
    assert fields["url"] == "http://localhost/documents/mou-2006"
    assert "区域政策谅解备忘录" in fields["note"]
    assert "http://localhost/documents/mou-2006/file/zh" in fields["note"]


def test_document_csl_json_has_issued_date_parts(client):
    (item,) = csl_items(client, "/documents/study-2011/cite/csl")
    assert item["id"] == "study-2011" and item["type"] == "report"
    assert item["title"] == "Comparative study of urbanisation"
    assert item["issued"] == {"date-parts": [[2011, 3]]}
    assert item["collection-title"] == "World Cities"
    assert item["URL"] == "http://localhost/documents/study-2011"
    assert "城镇化比较研究" in item["note"]


def test_hostile_metadata_stays_one_field_in_every_format(client):
    """TeX's specials are escaped (braces balance whatever the title), and no line break starts a new RIS tag."""
    meta = CATALOGUE["hostile-2015"]
    (record,) = ris_records(client, "/documents/hostile-2015/cite/ris")
    assert record["title"] == meta["title"]
    assert record["abstract"] == meta["summary"]
    (entry,) = bibtex_entries(client, "/documents/hostile-2015/cite/bibtex")
    fields = {f.key: f.value for f in entry.fields}
    assert "<script>" in fields["title"] and fields["address"] == meta["place"]
    (item,) = csl_items(client, "/documents/hostile-2015/cite/csl")
    assert item["title"] == meta["title"]


def test_tex_specials_are_escaped():
    from webapp.cite import tex_escaped

    assert tex_escaped("50% of {a} & b_c #1 ~ $x$ \\") == (
        r"50\% of \{a\} \& b\_c \#1 \~{} \$x\$ \textbackslash{}")


def test_result_list_citations_follow_the_results(client):
    page = get_page(client, "/search?q=policy&expand=0&sort=oldest")
    for endpoint in ("/export.ris", "/export.bib", "/export.csl.json"):
        assert has_link(page, f"{endpoint}?q=policy&expand=0&sort=oldest")
    expected = ["mou-2006", "seminar-2013"]
    assert [r["id"] for r in ris_records(client, "/export.ris?q=policy&expand=0&sort=oldest")] == expected
    assert [e.key for e in bibtex_entries(client, "/export.bib?q=policy&expand=0&sort=oldest")] == expected
    assert [i["id"] for i in csl_items(client, "/export.csl.json?q=policy&expand=0&sort=oldest")] == expected
    # A filter of the search is a filter of the citations.
    assert [r["id"] for r in ris_records(client, "/export.ris?q=policy&expand=0&kind=high-level+seminar")] == [
        "seminar-2013"]


@pytest.mark.parametrize("url", ["/documents/mou-2006/cite/pdf", "/documents/no-such-doc/cite/ris",
                                 "/documents/..%2Fetc/cite/ris"])
def test_unknown_citation_formats_and_documents_give_404(client, url):
    assert fetch(client, url).status_code == 404
