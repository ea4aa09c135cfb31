"""The query model (indexer.engine.query), its parse, the ranking module and highlighting from the tree.

Scores against Whoosh's own matchers are compared in tests/test_scoring.py;
here: what the parser makes of the user's text, that every walk of the tree
handles every node kind, that nothing after parsing sees a Whoosh query, that
the glossary's alternatives score as the user's words plus the translation's
share, and that ranking's rules are the ones the search applies.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import pytest

from indexer import highlight
from indexer.engine import evaluate as ev, query, ranking
from indexer.engine.parse import to_whoosh
from indexer.engine.schema import EXACT_FIELDS
from indexer.errors import SearchQueryError
from indexer.readers import open_searcher
from indexer.search import Glossary, load_glossary, parse_query, related_documents, search

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = Glossary({("regional", "policy"): "区域政策"}, {"区域政策": "regional policy"})


def kinds(node) -> set[str]:
    """The names of the node kinds in NODE."""
    return {type(node).__name__} | {k for child in query.children(node) for k in kinds(child)}


# --- parsing into the tree ---------------------------------------------------------------


# A plain English word is an AndMaybe: the word, and optionally its exact form (ranking.EXACT_FORM_WEIGHT).
@pytest.mark.parametrize("text, expected", [
    ("regional", {"AndMaybe", "Or", "Term"}),
    ('"regional policy"', {"Or", "Phrase"}),
    ("region*", {"Or", "Prefix"}),
    ("reg?onal", {"Or", "Wildcard"}),
    ("year:[2010 TO 2012]", {"Range"}),
    ("regional -policy", {"AndNot", "AndMaybe", "Or", "Term"}),
    ("regional NOT policy", {"And", "Not", "AndMaybe", "Or", "Term"}),
    ("+regional policy", {"AndMaybe", "Or", "Term"}),
    ("regional REQUIRE policy", {"Require", "AndMaybe", "Or", "Term"}),
])
def test_the_parser_gives_the_projects_tree(text, expected):
    tree, added = parse_query(text, None)
    assert kinds(tree) == expected
    assert added == []


def test_a_phrase_keeps_its_slop_and_a_single_chinese_character_is_a_prefix_of_bigrams():
    tree, _ = parse_query('"regional policy"~3', None)
    assert {(leaf.field, leaf.slop) for leaf in query.leaves(tree)} == {
        ("title_exact", 3), ("meta_exact", 3), ("body_exact", 3)}
    tree, _ = parse_query("区", None)
    assert {type(leaf).__name__ for leaf in query.leaves(tree) if leaf.field.endswith("_cjk")} == {"Prefix"}
    assert {type(leaf).__name__ for leaf in query.leaves(tree) if not leaf.field.endswith("_cjk")} == {"Term"}


def test_field_weights_and_groups_come_from_ranking_and_the_schema():
    tree, _ = parse_query("seminar", None)
    assert {leaf.field: leaf.boost for leaf in query.leaves(tree)} == {
        **{f: w for f, w in ranking.FIELD_WEIGHTS.items() if f in ("title", "meta", "body")},
        **{EXACT_FIELDS[f]: w * ranking.EXACT_FORM_WEIGHT for f, w in ranking.FIELD_WEIGHTS.items()
           if f in EXACT_FIELDS}}
    # A quoted word keeps its fields' weights (Whoosh's one-word phrase dropped them).
    tree, _ = parse_query('"seminar"', None)
    assert {leaf.field: leaf.boost for leaf in query.leaves(tree)} == {
        EXACT_FIELDS[f]: w for f, w in ranking.FIELD_WEIGHTS.items() if f in EXACT_FIELDS}
    tree, _ = parse_query("title:seminar^2", None)
    assert tree == query.Term("title", "seminar", 2.0)


@pytest.mark.parametrize("text", ["regional policy", "区域政策", '"Regional Policy" cohesion', "regional policy 城市"])
def test_the_glossary_adds_one_alternatives_node_weighted_as_ranking_says(text):
    tree, added = parse_query(text, GLOSSARY)
    alternatives = [n for n in _nodes(tree) if type(n) is query.Alternatives]
    assert len(alternatives) == 1 and added
    assert alternatives[0].weight == ranking.TRANSLATION_WEIGHT
    own, _ = parse_query(text, None)
    assert set(query.leaves(alternatives[0].own)) <= set(query.leaves(own))      # the words as typed
    assert "Alternatives" not in kinds(parse_query(text, GLOSSARY, any_word=True)[0]) - kinds(tree)


def _nodes(node):
    yield node
    for child in query.children(node):
        yield from _nodes(child)


@pytest.mark.parametrize("text", ["the", "", "a REQUIRE b"])
def test_a_query_without_words_says_so(text):
    with pytest.raises(SearchQueryError) as caught:
        parse_query(text, None)
    assert caught.value.code == "no_words"


def test_nodes_are_frozen_slotted_and_compare_by_value():
    for kind in (query.Term, query.Phrase, query.Prefix, query.Wildcard, query.Range, query.And, query.Or,
                 query.Not, query.AndNot, query.AndMaybe, query.Require, query.Alternatives, query.Nothing):
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen, kind
        assert "__slots__" in vars(kind), kind
    a, b = parse_query('"regional policy" 城市', None)[0], parse_query('"regional policy" 城市', None)[0]
    assert a == b and hash(a) == hash(b) and a is not b
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.Term("body", "x").boost = 2.0


# --- one walk, every node kind -----------------------------------------------------------


def test_every_walk_of_the_tree_handles_every_node_kind():
    """The three walks (record scores, page scores, page sets) are TreeWalks: each must define a method
    for every node kind, or it cannot be made at all."""
    node_kinds = set(query.Node.__args__)
    assert set(ev._METHODS) == node_kinds
    abstract = set(ev.TreeWalk.__abstractmethods__)
    assert abstract == set(ev._METHODS.values())
    walks = [ev._RecordScores, ev._PageScores, ev._PageSets]
    for walk in walks:
        assert not walk.__abstractmethods__, walk
        assert all(getattr(walk, name) is not getattr(ev.TreeWalk, name) for name in abstract), walk


def test_nothing_after_parsing_sees_a_whoosh_query():
    """search.py and highlight.py (outside the engine) import nothing of Whoosh; the engine's
    evaluator reaches Whoosh's query classes only through parse.to_whoosh (a multiterm's terms)."""
    for path in ("indexer/search.py", "indexer/highlight.py", "indexer/engine/evaluate.py"):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.startswith("whoosh") and m != "whoosh.reading"}, path


# --- the glossary's alternatives -------------------------------------------------------------


def test_alternatives_score_the_own_words_plus_the_translations_share(repo_archive_settings):
    glossary = load_glossary(repo_archive_settings.glossary)
    with open_searcher(repo_archive_settings.index_dir) as searcher:
        for text in ("regional policy", "区域政策", "European Union"):
            tree, added = parse_query(text, glossary)
            assert type(tree) is query.Alternatives and added, text
            together = dict((d, s) for s, d in ev.matches(searcher, tree))
            own = dict((d, s) for s, d in ev.matches(searcher, tree.own))
            translation = dict((d, s) for s, d in ev.matches(searcher, tree.translation))
            assert own and translation, text
            assert set(together) == set(own) | set(translation)
            for d, s in together.items():
                expected = own.get(d, 0.0) + ranking.TRANSLATION_WEIGHT * translation.get(d, 0.0)
                assert math.isclose(s, expected, rel_tol=1e-12), (text, d)


# --- ranking ---------------------------------------------------------------------------------


def test_bm25_constants_are_those_the_differential_tests_compare_with():
    from whoosh.scoring import BM25F

    assert (ranking.BM25_K1, ranking.BM25_B) == (BM25F().K1, BM25F().B) == (1.2, 0.75)


def test_a_documents_score_is_made_as_ranking_says():
    assert ranking.document_score(2.0, [], any_word=False) == 2.0
    assert ranking.document_score(2.0, [3.0], any_word=False) == 5.0
    assert ranking.document_score(1.0, [1.0, 4.0, 2.0], any_word=False) == 1.0 + 4.0 + ranking.SECOND_FILE_SHARE * 2.0
    assert ranking.document_score(1.0, [1.0, 4.0, 2.0], any_word=True) == 8.0
    assert ranking.with_together_bonus(2.0) == 2.0 * (1 + ranking.TOGETHER_BONUS)
    ranked = [("a", 1.0, False), ("b", 3.0, False), ("c", 0.5, True), ("d", 2.0, True)]
    ranking.order_by_relevance(ranked, score_index=1, own_words_index=2)
    assert [r[0] for r in ranked] == ["d", "c", "b", "a"]
    assert ranking.page_word_weight(2.0, 0.01) == 2.0 * ranking.PAGE_IDF_FLOOR
    assert ranking.page_saturation(3) == math.log1p(3)


def test_the_search_ranks_by_ranking_documents_score(repo_archive_settings):
    """A result's score is document_score of its records' scores, with the together bonus when a
    page of it holds every word: recomputed here from the evaluator's records."""
    with open_searcher(repo_archive_settings.index_dir) as searcher:
        result = search(searcher, "regional policy", repo_archive_settings, expand=False, page_size=50)
        tree, _ = parse_query("regional policy", None)
        evaluation = ev.evaluate(searcher, [(tree, True)])
        by_doc: dict[str, dict] = {}
        for score, docnum in evaluation.found[0]:
            stored = searcher.stored_fields(docnum)
            entry = by_doc.setdefault(stored["doc_id"], {"doc": 0.0, "files": {}})
            if stored["record"] == "doc":
                entry["doc"] = score
            else:
                entry["files"][docnum] = score
        assert len(result.hits) >= 3
        for i, hit in enumerate(result.hits):
            entry = by_doc[hit.doc_id]
            score = ranking.document_score(entry["doc"], list(entry["files"].values()), any_word=False)
            together = evaluation.together(searcher, tree, list(entry["files"]))
            if i < ranking.RESCORE_WINDOW and any(together.values()):
                score = ranking.with_together_bonus(score)
            assert hit.score == round(score, 3), hit.doc_id


