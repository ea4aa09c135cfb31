"""The evaluator of the query tree (indexer.engine.evaluate) against Whoosh's own collector, on a real index.

The index is the project's archive (real PDFs in English and Chinese, built
by the parallel writers into several segments), then updated with one file
changed and one added, so that segments carry deletions. Every query, parsed
into the project's tree, must match the same records as Whoosh's collector
does on the equivalent Whoosh query (parse.to_whoosh), with the same scores.
"""

from __future__ import annotations

import math
import shutil

import pytest

from conftest import REPO_ARCHIVE, make_settings, write_pdf
from indexer.build import update
from indexer.engine import evaluate as ev, query
from indexer.engine.parse import from_whoosh, to_whoosh
from indexer.search import _filter_query, Filters, load_glossary, parse_query, search
from indexer.readers import open_searcher

QUERIES = [
    "regional policy", '"regional policy"', "cohesion", "urbanisation", "EU-China",
    "区域政策", '"区域政策"', "城镇化", "区", "區域政策", "城市 发展",
    "region*", "+regional policy", "regional OR 城市",
    "title:seminar", "title:研讨会", "cohesion policy 区域", "regional ANDMAYBE cohesion",
    "urban~", "workshop Chengdu", "nonexistentword",
    # English phrases go through the word-pair field (schema.PHRASE_PAIR_FIELDS).
    '"regional cooperation"', '"cohesion policy"', '"the EU and China"', '"regional policy cooperation"',
    '"urban development" China', '"policy regional"', '"EU-China regional policy dialogue"',
    # ... and in titles and metadata (a programme's name, a place, a kind).
    '"International Urban Cooperation"', '"urban cooperation"', '"joint statement"', '"high level"',
    'title:"regional policy"', 'meta:"urban cooperation programme"',
    # Chinese phrases of several jieba words, and the bigram phrase they imply.
    '"城市发展"', '"国家发展和改革委员会"', '"区域政策研究"', '"城市 发展"',
    # Phrases with slop (positions checked within it), ranges, field prefixes, boosts, wildcards.
    '"regional policy"~3', '"policy regional"~4', '"cohesion development"~6', '"城市 发展"~3', 'title:"regional policy"~2',
    "year:[2010 TO 2012]", "date:[2011 TO 2014] regional", "kind:study", "lang:zh 区域", "regional^3 policy",
    "reg?onal", "urb*n policy", "title:region*", "(regional OR cohesion) AND 城市", "regional REQUIRE policy",
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("scoring")
    shutil.copytree(REPO_ARCHIVE, root / "archive")
    s = make_settings(root, userdict=str(root / "archive" / "userdict.txt"),
                      glossary=str(root / "archive" / "glossary.toml"), index_writers=2, commit_every_files=4)
    update(s)
    # A changed file and a new one: their old records are deleted in the older segments.
    changed = sorted((root / "archive").rglob("*.pdf"))[0]
    write_pdf(changed, ["Regional policy and cohesion, revised.", "区域政策与城镇化，修订本。"])
    write_pdf(root / "archive" / "extra-notes.pdf", ["Cohesion policy workshop notes from Chengdu.",
                                                      "区域政策研讨会在成都举行。"])
    update(s)
    return s


def _expand_multiterms(q, reader):
    """Whoosh query Q with its prefixes, wildcards and ranges replaced by the OR of their terms in READER."""
    from whoosh import query as wq

    if isinstance(q, wq.MultiTerm):
        return q.simplify(reader)
    if q.is_leaf():
        return q
    return q.apply(lambda child: _expand_multiterms(child, reader))


def whoosh_matches(searcher, q, scored=True, allow=None):
    """Whoosh's own answer for Q (a tree of indexer.engine.query, or a Whoosh query). Prefixes and
    wildcards are given as the OR of their terms (as Query.simplify makes them), the scoring the
    evaluator gives them at every segment size."""
    from whoosh import collectors, query as wq

    if not isinstance(q, wq.Query):
        q = to_whoosh(q)
    if allow is not None and not isinstance(allow, wq.Query):
        allow = to_whoosh(allow)
    q = _expand_multiterms(q, searcher.reader())
    inner = searcher.collector(limit=None, scored=scored)
    top = collectors.FilterCollector(inner, allow=allow) if allow is not None else inner
    searcher.search_with_collector(q, top)
    return inner.results().top_n


def assert_same(ours, theirs):
    assert ours is not None
    assert sorted(d for _, d in ours) == sorted(d for _, d in theirs)
    theirs_by_doc = {d: s for s, d in theirs}
    for s, d in ours:
        assert math.isclose(s, theirs_by_doc[d], rel_tol=1e-9, abs_tol=1e-12), (d, s, theirs_by_doc[d])


def test_index_has_segments_with_deletions(settings):
    with open_searcher(settings.index_dir) as searcher:
        readers = [r for r, _ in searcher.reader().leaf_readers()]
        assert len(readers) >= 2
        assert any(r.has_deletions() for r in readers)


@pytest.mark.parametrize("any_word", [False, True])
@pytest.mark.parametrize("text", QUERIES)
def test_same_records_and_scores_as_whoosh(settings, text, any_word):
    glossary = load_glossary(settings.glossary)
    q, _ = parse_query(text, glossary, any_word=any_word)
    with open_searcher(settings.index_dir) as searcher:
        theirs = whoosh_matches(searcher, q)
        ours = ev.matches(searcher, q)
        assert_same(ours, theirs)
        assert [d for _, d in ours] == [d for _, d in sorted(ours, key=lambda x: (-x[0], x[1]))]
        assert from_whoosh(to_whoosh(q)) == _without_alternatives(q)
        unscored = ev.matches(searcher, q, scored=False)
        assert sorted(d for _, d in unscored) == sorted(d for _, d in theirs)


@pytest.mark.parametrize("filters", [Filters(lang=("zh",)), Filters(kind=("study", "joint statement")),
                                     Filters(date_from="2010", date_to="2014")])
def test_filters_as_whoosh(settings, filters):
    q, _ = parse_query("regional 区域", None, any_word=True)
    allow = _filter_query(filters)
    with open_searcher(settings.index_dir) as searcher:
        theirs = whoosh_matches(searcher, q, allow=allow)
        assert theirs
        assert_same(ev.matches(searcher, q, allow=allow), theirs)


@pytest.mark.parametrize("text, positive, negative, added", [
    ("regional -policy", "regional", "policy", 0.0),
    ("regional ANDNOT policy", "regional", "policy", 0.0),
    ("regional NOT cohesion", "regional", "cohesion", 1.0),
    ("regional policy NOT cohesion", "regional policy", "cohesion", 1.0),
])
def test_exclusion_is_a_set_difference(settings, text, positive, negative, added):
    """Records matching the positive part and not the negative one, with the positive part's score (and
    Whoosh's 1 for a NOT inside an AND). Whoosh's AndNotMatcher is not the reference: on this index
    it returned a record holding the excluded word (seen with "regional -policy")."""
    with open_searcher(settings.index_dir) as searcher:
        included = {d: s for s, d in whoosh_matches(searcher, parse_query(positive, None)[0])}
        excluded = {d for _, d in whoosh_matches(searcher, parse_query(negative, None)[0])}
        expected = [(s + added, d) for d, s in included.items() if d not in excluded]
        assert expected and len(expected) < len(included)
        assert_same(ev.matches(searcher, parse_query(text, None)[0]), expected)


def test_not_alone_is_every_other_record(settings):
    """A query of NOT alone: every record not deleted and not matching, scoring 1. (Whoosh's
    InverseMatcher returns deleted records after the last match, so it is not the reference here.)"""
    q, _ = parse_query("NOT regional", None)
    positive, _ = parse_query("regional", None)
    with open_searcher(settings.index_dir) as searcher:
        matching = {d for _, d in whoosh_matches(searcher, positive)}
        deleted = {offset + d for r, offset in searcher.reader().leaf_readers() if r.has_deletions()
                   for d in r.deleted_docs_set}
        expected = set(range(searcher.doc_count_all())) - matching - deleted
        ours = ev.matches(searcher, q)
        assert matching and deleted
        assert {d for _, d in ours} == expected
        assert {s for s, _ in ours} == {1.0}


def test_matches_something(settings):
    """The comparison above is not between two empty lists."""
    with open_searcher(settings.index_dir) as searcher:
        for text in ("regional policy", '"cohesion policy"', '"regional policy cooperation"'):
            assert len(ev.matches(searcher, parse_query(text, None)[0])) >= 5, text


def _without_alternatives(node):
    """NODE with each Alternatives written as the OR of Whoosh's query (what from_whoosh gives of to_whoosh)."""
    import dataclasses

    if type(node) is query.Alternatives:
        translation = _without_alternatives(node.translation)
        return query.Or((_without_alternatives(node.own),
                         dataclasses.replace(translation, boost=translation.boost * node.weight)))
    if type(node) in (query.And, query.Or):
        return type(node)(tuple(_without_alternatives(p) for p in node.parts), node.boost)
    if type(node) is query.Not:
        return query.Not(_without_alternatives(node.part))
    if type(node) in (query.AndNot, query.AndMaybe, query.Require):
        first, second = query.children(node)
        return type(node)(_without_alternatives(first), _without_alternatives(second), node.boost)
    return node


@pytest.mark.parametrize("slop", [1, 2, 3, 5])
def test_phrases_with_slop_match_as_whooshs_span_near(settings, slop):
    """A phrase with slop: each word 1 to SLOP positions after the one before, as Whoosh's SpanNear2
    (ordered, mindist 1); the records, their scores and, for the pages, the positions where it starts."""
    from whoosh import query as wq

    from indexer.engine.analysis import page_of

    with open_searcher(settings.index_dir) as searcher:
        for field, words in (("body", ("region", "polici")), ("body", ("polici", "region")),
                             ("body", ("region", "develop", "china")), ("body_zh", ("城市", "发展")),
                             ("body_cjk", ("区域", "政策"))):
            tree = query.Phrase(field, words, slop=slop)
            theirs = whoosh_matches(searcher, tree)
            assert_same(ev.matches(searcher, tree), theirs)
            texts = sorted(d for _, d in theirs if searcher.stored_fields(d).get("record") == "text")
            pages = ev.matched_pages(searcher, tree, texts)
            m = wq.Phrase(field, list(words), slop=slop).matcher(searcher)
            for d in texts:
                m.skip_to(d)
                assert m.id() == d
                assert set(pages[d].scores) == {page_of(span.start) for span in m.spans()}, (words, d)
        assert ev.matches(searcher, query.Phrase("body", ("region", "polici"), slop=3))
        result = search(searcher, '"regional policy"~3', settings)
        assert result.total >= 1


def test_deadline(settings):
    q, _ = parse_query("regional policy", None)
    with open_searcher(settings.index_dir) as searcher:
        with pytest.raises(ev.DeadlinePassed):
            ev.matches(searcher, q, deadline=0.0)


@pytest.mark.parametrize("text", ["regional policy", '"regional policy"', "区域政策", "城市 发展", "region*"])
def test_pages_from_kept_postings_are_the_pages_read_afresh(settings, text):
    """The page step reuses the postings the search read (Evaluation.postings); it finds the same pages as
    reading them again."""
    from indexer.search import RECORD_TEXT

    q, _ = parse_query(text, load_glossary(settings.glossary))
    with open_searcher(settings.index_dir) as searcher:
        evaluation = ev.evaluate(searcher, [(q, True)])
        texts = [d for _, d in evaluation.found[0] if searcher.stored_fields(d).get("record") == RECORD_TEXT]
        assert texts and evaluation.postings
        assert evaluation.pages(searcher, q, texts) == ev.matched_pages(searcher, q, texts)


@pytest.mark.parametrize("text", ["regional policy", "regional cooperation -Chengdu", "cohesion OR urban policy",
                                  '"regional policy" development', "城市 发展", "区域 政策 合作", "region* polic*",
                                  'policy ANDMAYBE cohesion', "regional policy~2"])
def test_words_together_on_a_page_as_the_page_matching_says(settings, text):
    """files_together (the rescoring window's check) tells the same as matched_pages' `together`,
    for the files a query matches, with kept postings and without."""
    from indexer.search import RECORD_TEXT

    q, _ = parse_query(text, load_glossary(settings.glossary))
    with open_searcher(settings.index_dir) as searcher:
        evaluation = ev.evaluate(searcher, [(q, True)])
        texts = [d for _, d in evaluation.found[0] if searcher.stored_fields(d).get("record") == RECORD_TEXT]
        assert texts
        expected = {d: pages.together for d, pages in ev.matched_pages(searcher, q, texts).items()}
        assert evaluation.together(searcher, q, texts) == expected
        assert ev.files_together(searcher, q, texts) == expected
        if text in ("cohesion OR urban policy", "城市 发展"):
            # Some of their files have the words on one page, others only on different pages.
            assert set(expected.values()) == {True, False}


def test_a_jieba_word_implies_its_bigrams_side_by_side(settings):
    """The fact scoring relies on to skip position checks (schema.WORD_FIELD_BIGRAMS): every record
    holding a jieba word of three or more characters holds its bigrams as a phrase, checked by Whoosh
    for every such word of the index."""
    from whoosh import query as wq

    from indexer.engine.schema import WORD_FIELD_BIGRAMS

    with open_searcher(settings.index_dir) as searcher:
        for word_field, bigram_field in WORD_FIELD_BIGRAMS.items():
            words = [w for w in searcher.reader().field_terms(word_field) if len(w) > 2]
            assert len(words) > 20
            for word in words:
                holding = {d for _, d in whoosh_matches(searcher, wq.Term(word_field, word))}
                bigrams = [word[i:i + 2] for i in range(len(word) - 1)]
                phrase = {d for _, d in whoosh_matches(searcher, wq.Phrase(bigram_field, bigrams))}
                assert holding <= phrase, word


def test_a_phrase_of_jieba_words_implies_its_bigram_phrase(settings):
    """The fact scoring relies on for Chinese phrases (schema.WORD_FIELD_BIGRAMS), checked by Whoosh
    for phrases of two and three words side by side in the project's archive: the records matching
    a phrase of jieba words hold the bigram phrase of its characters; phrases of words, alone and
    with their bigram phrase, score as Whoosh scores them."""
    from whoosh import query as wq

    from indexer.engine import analysis
    from indexer.search import RECORD_PAGE

    phrases = set()
    with open_searcher(settings.index_dir) as searcher:
        for fields in searcher.documents(record=RECORD_PAGE):
            words = [(t.text, t.pos) for t in analysis.chinese_word_analyzer()(fields.get("content", ""),
                                                                              positions=True)]
            for size in (2, 3):
                for i in range(0, len(words) - size + 1, 7):
                    run = words[i:i + size]
                    if run[-1][1] - run[0][1] == size - 1:          # consecutive positions
                        phrases.add(tuple(w for w, _ in run))
        assert len(phrases) > 100
        for words in sorted(phrases)[::3]:
            phrase = wq.Phrase("body_zh", list(words))
            theirs = whoosh_matches(searcher, phrase)
            assert theirs, words
            bigrams = ev.bigrams("".join(words))
            spelled = wq.Phrase("body_cjk", list(bigrams)) if len(bigrams) > 1 else wq.Term("body_cjk", bigrams[0])
            assert {d for _, d in theirs} <= {d for _, d in whoosh_matches(searcher, spelled)}, words
            for q in (phrase, wq.Or([phrase, spelled])):
                assert_same(ev.matches(searcher, from_whoosh(q)), whoosh_matches(searcher, q))


@pytest.mark.parametrize("text", ["region*", "区", "urban* policy", "cohes* -urban", "regional nonexist*"])
def test_prefixes_find_the_same_pages_expanded_per_segment(settings, text):
    """The page step expands a prefix with each segment's own terms; the pages are those of the query
    expanded over the whole index (where a segment lacks most of the terms)."""
    from indexer.search import RECORD_TEXT

    q, _ = parse_query(text, None, any_word=True)
    with open_searcher(settings.index_dir) as searcher:
        found = ev.matches(searcher, q)
        texts = [d for _, d in found if searcher.stored_fields(d).get("record") == RECORD_TEXT]
        assert texts
        whole = ev.expand_multiterms(q, searcher.reader())
        per_segment = ev.matched_pages(searcher, q, texts)
        assert per_segment == ev.matched_pages(searcher, whole, texts)
        assert any(f.scores for f in per_segment.values())


@pytest.mark.parametrize("field, prefix", [("body_cjk", "区"), ("body_cjk", "政"), ("body", "region"), ("title_cjk", "中")])
def test_prefix_idfs_seeded_from_one_scan_are_whooshs(settings, field, prefix):
    """scoring seeds the idf of a prefix's terms from one scan of each segment; each equals the idf
    Whoosh computes on a fresh searcher (document frequencies summed over segments)."""
    from indexer.engine.scoring import seed_prefix_idfs

    with open_searcher(settings.index_dir) as seeded, open_searcher(settings.index_dir) as fresh:
        seed_prefix_idfs(seeded, field, prefix)
        terms = {text for (f, text) in seeded._idf_cache if f == field}
        assert terms
        for text in terms:
            assert seeded._idf_cache[(field, text)] == fresh.idf(field, text), text
        assert {t for r, _ in fresh.reader().leaf_readers() for t, _ in r.iter_prefix(field, prefix)} == terms


def test_segment_values_serve_every_later_searcher(settings):
    """Lists computed from a segment (grouping columns, record lengths) are kept by segment id, so a
    new searcher (after every update) reuses them instead of reading them again."""
    from indexer.search import _column
    from indexer.engine.reading import segment_values

    with open_searcher(settings.index_dir) as first:
        _column(first, "doc_id")
        firsts = [segment_values(r, "column:doc_id", None) for r, _ in first.reader().leaf_readers()]
    with open_searcher(settings.index_dir) as second:
        seconds = [segment_values(r, "column:doc_id", None) for r, _ in second.reader().leaf_readers()]
    assert len(firsts) >= 2
    assert all(a is b for a, b in zip(firsts, seconds))


def test_an_index_without_the_pair_fields_still_matches_its_phrases(tmp_path):
    """An index written before a pair field existed (served until its rebuild) checks positions."""
    from whoosh import index as whoosh_index

    from indexer.engine.schema import PHRASE_PAIR_FIELDS, build_schema

    schema = build_schema()
    for pair_field in PHRASE_PAIR_FIELDS.values():
        schema.remove(pair_field)
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        w.add_document(record="doc", key="doc:a", doc_id="a", title="Regional policy in practice",
                       meta="International Urban Cooperation study", body="The regional policy of cities.")
        w.add_document(record="doc", key="doc:b", doc_id="b", title="Policy, regional view",
                       meta="Urban study of international cooperation", body="Policy for the regional level.")
    with ix.searcher() as searcher:
        for field, words in (("title", ["region", "polici"]), ("meta", ["urban", "cooper"]),
                             ("body", ["region", "polici"])):
            found = ev.matches(searcher, query.Phrase(field, tuple(words)))
            assert [searcher.stored_fields(d)["doc_id"] for _, d in found] == ["a"], field
    ix.close()


def test_chinese_phrases_of_two_character_words_are_read_from_the_word_pairs(settings):
    """A phrase of jieba words of two characters or more is one term of body_zh_pairs (no position
    check); one with a one-character word checks positions. Both match as Whoosh's phrase does."""
    from whoosh.query import Phrase

    with open_searcher(settings.index_dir) as searcher:
        for words, pairs in ((["中欧", "区域政策"], {"中欧 区域政策"}), (["重点", "领域"], {"重点 领域"}),
                             (["发展", "和", "改革"], set()),
                             (["双方", "应当", "分享"], {"双方 应当", "应当 分享"})):
            evaluation = ev.evaluate(searcher, [(query.Phrase("body_zh", tuple(words)), True)])
            ours = evaluation.found[0]
            assert_same(ours, whoosh_matches(searcher, Phrase("body_zh", words)))
            assert {text.decode() for _, field, text in evaluation.postings if field == "body_zh_pairs"} == pairs, words
            assert ours or words[1] == "和"


def test_warm_up_reads_ahead_everything_searches_keep_and_changes_no_result(settings, monkeypatch):
    """A web worker warms up before answering (indexer.search.warm_up): afterwards the searches of
    every test query read nothing more per segment, and find what a cold searcher finds."""
    from indexer import search as search_module
    from indexer.engine import reading

    monkeypatch.setattr(reading, "_SEGMENT_VALUES", {})
    with open_searcher(settings.index_dir) as cold:
        expected = [search(cold, text, settings) for text in QUERIES]
    reading._SEGMENT_VALUES.clear()
    with open_searcher(settings.index_dir) as warm:
        search_module.warm_up(warm)
        read_ahead = set(reading._SEGMENT_VALUES)
        segments = len(warm.reader().leaf_readers())
        assert {name for _, name in read_ahead if name.startswith("length:")} == {
            f"length:{field}" for field in search_module.SCORED_FIELDS}
        assert len(read_ahead) == segments * len({name for _, name in read_ahead})
        found = [search(warm, text, settings) for text in QUERIES]
        assert set(reading._SEGMENT_VALUES) == read_ahead
    assert found == expected
