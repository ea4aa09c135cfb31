"""Shared fixtures: real PDFs in temporary folders, a real index, the Flask app."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest

from indexer.config import PROJECT_ROOT, settings_from_mapping

REPO_ARCHIVE = PROJECT_ROOT / "archive"


def write_pdf(path: Path, pages: list[str], title: str = "", font: str | None = None) -> Path:
    """Write a real PDF with one page per string; Chinese text uses a CID font (no font file needed)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), invariant=1)
    if title:
        c.setTitle(title)
    for text in pages:
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
        c.setFont(font or ("STSong-Light" if chinese else "Helvetica"), 11)
        y = 800
        for para in text.split("\n"):
            width = 40 if chinese else 90
            for line in textwrap.wrap(para, width) or [""]:
                c.drawString(50, y, line)
                y -= 15
        c.showPage()
    c.save()
    return path


def stop_waitress(server, sockets: dict, thread) -> None:
    """Stop a waitress SERVER running in THREAD on its own socket map SOCKETS, its requests answered first.

    Every socket is closed in the server's own thread, between two polls:
    closed from another, one may go while that thread waits on it in select()
    (EBADF there). With the map empty, the server's loop ends.
    """
    from waitress import wasyncore

    server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
    server.trigger.pull_trigger(lambda: wasyncore.close_all(sockets))
    thread.join(timeout=5)


def make_settings(root: Path, **overrides):
    """Settings for a throw-away archive and index below ROOT."""
    values = {
        "archive_dir": str(root / "archive"),
        "catalogue": str(root / "archive" / "catalogue.toml"),
        "userdict": str(REPO_ARCHIVE / "userdict.txt"),
        "glossary": str(REPO_ARCHIVE / "glossary.toml"),
        "index_dir": str(root / "index"),
        "log_dir": str(root / "log"),
        "workers": 2,
        "ocr": False,
        "lock_timeout_s": 2.0,
    }
    values.update(overrides)
    (root / "archive").mkdir(parents=True, exist_ok=True)
    return settings_from_mapping(values, base=root)


def write_config(settings, path: Path) -> Path:
    """A config.toml holding SETTINGS, for commands run in a subprocess."""
    lines, rest = ["[paths]"], ["[indexer]"]
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name == "config_file":
            continue
        if isinstance(value, Path):
            lines.append(f"{f.name} = {json.dumps(str(value))}")
        elif isinstance(value, bool):
            rest.append(f"{f.name} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            rest.append(f"{f.name} = {json.dumps(value)}")
        elif isinstance(value, tuple):
            rest.append(f"{f.name} = {json.dumps(list(value))}")
        else:
            rest.append(f"{f.name} = {value!r}")
    path.write_text("\n".join(lines + rest) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path):
    """Settings pointing at an empty archive and index in a temporary folder."""
    return make_settings(tmp_path)


@pytest.fixture
def pdf(settings):
    """Factory: pdf("name.pdf", ["page 1 text", "page 2 text"]) writes into the archive."""
    def factory(name: str, pages: list[str], title: str = "") -> Path:
        return write_pdf(Path(settings.archive_dir) / name, pages, title=title)
    return factory


@pytest.fixture(scope="session")
def repo_archive_settings(tmp_path_factory):
    """The project's real archive/, indexed once per session into a temporary index."""
    root = tmp_path_factory.mktemp("repo-archive")
    archive = root / "archive"
    shutil.copytree(REPO_ARCHIVE, archive)
    from indexer.build import update

    s = make_settings(root, userdict=str(archive / "userdict.txt"), glossary=str(archive / "glossary.toml"))
    update(s)
    return s


# --- the sample archive of the web tests (tests/test_web.py builds it) ----------------------
# Module-scoped: each test module gets its own archive, index and app.


@pytest.fixture(scope="module")
def sample_settings(tmp_path_factory, request):
    """A sample collection of English and Chinese PDFs with hostile metadata, indexed."""
    from test_web import build_sample_archive

    return build_sample_archive(tmp_path_factory.mktemp(request.module.__name__))


@pytest.fixture(scope="module")
def app(sample_settings):
    """The Flask app over the sample collection."""
    from webapp import create_app

    return create_app(sample_settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def reads(monkeypatch):
    """The archive files the indexer actually reads (PDF parses), in order."""
    from indexer import build

    seen: list[str] = []
    real = build._extract_many

    def spy(paths, settings, *rest):
        for path, extraction in real(paths, settings, *rest):
            seen.append(Path(path).name)
            yield path, extraction

    monkeypatch.setattr(build, "_extract_many", spy)
    return seen
