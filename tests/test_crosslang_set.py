"""The judged dictionary queries of issue 23 are what their written rule gives, and none is a glossary term."""

from __future__ import annotations

import functools
import importlib.util
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
CATEGORIES = ("dictionary zh-en", "dictionary en-zh")


@functools.cache
def load_script():
    """Import tests/quality/make_crosslang.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("make_crosslang", TESTS / "quality" / "make_crosslang.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dictionary_queries():
    data = tomllib.loads((TESTS / "quality" / "queries.toml").read_text(encoding="utf-8"))
    return [q for q in data["query"] if q["category"] in CATEGORIES]


def fold(text: str) -> str:
    """Return text lower-cased, without accents, hyphens and slashes as spaces."""
    text = unicodedata.normalize("NFKD", text.replace("-", " ").replace("/", " "))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def test_queries_toml_holds_exactly_what_the_rule_gives():
    script = load_script()
    text = (TESTS / "quality" / "queries.toml").read_text(encoding="utf-8")
    assert script.generated_part(text) == script.render(*script.build(script.Collection()))


def test_at_least_100_queries_in_both_directions_each_judged_with_catalogue_ids(dictionary_queries):
    catalogue = tomllib.loads((ROOT / "archive" / "catalogue.toml").read_text(encoding="utf-8"))
    ids = {d["id"] for d in catalogue["document"]}
    by_category = {c: [q for q in dictionary_queries if q["category"] == c] for c in CATEGORIES}
    assert len(dictionary_queries) >= 100
    assert len(by_category["dictionary zh-en"]) >= 60 and len(by_category["dictionary en-zh"]) >= 30
    assert len({(q["q"], q["category"]) for q in dictionary_queries}) == len(dictionary_queries)
    for q in dictionary_queries:
        assert q["relevant"] and set(q["relevant"]) <= ids, q["q"]
        assert q["accept"], q["q"]


def test_no_query_is_or_contains_a_glossary_term(dictionary_queries):
    glossary = tomllib.loads((ROOT / "archive" / "glossary.toml").read_text(encoding="utf-8"))["term"]
    for q in dictionary_queries:
        for term in glossary:
            assert term["zh"] not in q["q"], (q["q"], term)
            assert f" {fold(term['en'])} " not in f" {fold(q['q'])} ", (q["q"], term)
            assert fold(term["en"]) not in {fold(a) for a in q["accept"]}, (q["q"], term)


def test_a_translation_changes_the_judgment():
    script = load_script()
    collection = script.Collection()
    research = script.Translation("研究", ("research",), ("研究",))
    relevant, chinese_only = script.judge(collection, research)
    assert "comparative-study-2011" in chinese_only and "regional-innovation-joint-study" in relevant
    assert "regional-innovation-joint-study" not in chinese_only
    nowhere = script.Translation("无此词", ("zzzz",), ("无此词",))
    assert script.judge(collection, nowhere) == ([], [])


def load_dev_script():
    """Import tests/quality/make_crosslang_dev.py, the development set's script."""
    spec = importlib.util.spec_from_file_location("make_crosslang_dev", TESTS / "quality" / "make_crosslang_dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_development_set_is_the_other_half_and_repeats_no_judged_query(dictionary_queries):
    dev = load_dev_script()
    rule = dev.load_rule()
    text = (TESTS / "quality" / "dev_queries.toml").read_text(encoding="utf-8")
    assert text == dev.render(rule, *dev.build(rule, rule.Collection()))
    queries = tomllib.loads(text)["query"]
    assert len(queries) >= 50 and {q["category"] for q in queries} == {"dev zh-en"}
    # No development query is a judged one: neither its Chinese query nor its English word.
    judged = [q for q in dictionary_queries if q["category"] == "dictionary zh-en"]
    judged_forms = {a for q in judged for a in q["accept"]}
    col = rule.Collection()
    for q in dev.build(rule, col)[0]:
        assert q.q not in {j["q"] for j in judged} and q.word not in judged_forms, q.q
    # The two halves of rule (b) share no word.
    assert not {w for _, w, _ in dev.sample_dev(rule, col)} & {w for _, w, _ in rule.sample_zh_en(col)}
