"""The catalogue: valid entries load, each error names the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO_ARCHIVE
from indexer.catalogue import (
    KINDS,
    CatalogueEntry,
    CatalogueFile,
    entry_to_toml,
    load_catalogue,
    slugify,
)
from indexer.errors import CatalogueError

GOOD = """
[[document]]
id = "mou-2006"
title = "Memorandum of Understanding"
title_zh = "谅解备忘录"
date = "2006-05-15"
kind = "memorandum of understanding"
place = "Brussels"
programme = "CETREGIO"

[[document.files]]
lang = "en"
file = "mou.en.pdf"

[[document.files]]
lang = "zh"
file = "mou.zh.pdf"

[[document]]
id = "sixth-seminar"
title = "Sixth high-level seminar"
kind = "high-level seminar"
date = "2011"

[[document.files]]
lang = "en"
file = "sixth-seminar.en.pdf"
format = "doc"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_catalogue_loads(tmp_path):
    catalogue = load_catalogue(write(tmp_path, GOOD))

    mou = catalogue.entries["mou-2006"]
    assert (mou.title, mou.title_zh, mou.date, mou.year, mou.kind, mou.programme) == (
        "Memorandum of Understanding", "谅解备忘录", "2006-05-15", "2006", "memorandum of understanding", "CETREGIO")
    assert mou.files == (CatalogueFile("en", "mou.en.pdf", "pdf"), CatalogueFile("zh", "mou.zh.pdf", "pdf"))
    assert mou.languages == ["en", "zh"]
    assert catalogue.entries["sixth-seminar"].files[0].format == "doc"
    assert set(catalogue.by_file()) == {"mou.en.pdf", "mou.zh.pdf", "sixth-seminar.en.pdf"}


def test_a_missing_catalogue_is_empty(tmp_path):
    assert load_catalogue(tmp_path / "nothing.toml").entries == {}


def _second_entry(body: str) -> str:
    return GOOD + "\n[[document]]\n" + body


@pytest.mark.parametrize("body, expected", [
    ('id = "x"\nkind = "study"\n', ["document 3 (x)", "'title'", "missing"]),
    ('id = "x"\ntitle = "T"\n', ["document 3 (x)", "'kind'", "missing"]),
    ('title = "T"\nkind = "study"\n', ["document 3", "'id'", "missing"]),
    ('id = "Not A Slug"\ntitle = "T"\nkind = "study"\n', ["document 3", "Not A Slug"]),
    ('id = "x"\ntitle = "T"\nkind = "novel"\n', ["document 3 (x)", "kind", "'novel'"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\ndate = "15/05/2006"\n', ["document 3 (x)", "date", "15/05/2006"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\nprogramme = "Erasmus"\n', ["document 3 (x)", "programme", "Erasmus"]),
    ('id = "x"\ntitle = 42\nkind = "study"\n', ["document 3 (x)", "'title'", "42"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\nauthor = "Y"\n', ["document 3 (x)", "author"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\n[[document.files]]\nlang = "fr"\nfile = "x.pdf"\n',
     ["document 3 (x) file 1", "lang", "'fr'"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\n[[document.files]]\nlang = "en"\n',
     ["document 3 (x) file 1", "'file'", "missing"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\n[[document.files]]\nlang = "en"\nfile = "../etc/passwd.pdf"\n',
     ["document 3 (x) file 1", "../etc/passwd.pdf"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\n[[document.files]]\nlang = "en"\nfile = "x.txt"\n',
     ["document 3 (x) file 1", "format", "'txt'"]),
    ('id = "mou-2006"\ntitle = "T"\nkind = "study"\n', ["document 3", "'mou-2006'", "twice"]),
    ('id = "x"\ntitle = "T"\nkind = "study"\n[[document.files]]\nlang = "en"\nfile = "mou.en.pdf"\n',
     ["'mou.en.pdf'", "'mou-2006'", "'x'"]),
])
def test_an_error_names_the_entry_and_the_field(tmp_path, body, expected):
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(write(tmp_path, _second_entry(body)))
    message = str(exc.value)
    assert message.startswith("catalogue.toml: "), message
    for part in expected:
        assert part in message, (part, message)


def test_a_syntax_error_names_the_file_and_the_line(tmp_path):
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(write(tmp_path, GOOD + '\n[[document]]\nid = "x\n'))
    assert "catalogue.toml" in str(exc.value) and "line" in str(exc.value)


def test_text_is_normalised(tmp_path):
    # Full-width letters and stray spaces, as pasted from a Chinese word processor.
    catalogue = load_catalogue(write(tmp_path, '[[document]]\nid = "x"\ntitle = "  ＥＵ－China  "\nkind = "study"\n'))
    assert catalogue.entries["x"].title == "EU-China"


def test_an_entry_written_for_an_upload_reads_back_the_same(tmp_path):
    entry = CatalogueEntry(id="new-report", title='A "quoted" title', kind="study", title_zh="新报告",
                           date="2020-01", programme="World Cities",
                           files=(CatalogueFile("zh", "new-report.zh.pdf", "pdf"),))
    catalogue = load_catalogue(write(tmp_path, GOOD + entry_to_toml(entry)))
    assert catalogue.entries["new-report"] == entry


def test_the_fingerprint_changes_with_the_metadata():
    a = CatalogueEntry(id="x", title="T", kind="study")
    assert a.fingerprint() == CatalogueEntry(id="x", title="T", kind="study").fingerprint()
    assert a.fingerprint() != CatalogueEntry(id="x", title="T", kind="study", date="2011").fingerprint()


@pytest.mark.parametrize("name, slug", [
    ("Field_visit-Harbin_2018.pdf", "field-visit-harbin-2018"),
    ("EU–China Report (final).pdf", "eu-china-report-final"),
])
def test_a_file_name_becomes_an_id(name, slug):
    assert slugify(name) == slug


def test_a_chinese_file_name_still_gets_an_id():
    slug = slugify("区域政策报告.pdf")
    assert slug.startswith("file-") and slug == slugify("区域政策报告.pdf")
    assert slug != slugify("城镇化报告.pdf")


def test_the_real_catalogue_is_valid_and_every_file_is_in_the_archive():
    catalogue = load_catalogue(REPO_ARCHIVE / "catalogue.toml")
    assert len(catalogue.entries) >= 25
    assert {e.kind for e in catalogue.entries.values()} <= set(KINDS) - {"document"}
    files = catalogue.by_file()
    missing = sorted(f for f in files if not (REPO_ARCHIVE / f).is_file())
    assert missing == []
    # The documents the seed page lists with a Chinese version have one.
    for doc_id in ("mou-2006", "comparative-study-2011", "joint-conclusions-vii-2012", "joint-conclusions-viii-2013"):
        assert catalogue.entries[doc_id].languages == ["en", "zh"], doc_id
