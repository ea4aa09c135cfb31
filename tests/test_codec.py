"""ArchiveCodec (short posting lists inlined) gives the same answers, before and after a merge."""

from __future__ import annotations

from whoosh.query import Phrase, Term

from indexer.engine.schema import RECORD_PAGE
from indexer.engine.codec import ArchiveCodec, SplitBlockCodec
from indexer.engine.storage import create_index
from indexer.engine.writer import index_writer

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
    """The postings writer looks record lengths up in lists (codec._ListedLengths); they are the
    lengths Whoosh's per-document reader gives, for every record and field, and the block
    statistics written from them are Whoosh's own."""
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.engine.codec import _field_lengths, _ListedLengths

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
            lengths = _field_lengths(listed, field)      # as the postings writer reads them
            for docnum in range(reader.doc_count_all()):
                assert lengths[docnum] == perdoc.doc_field_length(docnum, field)
        with whoosh.reader() as theirs:
            for field in ("body", "body_cjk"):
                for term in list(reader.field_terms(field))[:50]:
                    a, b = reader.term_info(field, term), theirs.term_info(field, term)
                    assert (a.min_length(), a.max_length(), a.max_weight()) == \
                           (b.min_length(), b.max_length(), b.max_weight())


# --- split blocks (positions apart from ids and weights) ----------------------------------

def _many_records(ix_folder, codec, deleted=()):
    """An index of 600 file-like records in two segments, long enough for posting lists of several blocks."""
    import random

    ix_folder.mkdir()
    ix = create_index(ix_folder)
    rng = random.Random(5)
    words = ["regional", "policy", "cohesion", "delta", "urban", "区域政策", "城镇化", "珠江三角洲"]
    for first in (0, 300):
        w = ix.writer(codec=codec)
        for n in range(first, first + 300):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
            w.add_document(record="text", key=f"file:{n}", path=f"{n}.pdf", body=text, body_zh=text, body_cjk=text)
        w.commit(merge=False)
    if deleted:
        w = ix.writer(codec=codec)
        for n in deleted:
            w.delete_by_term("key", f"file:{n}")
        w.commit(merge=False)
    return ix


def _every_posting(ix, fields=("body", "body_zh", "body_cjk", "record", "key")):
    """{(field, term): [(docnum, weight, value), ...]} through Whoosh's matcher interface."""
    out = {}
    with ix.reader() as reader:
        for field in fields:
            for term in reader.field_terms(field):
                m = reader.postings(field, reader.schema[field].to_bytes(term))
                postings = out[(field, term)] = []
                while m.is_active():
                    postings.append((m.id(), m.weight(), m.value()))
                    m.next()
    return out


def test_split_blocks_read_back_as_whoosh_blocks(tmp_path):
    """Every posting (id, weight, positions) of a split-block index is the one Whoosh's W3 codec
    writes, with deletions, and still after a merge rewrites the blocks."""
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.engine.codec import SplitBlockCodec, SplitBlockMatcher

    ours = _many_records(tmp_path / "ours", SplitBlockCodec(), deleted=(3, 400))
    whoosh = _many_records(tmp_path / "whoosh", W3Codec(), deleted=(3, 400))
    with ours.reader() as reader:
        segment = reader.leaf_readers()[0][0]
        assert isinstance(segment.postings("body", b"polici").child, SplitBlockMatcher)   # under the deletions
    expected = _every_posting(whoosh)
    assert max(len(p) for p in expected.values()) > 2 * 128        # several blocks
    assert _every_posting(ours) == expected
    index_writer(ours).commit(optimize=True)
    index_writer(whoosh).commit(optimize=True)
    assert _every_posting(ours) == _every_posting(whoosh)


def test_a_split_blocks_values_read_one_at_a_time_after_skips(tmp_path):
    """SplitBlockMatcher.value() reads only the chunk of the posting asked for: after skip_to() into
    the middle of blocks (as the pages of a result shown are found), every value is Whoosh's."""
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.engine.codec import SplitBlockCodec

    ours = _many_records(tmp_path / "ours", SplitBlockCodec())
    whoosh = _many_records(tmp_path / "whoosh", W3Codec())
    expected = _every_posting(whoosh, fields=("body", "body_cjk"))
    checked = 0
    with ours.reader() as reader:
        for (field, term), postings in expected.items():
            wanted = {docnum: value for docnum, _weight, value in postings[5::7]}
            m = reader.postings(field, reader.schema[field].to_bytes(term))
            for docnum in sorted(wanted):
                m.skip_to(docnum)
                assert m.id() == docnum and m.value() == wanted[docnum], (field, term, docnum)
                checked += 1
    assert checked > 300


