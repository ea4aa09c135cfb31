"""What the engine relies on inside whoosh-reloaded and jieba, listed in one place.

tests/test_engine_contract.py checks, against the installed libraries, that
each private name below exists, that the struct layouts the codec copies are
the library's own, that the classes pickled into an index are the ones named
in PICKLED_CLASSES, and that the engine uses no private name of either
library that is not listed here (so this list cannot fall behind the code).
An upgrade of either library starts by running that test.
"""

from __future__ import annotations

# (module, object, attribute): a private name of a library class (or of the
# library object named) that the engine reads, sets, calls or overrides.
PRIVATE_NAMES = (
    # jieba: the segmentation's inner loop, rewritten for speed (analysis._tokenizer_class).
    ("jieba", "Tokenizer", "_Tokenizer__cut_DAG"),

    # Whoosh's index and files: segment counts, an index found without
    # unpickling its schema, the name of a part of a compound file (storage.py).
    ("whoosh.index", "FileIndex", "_segments"),
    ("whoosh.index", "TOC", "_latest_generation"),
    ("whoosh.filedb.structfile", "StructFile", "_name"),
    ("whoosh.util.numlists", "GrowableArray", "_retype"),

    # The segment writer: documents added with each field's postings in one call,
    # and segments written by worker processes committed (writer.py).
    ("whoosh.writing", "SegmentWriter", "_added"),
    ("whoosh.writing", "SegmentWriter", "_check_fields"),
    ("whoosh.writing", "SegmentWriter", "_check_state"),
    ("whoosh.writing", "SegmentWriter", "_close_segment"),
    ("whoosh.writing", "SegmentWriter", "_commit_toc"),
    ("whoosh.writing", "SegmentWriter", "_finalize_segment"),
    ("whoosh.writing", "SegmentWriter", "_finish"),
    ("whoosh.writing", "SegmentWriter", "_merge_segments"),
    ("whoosh.writing", "SegmentWriter", "_tempstorage"),
    ("whoosh.writing", "IndexWriter", "_doc_boost"),
    ("whoosh.writing", "IndexWriter", "_field_boost"),

    # The writer's posting pool, its runs written in batches and merged a slice at a time (postingpool.py).
    ("whoosh.writing", "PostingPool", "_open_run"),
    ("whoosh.writing", "PostingPool", "_remove_run"),
    ("whoosh.externalsort", "SortingPool", "_merge_runs"),
    ("whoosh.externalsort", "SortingPool", "_write_run"),

    # The W3 codec's settings, read by the codecs that extend it (codec.py).
    ("whoosh.codec.whoosh3", "W3Codec", "_blocklimit"),
    ("whoosh.codec.whoosh3", "W3Codec", "_compression"),
    ("whoosh.codec.whoosh3", "W3Codec", "_inlinelimit"),

    # The term table writer, its hash tables written a table at a time (codec._TermTable).
    ("whoosh.filedb.filetables", "HashWriter", "_write_extras"),
    ("whoosh.filedb.filetables", "HashWriter", "_write_hashes"),

    # The field writer, set up as W3FieldWriter.__init__ does and writing short
    # posting lists itself (codec._ArchiveFieldWriter).
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_btext"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_codec"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_create_file"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_fieldid"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_fieldmap"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_fieldname"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_fieldobj"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_format"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_infield"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_postfile"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_postwriter"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_segment"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_storage"),
    ("whoosh.codec.whoosh3", "W3FieldWriter", "_tindex"),

    # The postings writer: short lists inlined, blocks written split (codec.py).
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_blockcount"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_ids"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_maxlength"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_maxweight"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_mini_ids"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_mini_weights"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_minlength"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_new_block"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_terminfo"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_values"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_weights"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter", "_write_block"),

    # The block reader: split blocks read (codec.SplitBlockMatcher), and a term's
    # postings decoded a block at a time (scoring.py).
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_blocklength"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_byteids"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_data"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_dataoffset"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_fixedsize"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_i"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_next_block"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_nextoffset"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_read_data"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher", "_read_values"),
    ("whoosh.matching.wrappers", "FilterMatcher", "_exclude"),
    ("whoosh.matching.wrappers", "FilterMatcher", "_ids"),

    # A segment's readers, read directly (reading.py, scoring.py).
    ("whoosh.reading", "SegmentReader", "_perdoc"),
    ("whoosh.reading", "SegmentReader", "_terms"),
    ("whoosh.codec.whoosh3", "W3TermsReader", "_codec"),
    ("whoosh.codec.whoosh3", "W3TermsReader", "_postfile"),
    ("whoosh.codec.whoosh3", "W3PerDocReader", "_cached_reader"),

    # Scoring with Whoosh's idf, its cache seeded for a prefix's words (scoring.py); the words a
    # prefix, wildcard or range stands for in one segment (evaluate.py).
    ("whoosh.searching", "Searcher", "_idf_cache"),
    ("whoosh.query.terms", "MultiTerm", "_btexts"),
)

# Byte layouts and constants the codec and readers copy from Whoosh instead of
# importing its private names: (our module, our name, library module, the
# library's object path). Each pair must be equal (for structs, their format).
COPIED_CONSTANTS = (
    ("indexer.engine.codec", "_TERM_INFO", "whoosh.codec.whoosh3", "W3TermInfo._struct"),
    ("indexer.engine.codec", "_KEY_VALUE_LENGTHS", "whoosh.filedb.filetables", "_lengths"),
    ("indexer.engine.codec", "_HASH_SLOT", "whoosh.filedb.filetables", "_pointer"),
)

# The project's classes pickled into an index (its schema's analyzers and
# formats in the table of contents, each segment's codec). Whoosh unpickles
# them by import path when it opens an index: moving or renaming one makes
# every existing index unreadable, so it needs a SCHEMA_VERSION or
# CODEC_VERSION bump (and a new entry here).
PICKLED_CLASSES = frozenset({
    "indexer.engine.analysis.CJKBigramTokenizer",
    "indexer.engine.analysis.EnglishAnalyzer",
    "indexer.engine.analysis.IndexFrequency",
    "indexer.engine.analysis.IndexPositions",
    "indexer.engine.analysis.JiebaTokenizer",
    "indexer.engine.analysis.LatinTokenizer",
    "indexer.engine.analysis.PagedAnalyzer",
    "indexer.engine.analysis.SpellingVariantFilter",
    "indexer.engine.analysis.WordPairAnalyzer",
    "indexer.engine.codec.SplitBlockCodec",
})
