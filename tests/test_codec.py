"""ArchiveCodec (short posting lists inlined) gives the same answers, before and after a merge."""

from __future__ import annotations

from whoosh.query import Phrase, Term

from indexer.schema import RECORD_PAGE
from indexer.store import ArchiveCodec, create_index, index_writer

PAGES = [
    "Regional policy cooperation between the EU and China, 区域政策合作。",
    "Urbanisation and cohesion policy in the Pearl River Delta, 珠江三角洲城镇化。",
    "Regional policy seminar in Ningbo, 宁波区域政策研讨会。",
]


def _answers(ix):
    with ix.searcher() as s:
        return {
            "word": sorted(h["key"] for h in s.search(Term("body", "polici"), limit=None)),
            "id": sorted(h["key"] for h in s.search(Term("record", RECORD_PAGE), limit=None)),
            "phrase": sorted(h["key"] for h in s.search(Phrase("body_cjk", ["区域", "域政", "政策"]), limit=None)),
        }


def test_inlined_postings_read_and_merge_like_blocks(tmp_path):
    ix = create_index(tmp_path)
    for n, text in enumerate(PAGES):
        w = index_writer(ix)
        w.add_document(record=RECORD_PAGE, key=f"page:{n}", path="a.pdf", page=n + 1,
                       body=text, body_zh=text, body_cjk=text, content=text)
        w.commit(merge=False)
    before = _answers(ix)
    assert before == {"word": ["page:0", "page:1", "page:2"], "id": ["page:0", "page:1", "page:2"],
                      "phrase": ["page:0", "page:2"]}
    index_writer(ix).commit(optimize=True)      # merging reads the inlined postings back
    assert len(ix._segments()) == 1
    assert _answers(ix) == before


def test_the_writers_listed_lengths_are_the_per_document_readers(tmp_path):
    """The postings writer looks record lengths up in lists (store._ListedLengths); they are the
    lengths Whoosh's per-document reader gives, for every record and field, and the block
    statistics written from them are Whoosh's own."""
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.store import _ListedLengths

    def build(folder, codec):
        folder.mkdir()
        ix = create_index(folder)
        w = ix.writer(codec=codec)
        for n, text in enumerate(PAGES * 3):
            w.add_document(record=RECORD_PAGE, key=f"page:{n}", path="a.pdf", page=n + 1,
                           body=text * (n + 1), body_zh=text, body_cjk=text, content=text)
        w.commit(merge=False)
        return ix

    ours, whoosh = build(tmp_path / "ours", ArchiveCodec()), build(tmp_path / "whoosh", W3Codec())
    with ours.reader() as reader:
        perdoc = reader._perdoc
        listed = _ListedLengths(perdoc)
        for field in ("body", "body_zh", "body_cjk", "title"):
            for docnum in range(reader.doc_count_all()):
                assert listed.doc_field_length(docnum, field) == perdoc.doc_field_length(docnum, field)
        with whoosh.reader() as theirs:
            for field in ("body", "body_cjk"):
                for term in list(reader.field_terms(field))[:50]:
                    a, b = reader.term_info(field, term), theirs.term_info(field, term)
                    assert (a.min_length(), a.max_length(), a.max_weight()) == \
                           (b.min_length(), b.max_length(), b.max_weight())
