"""The Whoosh schema: field names, analyzers and the schema's version, in one place.

The index holds four kinds of records, told apart by the `record` field:
- "doc":  one per catalogue document (titles and metadata, no body text);
- "text": one per file: the whole file's text in the body fields, with the
          document's metadata copied in so that filters apply; each token's
          position carries its page (analysis.PAGE_SHIFT);
- "page": one per page of each file, stored only (its text for snippets and the
          document page); not searched;
- "file": one per file in the archive (content hash, status, reason) — the
          bookkeeping that makes updates incremental.

Why files and not pages are searched: a query then scores at most one record
per file, not one per page (a file holds many pages), which keeps totals and
facet counts exact and fast; the pages of the few files shown are found from
the positions of the query's words (indexer.engine.evaluate).
"""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Frequency, Positions

from . import analysis
from .ranking import FIELD_WEIGHTS
# Bump on any change to the fields below; it is part of the index stamp (engine.stamp),
# and an index with another stamp is rebuilt.
# 5: segments written with codec.ArchiveCodec (short posting lists inlined).
# 6: body text in one "text" record per file, positions paged; pages stored only.
# 7: body_pairs, the English word pairs of the body (phrases of common words).
# 8: segments written with codec.SplitBlockCodec; jieba positions leave a gap between CJK runs.
# 9: title_pairs and meta_pairs, the word pairs of the English title and metadata.
# 10: body_zh_pairs, the jieba word pairs of the body.
# 11: the analyzers pickled into the schema moved to indexer.engine.analysis.
# 12: title_exact, meta_exact and body_exact, the unstemmed words with stop words (quoted text).
SCHEMA_VERSION = 12


RECORD_DOC, RECORD_TEXT, RECORD_PAGE, RECORD_FILE = "doc", "text", "page", "file"
# Records a query matches: documents by their titles and metadata, files by their text.
SEARCHED_RECORDS = (RECORD_DOC, RECORD_TEXT)

# Fields searched by a query without a field prefix; their weights are ranking.FIELD_WEIGHTS.
DEFAULT_FIELDS = tuple(FIELD_WEIGHTS)

# Query prefixes users may type that are not schema field names themselves.
FIELD_ALIASES = {
    "language": "lang",
    "program": "programme",
    "place": "meta",
    "event": "meta",
    "id": "doc_id",
}
# A field prefix that stands for several index fields (its English, jieba and bigram forms).
FIELD_GROUPS = {
    "title": ("title", "title_zh", "title_cjk"),
    "meta": ("meta", "meta_cjk"),
}

# Text fields whose terms live in the Chinese (bigram) space.
CJK_FIELDS = ("title_cjk", "meta_cjk", "body_cjk")
ENGLISH_FIELDS = ("title", "meta", "body")
CHINESE_WORD_FIELDS = ("title_zh", "body_zh")
# An English field and its exact twin: the same words folded alike (case, accents,
# British->American), but unstemmed and with stop words kept
# (analysis.english_exact_analyzer). Quoted text is searched there instead of
# the English field (engine.parse), as Elasticsearch's quote_field_suffix does,
# so that "urbanisation" finds no plain "urban" and "operator is regulated" no
# "operate in a regulated"; an unquoted word is also looked for there, as an
# optional clause raising the documents holding the form typed
# (ranking.EXACT_FORM_WEIGHT). Not searched by themselves otherwise.
EXACT_FIELDS = {"title": "title_exact", "meta": "meta_exact", "body": "body_exact"}
# Every text field a query scores: the default fields and the exact twins (their lengths are read ahead).
SCORED_FIELDS = DEFAULT_FIELDS + tuple(EXACT_FIELDS.values())
# The fields of "text" records, whose positions carry page numbers.
BODY_FIELDS = ("body", "body_zh", "body_cjk", "body_exact")
# A jieba-word field and the bigram field analysed from the same text
# (build.text_fields): a jieba word is a run of characters inside one CJK run,
# so a record holding the word holds its bigrams at consecutive positions; and
# jieba words at consecutive positions are side by side in the text
# (analysis.JiebaTokenizer), so a record matching a phrase of them holds the
# bigram phrase of their characters. indexer.engine.evaluate skips the position check
# of such records.
WORD_FIELD_BIGRAMS = {"body_zh": "body_cjk"}
# A field and the field of its consecutive word pairs (analysis.WordPairAnalyzer):
# a record holding the pair "a b" holds the phrase "a b", so a two-word phrase is
# one term there (no position check), and a longer one checks positions only in
# the records holding all its pairs. Not searched by itself. Titles and metadata
# have them too: a programme's name ("International Urban Cooperation") is in
# the metadata of a third of the documents, each a position check without them.
# A Chinese term jieba cuts in two ("国际合作": 国际 合作) is a phrase of the
# body's jieba words: without the pairs, every file holding both words needs a
# position check, the largest part of such a query. Only words of two
# characters or more are paired there (WordPairAnalyzer.is_paired).
PHRASE_PAIR_FIELDS = {"body": "body_pairs", "title": "title_pairs", "meta": "meta_pairs",
                      "body_zh": "body_zh_pairs"}