def test_segments_of_the_former_codec_read_beside_split_ones(tmp_path):
    """An index written before keeps its ArchiveCodec segments; new commits and merges write split
    blocks; the answers never change."""
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.engine.codec import SplitBlockCodec

    mixed = _many_records(tmp_path / "mixed", ArchiveCodec())
    plain = _many_records(tmp_path / "plain", W3Codec())
    for ix in (mixed, plain):
        w = index_writer(ix) if ix is mixed else ix.writer(codec=W3Codec())
        w.add_document(record="text", key="file:new", path="new.pdf", body="regional policy " * 20)
        w.commit(merge=False)
    assert {type(seg.codec()) for seg in mixed._segments()} == {ArchiveCodec, SplitBlockCodec}
    assert _every_posting(mixed) == _every_posting(plain)
    index_writer(mixed).commit(optimize=True)
    assert {type(seg.codec()) for seg in mixed._segments()} == {SplitBlockCodec}
    assert _every_posting(mixed) == _every_posting(plain)


def test_scoring_reads_a_split_blocks_positions_only_when_asked(tmp_path):
    """indexer.engine.scoring reads a term's ids and weights whole and leaves its positions unread; asking
    for one posting's positions reads that posting's chunk alone, and gives Whoosh's value."""
    from whoosh.codec.whoosh3 import W3Codec

    from indexer.engine import scoring
    from indexer.engine.codec import VALUE_CHUNK, LazyBlockValues, SplitBlockCodec

    ours = _many_records(tmp_path / "ours", SplitBlockCodec(), deleted=(3,))
    whoosh = _many_records(tmp_path / "whoosh", W3Codec(), deleted=(3,))
    expected = _every_posting(whoosh, fields=("body",))[("body", "polici")]
    with ours.reader() as reader:
        segment = reader.leaf_readers()[0][0]
        ids, weights, values = scoring.read_postings(segment.postings("body", b"polici"))
        lazy = values._items            # deletions in the segment: a _Picked over the lazy values
        assert isinstance(lazy, LazyBlockValues)
        blocks = lazy._blocks
        assert len(blocks) >= 2 and all(b._ends is None for b in blocks)      # nothing of the values read
        here = [(i, w, v) for i, w, v in expected if i < segment.doc_count_all()]
        assert list(zip(ids, weights)) == [(i, w) for i, w, _ in here]
        last = len(ids) - 1
        assert values[last] == here[last][2]
        decoded = [sum(c is not None for c in b._chunks) for b in blocks]
        assert sum(decoded) == 1 and decoded[-1] == 1                   # one chunk of the last block
        assert list(values) == [v for _, _, v in here]
        assert len(blocks[0]._chunks) == 128 // VALUE_CHUNK               # a full block's chunks


class WhooshFieldWriterCodec(SplitBlockCodec):
    """SplitBlockCodec with Whoosh's own field writer (at module level: segments pickle their codec),
    its term table hashing keys with crc32 (Whoosh's hash type 1) as codec._TermTable does."""

    def field_writer(self, storage, segment):
        from whoosh.codec import whoosh3
        from whoosh.filedb import filetables

        class Crc32TermTable(filetables.OrderedHashWriter):
            def __init__(self, dbfile):
                super().__init__(dbfile)
                # The header's hash type byte, written by HashWriter.__init__, and the hash used.
                dbfile.seek(self.startoffset + 4)
                dbfile.write_byte(1)
                dbfile.seek(0, 2)
                self.hashtype, self.hashfn = 1, filetables.crc_hash

        original = filetables.OrderedHashWriter
        filetables.OrderedHashWriter = Crc32TermTable
        try:
            return whoosh3.W3FieldWriter(self, storage, segment)
        finally:
            filetables.OrderedHashWriter = original


