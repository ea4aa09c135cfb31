"""Index files read with os.pread (storage._PreadPart) give what Whoosh's own sub-files give."""

from __future__ import annotations

import pickle
import struct

import pytest
from whoosh.filedb.compound import SubFile
from whoosh.filedb.structfile import StructFile

from indexer.engine.storage import DurableFileStorage, _PreadPart

SMALL = {"ids": (1, 5, 9), "weight": 2.5}
# Larger than any first guess of a pickle's size, so the read must retry.
LARGE = [f"term-{i}" for i in range(20_000)]


def _write_parts(path):
    """A file of a header, then a part holding structured data; returns (offset, length) of the part."""
    body = bytearray()
    body += struct.pack("!i", -12345)
    body += pickle.dumps(SMALL, 2)
    body += pickle.dumps(LARGE, 2)
    body += struct.pack("!q", 2**40)
    body += struct.pack("!4i", 1, 2, 3, 4)
    body += b"first line\nsecond line\nno newline at the end"
    header = b"H" * 37
    path.write_bytes(header + bytes(body) + b"TRAILER")
    return len(header), len(body)


@pytest.fixture
def both(tmp_path):
    """(our part, Whoosh's sub-file) over the same bytes of one file."""
    offset, length = _write_parts(tmp_path / "x.seg")
    source = DurableFileStorage(str(tmp_path)).open_file("x.seg")
    raw = open(tmp_path / "x.seg", "rb")
    yield source.subset(offset, length), StructFile(SubFile(raw, offset, length))
    source.close()
    raw.close()


def _session(f) -> list:
    """Every kind of read Whoosh's readers make, in one sequence."""
    out = [f.read_int(), f.read_pickle(), f.tell(), f.read_pickle(), f.tell(), f.read_long()]
    out.append(list(f.read_array("i", 4)))
    out += [f.readline(), f.readline(), f.readline(), f.readline(), f.read(5), f.tell()]
    f.seek(0)
    out += [f.read(4), f.get(4, 10), f.get_int(0), list(f.get_array(f.tell() - 4, "i", 1))]
    f.seek(0, 2)                # (Whoosh's SubFile counts other offsets from the end backwards)
    f.seek(-10, 1)
    out += [f.read(), f.read(3), f.tell()]
    f.seek(2)
    f.seek(3, 1)
    out += [f.tell(), f.read(7)]
    return out


def test_a_pread_part_reads_as_whooshs_sub_file(both):
    ours, theirs = both
    assert isinstance(ours, _PreadPart)
    assert _session(ours) == _session(theirs)


def test_a_part_of_a_part_reads_its_own_bytes(both):
    ours, theirs = both
    inner_ours, inner_theirs = ours.subset(4, 30), theirs.subset(4, 30)
    assert inner_ours.read() == inner_theirs.read() == theirs.get(4, 30)
    assert inner_ours.get(25, 100) == theirs.get(29, 5)      # clipped at the part's end


def test_a_broken_pickle_is_an_error_not_a_wrong_value(tmp_path):
    (tmp_path / "bad.seg").write_bytes(b"\x80\x02]q\x00(K\x01K\x02")     # a list cut short
    source = DurableFileStorage(str(tmp_path)).open_file("bad.seg")
    with pytest.raises((EOFError, pickle.UnpicklingError)):
        source.subset(0, 12).read_pickle()
    source.close()


def test_reading_after_the_index_file_was_closed_fails_loudly(tmp_path):
    offset, length = _write_parts(tmp_path / "x.seg")
    source = DurableFileStorage(str(tmp_path)).open_file("x.seg")
    part = source.subset(offset, length)
    assert part.read_int() == -12345
    source.close()
    with pytest.raises(ValueError):
        part.get(0, 4)
