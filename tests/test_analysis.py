"""The analyzers, and Chinese and bilingual search over real PDFs (issue 3)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings as hsettings, strategies as st

from indexer.engine import analysis
from indexer.build import update
from indexer.search import search
from indexer.readers import open_searcher

from conftest import make_settings, write_pdf


def tokens(analyzer, text, **kw):
    return [t.text for t in analyzer(text, **kw)]


def test_english_analyzer_folds_case_accents_spelling_and_stems():
    en = analysis.english_analyzer()
    assert tokens(en, "Dublín") == tokens(en, "dublin") == ["dublin"]
    assert tokens(en, "urbanisation") == tokens(en, "urbanization")
    assert tokens(en, "Programmes") == tokens(en, "programs")
    assert tokens(en, "NDRC MoU") == tokens(en, "ndrc mou")
    assert tokens(en, "EU-China") == tokens(en, "EU–China") == tokens(en, "EU China") == ["eu", "china"]
    assert tokens(en, "the policies of the Union") == ["polici", "union"]
    # Chinese is left to the Chinese fields
    assert tokens(en, "区域政策 cohesion") == tokens(en, "cohesion") == ["cohes"]


def test_jieba_tokens_have_sequential_positions_within_a_run_and_true_offsets():
    """Words side by side have consecutive positions; a position is left free between CJK runs,
    so that no phrase of words spans punctuation or English."""
    text = "欧盟的凝聚政策, and 區域政策"
    toks = [(t.text, t.pos, t.startchar, t.endchar)
            for t in analysis.chinese_word_analyzer()(text, positions=True, chars=True)]
    first_run = [t for t in toks if t[3] <= text.index(",")]
    second_run = toks[len(first_run):]
    assert first_run and second_run
    assert [t[1] for t in first_run] == list(range(len(first_run)))
    assert [t[1] for t in second_run] == list(range(len(first_run) + 1, len(toks) + 1))
    for (_, pos, _, end), (_, next_pos, next_start, _) in zip(toks, toks[1:]):
        assert (next_pos == pos + 1) == (next_start == end)
    for word, _, start, end in toks:
        assert analysis.fold(text[start:end]) == word
    assert "区域" in [t[0] for t in toks] or "区域政策" in [t[0] for t in toks]


def test_bigrams_cover_every_substring_and_fold_traditional():
    toks = tokens(analysis.cjk_bigram_analyzer(), "區域政策，合作")
    assert toks == ["区域", "域政", "政策", "策", "合作", "作"]
    # at query time no trailing single character is added
    assert tokens(analysis.cjk_bigram_analyzer(), "区域政策", mode="query") == ["区域", "域政", "政策"]
    assert tokens(analysis.cjk_bigram_analyzer(), "区", mode="query") == ["区"]


def test_fold_keeps_length():
    text = "國家發展和改革委員會 EU"
    assert analysis.fold(text) == "国家发展和改革委员会 EU"
    assert len(analysis.fold(text)) == len(text)


def test_fold_maps_every_character_of_the_table_beyond_the_basic_plane_too():
    table = analysis._t2s_table()
    every = "".join(map(chr, table)) + " plain 区域 \U0002A6D6"
    assert any(code > 0xFFFF for code in table)
    assert analysis.fold(every) == "".join(table[ord(c)] for c in every[:len(table)]) + " plain 区域 \U0002A6D6"
    beyond = "".join(chr(code) for code in table if code > 0xFFFF)
    assert analysis.fold("区" + beyond) == "区" + "".join(table[ord(c)] for c in beyond)


@pytest.fixture(scope="module")
def zh_index(tmp_path_factory):


    root = tmp_path_factory.mktemp("zh")
    settings = make_settings(root)
    archive = root / "archive"
    write_pdf(archive / "a.pdf", ["中国与欧盟的区域政策合作。", "国家发展和改革委员会负责区域发展。"])
    write_pdf(archive / "b.pdf", ["区域合作与政策研究，城乡统筹。"])
    write_pdf(archive / "c.pdf", ["The EU–China dialogue on urbanisation in Dublín.", "NDRC and the MoU of 2006."])
    write_pdf(archive / "d.pdf", ["欧盟凝聚政策与中国的区域政策比较研究。"])
    update(settings)
    return settings


def ids(settings, q, **kw):
    with open_searcher(settings.index_dir) as s:
        return sorted(h.doc_id for h in search(s, q, settings, **kw).hits)


def pages_of(settings, q):
    with open_searcher(settings.index_dir) as s:
        return {(h.doc_id, p.page) for h in search(s, q, settings).hits for f in h.files for p in f.pages}


@pytest.mark.parametrize("query, expected", [
    ("区域政策", ["a", "d"]),
    ("區域政策", ["a", "d"]),            # traditional finds simplified
    ("发展和改革", ["a"]),               # not a jieba word: found through bigrams
    ("展和改", ["a"]),
    ('"区域政策合作"', ["a"]),
    ('"政策合作"', ["a"]),
    ('"合作政策"', []),                  # the characters must stand in this order
    ("统筹", ["b"]),
    ("凝", ["d"]),                       # a single character
])
def test_chinese_queries_find_exactly_the_pages_that_contain_them(zh_index, query, expected):
    assert ids(zh_index, query, expand=False) == expected


def test_chinese_query_reports_the_page(zh_index):
    assert pages_of(zh_index, "改革委员会") == {("a", 2)}


@pytest.mark.parametrize("query", ["EU China", '"EU China"', "EU-China", "eu–china", "urbanization",
                                   "Dublin", "ndrc", "MOU", "ＥＵ", "２００６"])
def test_english_variants_meet(zh_index, query):
    assert ids(zh_index, query, expand=False) == ["c"]


def test_whole_word_match_ranks_above_match_inside_longer_word(tmp_path):


    settings = make_settings(tmp_path)
    # 政策 is a whole jieba word in "x"; in "y" the same characters only occur
    # inside the longer user-dictionary word 区域政策合作 (as bigrams).
    write_pdf(tmp_path / "archive" / "x.pdf", ["他们讨论政策。"])
    write_pdf(tmp_path / "archive" / "y.pdf", ["关于区域政策合作。"])
    update(settings)
    with open_searcher(settings.index_dir) as s:
        hits = search(s, "政策", settings, expand=False).hits
    assert [h.doc_id for h in hits] == ["x", "y"]


def test_snippets_highlight_whole_chinese_characters(zh_index):
    with open_searcher(zh_index.index_dir) as s:
        hit = search(s, "區域政策", zh_index, expand=False).hits[0]
    snippet = hit.files[0].pages[0].snippet
    assert "<mark>区域政策</mark>" in snippet


def test_user_dictionary_change_reanalyses_only_chinese_pages(tmp_path):


    userdict = tmp_path / "userdict.txt"
    userdict.write_text("区域政策 100 n\n", encoding="utf-8")
    settings = make_settings(tmp_path, userdict=str(userdict))
    write_pdf(tmp_path / "archive" / "zh.pdf", ["区域政策合作。", "第二页区域发展。"])
    write_pdf(tmp_path / "archive" / "en.pdf", ["Only English here.", "And here."])
    update(settings)
    userdict.write_text("区域政策 100 n\n区域发展 100 n\n", encoding="utf-8")
    analysis.configure_segmenter(None)  # the next update loads the new dictionary
    report = update(settings)
    assert report.extracted == 0
    assert report.reanalysed_pages == 2
    assert update(settings).reanalysed_pages == 0


def test_snippet_words_found_alike_with_and_without_the_non_ascii_branch():
    """highlight.spans drops the pattern's non-ASCII branch for pages without a non-ASCII letter;
    on such pages both patterns find the same words (the project's stand-in texts, page by page)."""
    import pypdf

    from conftest import REPO_ARCHIVE
    from indexer import highlight
    terms = highlight.QueryTerms()
    terms.english.update(analysis.english_terms("regional policy cooperation urbanisation China"))
    leads = frozenset(t[:highlight.LEAD] for t in terms.english)
    pages = [page.extract_text() for pdf in sorted(REPO_ARCHIVE.glob("*.en.pdf"))[:6]
             for page in pypdf.PdfReader(pdf).pages]
    checked = 0
    for text in pages:
        if highlight._NON_ASCII_LETTER.search(text):
            continue
        full = [m.span() for m in highlight._candidate_words(leads, non_ascii=True).finditer(text)]
        short = [m.span() for m in highlight._candidate_words(leads, non_ascii=False).finditer(text)]
        assert full == short
        checked += bool(full)
    assert checked >= 3


_TEXT_CHARS = "aAbBcCeEgGpPuUzZ019_ -'.,\n\t\f\u00a0区域政策，。（）Ⓐ"


@hsettings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=_TEXT_CHARS, max_size=80),
       leads=st.frozensets(st.text(alphabet="abceguzAP0_", min_size=1, max_size=3), min_size=1, max_size=4))
