"""The postings of a segment being written: Whoosh's pool, with runs written in batches and merged a slice at a time.

Whoosh's writer (whoosh.writing.PostingPool) keeps every posting as a tuple
(field, term, record, weight, value) and sorts them when the segment is
written. Past its memory limit it sorts what it holds and writes it to a run
file, one pickle call per posting, then merges the runs a posting at a time
with a merge of its own, reading each posting with one more call. A segment of
a large build holds millions of postings and spills many runs, so these calls
per posting would be most of the cost of writing it.

BatchedRunPool is Whoosh's pool in memory; only its runs differ. A run is
written as pickled lists of RUN_BATCH postings, and the runs are merged a
slice at a time (_merged_slices: from each run's current batch, every posting
up to the least of the batches' last ones, sorted together in C). The same
postings come out in the same order (tests/test_codec.py compares the segment
files byte for byte with those of Whoosh's pool).
"""

from __future__ import annotations

import pickle
from bisect import bisect_right
from itertools import chain, islice

from whoosh.writing import PostingPool

# Postings per pickle in a run file: few calls, reads of a few hundred kilobytes.
RUN_BATCH = 8192


class BatchedRunPool(PostingPool):
    """whoosh.writing.PostingPool with batched run files, merged a slice at a time."""

    def add(self, item):
        # PostingPool.add's estimate of the item's memory, in one sum, without its type checks.
        fieldname, btext, _docnum, _weight, value = item
        self.currentsize += 150 + len(fieldname) + 2 * len(btext) + (len(value) if value else 0)
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

    def add_field(self, fieldname: str, docnum: int, postings: list) -> None:
        """Add one record's POSTINGS of FIELDNAME, (term bytes, frequency, weight, value) as a
        field's index() gives them, in one call (writer.ArchiveSegmentWriter)."""
        if self.currentsize > self.limit:
            self.save()
        self.current.extend([(fieldname, btext, docnum, weight, value) for btext, _freq, weight, value in postings])
        # add()'s estimate, for all of them.
        self.currentsize += (150 + len(fieldname)) * len(postings) + sum(
            [2 * len(btext) + (len(value) if value else 0) for btext, _freq, _weight, value in postings])

    def _write_run(self, f, items):
        # ITEMS: the sorted postings, a list (a run saved) or an iterator (runs merged into one).
        items = iter(items)
        try:
            while batch := list(islice(items, RUN_BATCH)):
                pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
        finally:
            f.close()

    def _read_batches(self, path):
        """The batches of sorted postings of the run at PATH, which is removed when read."""
        f = self._open_run(path)
        try:
            while True:
                yield pickle.load(f)
        except EOFError:
            return
        finally:
            f.close()
            self._remove_run(path)

    def _merge_runs(self, paths):
        # Whole tuples compare as Whoosh's sort compares them; merged a slice at a
        # time in C (chain and sort), not by a Python loop per posting.
        return chain.from_iterable(_merged_slices([self._read_batches(path) for path in paths]))


def _merged_slices(runs):
    """Sorted lists that follow one another, of the postings of RUNS (iterators of sorted batches,
    each run sorted): each time, every posting up to the least of the batches' last ones, sorted
    together (Python's sort merges the sorted pieces it is given)."""
    buffers = []
    for batches in runs:
        batch = next(batches, None)
        if batch:
            buffers.append((batch, batches))
    while buffers:
        cut = min(batch[-1] for batch, _batches in buffers)
        taken: list = []
        kept = []
        for batch, batches in buffers:
            i = bisect_right(batch, cut)
            taken += batch[:i]
            rest = batch[i:] or next(batches, None)
            if rest:
                kept.append((rest, batches))
        # The run whose batch ended at the cut goes on with its next batch, whose
        # postings are not below the cut: what follows never sorts before this.
        taken.sort()
        yield taken
        buffers = kept