def _text(analyzer, **options) -> TEXT:
    """A TEXT field, its format analysis.IndexPositions or IndexFrequency (the same postings,
    written with less work a token)."""
    field = TEXT(analyzer=analyzer, **options)
    if type(field.format) is Positions:
        field.format = analysis.IndexPositions(field_boost=field.format.field_boost)
    elif type(field.format) is Frequency:
        field.format = analysis.IndexFrequency(field_boost=field.format.field_boost)
    return field


def build_schema() -> Schema:
    """Return a fresh schema object."""
    en = analysis.english_analyzer()
    exact = analysis.english_exact_analyzer()
    zh = analysis.chinese_word_analyzer()
    cjk = analysis.cjk_bigram_analyzer()
    return Schema(
        # record, doc_id, path, page and lang are also columns: grouping the
        # hits of a query reads them per hit, and columns are far cheaper
        # than loading each hit's stored fields (which hold the page text).
        record=ID(stored=True, sortable=True),
        key=ID(stored=True, unique=True),        # doc:<id>, file:<path>, page:<path>#<n>
        doc_id=ID(stored=True, sortable=True),
        path=ID(stored=True, sortable=True),     # file path relative to the archive
        page=NUMERIC(stored=True, sortable=True),
        lang=KEYWORD(stored=True, lowercase=True, commas=False, sortable=True),  # file language; doc: all of them
        page_lang=ID(stored=True),              # detected language of the page text
        kind=ID(stored=True),
        year=ID(stored=True),
        date=ID(stored=True, sortable=True),
        programme=ID(stored=True),
        # multitoken_query="phrase": a query word that analyses into several
        # tokens ("EU-China", a Chinese string) must match them side by side.
        title=_text(en, stored=True, multitoken_query="phrase"),
        title_zh=_text(zh, stored=True, multitoken_query="phrase"),
        title_cjk=_text(cjk, multitoken_query="phrase"),
        meta=_text(en, multitoken_query="phrase"),
        meta_cjk=_text(cjk, multitoken_query="phrase"),
        body=_text(analysis.PagedAnalyzer(en, keeps_tokens=True, keeps_words=True), spelling=True,
                  multitoken_query="phrase"),
        # The exact twins of the English fields (EXACT_FIELDS); the body's is made from the words
        # the body tokenised (analysis._KeptWords).
        title_exact=_text(exact, multitoken_query="phrase"),
        meta_exact=_text(exact, multitoken_query="phrase"),
        body_exact=_text(analysis.PagedAnalyzer(exact, takes_words=True), multitoken_query="phrase"),
        body_zh=_text(analysis.PagedAnalyzer(zh, keeps_tokens=True), multitoken_query="phrase"),
        body_cjk=_text(analysis.PagedAnalyzer(cjk), multitoken_query="phrase"),
        # Word pairs, without positions: see PHRASE_PAIR_FIELDS.
        body_pairs=_text(analysis.WordPairAnalyzer(), phrase=False),
        title_pairs=_text(analysis.WordPairAnalyzer(), phrase=False),
        meta_pairs=_text(analysis.WordPairAnalyzer(), phrase=False),
        body_zh_pairs=_text(analysis.WordPairAnalyzer(zh, min_chars=2), phrase=False),
        content=STORED(),                        # a page's text, for snippets and the document page
        data=STORED(),                           # JSON of record-specific details
    )