def test_candidate_words_found_by_the_leads_are_those_of_the_pattern(text, leads):
    """highlight.candidate_spans looks for the leads with str.find on pages without a non-ASCII
    letter; its spans are those of the regular expression it stands for."""
    from indexer import highlight
    expected = [m.span() for m in highlight._candidate_words(leads, non_ascii=False).finditer(text)]
    assert highlight.candidate_spans(text, leads) == expected



# Simplified characters, their traditional forms (區 會 峯 乾 幹 後), one beyond the Basic
# Multilingual Plane with its fold (𠕂 -> 再), and characters that repeat (overlapping matches).
_FOLD_CHARS = "区域區会會峰峯干乾幹后後再𠕂哈 a，"


def _spans_of_the_fold(text: str, needle: str) -> list[tuple[int, int]]:
    folded = analysis.fold(text)
    out, start = [], folded.find(needle)
    while start != -1:
        out.append((start, start + len(needle)))
        start = folded.find(needle, start + 1)
    return out


@hsettings(max_examples=500, deadline=None)
@example(text="區区區区后", needle="区区")
@example(text="哈哈哈", needle="哈哈")
@given(text=st.text(alphabet=_FOLD_CHARS, max_size=60), needle=st.text(alphabet=_FOLD_CHARS, min_size=1, max_size=4))
def test_chinese_terms_are_found_in_the_text_where_its_fold_holds_them(text, needle):
    """highlight.chinese_spans searches the page itself, not its fold; the spans are those of every
    occurrence of the term in the folded page, overlapping ones included."""
    from indexer import highlight
    assert highlight.chinese_spans(text, needle) == _spans_of_the_fold(text, needle)