def test_related_documents_are_whooshs_best_records_of_the_key_terms(repo_archive_settings):
    """related_documents evaluates its query on the tree; the documents are those of Whoosh's 200 best
    records for the equivalent query, in order."""
    from indexer.search import _doc_data

    with open_searcher(repo_archive_settings.index_dir) as searcher:
        checked = 0
        for doc_id in sorted(_doc_data(searcher))[:6]:
            pages: dict[str, list] = {}
            for d in searcher.documents(record="page", doc_id=doc_id):
                pages.setdefault(d["path"], []).append((d["page"], d.get("content", "")))
            for found in pages.values():
                found.sort()
            text = " ".join(t for found in pages.values() for _, t in found[:3])[:20000]
            if not text.strip():
                continue
            parts = [query.Term(f, term, weight) for f in ("body", "body_zh")
                     for term, weight in searcher.key_terms_from_text(f, text, numterms=8)]
            others = query.And((query.Or(tuple(parts)), query.Not(query.Term("doc_id", doc_id))))
            expected: list[str] = []
            for hit in searcher.search(to_whoosh(others), limit=200):
                if hit["doc_id"] not in expected and hit["doc_id"] in _doc_data(searcher):
                    expected.append(hit["doc_id"])
            assert [d for d, _ in related_documents(searcher, doc_id, pages)] == expected[:5], doc_id
            checked += 1
        assert checked >= 3


