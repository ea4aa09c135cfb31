"""The admin's everyday work on the site (issue 25): remove and restore a document, correct its catalogue
fields, confirm held removals, a new password without a restart, hash-password --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import write_config
from indexer.catalogue import load_catalogue
from indexer.config import PROJECT_ROOT, load_settings
from indexer.build import update
from webapp import create_app
from werkzeug.security import generate_password_hash

from test_upload import csrf_of, fresh, base, logged_in_client, login, search_ids  # noqa: F401 - fixtures

ENV = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))


def post(client, path: str, **data):
    data["csrf_token"] = csrf_of(client.get("/admin/"))
    return client.post(path, data=data)


def test_the_admin_removes_a_document_to_the_trash_and_restores_it(fresh):
    client = logged_in_client(fresh)
    archive = Path(fresh.archive_dir)
    catalogue_before = Path(fresh.catalogue).read_bytes()
    assert search_ids(client, "urbanisation") == ["study-2011"]

    response = post(client, "/admin/documents/study-2011/remove")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "study-2011 was moved to the trash" in page
    # Nothing deleted: the file is in the trash, the entry out of the catalogue (its previous version kept).
    assert not (archive / "study-2011.en.pdf").exists()
    [item] = (archive / ".trash").iterdir()
    assert (item / "study-2011.en.pdf").is_file()
    assert "study-2011" not in load_catalogue(fresh.catalogue).entries
    versions = list((archive / ".catalogue-versions").iterdir())
    assert [v.read_bytes() for v in versions] == [catalogue_before]
    assert search_ids(client, "urbanisation") == []
    assert client.get("/documents/study-2011").status_code == 404
    assert client.get("/api/status").get_json()["missing"] == []

    # Undo.
    response = post(client, f"/admin/trash/{item.name}/restore")
    assert response.status_code == 303 and response.headers["Location"].endswith("/documents/study-2011")
    assert (archive / "study-2011.en.pdf").is_file() and not item.exists()
    assert load_catalogue(fresh.catalogue).entries["study-2011"] == load_catalogue_bytes(catalogue_before, fresh)
    assert search_ids(client, "urbanisation") == ["study-2011"]
    assert "The trash is empty." in client.get("/admin/").get_data(as_text=True)


def load_catalogue_bytes(raw: bytes, settings):
    copy = Path(settings.archive_dir).parent / "old-catalogue.toml"
    copy.write_bytes(raw)
    return load_catalogue(copy).entries["study-2011"]


def test_the_admin_corrects_a_title(fresh):
    client = logged_in_client(fresh)
    catalogue = Path(fresh.catalogue)
    before = catalogue.read_text(encoding="utf-8")
    form = client.get("/admin/documents/mou-2006/edit").get_data(as_text=True)
    assert 'value="Memorandum of Understanding' in form

    entry = load_catalogue(catalogue).entries["mou-2006"]
    values = {"title": "Memorandum on cohesion and regional policy", "title_zh": entry.title_zh, "date": entry.date,
              "kind": entry.kind, "programme": entry.programme, "event": "", "place": "Brussels", "summary": ""}
    values["csrf_token"] = csrf_of(client.get("/admin/documents/mou-2006/edit"))
    response = client.post("/admin/documents/mou-2006/edit", data=values)
    assert response.status_code == 303 and response.headers["Location"].endswith("/documents/mou-2006")

    edited = load_catalogue(catalogue).entries["mou-2006"]
    assert (edited.title, edited.place, edited.files) == ("Memorandum on cohesion and regional policy", "Brussels",
                                                          entry.files)
    # Every other entry unchanged; the previous version kept.
    others = {k: v for k, v in load_catalogue(catalogue).entries.items() if k != "mou-2006"}
    [kept] = (catalogue.parent / ".catalogue-versions").iterdir()
    assert kept.read_text(encoding="utf-8") == before
    assert others == {k: v for k, v in load_catalogue(kept).entries.items() if k != "mou-2006"}
    assert "Memorandum on cohesion and regional policy" in client.get("/documents/mou-2006").get_data(as_text=True)

    # A bad value is refused with its field named, and nothing is written.
    values.update(date="2006-13-45", csrf_token=csrf_of(client.get("/admin/documents/mou-2006/edit")))
    response = client.post("/admin/documents/mou-2006/edit", data=values)
    assert response.status_code == 400 and "date" in response.get_data(as_text=True)
    assert load_catalogue(catalogue).entries["mou-2006"] == edited


def test_changes_need_a_login_and_the_token(fresh):
    client = create_app(fresh).test_client()
    assert client.post("/admin/documents/study-2011/remove").status_code == 403
    client = logged_in_client(fresh)
    assert client.post("/admin/documents/study-2011/remove", data={"csrf_token": "x"}).status_code == 400
    assert (Path(fresh.archive_dir) / "study-2011.en.pdf").is_file()


def test_the_admin_confirms_held_removals(fresh):
    settings = fresh.replace(removal_guard_files=0)
    archive = Path(settings.archive_dir)
    for name in ("mou-2006.en.pdf", "study-2011.en.pdf"):
        (archive / name).unlink()
    update(settings)
    client = logged_in_client(settings)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Removals waiting for your confirmation" in page and "study-2011.en.pdf" in page

    response = post(client, "/admin/allow-removals")
    assert response.status_code == 200
    assert "have left the index" in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/status").get_json()["missing"] == []


def test_a_new_password_works_without_a_restart(fresh, tmp_path):
    config = write_config(fresh, tmp_path / "config.toml")
    settings = load_settings(config)
    client = create_app(settings).test_client()
    assert login(client).status_code == 303
    other = create_app(settings).test_client()
    new_hash = generate_password_hash("a brand new password", method="pbkdf2:sha256:1000")
    config.write_text(config.read_text(encoding="utf-8").replace(fresh.admin_password_hash, new_hash),
                      encoding="utf-8")
    os.utime(config, ns=(1, 1))       # a new modification time, however fast the rewrite was
    assert login(other).status_code == 401
    # The same server (its settings still hold the old hash); another client, not locked out by the failure.
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert login(other, password="a brand new password").status_code == 303


def test_hash_password_help_and_without_a_terminal():
    run = subprocess.run([sys.executable, "-m", "webapp", "hash-password", "--help"], env=ENV,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 0 and "usage:" in run.stdout and "admin_password_hash" in run.stdout
    run = subprocess.run([sys.executable, "-m", "webapp", "hash-password"], env=ENV, input="long enough secret\n",
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    from werkzeug.security import check_password_hash
    assert check_password_hash(run.stdout.strip().splitlines()[-1], "long enough secret")
    run = subprocess.run([sys.executable, "-m", "webapp", "hash-password"], env=ENV, input="short\n",
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "at least 8 characters" in run.stderr


def test_the_upload_form_proposes_language_title_and_date_from_the_file(fresh, tmp_path):
    import io

    from conftest import write_pdf

    client = logged_in_client(fresh)
    chinese = write_pdf(tmp_path / "made" / "区域合作报告_2014.pdf",
                        ["区域政策合作与城镇化发展的研究报告。" * 5, "第二页：欧盟与中国的区域合作。" * 5]).read_bytes()
    token = csrf_of(client.get("/admin/"))
    response = client.post("/admin/propose", data={"csrf_token": token,
                                                   "file": (io.BytesIO(chinese), "区域合作报告_2014.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"lang": "zh", "title": "区域合作报告 2014", "date": "2014"}
    english = write_pdf(tmp_path / "made" / "x.pdf", ["A report on cohesion policy in Europe."],
                        title="Cohesion policy report").read_bytes()
    response = client.post("/admin/propose", data={"csrf_token": token, "file": (io.BytesIO(english), "x.pdf")},
                           content_type="multipart/form-data")
    assert response.get_json()["lang"] == "en" and response.get_json()["title"] == "Cohesion policy report"
    # Nothing is kept, and not a PDF is refused; without the token, nothing is read.
    assert not list((Path(fresh.archive_dir) / ".uploads").glob("*.p*"))
    response = client.post("/admin/propose", data={"csrf_token": token, "file": (io.BytesIO(b"hello"), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "error" in response.get_json()
    response = client.post("/admin/propose", data={"file": (io.BytesIO(english), "x.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "admin.js" in client.get("/admin/").get_data(as_text=True)


def test_odd_ids_on_the_admin_routes(fresh):
    from test_hardening import ODD_IDS, SECRETS

    client = logged_in_client(fresh)
    archive = Path(fresh.archive_dir)
    before = sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*") if ".uploads" not in p.parts)
    catalogue = Path(fresh.catalogue).read_bytes()
    token = csrf_of(client.get("/admin/"))
    for odd in ODD_IDS + [".trash", ".catalogue-versions", "..%2F.trash"]:
        for method, url in (("get", f"/admin/documents/{odd}/edit"), ("post", f"/admin/documents/{odd}/edit"),
                            ("post", f"/admin/documents/{odd}/remove"), ("post", f"/admin/trash/{odd}/restore")):
            response = getattr(client, method)(url, data={"csrf_token": token, "title": "x", "kind": "study"},
                                               follow_redirects=False)
            assert response.status_code in (404, 405, 308), (url, response.status_code)
            for secret in SECRETS:
                if secret != b"admin_password_hash":    # a settings name the admin page may show
                    assert secret not in response.data, (url, secret)
    after = sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*") if ".uploads" not in p.parts)
    assert after == before and Path(fresh.catalogue).read_bytes() == catalogue
