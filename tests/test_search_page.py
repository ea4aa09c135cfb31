"""What researchers expect of a search page: facets combined as in Datasette and EUR-Lex, a place facet and
undated documents, per-query Atom alerts, filter-only listings, and the year a query names.

Two real archives: tests/test_web.py's sample (the `client` fixture) and a small one built here, with an
undated document that mentions "memorandum 2006" more often than the 2006 memorandum itself.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import make_settings, write_pdf
from indexer.build import update
from indexer.service import ArchiveService, Filters
from test_web import get_page, has_link, norm, result_ids
from webapp import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

# The small archive: (id, catalogue fields, page texts).
DATED = [
    ("mou-2006", {"title": "Memorandum of Understanding", "date": "2006-05-15", "kind": "memorandum of understanding",
                  "place": "Brussels"},
     ["The memorandum was signed in Brussels in 2006 by both parties."]),
    ("addendum", {"title": "Addendum to the Memorandum", "kind": "addendum"},
     ["This addendum amends the memorandum of 2006. The memorandum of 2006 set up the dialogue; "
      "the memorandum of 2006 is extended; the memorandum of 2006 stays in force. Memorandum 2006."]),
    ("report-2016", {"title": "Cooperation report 2006-2016", "date": "2016", "kind": "programme report",
                     "place": "Chengdu"},
     ["Ten years after the memorandum of 2006, the dialogue met in Chengdu."]),
    ("notes-2011", {"title": "Seminar notes", "date": "2011-09", "kind": "high-level seminar", "place": "Chengdu"},
     ["Notes of the seminar in Chengdu on regional policy."]),
    # Paragraphs longer than a line (tests/conftest.write_pdf cuts English at 90 characters, Chinese at 40).
    ("study-2012", {"title": "Study of regional disparities", "date": "2012", "kind": "study"},
     ["Regional disparities between the coastal provinces and the western regions grew over the decade "
      "before the study, and the two parties compared the instruments each of them uses to reduce such "
      "disparities.\nThe second paragraph is short.",
      "区域差距在沿海省份和西部地区之间不断扩大，双方比较了各自用于缩小这种差距的政策工具，并同意在今后继续交流经验和开展联合研究。\n第二段很短。"]),
]


@pytest.fixture(scope="module")
def dated_settings(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("dated"))
    archive = Path(settings.archive_dir)
    lines = []
    for doc_id, meta, pages in DATED:
        write_pdf(archive / f"{doc_id}.en.pdf", pages, title=meta["title"])
        lines += ["[[document]]", f"id = {json.dumps(doc_id)}"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in meta.items()]
        lines += ["[[document.files]]", 'lang = "en"', f'file = "{doc_id}.en.pdf"', ""]
    (archive / "catalogue.toml").write_text("\n".join(lines), encoding="utf-8")
    update(settings)
    return settings


@pytest.fixture(scope="module")
def dated(dated_settings):
    """The small archive's snapshot, for the service's answers."""
    service = ArchiveService(dated_settings)
    yield service.snapshot()
    service.close()


@pytest.fixture(scope="module")
def dated_client(dated_settings):
    return create_app(dated_settings).test_client()


def facet_counts(page_html: str, name: str) -> dict[str, int]:
    """{value: count} of one facet of a results page, read from its links' URLs."""
    counts = {}
    for href, count in re.findall(r'<a class="facet-link[^"]*" href="([^"]+)".*?facet-count">(\d+)<', page_html,
                                  re.S):
        values = parse_qs(urlsplit(href.replace("&amp;", "&")).query).get(name, [])
        for value in values:
            counts.setdefault(value, int(count))
    return counts


# --- facets ----------------------------------------------------------------------------------------------


def test_two_kinds_are_or_ed_and_the_other_kinds_stay_listed(client):
    base = "/search?q=policy+OR+urbanisation&expand=0"
    assert set(result_ids(get_page(client, base))) == {"mou-2006", "study-2011", "seminar-2013"}
    one = get_page(client, base + "&kind=study")
    assert result_ids(one) == ["study-2011"]
    # The other kinds are still offered, each link adding its kind to the one picked.
    assert has_link(one, base + "&kind=study&kind=high-level+seminar")
    assert has_link(one, base + "&kind=study&kind=memorandum+of+understanding")
    both = get_page(client, base + "&kind=study&kind=high-level+seminar")
    assert set(result_ids(both)) == {"study-2011", "seminar-2013"}
    # Unpicking one kind keeps the other.
    assert has_link(both, base + "&kind=study")


def test_a_facets_counts_ignore_its_own_filter_and_obey_the_others(client):
    html = client.get("/search?q=policy+OR+urbanisation&expand=0&kind=study").get_data(as_text=True)
    kinds = facet_counts(html, "kind")
    assert kinds["study"] == 1 and kinds["high-level seminar"] == 1 and kinds["memorandum of understanding"] == 1
    # The year facet counts only the documents of the kind picked.
    assert facet_counts(html, "year") == {"2011": 1}


