"""Search over a real index of generated English and Chinese PDFs: exact documents and pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import make_settings, write_pdf
from indexer.build import update
from indexer.errors import IndexMissingError, SearchQueryError
from indexer.search import Filters, search
from indexer.readers import open_searcher

CATALOGUE = """
[[document]]
id = "mou-2006"
title = "Memorandum of Understanding on Regional Policy Cooperation"
title_zh = "区域政策合作谅解备忘录"
date = "2006-05-15"
kind = "memorandum of understanding"
place = "Brussels"

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

[[document]]
id = "cetregio-2014"
title = "Training programme report"
date = "2014-06"
kind = "programme report"
programme = "CETREGIO"

[[document.files]]
lang = "en"
file = "cetregio.en.pdf"

[[document]]
id = "seminar-2015"
title = "High-level seminar on urban development"
title_zh = "城市发展高层研讨会"
date = "2015-10-20"
kind = "high-level seminar"
programme = "World Cities"

[[document.files]]
lang = "zh"
file = "seminar.zh.pdf"
"""

PDFS = {
    "mou.en.pdf": ["The parties agree to exchange views on regional policy.",
                   "Experts meet in Dublin every year to discuss cohesion."],
    "mou.zh.pdf": ["双方同意在区域政策领域开展交流。", "专家每年举行会议，讨论城镇化问题。"],
    "study.en.pdf": ["This comparative study describes regional disparities.",
                     "Chengdu and Wuhan show urbanisation in western and central China.",
                     "Annex: statistical sources and a note on cooperation."],
    "cetregio.en.pdf": ["The CETREGIO programme trained officials in regional cooperation.",
                        "Training sessions took place in Brussels and Chengdu."],
    "seminar.zh.pdf": ["第六届研讨会在成都举行。", "会议讨论了城镇化与区域合作，以及CETREGIO项目。"],
    # No catalogue entry: a document of its own, named after the file.
    "loose-notes-2018.pdf": ["Notes on the Harbin visit and regional cooperation."],
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """Settings of an index built once from PDFS and CATALOGUE (glossary off: exact results)."""
    root = tmp_path_factory.mktemp("search")
    settings = make_settings(root, glossary=str(root / "no-glossary.toml"), expand_glossary=False,
                             userdict=str(root / "no-userdict.txt"))
    Path(settings.catalogue).write_text(CATALOGUE, encoding="utf-8")
    for name, pages in PDFS.items():
        write_pdf(Path(settings.archive_dir) / name, pages)
    # Without metadata, the uncatalogued file is dated by its name.
    strip_pdf_metadata(Path(settings.archive_dir) / "loose-notes-2018.pdf")
    report = update(settings)
    assert report.failed == [] and len(report.added) == len(PDFS)
    return settings


def strip_pdf_metadata(path: Path) -> None:
    """Remove a PDF's document information (title, dates)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(path))
    info = writer._info.get_object() if writer._info is not None else None
    for key in list(info or {}):
        del info[key]
    with open(path, "wb") as fh:
        writer.write(fh)


def run(settings, text: str, **filters):
    with open_searcher(settings.index_dir) as s:
        return search(s, text, settings, Filters(**{k: tuple(v) for k, v in filters.items()}), page_size=100)


def found(settings, text: str, **filters) -> dict[str, dict[str, list[int]]]:
    """Matching documents, each with its matching files and their page numbers."""
    result = run(settings, text, **filters)
    return {h.doc_id: {f.path: sorted(p.page for p in f.pages) for f in h.files} for h in result.hits}