def test_short_posting_lists_are_written_byte_for_byte_as_whoosh_writes_them(tmp_path):
    """codec._ArchiveFieldWriter writes terms of a few postings itself (and longer ones through
    Whoosh): its term table and postings files are the bytes Whoosh's own field writer writes."""
    files = _random_files(seed=11, count=200)

    def write(folder, codec):
        folder.mkdir()
        ix = create_index(folder)
        w = ix.writer(codec=codec, compound=False)        # the segment's files apart, to compare
        for n, text in enumerate(files):
            w.add_document(record="text", key=f"file:{n}", path=f"{n}.pdf", lang="en", body=text, body_pairs=text,
                           body_zh=text, body_cjk=text, title=f"Seminar {n % 7}")
        w.commit(merge=False)
        return {p.suffix: p.read_bytes() for p in folder.iterdir() if p.suffix in (".trm", ".pst")}

    ours = write(tmp_path / "ours", SplitBlockCodec())
    theirs = write(tmp_path / "whoosh", WhooshFieldWriterCodec())
    assert set(ours) == {".trm", ".pst"}
    assert ours == theirs


def test_postings_through_kept_term_entries_are_the_readers_own(tmp_path):
    """reading.term_postings (term entries looked up once per process) gives every posting the reader's
    postings() gives, in each segment, with deletions, twice (the second time from kept entries), and a
    term a segment lacks is TermNotFound there. The segments share their words: an entry kept for the
    wrong segment would give the other's postings."""
    import pytest
    from whoosh.reading import TermNotFound

    from indexer.engine.codec import SplitBlockCodec
    from indexer.engine.reading import term_postings

    ix = _many_records(tmp_path / "ix", SplitBlockCodec(), deleted=(3, 400))
    with ix.reader() as top:
        for reader, _offset in top.leaf_readers():
            for field in ("body", "body_zh", "body_cjk", "key"):
                for btext in reader.lexicon(field):
                    expected = _drain(reader.postings(field, btext))
                    assert _drain(term_postings(reader, field, btext)) == expected
                    assert _drain(term_postings(reader, field, btext)) == expected
            for _ in range(2):
                with pytest.raises(TermNotFound):
                    term_postings(reader, "body", b"nowhere")


def _drain(matcher) -> list:
    out = []
    while matcher.is_active():
        out.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return out


def test_postings_pooled_with_batched_runs_write_the_segment_whoosh_writes(tmp_path):
    """postingpool.BatchedRunPool (index_writer's pool) writes the same segment files as Whoosh's
    PostingPool: held in memory, and past its memory limit through batched runs; and so does a merge
    of segments, whose postings go through the pool too."""
    files = _random_files(seed=5, count=150)

    def write(folder, writer_of):
        folder.mkdir()
        ix = create_index(folder)
        for part in (files[:60], files[60:]):
            w = writer_of(ix)
            for text in part:
                n = files.index(text)
                w.add_document(record="text", key=f"file:{n}", path=f"{n}.pdf", lang="en", body=text,
                               body_pairs=text, body_zh=text, body_cjk=text, title=f"Seminar {n % 7}")
            runs = list(w.pool.runs)
            w.commit(merge=False)
        # Two segments' files, under random names: compared as a sorted list.
        segment = sorted((p.suffix, p.read_bytes()) for p in folder.iterdir() if p.suffix in (".trm", ".pst"))
        merger = writer_of(ix)
        merger.commit(optimize=True)
        merged = sorted((p.suffix, p.read_bytes()) for p in folder.iterdir() if p.suffix in (".trm", ".pst"))
        return segment, merged, runs

    def whoosh_pool(ix):
        return ix.writer(codec=SplitBlockCodec(), compound=False)

    def term_pool(limitmb):
        def writer_of(ix):
            writer = index_writer(ix, compound=False, limitmb=limitmb)
            assert type(writer.pool).__name__ == "BatchedRunPool"
            return writer
        return writer_of

    theirs = write(tmp_path / "whoosh", whoosh_pool)
    in_memory = write(tmp_path / "memory", term_pool(64))
    spilled = write(tmp_path / "runs", term_pool(0.02))
    whoosh_spilled = write(tmp_path / "whoosh-runs", lambda ix: ix.writer(codec=SplitBlockCodec(), compound=False,
                                                                          limitmb=0.02))
    assert len(theirs[0]) == 4 and len(theirs[1]) == 2
    assert whoosh_spilled[:2] == theirs[:2]
    assert in_memory[:2] == theirs[:2]
    assert spilled[:2] == theirs[:2]
    # The small limit really wrote runs (checked before the commit read them back).
    assert in_memory[2] == [] and len(spilled[2]) >= 3


