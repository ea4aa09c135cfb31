"""The upload page (issue 4): login, lock-out, sessions, CSRF, every check of the file, and the write itself.

A real archive and index in a temporary folder, the real Flask app, real PDFs.
Every refused upload must leave the archive folder and the catalogue exactly
as they were, byte for byte; a good upload must be searchable right after.
"""

from __future__ import annotations

import html
import io
import re
import shutil
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from conftest import make_settings, write_pdf
from indexer.build import update
from indexer.catalogue import CatalogueFile, load_catalogue
from indexer.errors import UploadError
from indexer.ingest import UPLOADS, catalogue_with_file, check_filename, safe_filename
from indexer.lock import WriterLock
from webapp import admin, create_app

PASSWORD = "correct horse battery"
# A cheap hash keeps the tests fast; production hashes come from `python -m webapp hash-password`.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

# The catalogue: the entry that gains a language version is in the middle, followed by a comment
# that introduces the next entry (it must stay with that entry).
CATALOGUE = """# The catalogue of the test archive.

[[document]]
id = "mou-2006"
title = "Memorandum of Understanding"
title_zh = "谅解备忘录"
date = "2006-05-15"
kind = "memorandum of understanding"

[[document.files]]
lang = "en"
file = "mou-2006.en.pdf"

[[document]]
id = "study-2011"
title = "Comparative study of urbanisation"
date = "2011-03"
kind = "study"   # a comment on a value
programme = "World Cities"

[[document.files]]
lang = "en"
file = "study-2011.en.pdf"

# --- seminars ---

[[document]]
id = "seminar-2013"
title = "Eighth high-level seminar"
date = "2013-11-21"
kind = "high-level seminar"

[[document.files]]
lang = "en"
file = "seminar-2013.en.pdf"
"""


def build_archive(root: Path, **overrides):
    settings = make_settings(root, admin_password_hash=PASSWORD_HASH, secret_key="test-secret", **overrides)
    archive = Path(settings.archive_dir)
    write_pdf(archive / "mou-2006.en.pdf", ["Memorandum on cohesion policy.", "Signed in Brussels."])
    write_pdf(archive / "study-2011.en.pdf", ["A study of urbanisation in Europe and China."])
    write_pdf(archive / "seminar-2013.en.pdf", ["Eighth seminar on regional innovation."])
    (archive / "catalogue.toml").write_text(CATALOGUE, encoding="utf-8")
    update(settings)
    return settings


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """An indexed archive shared by the tests that must not change it."""
    return build_archive(tmp_path_factory.mktemp("upload-base"))


@pytest.fixture
def fresh(base, tmp_path):
    """A private copy of the base archive and its index, for tests that add to it."""
    root = Path(base.archive_dir).parent
    for name in ("archive", "index"):
        shutil.copytree(root / name, tmp_path / name, symlinks=True)
    return make_settings(tmp_path, admin_password_hash=PASSWORD_HASH, secret_key="test-secret")


@pytest.fixture
def client(base):
    return create_app(base).test_client()


# --- helpers ------------------------------------------------------------------------------


def snapshot(settings) -> dict[str, bytes]:
    """Every file of the archive (the catalogue included) with its bytes; the uploads lock file aside."""
    root = Path(settings.archive_dir)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).as_posix() != f"{UPLOADS}/.lock"}