@pytest.mark.parametrize("query, expected", [
    # English words: the right document, file and page.
    ("Dublin", {"mou-2006": {"mou.en.pdf": [2]}}),
    ("Wuhan", {"study-2011": {"study.en.pdf": [2]}}),
    ("Chengdu", {"study-2011": {"study.en.pdf": [2]}, "cetregio-2014": {"cetregio.en.pdf": [2]}}),
    ("dublin", {"mou-2006": {"mou.en.pdf": [2]}}),                 # case folded
    ("Dublín", {"mou-2006": {"mou.en.pdf": [2]}}),                 # accents folded
    ("disparity", {"study-2011": {"study.en.pdf": [1]}}),          # stemmed; the title matches too
    ('"regional disparities"', {"study-2011": {"study.en.pdf": [1]}}),
    ("Harbin", {"loose-notes-2018": {"loose-notes-2018.pdf": [1]}}),
    # Chinese words.
    ("区域政策", {"mou-2006": {"mou.zh.pdf": [1]}}),
    ("成都", {"seminar-2015": {"seminar.zh.pdf": [1]}}),
    ("城镇化", {"mou-2006": {"mou.zh.pdf": [2]}, "seminar-2015": {"seminar.zh.pdf": [2]}}),
    ("谅解备忘录", {"mou-2006": {}}),                                # in the Chinese title only
    # Mixed: a Latin word on a Chinese page.
    ("CETREGIO", {"cetregio-2014": {"cetregio.en.pdf": [1]}, "seminar-2015": {"seminar.zh.pdf": [2]}}),
    # Negative cases: words that occur nowhere, or only apart.
    ("Shanghai", {}),
    ("北京", {}),
    ('"regional Dublin"', {}),
])
def test_a_word_finds_exactly_its_documents_and_pages(indexed, query, expected):
    assert found(indexed, query) == expected


def test_two_words_on_different_pages_of_one_document(indexed):
    assert found(indexed, "Dublin exchange") == {"mou-2006": {"mou.en.pdf": [1, 2]}}


def test_words_no_document_has_together_fall_back_to_any_word(indexed):
    result = run(indexed, "Dublin Wuhan")
    assert result.any_word_fallback
    assert {h.doc_id for h in result.hits} == {"mou-2006", "study-2011"}
    assert not run(indexed, "Dublin cohesion").any_word_fallback


def test_results_carry_the_catalogue_metadata_and_highlighted_snippets(indexed):
    result = run(indexed, "Wuhan")

    assert result.total == 1
    hit = result.hits[0]
    assert (hit.title, hit.date, hit.kind, hit.languages) == (
        "Comparative study of regional disparities", "2011", "study", ["en"])
    [page] = hit.files[0].pages
    assert page.page == 2 and "<mark>Wuhan</mark>" in page.snippet
    zh = run(indexed, "城镇化").hits
    assert all("<mark>城镇化</mark>" in f.pages[0].snippet for h in zh for f in h.files)


@pytest.mark.parametrize("filters, expected", [
    ({}, {"study-2011": {"study.en.pdf": [3]}, "cetregio-2014": {"cetregio.en.pdf": [1]},
          "mou-2006": {}, "loose-notes-2018": {"loose-notes-2018.pdf": [1]}}),
    ({"kind": ["study"]}, {"study-2011": {"study.en.pdf": [3]}}),
    ({"kind": ["study", "programme report"]},
     {"study-2011": {"study.en.pdf": [3]}, "cetregio-2014": {"cetregio.en.pdf": [1]}}),
    ({"year": ["2014"]}, {"cetregio-2014": {"cetregio.en.pdf": [1]}}),
    ({"year": ["2006"]}, {"mou-2006": {}}),
    ({"year": ["2018"]}, {"loose-notes-2018": {"loose-notes-2018.pdf": [1]}}),
    ({"programme": ["CETREGIO"]}, {"cetregio-2014": {"cetregio.en.pdf": [1]}}),
    ({"programme": ["World Cities"]}, {}),
    ({"kind": ["study"], "year": ["2014"]}, {}),
])
def test_metadata_filters_narrow_the_results(indexed, filters, expected):
    assert found(indexed, "cooperation", **filters) == expected


@pytest.mark.parametrize("filters, expected", [
    ({}, {"cetregio-2014": {"cetregio.en.pdf": [1]}, "seminar-2015": {"seminar.zh.pdf": [2]}}),
    ({"lang": ["zh"]}, {"seminar-2015": {"seminar.zh.pdf": [2]}}),
    ({"lang": ["en"]}, {"cetregio-2014": {"cetregio.en.pdf": [1]}}),
    ({"programme": ["World Cities"]}, {"seminar-2015": {"seminar.zh.pdf": [2]}}),
])
def test_the_language_filter_keeps_pages_of_files_in_that_language(indexed, filters, expected):
    assert found(indexed, "CETREGIO", **filters) == expected


def test_filters_apply_to_documents_matched_by_title_only(indexed):
    assert found(indexed, "谅解备忘录", kind=["memorandum of understanding"]) == {"mou-2006": {}}
    assert found(indexed, "谅解备忘录", kind=["study"]) == {}