def test_chinese_terms_found_alike_on_the_stand_in_pages():
    """The same on the stand-in PDFs' Chinese pages, for terms of the collection and their traditional
    spellings folded, and a term whose own characters fold (found nowhere)."""
    import pypdf

    from conftest import REPO_ARCHIVE
    from indexer import highlight
    pages = [page.extract_text() for pdf in sorted(REPO_ARCHIVE.glob("*.zh.pdf"))[:6]
             for page in pypdf.PdfReader(pdf).pages]
    needles = ["区域", "区域政策", "合作", "发展", "城镇化", analysis.fold("區域發展"), "區域"]
    found = 0
    for text in pages:
        for needle in needles:
            expected = _spans_of_the_fold(text, needle)
            assert highlight.chinese_spans(text, needle) == expected
            found += len(expected)
    assert found >= 20

# Pieces of page text: letters, accents, stop words, British spellings, simplified and
# traditional Chinese, punctuation, a page break inside a page.
_INDEX_TEXT = st.lists(st.sampled_from(
    list("abcXYZ019_ -'.,\n\f\u00e9\u00edÅ") + ["the ", "of ", "programme ", "Dublín ", "centres ", "EU-China ",
                                                   "区域", "政策", "合作", "國際", "發展", "，", "。", "\u3400"]),
    max_size=40).map("".join)


def _index_postings_both_ways(field, text):
    """(postings, kept tokens) of TEXT from the field's IndexPositions, and from Whoosh's Positions."""
    from whoosh.formats import Positions

    def kept():
        out = analysis._KEPT_TOKENS.value, analysis._KEPT_TOKENS.kind, analysis._KEPT_TOKENS.pages
        analysis._KEPT_TOKENS.value = analysis._KEPT_TOKENS.kind = analysis._KEPT_TOKENS.pages = None
        return out

    fast = list(field.format.word_values(text, field.analyzer, mode="index"))
    fast_kept = kept()
    # Whoosh's in the order it gives them; IndexPositions gives them in term order (IndexFrequency).
    slow = sorted(Positions.word_values(field.format, text, field.analyzer, mode="index"))
    return (fast, fast_kept), (slow, kept())