def _random_files(seed: int, count: int) -> list[str]:
    """COUNT files of three pages of English and Chinese words drawn at random, as join_pages() strings."""
    import random

    from indexer.engine import analysis
    rng = random.Random(seed)
    words = ["regional", "policy", "cohesion", "delta", "urban", "区域政策", "城镇化", "珠江三角洲", "合作"]
    return [analysis.join_pages({n: " ".join(rng.choice(words) + rng.choice(["", "s", "ing", "化"])
                                             for _ in range(rng.randint(1, 40))) for n in range(1, 4)})
            for _ in range(count)]


def test_the_term_table_writes_whooshs_table_past_two_byte_positions(tmp_path):
    """codec._TermTable writes what Whoosh's OrderedHashWriter (with crc32 keys) writes, for a table
    whose entries run past 65,536 bytes (the index of positions changes type there) and keys sharing
    hash slots, and Whoosh's reader finds every key in it."""
    import random

    from whoosh.filedb import filetables
    from whoosh.filedb.filestore import FileStorage

    from indexer.engine.codec import _TermTable

    rng = random.Random(3)
    keys = sorted({bytes(rng.randrange(256) for _ in range(rng.randint(1, 12))) for _ in range(6000)})
    items = [(key, bytes(rng.randrange(256) for _ in range(rng.randint(0, 30)))) for key in keys]

    class WhooshCrc32(filetables.OrderedHashWriter):
        def __init__(self, dbfile):
            filetables.HashWriter.__init__(self, dbfile, hashtype=1)
            self.index = filetables.GrowableArray("H")
            self.lastkey = b""

    storage = FileStorage(str(tmp_path))
    for name, table_of in (("ours", _TermTable), ("whoosh", WhooshCrc32)):
        table = table_of(storage.create_file(name))
        for key, value in items:
            table.add(key, value)
        table.close()
    ours = (tmp_path / "ours").read_bytes()
    assert ours == (tmp_path / "whoosh").read_bytes()
    assert len(ours) > 2 ** 16
    reader = filetables.OrderedHashReader.open(storage, "ours")
    try:
        assert reader.hashtype == 1
        assert all(reader[key] == value for key, value in items)
        assert list(reader.keys()) == keys
    finally:
        reader.close()


def test_the_pool_merges_its_runs_into_whooshs_order(tmp_path, monkeypatch):
    """postingpool.BatchedRunPool, past its memory limit, writes runs of a few batches each and merges
    them a slice at a time: the postings come back in the order of sorting them all, with identical
    postings (Whoosh's spelling words) and runs merged first when there are too many of them."""
    import random

    from whoosh.filedb.filestore import FileStorage

    from indexer.engine import postingpool
    monkeypatch.setattr(postingpool, "RUN_BATCH", 7)
    rng = random.Random(4)
    fields = ["body", "body_cjk", "spell_body", "title"]
    terms = [bytes(rng.randrange(97, 123) for _ in range(rng.randint(1, 4))) for _ in range(300)]
    items = []
    for docnum in range(400):
        for _ in range(rng.randint(0, 12)):
            field = rng.choice(fields)
            item = (field, rng.choice(terms), 0 if field == "spell_body" else docnum, 1.0, None if field == "spell_body"
                    else bytes([rng.randrange(256)]))
            items.append(item)
    storage = FileStorage(str(tmp_path)).create()
    for maxfiles in (128, 2):
        pool = postingpool.BatchedRunPool(storage, None, limitmb=0.002)
        for item in items:
            pool.add(item)
        assert len(pool.runs) > 10
        assert list(pool.items(maxfiles=maxfiles)) == sorted(items)
        pool.cleanup()
    assert not list(tmp_path.glob("*.run"))