def test_facets_count_the_matching_documents(indexed):
    facets = run(indexed, "cooperation").facets
    assert dict(facets["kind"]) == {"study": 1, "programme report": 1, "memorandum of understanding": 1,
                                    "document": 1}
    assert dict(facets["year"]) == {"2006": 1, "2011": 1, "2014": 1, "2018": 1}


@pytest.mark.parametrize("query, languages", [
    # Only the Chinese files of mou-2006 and seminar-2015 have the word: mou-2006's English file is not counted.
    ("城镇化", {"zh": 2}),
    # Matched by its title alone, mou-2006 counts under the language of each of its files.
    ("谅解备忘录", {"en": 1, "zh": 1}),
])
def test_the_language_facet_counts_the_languages_of_the_matching_files(indexed, query, languages):
    assert dict(run(indexed, query).facets["lang"]) == languages


def test_results_are_paged(indexed):
    with open_searcher(indexed.index_dir) as s:
        first = search(s, "cooperation", indexed, page_size=3)
        second = search(s, "cooperation", indexed, page=2, page_size=3)
    assert first.total == second.total == 4 and first.pages == 2
    assert len(first.hits) == 3 and len(second.hits) == 1
    assert {h.doc_id for h in first.hits} | {h.doc_id for h in second.hits} == {
        "study-2011", "cetregio-2014", "mou-2006", "loose-notes-2018"}


@pytest.mark.parametrize("query", ['"', "(", "title:", "AND", "", "   ", "区域政策 (", 'kind:"'])
def test_malformed_queries_give_a_message_or_a_result_never_a_crash(indexed, query):
    with open_searcher(indexed.index_dir) as s:
        try:
            search(s, query, indexed)
        except SearchQueryError as exc:
            assert str(exc)


def test_searching_before_any_build_says_so(tmp_path):
    settings = make_settings(tmp_path)
    with pytest.raises(IndexMissingError, match="python -m indexer update"):
        with open_searcher(settings.index_dir):
            pass


# --- pages found from the positions of the query's words (indexer.engine.evaluate) ------------


@pytest.fixture(scope="module")
def paged(tmp_path_factory):
    """Reports whose words sit on known pages: together on one page, or scattered."""
    settings = make_settings(tmp_path_factory.mktemp("paged"), expand_glossary=False)
    archive = Path(settings.archive_dir)
    write_pdf(archive / "together.pdf", ["Annual overview of the partnership.",
                                         "Cohesion funds reached Chengdu in that year.",
                                         "Closing remarks on cohesion."])
    write_pdf(archive / "scattered.pdf", ["Cohesion is the first theme of this report, and cohesion again.",
                                          "Statistical annex.",
                                          "Chengdu appears only on the last page."])
    write_pdf(archive / "chinese.pdf", ["第一页介绍区域", "政策在第二页。", "第三页讨论区域政策和城镇化。"])
    update(settings)
    with open_searcher(settings.index_dir) as s:
        yield lambda text: {h.doc_id: {f.path: (f.matched_page_numbers, [p.page for p in f.pages]) for f in h.files}
                            for h in search(s, text, settings).hits}, \
            lambda text: [h.doc_id for h in search(s, text, settings).hits]


def test_pages_hold_every_word_of_an_and_and_a_scattered_report_shows_its_pages_with_any(paged):
    pages, order = paged
    assert pages("cohesion Chengdu") == {
        "together": {"together.pdf": ([2], [2])},
        # No page holds both words: the report matches, and its pages with either are given.
        "scattered": {"scattered.pdf": ([1, 3], [1, 3])},
    }
    # The report with the words on one page comes first, although the other says "cohesion" more.
    assert order("cohesion Chengdu") == ["together", "scattered"]
    assert pages("cohesion") == {"together": {"together.pdf": ([2, 3], [2, 3])},
                                 "scattered": {"scattered.pdf": ([1], [1])}}
    assert pages("Chengdu -annex") == {"together": {"together.pdf": ([2], [2])}}
    # Pages are shown rarest word first: "overview" is in one report, "Chengdu" in two.
    assert pages("Chengdu OR overview") == {"together": {"together.pdf": ([1, 2], [1, 2])},
                                            "scattered": {"scattered.pdf": ([3], [3])}}