def test_different_facets_are_and_ed(client):
    base = "/search?q=policy+OR+urbanisation&expand=0&kind=study&kind=high-level+seminar"
    assert result_ids(get_page(client, base + "&place=Beijing")) == ["seminar-2013"]
    assert result_ids(get_page(client, base + "&programme=CETREGIO&year=2011")) == []


def test_place_facet_lists_the_catalogues_places(client):
    page = get_page(client, "/search?q=policy&expand=0")
    assert page.find("h3", id="facet-place")
    assert has_link(page, "/search?q=policy&expand=0&place=Brussels")
    assert has_link(page, "/search?q=policy&expand=0&place=Beijing")
    assert result_ids(get_page(client, "/search?q=policy&expand=0&place=Brussels")) == ["mou-2006"]


def test_language_facet_keeps_the_other_language_while_one_is_picked(client):
    html = client.get("/search?q=policy&expand=0&lang=zh").get_data(as_text=True)
    languages = facet_counts(html, "lang")
    assert languages["zh"] >= 1 and languages["en"] == 2


def test_chips_and_urls_show_every_filter(client):
    page = get_page(client, "/search?q=policy&expand=0&kind=study&kind=high-level+seminar&place=Beijing")
    chips = {norm(a["href"]) for t, a in page.by_class("chip") if t == "a"}
    assert norm("/search?q=policy&expand=0&kind=high-level+seminar&place=Beijing") in chips     # remove "study"
    assert norm("/search?q=policy&expand=0&kind=study&place=Beijing") in chips                  # remove the seminar
    assert norm("/search?q=policy&expand=0&kind=study&kind=high-level+seminar") in chips        # remove the place
    assert "Place: Beijing" in page.text


def test_api_reports_the_place_filter_and_facet(client):
    data = client.get("/api/search?q=policy&expand=0&place=Beijing").get_json()
    assert data["filters"]["place"] == ["Beijing"]
    assert {"value": "Brussels", "count": 1} in data["facets"]["place"]
    assert [r["id"] for r in data["results"]] == ["seminar-2013"]


def test_undated_documents_have_their_year_entry(dated, dated_client):
    years = dict(dated.search("memorandum", expand=False).facets["year"])
    assert years == {"2016": 1, "2006": 1, "undated": 1}
    assert list(dict(dated.search("memorandum", expand=False).facets["year"])) == ["2016", "2006", "undated"]
    assert [h.doc_id for h in dated.search("memorandum", Filters(year=("undated",)), expand=False).hits] == [
        "addendum"]
    both = dated.search("memorandum", Filters(year=("undated", "2006")), expand=False)
    assert {h.doc_id for h in both.hits} == {"addendum", "mou-2006"}
    for lang, label in (("en", "Undated"), ("zh", "日期不详")):
        page = get_page(dated_client, "/search?q=memorandum&expand=0", headers={"Accept-Language": lang})
        assert has_link(page, "/search?q=memorandum&expand=0&year=undated")
        assert label in page.text


def test_facets_are_labelled_in_both_interface_languages(client):
    zh = get_page(client, "/search?q=policy&expand=0", headers={"Accept-Language": "zh-CN"})
    assert "地点" in zh.text and "筛选" in zh.text
    en = get_page(client, "/search?q=policy&expand=0", headers={"Accept-Language": "en"})
    assert "Place" in en.text


# --- order -----------------------------------------------------------------------------------------------


def test_a_document_dated_in_the_year_the_query_names_ranks_above_an_undated_one(dated):
    hits = dated.search("memorandum 2006", expand=False).hits
    ids = [h.doc_id for h in hits]
    assert ids.index("mou-2006") < ids.index("addendum")
    # The undated addendum scores higher (it repeats both words): the year, not the score, puts it second.
    scores = {h.doc_id: h.score for h in hits}
    assert scores["addendum"] > scores["mou-2006"]


@pytest.mark.parametrize("text", ["memorandum", "memorandum NOT 2006", "memorandum -2006"])
def test_without_a_year_wanted_the_score_decides(dated, text):
    hits = dated.search(text, expand=False).hits
    assert hits and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filter_only_listings_are_newest_first(dated, dated_client):
    listing = dated.search("", Filters(place=("Chengdu", "Brussels")))
    assert [h.doc_id for h in listing.hits] == ["report-2016", "notes-2011", "mou-2006"]
    assert listing.sort == "newest" and listing.total == 3
    assert [h.doc_id for h in dated.search("", Filters(place=("Chengdu", "Brussels")), sort="oldest").hits] == [
        "mou-2006", "notes-2011", "report-2016"]
    # A query of catalogue values only is a filter too.
    typed = dated.search("kind:addendum OR kind:study OR year:2011 OR year:2006", expand=False)
    assert [h.doc_id for h in typed.hits] == ["study-2012", "notes-2011", "mou-2006", "addendum"]
    page = get_page(dated_client, "/search?place=Chengdu")
    assert result_ids(page) == ["report-2016", "notes-2011"]
    (current,) = [a for a in page.find("a") if a.get("aria-current") == "true" and "sort" in a.get("href", "")]
    assert current["href"] == "/search?place=Chengdu&sort=newest"
    assert not has_link(page, "/search?place=Chengdu&sort=relevance")
    assert has_link(page, "/search?place=Chengdu&kind=high-level+seminar")