# --- highlighting from the tree ----------------------------------------------------------------


def test_highlighting_takes_the_positive_terms_of_the_tree():
    tree, _ = parse_query('regional -policy "urban development" cohes* 区域 城', GLOSSARY)
    terms = highlight.query_terms(tree)
    assert terms.english == {"region"}
    assert terms.exact == {"regional"}                              # the exact form typed counts too
    assert terms.exact_phrases == {("urban", "development")}        # quoted: exact, marked whole
    assert terms.prefixes == {leaf.text for leaf in query.leaves(tree) if type(leaf) is query.Prefix
                              and leaf.field == "body"} != set()
    assert {"区域", "城"} <= terms.chinese
    tree, _ = parse_query("regional policy", GLOSSARY)
    assert "区域政策" in highlight.query_terms(tree).chinese         # the translation is shown too
    assert highlight.query_terms(parse_query("NOT regional", None)[0]) == highlight.QueryTerms()


def test_a_number_field_query_finds_nothing_shown_and_does_not_crash(repo_archive_settings):
    """page: (the one numeric field, on page records only) parses into the tree and matches no result."""
    with open_searcher(repo_archive_settings.index_dir) as searcher:
        for text in ("page:5", "page:[1 TO 3]"):
            result = search(searcher, text, repo_archive_settings)
            assert result.total == 0 and result.hits == []
            assert highlight.query_terms(parse_query(text, None)[0]) == highlight.QueryTerms()