@hsettings(max_examples=300, deadline=None)
@given(pages=st.lists(_INDEX_TEXT, min_size=1, max_size=4))
def test_index_positions_are_those_of_whoosh_positions_format(pages):
    """analysis.IndexPositions takes each positional field's (text, position) pairs from its analyzer's
    index_terms; the postings (and the body's kept tokens) are those of Whoosh's Positions format
    taking Tokens through the analyzer, for every such field, on texts of several pages."""
    from indexer.engine.schema import build_schema

    schema = build_schema()
    text = analysis.join_pages({n: page for n, page in enumerate(pages, start=1)})
    fields = [name for name in schema.names() if isinstance(schema[name].format, analysis.IndexPositions)]
    assert {"body", "body_zh", "body_cjk", "title", "title_zh", "title_cjk", "meta", "meta_cjk"} <= set(fields)
    for name in fields:
        fast, slow = _index_postings_both_ways(schema[name], text)
        assert fast == slow, name


def test_index_formats_give_a_records_terms_in_term_order():
    """IndexPositions and IndexFrequency (every text field's format) give a record's postings in
    the order of their term bytes (which the segment's pool then sorts as runs), and the same
    postings as Whoosh's Positions and Frequency formats."""
    from whoosh.formats import Frequency, Positions

    from indexer.engine.schema import build_schema

    schema = build_schema()
    text = analysis.join_pages({1: "Regional policy cooperation, 区域政策合作 and urban policy in 珠江三角洲 cities",
                                2: "The seminar on urban policy: 城镇化 区域政策 regional policy again"})
    seen = set()
    for name in schema.names():
        fmt = schema[name].format
        if not isinstance(fmt, (analysis.IndexPositions, analysis.IndexFrequency)):
            continue
        seen.add(type(fmt).__name__)
        whoosh_format = Positions if isinstance(fmt, analysis.IndexPositions) else Frequency
        terms = [btext for btext, *_ in schema[name].index(text)]
        assert terms == sorted(terms) and len(terms) == len(set(terms)), name
        ours = list(fmt.word_values(text, schema[name].analyzer, mode="index"))
        analysis._KEPT_TOKENS.value = analysis._KEPT_TOKENS.kind = analysis._KEPT_TOKENS.pages = None
        assert ours == sorted(whoosh_format.word_values(fmt, text, schema[name].analyzer, mode="index")), name
    assert seen == {"IndexPositions", "IndexFrequency"}


@hsettings(max_examples=200, deadline=None)
@given(pages=st.lists(_INDEX_TEXT, min_size=1, max_size=4))
def test_spelling_words_are_whooshs(pages):
    """The writer's spelling words of the body (the English analyzer's plain_words, a word through
    the filters once) are those Whoosh's spellable_words gives, through the analyzer's chain with
    no_morph, on texts of several pages."""
    from indexer.engine.schema import build_schema
    from indexer.engine.writer import _spelling_words

    field = build_schema()["body"]
    text = analysis.join_pages({n: page for n, page in enumerate(pages, start=1)})
    assert _spelling_words(field, text) == list(field.spellable_words(text))
    assert _spelling_words(field, "Regional Policies, colour and the cities' seminars") == [
        "cities", "colour", "policies", "regional", "seminars"]


def test_index_positions_on_the_archive_pages():
    """As above, on the project's stand-in PDFs, each file's pages joined as the build joins them."""
    import pypdf

    from conftest import REPO_ARCHIVE
    from indexer.engine.schema import build_schema

    schema = build_schema()
    indexed = set()
    for pdf in sorted(REPO_ARCHIVE.glob("*.pdf")):
        text = analysis.join_pages({n: page.extract_text() for n, page in
                                    enumerate(pypdf.PdfReader(pdf).pages, start=1)})
        for name in ("body", "body_zh", "body_cjk"):
            fast, slow = _index_postings_both_ways(schema[name], text)
            assert fast == slow, (pdf.name, name)
            if fast[0]:
                indexed.add(name)
    assert indexed == {"body", "body_zh", "body_cjk"}


def test_the_english_analyzers_kept_words_stay_out_of_the_pickled_schema():
    """Whoosh pickles the schema into the index: the words EnglishAnalyzer keeps are not in it."""
    import pickle

    analyzer = analysis.english_analyzer()
    terms = analyzer.index_terms("The regional policies of the EU")
    # The stop words go and the positions close up, as Whoosh's chain numbers them.
    assert terms == [("region", 1), ("polici", 2), ("eu", 3)] and analyzer._terms
    assert terms == [(t.text, t.pos) for t in analyzer("The regional policies of the EU", positions=True, mode="index")]
    copy = pickle.loads(pickle.dumps(analyzer))
    assert "_terms" not in copy.__dict__ and copy.index_terms("The regional policies of the EU") == terms