def test_filters_without_a_query_on_the_home_page_list_documents(dated_client):
    assert result_ids(get_page(dated_client, "/?kind=addendum")) == ["addendum"]
    # No query and no filter is still the home page, not an error.
    assert get_page(dated_client, "/search").find("h1", class_="home-title")


# --- alerts ----------------------------------------------------------------------------------------------


def feed_entries(client, url: str) -> tuple[ET.Element, list[str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ids = [e.find(f"{ATOM}link[@rel='alternate']").get("href").rsplit("/", 1)[1] for e in root.findall(f"{ATOM}entry")]
    return root, ids


def test_results_page_links_the_feed_of_its_query_and_filters(dated_client):
    page = get_page(dated_client, "/search?q=memorandum&place=Chengdu&place=Brussels&sort=oldest")
    feed_url = "/feed.atom?q=memorandum&place=Chengdu&place=Brussels"
    assert has_link(page, feed_url)
    assert page.find("link", rel="alternate", type="application/atom+xml", href=feed_url.replace("&", "&"))
    root, ids = feed_entries(dated_client, feed_url)
    # Newest first, whatever order the results page shows.
    assert ids == ["report-2016", "mou-2006"]
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost" + feed_url
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == "http://localhost/search" + feed_url[10:]
    assert "memorandum" in root.find(f"{ATOM}title").text


def test_feeds_of_different_searches_have_different_ids_and_one_search_one_id(dated_client):
    a, _ = feed_entries(dated_client, "/feed.atom?q=memorandum&place=Chengdu")
    b, _ = feed_entries(dated_client, "/feed.atom?place=Chengdu&q=memorandum")
    c, _ = feed_entries(dated_client, "/feed.atom?q=memorandum")
    everything, ids = feed_entries(dated_client, "/feed.atom")
    assert a.find(f"{ATOM}id").text == b.find(f"{ATOM}id").text != c.find(f"{ATOM}id").text
    assert everything.find(f"{ATOM}id").text != c.find(f"{ATOM}id").text
    assert len(ids) == len(DATED)


def test_feed_of_filters_alone(dated_client):
    root, ids = feed_entries(dated_client, "/feed.atom?place=Chengdu")
    assert ids == ["report-2016", "notes-2011"]
    assert "Chengdu" in root.find(f"{ATOM}title").text


def test_opensearch_description_names_the_query_feed(client):
    root = ET.fromstring(client.get("/opensearch.xml").data)
    urls = {u.get("type"): u.get("template") for u in root.findall(f"{OPENSEARCH}Url")}
    assert urls["application/atom+xml"] == "http://localhost/feed.atom?q={searchTerms}"


# --- phone -----------------------------------------------------------------------------------------------


def test_results_page_has_a_filters_jump_to_the_facets(client):
    page = get_page(client, "/search?q=policy&expand=0&kind=study")
    (jump,) = [a for t, a in page.by_class("filters-jump") if t == "a"]
    assert jump["href"] == "#facets"
    assert page.find("aside", id="facets")
    zh = get_page(client, "/search?q=policy&expand=0", headers={"Accept-Language": "zh-CN"})
    assert [a for t, a in zh.by_class("filters-jump")]


# --- readable text ---------------------------------------------------------------------------------------


def test_document_page_shows_paragraphs_not_the_pdfs_lines(dated_client):
    page = get_page(dated_client, "/documents/study-2012")
    html = dated_client.get("/documents/study-2012").get_data(as_text=True)
    sections = re.findall(r'<section class="page-text[^"]*" id="page-(\d+)".*?</section>', html, re.S)
    assert sections == ["1", "2"]       # the page boundaries are kept, each page its own marked section
    paragraphs = [" ".join(re.sub(r"<[^>]+>", "", p).split())
                  for p in re.findall(r'<div class="page-body"[^>]*>(.*?)</div>', html, re.S)[0].split("</p>")
                  if p.strip()]
    assert paragraphs == [DATED[-1][2][0].split("\n")[0], "The second paragraph is short."]
    assert "Page 2" in page.text


def test_chinese_lines_are_joined_without_spaces(dated_client):
    data = dated_client.get("/api/documents/study-2012").get_json()
    (text,) = [p["text"] for p in data["files"][0]["page_texts"] if p["page"] == 2]
    # (Extraction already joins lines between Chinese characters: indexer.cleaning.)
    assert text == DATED[-1][2][1].replace("\n", "")


def test_highlights_survive_the_reflow(dated_client):
    html = dated_client.get("/documents/study-2012?q=instruments").get_data(as_text=True)
    assert "<mark>instruments</mark>" in html
