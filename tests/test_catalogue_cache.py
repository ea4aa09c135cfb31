"""The parsed catalogue is reused while its bytes do not change (the watcher updates again and again)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict

from indexer import catalogue
from indexer.catalogue import load_catalogue

ENTRY = '[[document]]\nid = "{id}"\ntitle = "A note"\nkind = "study"\n'


def test_an_unchanged_catalogue_is_parsed_once(tmp_path, monkeypatch):
    path = tmp_path / "catalogue.toml"
    path.write_text(ENTRY.format(id="aa"), encoding="utf-8")
    parses = []
    real = catalogue.tomllib.loads
    monkeypatch.setattr(catalogue.tomllib, "loads", lambda text: parses.append(1) or real(text))
    first = load_catalogue(path)
    first.entries["added-by-a-caller"] = first.entries["aa"]
    second = load_catalogue(path)
    assert len(parses) == 1
    assert list(second.entries) == ["aa"]          # a caller's change to its copy stays there


def test_an_edit_of_the_same_size_and_time_is_seen(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text(ENTRY.format(id="aa"), encoding="utf-8")
    st = path.stat()
    assert list(load_catalogue(path).entries) == ["aa"]
    path.write_text(ENTRY.format(id="bb"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    assert list(load_catalogue(path).entries) == ["bb"]


def test_windows_line_ends_read_as_before(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_bytes((ENTRY.format(id="aa") + 'summary = """two\nlines"""\n').replace("\n", "\r\n").encode())
    assert load_catalogue(path).entries["aa"].summary == "two\nlines"


def test_the_memoised_fingerprint_is_the_stored_one(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text(ENTRY.format(id="aa"), encoding="utf-8")
    entry = load_catalogue(path).entries["aa"]
    expected = hashlib.sha256(json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    assert entry.fingerprint() == expected == entry.fingerprint()
    assert entry == load_catalogue(path).entries["aa"]