def test_word_pairs_are_the_consecutive_english_terms_of_each_page():
    pairs = [(t.text, t.pos) for t in analysis.WordPairAnalyzer()(
        "The regional policy of the EU\fand China's regional policy", positions=True)]
    # Stop words are gone and the positions renumbered, as in the body field; no pair spans the page break.
    body = [(t.text, t.pos) for t in analysis.PagedAnalyzer(analysis.english_analyzer())(
        "The regional policy of the EU\fand China's regional policy", positions=True)]
    expected = [(f"{a} {b}", pa) for (a, pa), (b, pb) in zip(body, body[1:]) if pb == pa + 1]
    assert pairs == expected
    assert [p for p, _ in pairs] == ["region polici", "polici eu", "china s", "s region", "region polici"]



def test_word_pairs_of_an_indexed_body_come_from_its_kept_tokens_and_equal_a_fresh_analysis():
    """The body field keeps its English tokens (analysis._KEPT_TOKENS) and body_pairs makes its pairs
    from them when given the same string: the pairs are those of analysing the text afresh."""
    from indexer.engine.schema import build_schema

    text = analysis.join_pages({1: "The regional policy of the EU and China, urbanisation policies",
                                2: "Urbanization and the regional policy\nof Sichuan, in 2009", 4: "policy"})
    schema = build_schema()
    body_terms = list(schema["body"].index(text))
    assert analysis._KEPT_TOKENS.value is text
    kept = list(schema["body_pairs"].index(text))
    assert analysis._KEPT_TOKENS.value is None and analysis._KEPT_TOKENS.pages is None     # taken, not kept
    fresh = list(schema["body_pairs"].index("".join(list(text))))      # an equal string, not the same one
    assert kept == fresh
    assert b"region polici" in [term for term, *_ in kept] and body_terms
    # A query is analysed afresh, never from the kept tokens.
    assert [t.text for t in analysis.WordPairAnalyzer()(text, mode="query")] == \
        [t.text for t in analysis.WordPairAnalyzer()("".join(list(text)), mode="query")]


def test_chinese_word_pairs_are_the_jieba_words_side_by_side_on_each_page():
    """body_zh_pairs pairs the body's jieba words of two characters or more at consecutive
    positions: none across punctuation, English or a page break; made from body_zh's kept tokens,
    they equal a fresh analysis."""
    from indexer.engine.schema import build_schema

    text = analysis.join_pages({1: "国际合作促进区域发展。城市发展 and regional 国际合作的城市", 2: "区域政策研究"})
    schema = build_schema()
    words = [(t.text, t.pos) for t in analysis.PagedAnalyzer(analysis.chinese_word_analyzer())(text, positions=True)]
    expected = [f"{a} {b}" for (a, pa), (b, pb) in zip(words, words[1:])
                if pb == pa + 1 and len(a) > 1 and len(b) > 1]
    assert "国际 合作" in expected and len(expected) < len(words) - 3      # runs and pages are not joined
    assert "的" in [w for w, _ in words] and not any("的" in pair for pair in expected)
    assert all(schema["body_zh_pairs"].analyzer.is_paired(*pair.split()) for pair in expected)
    assert not schema["body_zh_pairs"].analyzer.is_paired("合作", "的")
    list(schema["body_zh"].index(text))
    kept = [t.decode() for t, *_ in schema["body_zh_pairs"].index(text)]
    assert analysis._KEPT_TOKENS.value is None                            # taken
    fresh = [t.decode() for t, *_ in schema["body_zh_pairs"].index("".join(list(text)))]
    assert kept == fresh and sorted(set(expected)) == sorted(kept)


def test_a_pair_field_takes_only_tokens_of_its_own_kind():
    """body_pairs (English) never pairs the jieba words body_zh kept for the same string, nor
    body_zh_pairs the English tokens the body kept: each makes its own pairs then."""
    from indexer.engine.schema import build_schema

    text = analysis.join_pages({1: "The regional policy 区域政策研究 of the EU", 2: "国际合作 urban policy"})
    schema = build_schema()
    fresh = {name: list(schema[name].index("".join(list(text)))) for name in ("body_pairs", "body_zh_pairs")}
    list(schema["body_zh"].index(text))
    assert list(schema["body_pairs"].index(text)) == fresh["body_pairs"]
    assert analysis._KEPT_TOKENS.value is text                             # left for body_zh_pairs
    assert list(schema["body_zh_pairs"].index(text)) == fresh["body_zh_pairs"]
    list(schema["body"].index(text))
    assert list(schema["body_zh_pairs"].index(text)) == fresh["body_zh_pairs"]
    assert list(schema["body_pairs"].index(text)) == fresh["body_pairs"]
    assert {t for t, *_ in fresh["body_pairs"]} >= {b"region polici", b"urban polici"}