def test_a_phrase_never_runs_across_a_page_break(paged):
    pages, _ = paged
    # "区域" ends page 1 and "政策" starts page 2 of chinese.pdf: only page 3 holds the phrase.
    assert pages('"区域政策"') == {"chinese": {"chinese.pdf": ([3], [3])}}
    assert pages('"this report"') == {"scattered": {"scattered.pdf": ([1], [1])}}
    assert pages('"report Statistical"') == {}


def test_glossary_parses_are_kept_per_segmenter_and_handed_out_as_copies(tmp_path):
    """The glossary expansion keeps its parses of terms and translations (engine.parse._parsed_plain):
    a kept parse gives the query a fresh parse gives, each caller gets its own copy, and a new
    user dictionary (other Chinese words) is not answered from parses made with the old one."""
    from indexer.engine import analysis
    from indexer.engine import parse as parse_module
    from indexer.search import Glossary, parse_query

    glossary = Glossary({("regional", "policy"): "区域政策"}, {"区域政策": "regional policy"})
    texts = ["regional policy", '"Regional Policy" cohesion', "区域政策", '"區域政策合作"']
    before = analysis._userdict_path
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("区域政策 100 n\n", encoding="utf-8")
    try:
        analysis.configure_segmenter(userdict)
        parse_module._parsed_plain.cache_clear()
        fresh = [parse_query(text, glossary) for text in texts]
        kept = [parse_query(text, glossary) for text in texts]
        assert parse_module._parsed_plain.cache_info().hits > 0
        assert kept == fresh
        # A copy each time: changing one query leaves the next parse alone.
        first = parse_module._plain_query('"区域政策"')
        for leaf in first.leaves():
            leaf.boost = 99.0
        assert parse_module._plain_query('"区域政策"') != first
        assert parse_query("regional policy", glossary) == fresh[0]

        # Without the user dictionary jieba cuts 区域政策 in two: the translation is parsed anew.
        analysis.configure_segmenter(None)
        other = parse_query("regional policy", glossary)
        parse_module._parsed_plain.cache_clear()
        assert other == parse_query("regional policy", glossary)
        assert other != fresh[0]
    finally:
        analysis.configure_segmenter(before)


# --- which pages, and which part of a page, a result shows (ranking.order_pages, highlight.snippet) ----

_FILLER = ("delegates visited several provinces during autumn with local officials, historians, engineers, "
           "farmers, teachers and students from nearby towns and villages")


@pytest.fixture(scope="module")
def phrased(tmp_path_factory):
    """A report whose query words stand apart on some pages and together on others."""
    settings = make_settings(tmp_path_factory.mktemp("phrased"), expand_glossary=False)
    archive = Path(settings.archive_dir)
    write_pdf(archive / "phrasebook.pdf", [
        # 1: the three words often, always far apart (the highest page score).
        " ".join(f"Regional {_FILLER}. Policy {_FILLER}. Reform {_FILLER}." for _ in range(3)),
        # 2: the three words in one sentence, two other words between them.
        f"{_FILLER}. Experts said regional growth needs policy reform soon.",
        # 3: none of them.
        "Statistical annex.",
        # 4: the words apart, densely, first; then the three-word phrase once.
        f"Regional offices, policy makers and reform advocates met. Regional and policy questions, reform "
        f"questions. {_FILLER}. {_FILLER}. {_FILLER}. In the end the regional policy reform was adopted. "
        f"{_FILLER}.",
    ])
    write_pdf(archive / "zh.pdf", [
        # 1: 区域 and 政策 often, apart.
        "区域发展很重要，我们讨论了很多问题。\n政策也很重要，包括经济和社会。\n区域差异明显，专家举行会议。\n政策执行需要时间。",
        # 2: both apart first, then the words side by side, then the three-word phrase.
        "区域发展很重要，政策也很重要；区域差异明显，政策执行需要时间；区域和政策都讨论了。\n"
        + "专家每年举行会议，我们讨论了很多问题，包括经济和社会。\n" * 6
        + "这是区域政策的核心。\n专家每年举行会议。\n双方签署了区域政策合作文件。",
        # 3: the characters of 区域政策 only inside the longer word 区域政策合作, often.
        "区域政策合作文件。\n区域政策合作会议。\n区域政策合作项目。\n区域政策合作论坛。\n区域政策合作中心。",
    ])
    write_pdf(archive / "listings.pdf", [
        # 1: other forms of the word, often (the higher page score).
        "The list was listed. Listing rules list the listed firms. A list of lists, listed again.",
        # 2: the word as typed, once.
        f"{_FILLER}. New listings were approved in autumn.",
    ])
    update(settings)
    with open_searcher(settings.index_dir) as s:
        yield lambda text: {f.path: [(p.page, p.snippet) for p in f.pages]
                            for h in search(s, text, settings).hits for f in h.files}


