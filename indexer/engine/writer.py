"""The segment writer: each text field's postings added in one call, pooled in sorted runs.

Writers are opened with `open_writer`, which commits when its block ends and
cancels when the block raises, so no writer outlives its block holding
Whoosh's lock or temporary files.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from whoosh.fields import FieldType
from whoosh.writing import SegmentWriter

from .analysis import IndexFrequency, IndexPositions
from .codec import SplitBlockCodec
from .postingpool import BatchedRunPool



def writing_codec() -> SplitBlockCodec:
    """The codec new segments are written with (by index_writer and indexer.segments)."""
    return SplitBlockCodec()


@contextmanager
def open_writer(ix, mergetype=None, segment_only: bool = False, limitmb: int = 128,
                **options) -> Iterator["ArchiveSegmentWriter"]:
    """Open a writer on IX for a with-block: commit it when the block ends, cancel it if the block raises.

    The commit merges with MERGETYPE (Whoosh's default policy when None) and
    lists the segments the block passed to writer.adopt_segments() in the same
    new generation. With SEGMENT_ONLY the block's documents are written as a
    segment and nothing is committed (a segment written for another index);
    the segment is then writer.finished_segment. A block that changed nothing
    may end the writer itself with writer.cancel(): a writer the block ended is
    left as it is. OPTIONS go to Whoosh's SegmentWriter (_lk, compound).
    """
    writer = index_writer(ix, limitmb=limitmb, **options)
    try:
        yield writer
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    if writer.is_closed:
        return
    if segment_only:
        writer.finished_segment = finish_segment(writer)
    elif writer.adopted_segments:
        commit_with_segments(writer, writer.adopted_segments, mergetype)
    else:
        writer.commit(mergetype=mergetype)


def index_writer(ix, limitmb: int = 128, **kwargs):
    """A writer on IX (an ArchiveSegmentWriter) that writes its segments with writing_codec() and
    pools postings in a BatchedRunPool; the caller commits or cancels it (open_writer does both)."""
    writer = ArchiveSegmentWriter(ix, codec=writing_codec(), limitmb=limitmb, **kwargs)
    # Whoosh's pool is replaced before anything is added (it holds nothing yet).
    writer.pool = BatchedRunPool(writer._tempstorage, writer.newsegment, limitmb=limitmb)
    return writer


def _listed_postings(field, value) -> list | None:
    """FIELD's postings of VALUE as field.index(value) gives them, as a list; None for a field
    whose format is not one of analysis's (IndexPositions, IndexFrequency)."""
    if (type(field.format) not in (IndexPositions, IndexFrequency) or not isinstance(value, str)
            or type(field).index is not FieldType.index):
        return None
    # FieldType.index: the format's word values with the term as UTF-8.
    return [(text.encode("utf-8"), freq, weight, vbytes)
            for text, freq, weight, vbytes in field.format.word_values(value, field.analyzer, mode="index")]


def _spelling_words(field, value) -> list[str]:
    """field.spellable_words(value): from the analyzer's plain_words when it has them (a word
    through the filters once, not each token through Whoosh's chain of generators)."""
    plain_words = getattr(field.analyzer, "plain_words", None)
    words = plain_words(value) if plain_words is not None and isinstance(value, str) else None
    return sorted(words) if words is not None else list(field.spellable_words(value))


class ArchiveSegmentWriter(SegmentWriter):
    """Whoosh's SegmentWriter, adding each text field's postings to the pool in one call.

    Whoosh's add_document takes each posting through two generators (the
    field's index() and its format's word_values) and a call of the pool's
    add(), for each of the many postings of a page. For the fields whose format is
    analysis.IndexPositions or IndexFrequency (every text field here) the
    postings come as a list and go to the pool in one call
    (BatchedRunPool.add_field). Otherwise this is Whoosh's add_document, and
    the same postings, lengths, stored fields and columns are written
    (tests/test_codec.py compares segments written both ways byte for byte).
    """

    # Segments written elsewhere (indexer.segments' workers), committed with this writer's own.
    adopted_segments: list = []
    # The segment written by open_writer(segment_only=True), once its block ended.
    finished_segment = None

    def adopt_segments(self, segments: list) -> None:
        """List SEGMENTS (already in the index folder) in this writer's commit, after its own."""
        self.adopted_segments = self.adopted_segments + list(segments)

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        add_post = pool.add
        add_field = getattr(pool, "add_field", None)
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        # Whoosh gives a field's spelling words the value of the record's last posting so far.
        vbytes = None
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    postings = _listed_postings(field, value) if add_field is not None else None
                    if postings is not None:
                        if postings:
                            if fieldboost != 1.0:
                                postings = [(btext, freq, weight * fieldboost, vb)
                                            for btext, freq, weight, vb in postings]
                            if field.scorable:
                                length = sum([posting[1] for posting in postings])
                            add_field(fieldname, docnum, postings)
                            vbytes = postings[-1][3]
                    else:
                        scorable = field.scorable
                        for tbytes, freq, weight, vbytes in field.index(value):
                            weight *= fieldboost
                            if scorable:
                                length += freq
                            add_post((fieldname, tbytes, docnum, weight, vbytes))
                if field.separate_spelling():
                    spellfield = field.spelling_fieldname(fieldname)
                    for word in _spelling_words(field, value):
                        add_post((spellfield, word.encode("utf-8"), 0, 1, vbytes))
                vformat = field.vector
                if vformat:
                    vitems = vformat.word_values(value, field.analyzer, mode="index")
                    vitems = sorted((text, weight, vb) for text, _, weight, vb in vitems)
                    perdocwriter.add_vector_items(fieldname, field, vitems)
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1


def commit_with_segments(writer, segments: list, mergetype) -> None:
    """Commit WRITER (its deletions and additions) with SEGMENTS added to the index, in one new generation."""
    # SegmentWriter.commit, with the adopted segments listed in the same table of contents.
    writer._check_state()
    final = writer._merge_segments(mergetype, None, None)
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    final.extend(segments)
    writer._commit_toc(final)
    writer._finish()


def finish_segment(writer):
    """Write WRITER's open segment and end the writer without committing; return the segment."""
    segment = writer._finalize_segment()
    writer._finish()
    return segment