def csrf_of(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def login(client, password: str = PASSWORD, **kwargs):
    token = csrf_of(client.get("/admin/login", **kwargs))
    return client.post("/admin/login", data={"csrf_token": token, "password": password}, **kwargs)


def logged_in_client(settings, **kwargs):
    client = create_app(settings).test_client()
    assert login(client, **kwargs).status_code == 303
    return client


def pdf_bytes(tmp_path: Path, pages: list[str], name: str = "made.pdf") -> bytes:
    return write_pdf(tmp_path / "made" / name, pages).read_bytes()


def post_upload(client, content: bytes, filename: str, csrf: str | None = "", **fields):
    """POST the upload form; csrf="" takes the token from the form page, None sends none."""
    data = {"lang": "en", "title": "A new report", "kind": "study", "date": "2020-06-01", **fields}
    if csrf == "":
        csrf = csrf_of(client.get("/admin/"))
    if csrf is not None:
        data["csrf_token"] = csrf
    data["file"] = (io.BytesIO(content), filename)
    return client.post("/admin/upload", data=data, content_type="multipart/form-data")


def post_raw(client, fields: dict, quoted_name: str, content: bytes):
    """POST a multipart body made by hand, with the file name exactly as given (already quoted).

    The test client's own encoder drops backslashes from names, and spools large
    bodies to a temporary file it never closes when the app refuses to read them.
    """
    boundary = "----archive-test-boundary"
    parts = [(f'name="{k}"', v.encode()) for k, v in fields.items()]
    parts.append((f'name="file"; filename="{quoted_name}"\r\nContent-Type: application/pdf', content))
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; {head}\r\n\r\n".encode() + value + b"\r\n"
                    for head, value in parts) + f"--{boundary}--\r\n".encode()
    return client.post("/admin/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def alert_text(response) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:2000]
    return html.unescape(" ".join(match.group(1).split()))


def search_ids(client, q: str) -> list[str]:
    data = client.get("/api/search", query_string={"q": q, "expand": "0"}).get_json()
    return [r["id"] for r in data["results"]]


# --- off, login, lock-out, sessions --------------------------------------------------------


def test_without_an_admin_secret_every_admin_page_is_off_and_says_how_to_turn_it_on(tmp_path):
    settings = make_settings(tmp_path)
    client = create_app(settings).test_client()
    for method, url in (("get", "/admin/"), ("get", "/admin/login"), ("post", "/admin/login"),
                        ("post", "/admin/upload"), ("post", "/admin/logout")):
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert b"python -m webapp hash-password" in response.data
        assert b"admin_password_hash" in response.data
    assert "Set-Cookie" not in client.get("/admin/").headers


def test_admin_page_asks_for_the_login_first(client):
    for url in ("/admin/", "/admin/upload"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")
    page = client.get("/admin/login")
    assert page.status_code == 200 and b'type="password"' in page.data


def test_login_sets_a_strict_http_only_session_cookie(base):
    client = create_app(base).test_client()
    response = login(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie
    assert client.get("/admin/").status_code == 200


def test_session_cookie_is_secure_over_https(base):
    client = create_app(base).test_client()
    response = login(client, base_url="https://localhost")
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_public_pages_set_no_cookie(client):
    for url in ("/", "/search?q=policy", "/documents/mou-2006", "/api/search?q=policy"):
        assert "Set-Cookie" not in client.get(url).headers, url


def test_wrong_password_is_refused_and_the_next_try_must_wait_longer_each_time(base, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(admin, "monotonic", lambda: now[0])
    client = create_app(base).test_client()
    delays = []
    for _ in range(7):
        response = login(client, password="wrong")
        assert response.status_code == 401
        assert "Wrong password" in alert_text(response)
        delays.append(int(re.search(r"in (\d+) s", alert_text(response)).group(1)))
        # Before the delay is over even the right password is not checked.
        early = login(client)
        assert early.status_code == 429 and int(early.headers["Retry-After"]) >= 1
        assert "try again in" in alert_text(early)
        now[0] += delays[-1] + 0.1
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    # Another address is not held up by these failures.
    other = create_app(base).test_client()
    assert login(other, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 303
    # The right password, once the wait is over, logs in and clears the count.
    assert login(client).status_code == 303


def test_lock_out_is_forgotten_after_a_successful_login(base, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(admin, "monotonic", lambda: now[0])
    client = create_app(base).test_client()
    assert login(client, password="nope").status_code == 401
    now[0] += 1.5
    assert login(client).status_code == 303
    client.post("/admin/logout", data={"csrf_token": csrf_of(client.get("/admin/"))})
    response = login(client, password="nope")
    assert response.status_code == 401
    assert "in 1 s" in alert_text(response)       # the count started again after the successful login


def test_an_empty_password_is_refused(base):
    client = create_app(base).test_client()
    response = login(client, password="")
    assert response.status_code == 401 and "Wrong password" in alert_text(response)
    assert client.get("/admin/").status_code == 303


def test_the_upload_form_lists_the_documents_and_carries_the_token(base):
    client = logged_in_client(base)
    page = client.get("/admin/upload").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    options = re.findall(r'<select id="version_of".*?</select>', page, re.S)[0]
    assert re.findall(r'<option value="([^"]*)"', options) == ["", "seminar-2013", "study-2011", "mou-2006"]


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_login_without_a_valid_csrf_token_is_refused(base, token):
    client = create_app(base).test_client()
    client.get("/admin/login")
    data = {"password": PASSWORD} | ({} if token is None else {"csrf_token": token})
    response = client.post("/admin/login", data=data)
    assert response.status_code == 400
    assert "did not come from this site" in alert_text(response)
    assert client.get("/admin/").status_code == 303      # still not logged in


def test_logout_ends_the_session_and_needs_the_csrf_token(base):
    client = logged_in_client(base)
    assert client.post("/admin/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout", data={"csrf_token": csrf_of(client.get("/admin/"))})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")
    assert client.get("/admin/").status_code == 303


def test_a_saved_cookie_is_refused_after_logout(base, tmp_path):
    client = logged_in_client(base)
    saved = client.get_cookie("session").value
    response = client.get("/admin/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert client.post("/admin/logout", data={"csrf_token": csrf_of(response)}).status_code == 303
    # Someone who kept a copy of the cookie (signed, not expired) gets nothing with it.
    thief = client.application.test_client()
    thief.set_cookie("session", saved)
    assert thief.get("/admin/").status_code == 303
    response = post_upload(thief, pdf_bytes(tmp_path, ["A report uploaded with a stolen cookie."]), "stolen.pdf",
                           csrf=None)
    assert response.status_code == 403
    assert not (Path(base.archive_dir) / UPLOADS / "stolen.pdf").exists()


def test_admin_pages_are_never_stored(base):
    client = create_app(base).test_client()
    for path in ("/admin/login", "/admin/", "/admin/upload"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_a_session_cookie_signed_with_another_key_is_worthless(base, tmp_path):
    stolen = logged_in_client(base)
    other_app = create_app(base.replace(secret_key="another-key")).test_client()
    cookie = stolen.get_cookie("session")
    other_app.set_cookie("session", cookie.value)
    assert other_app.get("/admin/").status_code == 303


# --- hostile uploads: refused, nothing written ------------------------------------------------


def assert_refused(settings, before: dict, response, status: int, words: str):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:1500])
    assert words in alert_text(response)
    assert snapshot(settings) == before
    assert not list((Path(settings.archive_dir) / UPLOADS).glob("*.part"))


def test_upload_without_login_is_refused(base, client, tmp_path):
    before = snapshot(base)
    response = post_upload(client, pdf_bytes(tmp_path, ["Fresh text."]), "new.pdf", csrf="anything")
    assert_refused(base, before, response, 403, "Log in first")


def test_upload_after_the_session_expired_is_refused(base, tmp_path, monkeypatch):
    client = logged_in_client(base)
    token = csrf_of(client.get("/admin/"))
    before = snapshot(base)
    later = admin.wall_clock() + base.session_minutes * 60 + 1
    monkeypatch.setattr(admin, "wall_clock", lambda: later)
    response = post_upload(client, pdf_bytes(tmp_path, ["Fresh text."]), "new.pdf", csrf=token)
    assert_refused(base, before, response, 403, "session has expired")
    assert client.get("/admin/").status_code == 303


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_upload_without_a_valid_csrf_token_is_refused(base, tmp_path, token):
    client = logged_in_client(base)
    before = snapshot(base)
    response = post_upload(client, pdf_bytes(tmp_path, ["Fresh text."]), "new.pdf", csrf=token)
    assert_refused(base, before, response, 400, "did not come from this site")


@pytest.mark.parametrize("content, words", [
    (b"<!doctype html><html><body>not a pdf</body></html>", "This is not a PDF"),
    (b"MZ\x90\x00" + b"\x00" * 200, "This is not a PDF"),
    (b"%PDF-1.7\nthis only starts like a PDF\n%%EOF\n", "cannot be opened"),
    (b"", "The file is empty"),
])
def test_a_file_that_is_not_a_pdf_is_refused(base, content, words):
    client = logged_in_client(base)
    before = snapshot(base)
    assert_refused(base, before, post_upload(client, content, "report.pdf"), 400, words)


def test_a_form_without_a_file_is_refused(base):
    client = logged_in_client(base)
    before = snapshot(base)
    response = client.post("/admin/upload", data={"csrf_token": csrf_of(client.get("/admin/")), "lang": "en",
                                                  "title": "No file", "kind": "study"})
    assert_refused(base, before, response, 400, "Choose a PDF file")


def test_a_file_over_the_size_limit_is_refused_with_413(base, tmp_path):
    small = base.replace(upload_max_mb=1)
    client = logged_in_client(small)
    before = snapshot(base)
    padding = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    fields = {"csrf_token": csrf_of(client.get("/admin/")), "lang": "en", "title": "Big", "kind": "study"}
    response = post_raw(client, fields, "big.pdf", padding)
    assert_refused(base, before, response, 413, "larger than the upload limit of 1 MB")


@pytest.mark.parametrize("quoted_name", ["../../etc/evil.pdf", r"..\\..\\evil.pdf", "reports/../../x.pdf", ".."])
def test_a_name_that_climbs_out_of_the_folder_is_refused(base, tmp_path, quoted_name):
    client = logged_in_client(base)
    before = snapshot(base)
    # A hand-made body: the test client's own encoding would drop the backslashes of a Windows path.
    fields = {"csrf_token": csrf_of(client.get("/admin/")), "lang": "en", "title": "Climb", "kind": "study"}
    response = post_raw(client, fields, quoted_name, pdf_bytes(tmp_path, ["Climbing text."]))
    assert_refused(base, before, response, 400, "../")
    assert not (Path(base.archive_dir).parent / "evil.pdf").exists()


def test_a_file_already_in_the_archive_is_refused_with_a_link_to_it(base):
    client = logged_in_client(base)
    before = snapshot(base)
    existing = (Path(base.archive_dir) / "study-2011.en.pdf").read_bytes()
    response = post_upload(client, existing, "another name.pdf")
    assert_refused(base, before, response, 409, "already in the archive as study-2011.en.pdf")
    assert b'href="/documents/study-2011"' in response.data


def test_an_encrypted_pdf_is_refused(base, tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes(tmp_path, ["Secret text."]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="open sesame", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    client = logged_in_client(base)
    before = snapshot(base)
    assert_refused(base, before, post_upload(client, out.getvalue(), "secret.pdf"), 400, "password")


@pytest.mark.parametrize("make", [
    lambda hostile, path: hostile.inflating_stream_pdf(path, gigabytes=0.3),     # one stream past pypdf's limit
    lambda hostile, path: hostile.many_inflating_pages_pdf(path),                # pages past the total limit
    lambda hostile, path: hostile.huge_image_pdf(path),                          # an image of 1.6 billion pixels
], ids=["one-stream", "all-pages", "huge-image"])
def test_a_pdf_that_inflates_past_the_limit_is_refused(base, tmp_path, make):
    import hostile

    # Under 500 KB each: the test client spools larger bodies to a temporary file it never closes.
    bomb = make(hostile, tmp_path / "bomb.pdf").read_bytes()
    assert len(bomb) < 500_000
    client = logged_in_client(base)
    before = snapshot(base)
    assert_refused(base, before, post_upload(client, bomb, "bomb.pdf"), 400, "inflate")


def test_the_viewer_is_not_started_for_a_file_that_inflated_past_the_limit(tmp_path):
    import hostile

    settings = make_settings(tmp_path)
    archive = Path(settings.archive_dir)
    hostile.inflating_stream_pdf(archive / "bomb.pdf", gigabytes=0.5)
    write_pdf(archive / "fine.pdf", ["An ordinary report."])
    update(settings)
    client = create_app(settings).test_client()
    assert 'id="pdf-viewer"' in client.get("/documents/fine").get_data(as_text=True)
    page = client.get("/documents/bomb").get_data(as_text=True)
    assert 'id="pdf-viewer"' not in page and "viewer.js" in page


@pytest.mark.parametrize("fields, words", [
    ({"kind": "poem"}, "kind 'poem' is not one of"),
    ({"kind": ""}, "field 'kind' is missing"),
    ({"title": ""}, "field 'title' is missing"),
    ({"date": "2020-02-30"}, "The date '2020-02-30' does not exist"),
    ({"date": "2020-13"}, "The date '2020-13' does not exist"),
    ({"date": "June 2020"}, "The date 'June 2020' is not YYYY, YYYY-MM or YYYY-MM-DD"),
    ({"programme": "Moon Cities"}, "programme 'Moon Cities' is not one of"),
    ({"lang": "fr"}, "Choose the language"),
    ({"version_of": "no-such-doc", "lang": "zh"}, "not in the catalogue"),
    ({"version_of": "mou-2006", "lang": "en"}, "already has a version in this language"),
])
def test_bad_catalogue_fields_are_refused(base, tmp_path, fields, words):
    client = logged_in_client(base)
    before = snapshot(base)
    response = post_upload(client, pdf_bytes(tmp_path, ["Valid text of a valid PDF."]), "valid.pdf", **fields)
    assert_refused(base, before, response, 400, words)
    # The form comes back with what was typed, to be corrected.
    if fields.get("title"):
        assert f'value="{fields["title"]}"'.encode() in response.data


def test_a_broken_catalogue_refuses_uploads_until_it_is_fixed(fresh, tmp_path):
    catalogue = Path(fresh.catalogue)
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + "\n[[document]]\nid = \n", encoding="utf-8")
    client = logged_in_client(fresh)
    before = snapshot(fresh)
    response = post_upload(client, pdf_bytes(tmp_path, ["Some text."]), "x.pdf")
    assert_refused(fresh, before, response, 400, "The catalogue has an error")


# --- good uploads -----------------------------------------------------------------------------


def test_a_good_upload_is_written_catalogued_and_searchable_right_after(fresh, tmp_path):
    client = logged_in_client(fresh)
    old_catalogue = Path(fresh.catalogue).read_bytes()
    content = pdf_bytes(tmp_path, ["The axolotl report on regional policy.", "Second page about cohesion."])
    response = post_upload(client, content, "Axolotl report.pdf", title="Axolotl report", date="2020-06-01",
                           kind="study", programme="CETREGIO")
    assert response.status_code == 303, alert_text(response)
    assert response.headers["Location"].endswith("/documents/axolotl-report-2020")
    archive = Path(fresh.archive_dir)
    assert (archive / "Axolotl report.pdf").read_bytes() == content
    # The catalogue is the old one, byte for byte, with the new entry appended.
    new_catalogue = Path(fresh.catalogue).read_bytes()
    assert new_catalogue.startswith(old_catalogue)
    entry = load_catalogue(fresh.catalogue).entries["axolotl-report-2020"]
    assert (entry.title, entry.kind, entry.date, entry.programme) == ("Axolotl report", "study", "2020-06-01",
                                                                      "CETREGIO")
    assert [(f.lang, f.file) for f in entry.files] == [("en", "Axolotl report.pdf")]
    assert not list((archive / UPLOADS).glob("*.part")) and not list((archive / UPLOADS).glob("*.toml"))
    # Found at once, by the same client and by a fresh app.
    assert client.get("/documents/axolotl-report-2020").status_code == 200
    assert search_ids(client, "axolotl") == ["axolotl-report-2020"]
    assert search_ids(create_app(fresh).test_client(), "axolotl") == ["axolotl-report-2020"]
    # The same file again is now a duplicate.
    again = post_upload(client, content, "copy.pdf")
    assert again.status_code == 409 and b'href="/documents/axolotl-report-2020"' in again.data


def test_a_catalogue_with_windows_line_ends_keeps_them(fresh, tmp_path):
    catalogue = Path(fresh.catalogue)
    catalogue.write_bytes(catalogue.read_bytes().replace(b"\n", b"\r\n"))
    old = catalogue.read_bytes()
    client = logged_in_client(fresh)
    response = post_upload(client, pdf_bytes(tmp_path, ["The numbat paper."]), "numbat.pdf", title="Numbat paper")
    assert response.status_code == 303, alert_text(response)
    new = catalogue.read_bytes()
    assert new.startswith(old) and b"\n" not in new.replace(b"\r\n", b"")
    assert "numbat-paper-2020" in load_catalogue(catalogue).entries


def test_a_chinese_file_name_is_kept_and_served(fresh, tmp_path):
    client = logged_in_client(fresh)
    content = pdf_bytes(tmp_path, ["区域政策与城镇化的蝾螈研究报告。"])
    response = post_upload(client, content, "区域政策 研究\u0007报告.pdf", lang="zh", title="Salamander study",
                           title_zh="蝾螈研究", date="2021")
    assert response.status_code == 303, alert_text(response)
    doc_id = response.headers["Location"].rsplit("/", 1)[1]
    assert doc_id == "salamander-study-2021"
    name = "区域政策 研究报告.pdf"        # the control character is gone
    assert (Path(fresh.archive_dir) / name).read_bytes() == content
    assert search_ids(client, "蝾螈") == [doc_id]
    with client.get(f"/documents/{doc_id}/file/zh") as served:
        assert served.status_code == 200 and served.data == content
        assert "filename*=UTF-8''%E5%8C%BA%E5%9F%9F" in served.headers["Content-Disposition"]


def test_a_name_already_taken_gets_a_suffix(fresh, tmp_path):
    client = logged_in_client(fresh)
    content = pdf_bytes(tmp_path, ["An entirely different platypus text."])
    response = post_upload(client, content, "study-2011.en.pdf", title="Platypus notes")
    assert response.status_code == 303, alert_text(response)
    archive = Path(fresh.archive_dir)
    assert (archive / "study-2011.en-2.pdf").read_bytes() == content
    assert (archive / "study-2011.en.pdf").read_bytes() != content
    assert search_ids(client, "platypus") == ["platypus-notes-2020"]


def test_a_language_version_attaches_to_the_existing_document(fresh, tmp_path):
    client = logged_in_client(fresh)
    old_text = Path(fresh.catalogue).read_text(encoding="utf-8")
    content = pdf_bytes(tmp_path, ["城镇化比较研究，穿山甲。"])
    response = post_upload(client, content, "study-2011.zh.pdf", lang="zh", version_of="study-2011",
                           title="", kind="", date="")
    assert response.status_code == 303, alert_text(response)
    assert response.headers["Location"].endswith("/documents/study-2011")
    # Exactly one block was added, right after the entry's last line; every other byte is as it was.
    block = '\n[[document.files]]\nlang = "zh"\nfile = "study-2011.zh.pdf"\nformat = "pdf"\n'
    anchor = 'file = "study-2011.en.pdf"\n'
    assert Path(fresh.catalogue).read_text(encoding="utf-8") == old_text.replace(anchor, anchor + block)
    entry = load_catalogue(fresh.catalogue).entries["study-2011"]
    assert [(f.lang, f.file) for f in entry.files] == [("en", "study-2011.en.pdf"), ("zh", "study-2011.zh.pdf")]
    data = client.get("/api/documents/study-2011").get_json()
    assert data["languages"] == ["en", "zh"]
    assert search_ids(client, "穿山甲") == ["study-2011"]
    assert len(load_catalogue(fresh.catalogue).entries) == 3


def test_an_upload_while_an_update_runs_is_saved_and_left_to_that_update(fresh, tmp_path):
    settings = fresh.replace(lock_timeout_s=0.3)
    client = logged_in_client(settings)
    content = pdf_bytes(tmp_path, ["The quokka annex."])
    with WriterLock(settings.index_dir, what="a test holding the lock"):
        response = post_upload(client, content, "quokka.pdf", title="Quokka annex")
    assert response.status_code == 202
    text = " ".join(response.get_data(as_text=True).split())
    assert "quokka.pdf is saved in the archive" in text and "update of the index is running" in text
    assert (Path(settings.archive_dir) / "quokka.pdf").read_bytes() == content
    assert search_ids(client, "quokka") == []
    update(settings)
    assert search_ids(client, "quokka") == ["quokka-annex-2020"]


def test_an_upload_whose_indexing_fails_is_saved_and_says_so(fresh, tmp_path, monkeypatch):
    from indexer import build
    monkeypatch.setattr(build, "update", lambda settings: 1 / 0)
    client = logged_in_client(fresh)
    response = post_upload(client, pdf_bytes(tmp_path, ["The wombat appendix."]), "wombat.pdf", title="Wombat")
    assert response.status_code == 202
    assert "wombat.pdf is saved in the archive, but indexing it failed" in " ".join(response.get_data(as_text=True).split())
    assert (Path(fresh.archive_dir) / "wombat.pdf").exists()


def test_the_form_says_when_the_catalogue_is_broken(fresh):
    client = logged_in_client(fresh)
    Path(fresh.catalogue).write_text("[[document]]\nid = 3\n", encoding="utf-8")
    page = client.get("/admin/")
    assert page.status_code == 200 and "field 'id' must be text" in alert_text(page)


def test_upload_messages_are_translated(fresh, tmp_path):
    client = logged_in_client(fresh)
    client.set_cookie("ui_lang", "zh")
    response = post_upload(client, b"plain text", "x.pdf")
    assert response.status_code == 400 and alert_text(response) == "这不是 PDF 文件：只能上传 PDF 文件。"


# --- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize("given, safe", [
    ("report.pdf", "report.pdf"),
    ("C:\\Users\\me\\Desktop\\report.PDF", "report.pdf"),
    ("/home/me/report.pdf", "report.pdf"),
    ("区域政策报告.pdf", "区域政策报告.pdf"),
    ("tab\tand\nnewline\x00nul\u202eRTL.pdf", "tabandnewlinenulRTL.pdf"),
    ("  .hidden.pdf  ", "hidden.pdf"),
    ('a<b>:c?"d|e*.pdf', "a_b__c__d_e_.pdf"),
    ("report", "report.pdf"),
    ("", "upload.pdf"),
    ("...pdf", "pdf.pdf"),
    ("...", "upload.pdf"),
])
def test_safe_filename(given, safe):
    assert safe_filename(given) == safe


def test_safe_filename_keeps_names_within_the_file_system_limit():
    name = safe_filename("长" * 300 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= 255


@pytest.mark.parametrize("name", ["../x.pdf", "a/../b.pdf", "..\\x.pdf", ".."])
def test_climbing_names_are_refused(name):
    with pytest.raises(UploadError) as info:
        check_filename(name)
    assert info.value.code == "bad_name"


def test_language_version_block_goes_after_the_entry_and_keeps_crlf():
    text = CATALOGUE.replace("\n", "\r\n")
    new = catalogue_with_file(text, 1, CatalogueFile("zh", "s.zh.pdf", "pdf"))
    anchor = 'file = "study-2011.en.pdf"\r\n'
    block = '\r\n[[document.files]]\r\nlang = "zh"\r\nfile = "s.zh.pdf"\r\nformat = "pdf"\r\n'
    assert new == text.replace(anchor, anchor + block)


def test_language_version_of_the_last_entry_without_a_final_newline():
    text = CATALOGUE.rstrip("\n")
    new = catalogue_with_file(text, 2, CatalogueFile("zh", "s.zh.pdf", "pdf"))
    assert new == text + '\n\n[[document.files]]\nlang = "zh"\nfile = "s.zh.pdf"\nformat = "pdf"\n'


@pytest.mark.parametrize("name", ["报告（2013）.pdf", "ﬁnal ﬂows report.pdf", "第①期 培训.pdf", "ＥＵ－ＣＨＩＮＡ ２０１４.pdf",
                                  "Cafe\u0301 notes.pdf"])
def test_a_file_name_is_kept_as_written_one_document_with_its_file(fresh, tmp_path, name):
    import unicodedata

    client = logged_in_client(fresh)
    content = pdf_bytes(tmp_path, [f"The quokka report {len(name)}."])
    response = post_upload(client, content, name, title="Quokka report")
    assert response.status_code == 303, alert_text(response)
    doc_id = response.headers["Location"].rsplit("/", 1)[1]
    kept = unicodedata.normalize("NFC", name)        # NFC only: full-width and compatibility forms stay
    assert (Path(fresh.archive_dir) / kept).read_bytes() == content
    [entry_file] = load_catalogue(fresh.catalogue).entries[doc_id].files
    assert entry_file.file == kept
    # One document, with its file: no uncatalogued twin, no missing file.
    status = client.get("/api/status").get_json()
    mine = [f for f in status["files"] if f["path"] == kept]
    assert [(f["doc_id"], f["status"]) for f in mine] == [(doc_id, "indexed")]
    assert status["missing"] == [] and status["waiting"] == []
    assert search_ids(client, "quokka") == [doc_id]
    with client.get(f"/documents/{doc_id}/file/en") as served:
        assert served.status_code == 200 and served.data == content
