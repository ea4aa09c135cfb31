"""Cross-language search through the bilingual dictionary (CC-CEDICT): the dictionary's terms, the query
model's synonym sets and weights, and what a reader sees, on real PDFs indexed with the real parts."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from conftest import make_settings, write_pdf
from indexer import dictionary as dictionary_module
from indexer.build import update
from indexer.dictionary import clean_glosses, load_dictionary
from indexer.engine import analysis, evaluate as ev, inflection, parse, query, ranking
from indexer.engine.parse import DICTIONARY_SHARE
from indexer.engine.reading import holds_term
from indexer.readers import open_searcher
from indexer.search import load_glossary, parse_query, search

# English-only reports, a Chinese-only one and one in both languages; none of their
# words below is a term of archive/glossary.toml.
REPORTS = {
    "urban-report.pdf": [
        "Industrialisation is reshaping the provinces. Local government finance depends on land sales.",
        "The second page discusses water and schools.",
    ],
    "climate-report.pdf": [
        "Climate change threatens coastal cities. Infrastructure investment must adapt.",
    ],
    "farming-note.pdf": [
        "Agriculture employs fewer people every year; the harvest was good.",
    ],
    "village-study.pdf": [
        "本报告讨论农村地区的就业和扶贫工作。工业化进程中的农民工问题。",
    ],
    "cities-brief.pdf": [
        "工业化和基础设施建设。",
    ],
}


def _indexed(tmp_path_factory, name: str, reports: dict[str, list[str]]):
    """Settings of a fresh archive holding REPORTS (file name: page texts), indexed."""
    settings = make_settings(tmp_path_factory.mktemp(name))
    for path, pages in reports.items():
        write_pdf(Path(settings.archive_dir) / path, pages)
    update(settings)
    return settings


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return _indexed(tmp_path_factory, "translation", REPORTS)


def ids(result) -> list[str]:
    return [hit.doc_id for hit in result.hits]


def translations(result) -> dict[str, tuple[str, str]]:
    return {tr.word: (tr.terms, tr.source) for tr in result.translations}


# --- the dictionary -----------------------------------------------------------------------------


@pytest.mark.parametrize("senses, expected", [
    # classifier notes, "to " before verbs, parenthetical remarks
    ("to cooperate/to collaborate/to work together/cooperation/CL:個|个[ge4]",
     ["cooperate", "collaborate", "work together", "cooperation"]),
    ("region/regional (away from the central administration)/local", ["region", "regional", "local"]),
    # pinyin and Chinese inside a gloss, cross-references, long explanations
    ("variant of 城市[cheng2 shi4]/see 城市[cheng2 shi4]", []),
    ("as suffix to city name, means prefecture or county/district", ["district"]),
    ("to have social contact (with sb)/to exchange", ["have social contact", "exchange"]),
    ("lit. to blaze new trails/fig. to innovate/innovation", ["innovation"]),
    ("surname Wang/king", ["king"]),
    # a placeholder object leaves the verb; one inside the gloss leaves no clean term
    ("to face sth; to be confronted with", ["face", "be confronted with"]),
    ("to make sb do sth/to fix (on sth)", ["fix"]),
])
def test_glosses_become_clean_search_terms(senses, expected):
    assert clean_glosses(senses) == expected


def test_a_proper_nouns_gloss_gives_its_name():
    assert clean_glosses("Chengdu subprovincial city and capital of Sichuan province 四川[Si4 chuan1]",
                         proper=True) == ["Chengdu"]


def test_the_dictionary_translates_both_ways_and_leaves_function_words_alone():
    d = load_dictionary()
    assert d.english_for("城镇化") == ["urbanization"]
    assert "local" in d.english_for("地方")
    assert d.english_for("政府") == ["government"]
    # A compound the dictionary lacks is split into words it has, longest first.
    assert "地方政府" not in d.zh_to_en
    assert d.split("地方政府") == ["地方", "政府"]
    assert len(d.english_for("合作")) <= dictionary_module.MAX_TERMS_PER_WORD
    # Function words and single characters are not translated; adverbs and localisers only alone.
    for word in ("我们", "以及", "的", "和"):
        assert d.english_for(word) == [], word
    assert "compare" in d.english_for("比较") and d.english_for("比较", alone=False) == []
    # A classifier of two or more characters is a noun of measure, translated.
    assert d.english_for("系列") == ["series", "set"] and d.english_for("公里") == ["kilometer"]
    assert d.english_for("之间", alone=False) == []
    assert d.chinese_for("the") == [] and d.chinese_for("and") == []
    # English -> Chinese: British and American spellings and plurals meet; whole glosses first, capped.
    assert d.chinese_for("urbanisation")[:2] == d.chinese_for("urbanization")[:2]
    assert "城镇化" in d.chinese_for("urbanisation")
    assert d.chinese_for("policies") == d.chinese_for("policy") and d.chinese_for("policy")[0] == "政策"
    assert d.chinese_for("climate change") == ["气候变化"]
    assert all(len(d.chinese_for(w)) <= dictionary_module.MAX_WORDS_PER_TERM for w in ("city", "region", "study"))


def test_the_dictionary_is_read_once_per_process_and_kept_built(tmp_path, monkeypatch):
    assert load_dictionary() is load_dictionary()
    # Built from the package's file into an empty cache folder, then read back from it by a fresh process.
    monkeypatch.setattr(dictionary_module, "_loaded", None)
    built = load_dictionary(tmp_path)
    kept = dictionary_module.cache_path(tmp_path)
    assert kept.parent == tmp_path and kept.exists()
    monkeypatch.setattr(dictionary_module, "_loaded", None)
    again = load_dictionary(tmp_path)
    assert again is not built and again == built
    assert again.english_for("工业化") == ["industrialize", "industrialization"]


def test_a_deployment_keeps_the_tables_beside_its_index():
    # A service's private temp folder is emptied at each start; the index's folder is not.
    assert dictionary_module.dictionary_cache_dir(Path("/var/lib/eu-china-archive/index")) == \
        Path("/var/lib/eu-china-archive/cache")


def test_an_unreadable_cache_is_built_again(tmp_path, monkeypatch):
    bad = tmp_path / "cedict.marshal"
    bad.write_bytes(b"not marshal data")
    monkeypatch.setattr(dictionary_module, "cache_path", lambda cache_dir=None: bad)
    monkeypatch.setattr(dictionary_module, "_loaded", None)
    d = load_dictionary()
    assert d.english_for("城镇化") == ["urbanization"]
    assert bad.read_bytes() != b"not marshal data"       # replaced by the good tables


# --- the query model ---------------------------------------------------------------------------


def test_the_glossary_goes_first_and_the_dictionary_translates_the_rest(repo_archive_settings):
    glossary = load_glossary(repo_archive_settings.glossary)
    d = load_dictionary()
    _, added = parse_query("区域政策 工业化", glossary, dictionary=d)
    by_word = {t.word: t for t in added}
    assert by_word["区域政策"].source == "glossary" and by_word["区域政策"].terms == ("regional policy",)
    assert by_word["工业化"].source == "dictionary" and "industrialization" in by_word["工业化"].terms
    # Inside one Chinese run, the glossary's term is taken whole and the dictionary translates around it.
    _, added = parse_query("区域政策工业化", glossary, dictionary=d)
    assert [(t.word, t.source) for t in added] == [("区域政策", "glossary"), ("工业化", "dictionary")]
    # A word the glossary knows is translated by the glossary alone.
    _, added = parse_query("城镇化", glossary, dictionary=d)
    assert [(t.word, t.terms, t.source) for t in added] == [("城镇化", ("urbanisation",), "glossary")]
    # An English glossary term is not broken up by the dictionary; the word after it is translated.
    _, added = parse_query("regional policy infrastructure", glossary, dictionary=d)
    assert [(t.word, t.source) for t in added] == [("regional policy", "glossary"),
                                                  ("infrastructure", "dictionary")]
    # A signed word keeps its own meaning.
    _, added = parse_query("-infrastructure urbanisation", glossary, dictionary=d)
    assert [t.word for t in added] == ["urbanisation"]


def test_one_words_translations_are_one_synonym_set_weighted_below_the_glossary():
    tree, added = parse_query("合作", None, dictionary=load_dictionary())
    assert type(tree) is query.Alternatives and tree.weight == ranking.TRANSLATION_WEIGHT
    synonyms = tree.translation
    assert type(synonyms) is query.Synonyms
    # (Terms of one stem, "cooperate" and "cooperation", are one part.)
    assert 1 < len(synonyms.parts) <= len(added[0].terms)
    assert math.isclose(synonyms.boost * tree.weight, ranking.DICTIONARY_WEIGHT)
    assert ranking.DICTIONARY_WEIGHT < ranking.TRANSLATION_WEIGHT < 1.0
    assert math.isclose(DICTIONARY_SHARE, ranking.DICTIONARY_WEIGHT / ranking.TRANSLATION_WEIGHT)


def test_a_synonym_set_scores_as_its_best_part(archive):
    # "industrialisation" and "local government" are both on the urban report; a set holding both
    # scores as the better one alone, not their sum.
    parts = (parse_query("industrialisation", None)[0], parse_query('"local government"', None)[0])
    with open_searcher(archive.index_dir) as searcher:
        alone = [dict((d, s) for s, d in ev.matches(searcher, p)) for p in parts]
        both = dict((d, s) for s, d in ev.matches(searcher, query.Synonyms(parts, 0.5)))
        assert set(both) == set(alone[0]) | set(alone[1])
        shared = set(alone[0]) & set(alone[1])
        assert shared
        for d, s in both.items():
            assert math.isclose(s, 0.5 * max(a.get(d, 0.0) for a in alone), rel_tol=1e-12)
        # Whoosh's own DisjunctionMax gives the same scores.
        from indexer.engine.parse import to_whoosh
        whoosh_scores = {hit.docnum: hit.score for hit in searcher.search(to_whoosh(query.Synonyms(parts, 0.5)),
                                                                            limit=None)}
        assert set(whoosh_scores) == set(both)
        for d, s in both.items():
            assert math.isclose(s, whoosh_scores[d], rel_tol=1e-9)


def test_a_word_with_many_translations_does_not_outweigh_a_word_with_one(archive):
    d = load_dictionary()
    many = parse_query("合作", None, dictionary=d)[0].translation
    assert len(many.parts) >= 3
    with open_searcher(archive.index_dir) as searcher:
        one_part = dict((doc, s) for s, doc in ev.matches(searcher, many.parts[0]))
        whole = dict((doc, s) for s, doc in ev.matches(searcher, many))
        # No record scores more than its best single translation would (times the set's boost).
        for doc, s in whole.items():
            best = max(dict((x, y) for y, x in ev.matches(searcher, p)).get(doc, 0.0) for p in many.parts)
            assert s <= many.boost * best * (1 + 1e-12)
        assert set(one_part) <= set(whole)


# --- what a reader gets ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected, word, terms", [
    ("工业化", {"urban-report", "village-study", "cities-brief"}, "工业化", ("industrialize", "industrialization")),
    ("地方政府", {"urban-report"}, "政府", ("government",)),
    ("气候变化", {"climate-report"}, "气候变化", ("climate change",)),
    ("基础设施", {"climate-report", "cities-brief"}, "基础设施", ("infrastructure",)),
])
def test_a_chinese_query_finds_the_english_only_reports(archive, text, expected, word, terms):
    with open_searcher(archive.index_dir) as searcher:
        result = search(searcher, text, archive)
        assert set(ids(result)) == expected
        assert translations(result)[word] == (terms, "dictionary")
        assert set(terms) <= set(result.also_searched)
        # Switching translation off returns to what was typed.
        typed_only = search(searcher, text, archive, expand=False)
        assert not typed_only.translations and not typed_only.also_searched
        assert set(ids(typed_only)) == {i for i in expected if i in ("village-study", "cities-brief")}


def test_documents_holding_the_words_as_typed_come_first(archive):
    with open_searcher(archive.index_dir) as searcher:
        result = search(searcher, "工业化", archive)
        assert set(ids(result)[:2]) == {"village-study", "cities-brief"}
        assert ids(result)[2] == "urban-report"


def test_an_english_query_finds_the_chinese_only_report(archive):
    with open_searcher(archive.index_dir) as searcher:
        result = search(searcher, "employment", archive)
        assert ids(result) == ["village-study"]
        assert "就业" in translations(result)["employment"][0]
        assert search(searcher, "employment", archive, expand=False).total == 0
        # Traditional characters still fold to simplified ones.
        assert ids(search(searcher, "工業化", archive)) == ids(search(searcher, "工业化", archive))


def test_a_compound_the_dictionary_lacks_is_searched_through_its_parts(archive):
    with open_searcher(archive.index_dir) as searcher:
        result = search(searcher, "地方政府", archive)
        words = translations(result)
        assert "local" in words["地方"][0] and words["政府"][0] == ("government",)
        # Both parts must be there: the farming note has neither, the climate report no "government".
        assert ids(result) == ["urban-report"]


def test_translated_words_are_marked_on_english_pages(archive):
    from webapp import create_app

    client = create_app(archive).test_client()
    html = client.get("/search?q=气候变化").get_data(as_text=True)
    assert re.search(r"<mark>Climate change</mark>|<mark>Climate</mark> <mark>change</mark>", html)
    page = client.get("/documents/climate-report?q=基础设施").get_data(as_text=True)
    assert "<mark>Infrastructure</mark>" in page
    assert "Infrastructure" in re.search(r"data-terms='([^']*)'", page).group(1)   # the PDF viewer marks it too


@pytest.mark.parametrize("ui, label, off", [("en", "Also searched:", "search only for what I typed"),
                                            ("zh", "同时检索了：", "只检索我输入的词")])
def test_the_results_page_says_what_was_added_for_each_word(archive, ui, label, off):
    from webapp import create_app

    client = create_app(archive).test_client()
    client.set_cookie("ui_lang", ui)
    html = client.get("/search?q=工业化").get_data(as_text=True)
    notice = re.search(r'<p class="notice also-searched">(.*?)</p>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", notice)
    assert label in text and "工业化 → industrialize / industrialization" in text and off in text
    assert ("(dictionary)" if ui == "en" else "(词典)") in text
    switch = re.search(r'href="([^"]*expand=0[^"]*)"', notice).group(1).replace("&amp;", "&")
    off_page = client.get(switch).get_data(as_text=True)
    assert 'class="notice also-searched"' not in off_page
    assert "urban-report" not in off_page


def test_the_api_lists_the_translations_and_the_help_page_names_the_dictionary(archive):
    from webapp import create_app

    client = create_app(archive).test_client()
    data = client.get("/api/search?q=地方政府").get_json()
    assert {"word": "政府", "terms": ["government"], "source": "dictionary"} in data["translations"]
    assert "government" in data["also_searched"]
    assert client.get("/api/search?q=地方政府&expand=0").get_json()["translations"] == []
    for ui in ("en", "zh"):
        client.set_cookie("ui_lang", ui)
        help_page = client.get("/help").get_data(as_text=True)
        assert "CC-CEDICT" in help_page and "CC BY-SA 4.0" in help_page


def test_the_dictionary_can_be_switched_off_in_the_settings(archive):
    settings = archive.replace(translate_dictionary=False)
    with open_searcher(settings.index_dir) as searcher:
        result = search(searcher, "工业化", settings)
        assert not result.translations
        assert set(ids(result)) == {"village-study", "cities-brief"}


def test_an_adverb_is_translated_alone_but_not_inside_a_longer_query():
    d = load_dictionary()
    _, added = parse_query("比较", None, dictionary=d)
    assert [t.word for t in added] == ["比较"] and "compare" in added[0].terms
    # 区域之间的合作: "between" would be one more word every English document must hold.
    _, added = parse_query("区域之间的合作", None, dictionary=d)
    assert [t.word for t in added] == ["区域", "合作"]


# --- what the dictionary's senses reach -------------------------------------------------------------

SENSE_REPORTS = {
    "lagging-regions.pdf": ["Several western regions are lagging behind the coast in income."],
    "facing-provinces.pdf": ["The inland provinces are facing a shortage of water."],
    "main-findings.pdf": ["The main findings of the survey concern rivers and lakes."],
    "major-findings.pdf": ["The major findings of the major survey concern rivers and lakes."],
    "seminar-series.pdf": ["A series of seminars on rivers was held in spring."],
}


@pytest.fixture(scope="module")
def sense_archive(tmp_path_factory):
    return _indexed(tmp_path_factory, "senses", SENSE_REPORTS)


@pytest.mark.parametrize("text, expected", [
    # "lag" (落后's second sense): the index's stemmer keeps "lagging" as lagg, so "lagged" is searched too.
    ("落后", ["lagging-regions"]),
    # 面临 "to face sth": the verb without its placeholder object.
    ("面临", ["facing-provinces"]),
    # 系列 "series", which jieba tags as a classifier.
    ("系列", ["seminar-series"]),
    # 举行 "to hold (a meeting)": the stemmer does not join "held" to hold.
    ("举行", ["seminar-series"]),
])
def test_a_chinese_word_reaches_the_english_forms_of_its_senses(sense_archive, text, expected):
    with open_searcher(sense_archive.index_dir) as searcher:
        assert ids(search(searcher, text, sense_archive)) == expected


def test_a_words_first_senses_rank_before_its_later_ones(sense_archive):
    # 主要: main / principal / major / primary. The report with "major" twice would score higher
    # if every sense counted the same.
    assert load_dictionary().english_for("主要")[:3] == ["main", "principal", "major"]
    with open_searcher(sense_archive.index_dir) as searcher:
        assert ids(search(searcher, "主要", sense_archive)) == ["main-findings", "major-findings"]


def test_a_translation_is_searched_in_each_form_it_takes():
    # Regular inflections, spelled by English rules; the stemmer's irregular and doubled forms.
    assert inflection.exact_forms("promote") == ("promote", "promotes", "promoted", "promoting", "promotion",
                                                 "promotions")
    assert {"holds", "holding", "held"} <= set(inflection.exact_forms("hold"))
    assert {"falls", "fell", "fallen"} <= set(inflection.exact_forms("fall"))
    assert {"lagged", "lagging"} <= set(inflection.exact_forms("lag"))
    assert {"studies", "studied"} <= set(inflection.exact_forms("study"))
    assert "classification" in inflection.exact_forms("classify")
    # Derivations the stemmer joins to the word, and only those ("state" does not bring "station").
    assert {"discussion", "discussions"} <= set(inflection.exact_forms("discuss"))
    assert "industrial" in inflection.exact_forms("industry")
    assert "comprehensively" in inflection.exact_forms("comprehensive")
    assert "station" not in inflection.exact_forms("state")
    stems = analysis.english_analyzer()
    for word in ("discuss", "industry", "comprehensive", "success", "contribute", "territory"):
        for form in inflection.derived_forms(word):
            assert list(stems.index_terms(form)) == list(stems.index_terms(word)), (word, form)
    # A plural gloss with its singular; a phrase with its last word in the plural, unless a function word.
    assert inflection.exact_forms("publications") == ("publications", "publication")
    assert inflection.exact_forms("pilot scheme") == ("pilot scheme", "pilot schemes")
    assert inflection.exact_forms("be confronted with") == ("be confronted with",)



@pytest.mark.parametrize("term", ["cooperate", "publications", "all-around", "work together", "Chengdu"])
def test_a_translations_forms_are_what_their_quoted_text_parses_to(term):
    # One-word forms are built as exact-field terms directly: the same query as quoted text's.
    for form in inflection.exact_forms(term):
        assert parse._exact_form(form).normalize() == parse._plain_query(f'"{form}"').normalize(), form


# Pages holding a translation's form and pages holding only a word the stemmer joins to it.
FORM_REPORTS = {
    "publication-list.pdf": ["The new publication describes river basins."],
    "public-hearing.pdf": ["A public hearing on river basins took place."],
    "related-work.pdf": ["Related work on river provinces is listed here."],
    "relations-report.pdf": ["Relations between the river provinces improved."],
    "discussion-note.pdf": ["The discussion of river basins went on for hours."],
}


@pytest.fixture(scope="module")
def form_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("forms")
    settings = make_settings(root)
    for name, pages in FORM_REPORTS.items():
        write_pdf(Path(settings.archive_dir) / name, pages)
    update(settings)
    return settings


@pytest.mark.parametrize("text, expected", [
    # 出版物 "publications": the stemmer makes it public, as it does "public"; the exact fields do not.
    ("出版物", ["publication-list"]),
    # 相关 "related": relat, as "relations" is.
    ("相关", ["related-work"]),
    # 讨论 "to discuss": a derivation the stemmer joins to it, spelled out.
    ("讨论", ["discussion-note"]),
])
def test_a_translation_finds_its_forms_not_the_words_its_stem_shares(form_archive, text, expected):
    with open_searcher(form_archive.index_dir) as searcher:
        assert ids(search(searcher, text, form_archive)) == expected


BACKOFF_REPORTS = {
    "delta-industry.pdf": ["The industrial zones of the delta grew quickly after the reform."],
    "rivers.pdf": ["Rivers and lakes of the basin were surveyed."],
}


def test_a_sense_the_index_holds_in_no_exact_form_is_searched_by_its_stem(tmp_path_factory):
    # 工业化 "industrialize / industrialization": no form of either is in this archive, so each
    # is searched by its stem, as an English reader typing it would find "industrial". Where a
    # form is there, the exact forms stay alone (出版物 above does not find "public").
    settings = _indexed(tmp_path_factory, "backoff", BACKOFF_REPORTS)
    with open_searcher(settings.index_dir) as searcher:
        result = search(searcher, "工业化", settings)
        assert [f.path for h in result.hits for f in h.files] == ["delta-industry.pdf"]
        assert "<mark>industrial</mark>" in result.hits[0].files[0].pages[0].snippet
        # Parsed without an index (as for the API's description of a query), every sense is exact.
        tree, _ = parse_query("工业化", None, dictionary=load_dictionary())
        assert not any(leaf.field == "body" for leaf in query.leaves(tree))


def test_a_compounds_phrases_count_as_their_later_parts_sense():
    # 环境治理 is one jieba word the dictionary lacks: 环境 + 治理, each with four senses.
    d = load_dictionary()
    firsts, seconds = d.english_for("环境")[:3], d.english_for("治理")[:3]
    tree, _ = parse_query("环境治理", None, dictionary=d)
    phrases = tree.translation.optional.parts
    assert len(phrases) == len(firsts) * len(seconds)
    for (i, j), phrase in zip(((i, j) for i in range(len(firsts)) for j in range(len(seconds))), phrases):
        share = 1.0 if max(i, j) < ranking.DICTIONARY_MAIN_SENSES else ranking.LATER_SENSE_SHARE
        assert math.isclose(phrase.boost, share), (i, j)


@pytest.mark.parametrize("text, shrinks", [("出版物", True), ("相关", True), ("讨论", True), ("河流 出版物", True),
                                           ("publication 讨论", True),
                                           # No translation of it is in these pages: the And stays whole.
                                           ("地方政府", False)])
def test_a_query_without_its_absent_forms_finds_scores_and_pages_the_same(form_archive, text, shrinks):
    # Most generated forms are in no index; the search drops them from the tree before evaluating.
    with open_searcher(form_archive.index_dir) as searcher:
        tree, _ = parse_query(text, None, dictionary=load_dictionary())
        pruned = query.without_absent_terms(tree, lambda field, term: holds_term(searcher, field, term))
        assert (len(list(query.leaves(pruned))) < len(list(query.leaves(tree)))) is shrinks
        full, cut = (ev.evaluate(searcher, [(q, True)]).found[0] for q in (tree, pruned))
        assert cut == full
        docnums = [docnum for _, docnum in full]
        assert ev.matched_pages(searcher, pruned, docnums) == ev.matched_pages(searcher, tree, docnums)
        assert ev.files_together(searcher, pruned, docnums) == ev.files_together(searcher, tree, docnums)