def test_pages_with_the_words_together_come_before_pages_with_them_apart(phrased):
    shown = phrased("regional policy reform")["phrasebook.pdf"]
    # The phrase (page 4), then the words in one sentence (2), then page 1, which holds them most often.
    assert [page for page, _ in shown] == [4, 2, 1]
    shown = phrased("区域 政策")["zh.pdf"]
    assert [page for page, _ in shown] == [2, 3, 1]


def test_pages_holding_the_phrase_in_whole_words_come_before_those_holding_its_characters(phrased):
    # Page 3 holds the characters of 区域政策 three times, but only inside the longer word 区域政策合作
    # (the bigram field's phrase); page 2 holds the words themselves (the jieba field's phrase too).
    assert [page for page, _ in phrased("区域政策")["zh.pdf"]] == [2, 3]


def test_pages_holding_the_english_word_as_typed_come_before_those_holding_only_its_other_forms(phrased):
    # Page 1 holds the stem of "listings" six times; page 2 holds the word itself (body_exact) once.
    assert [page for page, _ in phrased("listings")["listings.pdf"]] == [2, 1]


def _marked_whole(snippet: str, phrase: str) -> bool:
    """Whether SNIPPET marks PHRASE whole: as one mark, or marks with only spaces between them."""
    joined = re.sub(r"</mark>(\s*)<mark>", r"\1", snippet)
    return any(phrase.lower() in m.lower() for m in re.findall(r"<mark>(.*?)</mark>", joined))


@pytest.mark.parametrize("query, path, page, phrase", [
    ("regional policy reform", "phrasebook.pdf", 4, "regional policy reform"),
    ('"regional policy reform"', "phrasebook.pdf", 4, "regional policy reform"),
    ("regional policy", "phrasebook.pdf", 4, "regional policy"),
    ('"policy reform"', "phrasebook.pdf", 4, "policy reform"),
    ("区域 政策", "zh.pdf", 2, "区域政策"),
    ("区域 政策 合作", "zh.pdf", 2, "区域政策合作"),
    ('"区域政策合作"', "zh.pdf", 2, "区域政策合作"),
])
def test_a_snippet_shows_and_marks_the_phrase_whole_where_its_words_also_stand_apart(phrased, query, path, page,
                                                                                      phrase):
    snippets = dict(phrased(query)[path])
    assert _marked_whole(snippets[page], phrase), snippets[page]
    # One mark, not one a word.
    assert f"<mark>{phrase}</mark>" in snippets[page]


@pytest.mark.parametrize("query, phrase", [("regional policy reform", "regional policy reform"),
                                           ('"cohesion fund"', "cohesion fund"),
                                           ("区域 政策 合作", "区域政策合作")])
def test_the_snippet_window_never_cuts_the_phrase_wherever_it_stands(query, phrase):
    """Wherever on a page the phrase stands (at the start, the end, or mid-page after its words
    apart), the snippet shows it whole as one mark."""
    import random

    from indexer import highlight
    from indexer.search import parse_query

    terms = highlight.query_terms(parse_query(query, None)[0])
    chinese = "区" in phrase
    words = ["区域", "政策", "合作"] if chinese else phrase.split()
    filler = ["经济", "社会", "会议", "专家", "城市"] if chinese else ["delegates", "visited", "several", "towns"]
    join = "" if chinese else " "
    rng = random.Random(5)
    for _ in range(200):
        # The phrase's words apart before it, each followed by other words.
        before = [w for _ in range(rng.randint(0, 60)) for w in (rng.choice(filler + words), rng.choice(filler))]
        after = [rng.choice(filler) for _ in range(rng.randint(0, 150))]
        snippet = highlight.snippet(join.join(before + [phrase] + after), terms)
        assert f"<mark>{phrase}</mark>" in snippet, snippet
