"""What leaves the app is well-formed (issue 24, point 7): the feed with any title, CSV cells, redirects, messages.

A real archive whose metadata holds what an attacker would put there: control
characters, bidi overrides, formula-like cells behind a separator. It is
indexed for real and read back through the real Flask app.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import make_settings, write_pdf
from indexer.build import update
from webapp import create_app
from webapp.export import neutralise

# A catalogue with a bell, a vertical tab, an escape and a right-to-left override in its free text
# (TOML writes them as \u escapes), and titles that become formulas once split on ";" or ",".
CATALOGUE = r'''
[[document]]
id = "ctrl-2019"
title = "Control\u0007 characters\u000b in a \u001btitle gnu"
title_zh = "控制字符\u202egnp.exe"
date = "2019-01-01"
kind = "study"
place = "Brussels\u0000"

[[document.files]]
lang = "en"
file = "ctrl-2019.en.pdf"

[[document]]
id = "semi-2020"
title = "semi;=1+1; gnu"
event = "a,@SUM(1),b"
date = "2020-01-01"
kind = "study"

[[document.files]]
lang = "en"
file = "semi-2020.en.pdf"
'''

FORBIDDEN = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("output")
    settings = make_settings(root)
    archive = Path(settings.archive_dir)
    write_pdf(archive / "ctrl-2019.en.pdf", ["A gnu grazes on regional policy."])
    write_pdf(archive / "semi-2020.en.pdf", ["Another gnu, another policy."])
    # No catalogue entry: the title comes from the PDF's own metadata.
    write_pdf(archive / "meta-title.pdf", ["A third gnu with a title of its own."],
              title="Meta\x01data\x1f title \u202eexe.txt gnu")
    (archive / "catalogue.toml").write_text(CATALOGUE, encoding="utf-8")
    update(settings)
    return create_app(settings).test_client()


def test_the_feed_parses_whatever_the_titles_hold(client):
    response = client.get("/feed.atom")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    root = ElementTree.fromstring(response.data)      # raises on a character XML forbids
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in root.iter("{http://www.w3.org/2005/Atom}entry")]
    assert "Control characters in a title gnu / 控制字符gnp.exe" in titles
    assert any(t.startswith("Metadata title exe.txt gnu") for t in titles), titles
    for ch in FORBIDDEN + BIDI:
        assert ch not in text, repr(ch)


@pytest.mark.parametrize("url", ["/search?q=gnu", "/api/search?q=gnu", "/browse", "/export.json?q=gnu"])
def test_no_page_carries_a_control_character_or_a_bidi_override_of_a_title(client, url):
    text = client.get(url).get_data(as_text=True)
    assert "gnu" in text
    for ch in FORBIDDEN + BIDI:
        assert ch not in text, (url, repr(ch))


def test_every_csv_field_is_quoted_and_no_split_part_is_a_formula(client):
    text = client.get("/export.csv?q=gnu").get_data(as_text=True)
    lines = text.lstrip("\ufeff").splitlines()
    for line in lines:
        assert line.startswith('"') and line.endswith('"'), line
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text[1:]))}
    assert rows["semi-2020"]["title"] == "semi;'=1+1; gnu"
    assert rows["semi-2020"]["event"] == "a,'@SUM(1),b"
    # Split as a spreadsheet might, on any separator: no part starts a formula.
    for row in rows.values():
        for value in row.values():
            for separator in ";,\t|":
                for part in value.split(separator):
                    assert not part.lstrip(" ").startswith(("=", "+", "-", "@")), (value, part)


@pytest.mark.parametrize("cell, expected", [
    ("=1+1", "'=1+1"), ("-2", "'-2"), ("a; +b", "a; '+b"), ("2020-06-01", "2020-06-01"),
    ("en: 2, 5 (+3 more); zh: 1", "en: 2, 5 (+3 more); zh: 1"), ("x|=y", "x|'=y"), ("plain", "plain"),
])
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


@pytest.mark.parametrize("target", ["/search?q=a%0d%0aSet-Cookie:%20x=1", "/%0aLocation:%20//evil.example",
                                    "/search%0d", "/\x00", "/search%09"])
def test_language_switch_refuses_control_characters_in_next(client, target):
    response = client.get(f"/language?set=zh&next={target}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == ["ui_lang"]


def test_language_switch_still_goes_back_to_a_plain_page(client):
    response = client.get("/language?set=zh&next=/search%3Fq%3Dgnu")
    assert response.status_code == 303 and response.headers["Location"] == "/search?q=gnu"


def test_upload_messages_name_no_server_folder(tmp_path):
    from test_upload import PASSWORD_HASH, login

    settings = make_settings(tmp_path, admin_password_hash=PASSWORD_HASH, secret_key="k")
    # A catalogue that is not TOML: its message names the file, not the folder it is in.
    Path(settings.catalogue).write_text('[[document]]\nid = "x-1\n', encoding="utf-8")
    client = create_app(settings).test_client()
    assert login(client).status_code == 303
    page = client.get("/admin/").get_data(as_text=True)
    assert "catalogue.toml" in page and "line 2" in page
    assert str(tmp_path) not in page