def test_the_segmenter_cuts_as_jiebas_own_tokenizer():
    """analysis.segmenter() (jieba's Tokenizer with get_DAG and calc rewritten) gives jieba's own
    words: on sentences of dictionary words drawn by frequency (as the benchmark's pages), the user
    dictionary's terms, characters outside the dictionary (jieba's HMM), and the stand-in pages."""
    import logging
    import random
    from itertools import accumulate

    import jieba
    import pypdf

    from conftest import REPO_ARCHIVE

    jieba.setLogLevel(logging.WARNING)
    analysis.configure_segmenter(REPO_ARCHIVE / "userdict.txt")
    ours = analysis.segmenter()
    theirs = jieba.Tokenizer()
    with open(REPO_ARCHIVE / "userdict.txt", "rb") as fh:
        theirs.load_userdict(fh)
    assert type(ours) is not jieba.Tokenizer and isinstance(ours, jieba.Tokenizer)

    rng = random.Random(8)
    with theirs.get_dict_file() as fh:
        entries = [line.split()[:2] for line in fh.read().decode("utf-8").splitlines()]
    words, cumulative = [w for w, _ in entries], list(accumulate(int(f) for _, f in entries))
    terms = [line.split()[0] for line in (REPO_ARCHIVE / "userdict.txt").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    rare = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(400))
    texts = []
    for _ in range(1500):
        parts = rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 25))
        if rng.random() < 0.3:
            parts.insert(rng.randrange(len(parts)), rng.choice(terms))
        if rng.random() < 0.3:
            start = rng.randrange(len(rare) - 6)
            parts.insert(rng.randrange(len(parts)), rare[start:start + rng.randint(2, 6)])
        texts.append("".join(parts))
    for pdf in sorted(REPO_ARCHIVE.glob("*.pdf")):
        texts += [page.extract_text() for page in pypdf.PdfReader(pdf).pages]
    runs = [run for text in texts for run in analysis.CJK_RUN.findall(analysis.fold(text))]
    assert len(runs) > 1500
    for run in runs:
        assert list(ours.cut(run, HMM=True)) == list(theirs.cut(run, HMM=True)), run
        assert list(ours.tokenize(run, HMM=True)) == list(theirs.tokenize(run, HMM=True)), run


def test_the_exact_body_is_made_from_the_words_the_body_kept_and_equals_a_fresh_analysis():
    """body keeps its Latin words (analysis._KEPT_WORDS) and body_exact maps them when given the same
    string: its postings equal analysing the text afresh and Whoosh's own token stream; the exact
    terms are folded as the body's (case, accents, British -> American) but unstemmed, stop words kept."""
    from indexer.engine.schema import build_schema

    text = analysis.join_pages({1: "The Operator is regulated; URBANISATION of the Cities, Dublín",
                                2: "listings and the list of 区域 centres", 4: "policy"})
    schema = build_schema()
    list(schema["body"].index(text))
    assert analysis._KEPT_WORDS.value is text
    kept = list(schema["body_exact"].index(text))
    assert analysis._KEPT_WORDS.value is None and analysis._KEPT_WORDS.pages is None     # taken, not kept
    fresh = list(schema["body_exact"].index("".join(list(text))))       # an equal string, not the same one
    assert kept == fresh
    stream = [(t.text, t.pos) for t in schema["body_exact"].analyzer("".join(list(text)), positions=True,
                                                                      mode="index")]
    assert stream[:6] == [("the", 0), ("operator", 1), ("is", 2), ("regulated", 3), ("urbanization", 4), ("of", 5)]
    assert ("dublin", 8) in stream and ("centers", (1 << analysis.PAGE_SHIFT) + 5) in stream
    assert ("policy", 3 << analysis.PAGE_SHIFT) in stream
    # The postings Whoosh's Positions format makes from that stream are the ones indexed.
    from whoosh.formats import Positions
    plain = Positions(field_boost=schema["body_exact"].format.field_boost)
    whoosh = sorted(plain.word_values("".join(list(text)), schema["body_exact"].analyzer, mode="index"))
    assert [(t.encode(), n, w, v) for t, n, w, v in whoosh] == kept
