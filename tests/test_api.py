"""The JSON API, the exports (CSV, JSON), the Atom feed, OpenSearch and the health check.

Same sample archive as tests/test_web.py, indexed for real; assertions on the
parsed JSON, CSV and XML.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from test_web import HOSTILE_FILE
from webapp import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def api(client, url: str, status: int = 200, **kwargs) -> dict:
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code, response.data[:500])
    assert response.mimetype == "application/json"
    return response.get_json()


def ids(data: dict) -> list[str]:
    return [r["id"] for r in data["results"]]


# --- /api/search -----------------------------------------------------------------------------


def test_search_returns_documents_with_files_pages_and_snippets(client):
    data = api(client, "/api/search?q=Chengdu")
    assert data["query"] == "Chengdu"
    assert data["total"] == 1 and data["page"] == 1 and data["pages"] == 1
    (hit,) = data["results"]
    assert hit["id"] == "mou-2006"
    assert hit["title"] == "Memorandum of Understanding on Regional Policy"
    assert hit["title_zh"] == "区域政策谅解备忘录"
    assert (hit["date"], hit["kind"], hit["programme"], hit["place"]) == \
        ("2006-05-15", "memorandum of understanding", "CETREGIO", "Brussels")
    assert hit["languages"] == ["en", "zh"]
    assert hit["url"] == "/documents/mou-2006?q=Chengdu"
    (f,) = hit["files"]
    assert (f["file"], f["lang"], f["matched_pages"]) == ("mou-2006.en.pdf", "en", 1)
    (page,) = f["pages"]
    assert page["page"] == 2
    assert "<mark>Chengdu</mark>" in page["snippet_html"]
    assert "Chengdu" in page["snippet"] and "<mark>" not in page["snippet"]
    assert page["url"] == "/documents/mou-2006?q=Chengdu&lang=en&page=2#page-2"
    assert page["pdf_url"] == "/documents/mou-2006/file/en#page=2"


def test_chinese_search_finds_the_chinese_page(client):
    data = api(client, "/api/search", query_string={"q": "区域政策", "expand": "0"})
    assert ids(data) == ["mou-2006"]
    (f,) = data["results"][0]["files"]
    assert (f["file"], f["lang"], [p["page"] for p in f["pages"]]) == ("mou-2006.zh.pdf", "zh", [2])
    assert data["also_searched"] == []


def test_glossary_expansion_is_reported_and_can_be_switched_off(client):
    expanded = api(client, "/api/search", query_string={"q": "区域政策"})
    assert "regional policy" in expanded["also_searched"]
    assert set(ids(expanded)) == {"mou-2006", "seminar-2013"}
    plain = api(client, "/api/search", query_string={"q": "区域政策", "expand": "0"})
    assert plain["expand"] is False and ids(plain) == ["mou-2006"]
    assert expanded["expand"] is True


@pytest.mark.parametrize("query, expected", [
    ("Guangzhou", ["study-2011"]),
    ("广州", ["study-2011"]),
    ("wombat", ["loose-notes-2019"]),
    ("xylophonist", []),
    ('"cohesion policy"', ["mou-2006"]),
    ("title:seminar", ["seminar-2013"]),
    ("kind:study", ["study-2011"]),
    ("year:2013", ["seminar-2013"]),
])
def test_search_finds_exactly(client, query, expected):
    assert ids(api(client, "/api/search", query_string={"q": query, "expand": "0"})) == expected


def test_filters_narrow_the_results(client):
    base = {"q": "policy", "expand": "0"}
    assert set(ids(api(client, "/api/search", query_string=base))) == {"mou-2006", "seminar-2013"}
    assert ids(api(client, "/api/search", query_string={**base, "kind": "high-level seminar"})) == ["seminar-2013"]
    assert ids(api(client, "/api/search", query_string={**base, "year": "2006"})) == ["mou-2006"]
    assert ids(api(client, "/api/search", query_string={**base, "from": "2010", "to": "2014"})) == ["seminar-2013"]
    assert set(ids(api(client, "/api/search", query_string={**base, "year": ["2006", "2013"]}))) == \
        {"mou-2006", "seminar-2013"}
    narrowed = api(client, "/api/search", query_string={**base, "programme": "CETREGIO", "kind": "study"})
    assert narrowed["total"] == 0 and narrowed["filters"]["kind"] == ["study"]


def test_facets_count_documents(client):
    data = api(client, "/api/search?q=policy&expand=0")
    facets = {name: {v["value"]: v["count"] for v in values} for name, values in data["facets"].items()}
    assert facets["kind"] == {"memorandum of understanding": 1, "high-level seminar": 1}
    assert facets["year"] == {"2006": 1, "2013": 1}
    assert facets["programme"] == {"CETREGIO": 2}


def test_paging_links(sample_settings):
    client = create_app(sample_settings.replace(page_size=1)).test_client()
    first = api(client, "/api/search?q=policy&expand=0")
    assert first["total"] == 2 and first["pages"] == 2 and len(first["results"]) == 1
    assert "prev" not in first["links"]
    second = api(client, first["links"]["next"])
    assert second["page"] == 2 and ids(second) != ids(first)
    assert "next" not in second["links"]


@pytest.mark.parametrize("query", ['"', "(", "title:", "AND", "", "x" * 600])
def test_malformed_queries_give_a_json_message(client, query):
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code in (200, 400)
    data = response.get_json()
    if response.status_code == 400:
        assert data["error"]["status"] == 400 and data["error"]["message"]
    else:
        assert isinstance(data["results"], list)


def test_bad_parameters_give_a_json_400(client):
    data = api(client, "/api/search?q=policy&page=-1", status=400)
    assert "page" in data["error"]["message"]
    assert api(client, "/api/search?q=policy&sort=random", status=400)["error"]["kind"] == "query"


# --- /api/documents ----------------------------------------------------------------------------


def test_document_has_metadata_files_and_page_texts(client):
    data = api(client, "/api/documents/mou-2006")
    assert data["id"] == "mou-2006" and data["summary"] == "Signed in Brussels."
    assert data["languages"] == ["en", "zh"]
    files = {f["lang"]: f for f in data["files"]}
    assert files["en"]["file"] == "mou-2006.en.pdf" and files["en"]["status"] == "indexed"
    assert files["en"]["pages"] == 3 and files["en"]["url"] == "/documents/mou-2006/file/en"
    assert [p["page"] for p in files["en"]["page_texts"]] == [1, 2, 3]
    assert files["zh"]["page_texts"][1]["text"].strip() == "双方同意在区域政策方面交流经验。"
    assert files["en"]["matched_pages"] == []


def test_document_with_a_query_lists_matching_pages(client):
    data = api(client, "/api/documents/mou-2006?q=Chengdu&pages=0")
    files = {f["lang"]: f for f in data["files"]}
    assert [p["page"] for p in files["en"]["matched_pages"]] == [2]
    assert files["en"]["matched_pages"][0]["pdf_url"] == "/documents/mou-2006/file/en#page=2"
    assert files["zh"]["matched_pages"] == []
    assert "page_texts" not in files["en"]


def test_document_json_keeps_hostile_text_as_data(client):
    data = api(client, "/api/documents/hostile-2015")
    assert data["title"] == "=cmd|' /C calc'!A0 <script>alert(\"title\")</script> statement"
    assert data["files"][0]["file"] == HOSTILE_FILE
    page = data["files"][0]["page_texts"][0]
    assert "&lt;script&gt;" in page["html"] and "<script>" in page["text"]


@pytest.mark.parametrize("url", ["/api/documents/nope", "/api/documents/..%2Fetc", "/api/documents/" + "x" * 3000,
                                 "/api/nothing-here"])
def test_unknown_documents_give_a_json_404(client, url):
    assert api(client, url, status=404)["error"]["status"] == 404


def test_document_list(client):
    data = api(client, "/api/documents?order=date")
    # "broken" (its one file failed to read) is no news: left out of the listing (issue 25).
    assert data["total"] == len(data["documents"]) == 5
    assert "broken" not in {d["id"] for d in data["documents"]}
    dated = [d["id"] for d in data["documents"] if d["date"]]
    # The uncatalogued file's date is the year in its name (its PDF says 2000-01-01: reportlab's invariant mode).
    assert dated == ["loose-notes-2019", "hostile-2015", "seminar-2013", "study-2011", "mou-2006"]
    assert api(client, "/api/documents?order=size", status=400)["error"]["status"] == 400


# --- suggestions -------------------------------------------------------------------------------------


def test_suggestions_complete_english_words(client):
    data = api(client, "/api/suggest?q=chen")
    assert data["query"] == "chen" and "chengdu" in data["suggestions"]
    assert api(client, "/api/suggest?q=exchange chen")["suggestions"][0].startswith("exchange ")


def test_suggestions_in_opensearch_format(client):
    response = client.get("/api/suggest?q=wom&format=opensearch")
    assert response.mimetype == "application/x-suggestions+json"
    query, completions = response.get_json()
    assert query == "wom" and "wombat" in completions


def test_suggestions_for_nothing_are_empty(client):
    assert api(client, "/api/suggest?q=")["suggestions"] == []
    assert api(client, "/api/suggest?q=zzzzzz")["suggestions"] == []


# --- exports -----------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_export_has_one_row_per_document_with_pages_and_links(client):
    response = client.get("/export.csv?q=policy&expand=0&sort=oldest")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = read_csv(response)
    assert [r["id"] for r in rows] == ["mou-2006", "seminar-2013"]
    assert rows[0]["title_zh"] == "区域政策谅解备忘录"
    assert rows[0]["pages"] == "en: 1, 2"
    assert rows[0]["url"] == "http://localhost/documents/mou-2006?q=policy&expand=0"
    assert rows[0]["pdf_urls"] == "http://localhost/documents/mou-2006/file/en"


def test_csv_export_neutralises_formulas(client):
    (row,) = read_csv(client.get("/export.csv?q=quokka"))
    assert row["title"] == "'=cmd|' /C calc'!A0 <script>alert(\"title\")</script> statement"
    assert row["event"] == "'+SUM(1,2)"
    assert row["place"] == "\"><img src=x onerror=alert(3)>"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@")), value


def test_csv_export_of_a_bad_query_is_a_400(client):
    assert client.get("/export.csv?q=policy&page=x").status_code == 400


def test_json_export_has_all_results(sample_settings):
    client = create_app(sample_settings.replace(page_size=1)).test_client()
    response = client.get("/export.json?q=policy&expand=0")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.get_json()
    assert data["total"] == 2 and len(data["results"]) == 2


# --- Atom, OpenSearch ----------------------------------------------------------------------------------


def test_atom_feed_is_well_formed_and_lists_documents(client):
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}updated").text
    entries = root.findall(f"{ATOM}entry")
    # Every document but "broken", whose one file failed to read: no news (issue 25).
    assert len(entries) == 5
    links = {e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in entries}
    assert "http://localhost/documents/mou-2006" in links
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert any("<script>alert(\"title\")</script>" in t for t in titles)     # as text, escaped in the XML
    assert b"<script>" not in response.data
    enclosures = [link.get("href") for e in entries for link in e.findall(f"{ATOM}link[@rel='enclosure']")]
    assert "http://localhost/documents/mou-2006/file/zh" in enclosures
    ids_ = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids_)) == 5 and all(i.startswith("urn:uuid:") for i in ids_)
    assert "http://localhost/documents/broken" not in links


def test_opensearch_description_is_well_formed(client):
    response = client.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    assert len(root.find(f"{OPENSEARCH}ShortName").text) <= 16
    urls = {u.get("type"): u.get("template") for u in root.findall(f"{OPENSEARCH}Url")}
    assert urls["text/html"] == "http://localhost/search?q={searchTerms}"
    assert urls["application/x-suggestions+json"] == "http://localhost/api/suggest?format=opensearch&q={searchTerms}"


def test_pages_link_the_feed_and_opensearch(client):
    html = client.get("/").get_data(as_text=True)
    assert 'rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml"' in html
    assert 'rel="alternate" type="application/atom+xml" href="/feed.atom"' in html


def test_feed_and_opensearch_under_a_prefix(sample_settings):
    from werkzeug.test import Client

    client = Client(create_app(sample_settings.replace(url_prefix="/archive")))
    feed = ET.fromstring(client.get("/archive/feed.atom").data)
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/archive/feed.atom"
    search = ET.fromstring(client.get("/archive/opensearch.xml").data)
    urls = {u.get("type"): u.get("template") for u in search.findall(f"{OPENSEARCH}Url")}
    assert urls["text/html"] == "http://localhost/archive/search?q={searchTerms}"


# --- health and status ------------------------------------------------------------------------------------


def test_healthz_reports_the_index(client):
    data = api(client, "/healthz")
    assert data["status"] == "ok" and data["index"] is True
    assert data["documents"] == 6 and data["last_update"]


def test_status_json_lists_failures_with_reasons(client):
    data = api(client, "/api/status")
    assert data["built"] is True and data["documents"] == 6
    failed = {f["path"]: f for f in data["files"] if f["status"] not in ("indexed", "waiting")}
    assert set(failed) == {"broken.pdf"} and failed["broken.pdf"]["reason"]
    assert data["waiting"] == []


def test_status_read_once_per_index_state_lists_waiting_files_once_each_time(settings, pdf):
    """The index's part of the status is kept per searcher (indexer.status._stored_status): asked
    again, a file waiting on disk is listed once, not once more per request; after an update the
    new state is shown."""
    from indexer.build import update

    pdf("first.pdf", ["Regional policy seminar in Chengdu"])
    update(settings)
    client = create_app(settings).test_client()
    assert api(client, "/healthz")["pages"] == 1
    pdf("second.pdf", ["Urbanisation study", "second page"])
    for _ in range(3):
        data = api(client, "/api/status")
        assert data["waiting"] == ["second.pdf"] and data["pages"] == 1
        assert sorted(f["path"] for f in data["files"]) == ["first.pdf", "second.pdf"]
        assert api(client, "/healthz")["pages"] == 1
    update(settings)
    assert api(client, "/healthz")["pages"] == 3
    data = api(client, "/api/status")
    assert data["waiting"] == [] and data["pages"] == 3
    assert sorted(f["path"] for f in data["files"]) == ["first.pdf", "second.pdf"]
