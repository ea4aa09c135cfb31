"""Text as the page shows it (issue 27): generated PDFs that mislead a reader, checked against poppler.

Each case is a real PDF made by tests/pdfcases.py; the oracle is poppler's
`pdftotext` (Debian poppler-utils, with poppler-data's CID tables), which
reads these pages as they look. On every generated page the words the
archive extracts must agree with poppler's in at least 98 % (as multisets);
a failing page shows both texts side by side.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import pdfcases
from indexer import sandbox
from indexer.config import Settings
from indexer.extract import (INDEXED, MISDECODED, OCR_NO_LAYER, OCR_UNREADABLE, Extraction, extract_file,
                             extract_many)

pytestmark = [
    pytest.mark.skipif(not pdfcases.pdftotext_available(),
                       reason="poppler is not installed (apt-get install poppler-utils poppler-data)"),
    pytest.mark.skipif(not pdfcases.cjk_font_available(),
                       reason="no CJK font (apt-get install fonts-wqy-microhei)"),
]
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

MIN_AGREEMENT = 0.98

# Pages of the collection's kind: a pure Chinese page (no Latin letter, no
# space), a mixed one, and a second Chinese page.
CHINESE_PAGES = [
    ["中欧区域政策合作是双方在区域发展领域的重要对话机制",
     "国家发展和改革委员会与欧盟委员会区域政策总司签署了谅解备忘录",
     "双方同意在城镇化规划和创新集群方面交流经验"],
    ["二零一九年度报告 Regional Policy Dialogue 2019",
     "欧盟凝聚政策的经验对中国的区域协调发展具有借鉴意义",
     "Cohesion policy and territorial cooperation"],
    ["培训项目邀请了来自广州和成都的地方官员参加研讨会",
     "专家组建议加强统计数据的收集与评估"],
]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(archive_dir=tmp_path, index_dir=tmp_path / "index", workers=2,
                    extract_timeout_s=60.0, extract_memory_mb=1024, ocr=False)


@pytest.fixture(autouse=True)
def no_warm_workers_left():
    yield
    sandbox.close_shared_pools()


def assert_agrees_with_poppler(extraction: Extraction, path: Path, oracle_path: Path | None = None) -> None:
    """Every page of PATH: the extracted words agree with pdftotext's (of ORACLE_PATH, if given)."""
    texts = {p.number: p.text for p in extraction.pages}
    failures = []
    for number in range(1, extraction.page_count + 1):
        oracle = pdfcases.pdftotext(oracle_path or path, number)
        got = texts.get(number, "")
        score = pdfcases.agreement(got, oracle)
        if score < MIN_AGREEMENT:
            failures.append(f"page {number}: word agreement {score:.3f} < {MIN_AGREEMENT}\n"
                            + pdfcases.side_by_side(got, oracle))
    assert not failures, "\n\n".join(failures)


def test_the_oracle_comparison_can_fail():
    assert pdfcases.agreement("区域政策 cohesion policy", "区域政策 cohesion policy") == 1.0
    assert pdfcases.agreement("ᇏ\u0b78\u0c75 თᆟ", "区域政策") == 0.0
    assert pdfcases.agreement("920.68STAFF", "920.68 STAFF") == 0.0
    assert pdfcases.page_words("Chapter II, 区域。") == ["chapter", "ii", "区", "域"]
    assert "extracted" in pdfcases.side_by_side("a", "b") and "pdftotext" in pdfcases.side_by_side("a", "b")


def test_cid_font_without_tounicode_is_read_by_pdfium(tmp_path, settings):
    """Adobe-GB1 codes, no ToUnicode: pypdf maps them to Telugu, Georgian... letters; PDFium reads the page."""
    import pypdf

    path = pdfcases.write_cid_pdf(tmp_path / "gb1.pdf", CHINESE_PAGES, ordering="GB1")
    # The case is real: pypdf alone gets each page wrong.
    for number, lines in enumerate(CHINESE_PAGES):
        raw = pypdf.PdfReader(path).pages[number].extract_text()
        assert pdfcases.agreement(raw, "\n".join(lines)) < 0.3
    result = extract_file(path, settings)
    assert result.status == INDEXED and result.reason == ""
    assert_agrees_with_poppler(result, path)
    assert [(p.extractor, p.why) for p in result.pages] == [("pdfium", MISDECODED)] * 3
    assert result.readers == [{"extractor": "pdfium", "why": MISDECODED, "pages": [1, 2, 3]}]
    assert [p.lang for p in result.pages] == ["zh", "mixed", "zh"]


def test_cid_font_choice_survives_the_sandbox(tmp_path, settings):
    path = pdfcases.write_cid_pdf(tmp_path / "gb1.pdf", CHINESE_PAGES[:1], ordering="GB1")
    [(_, result)] = list(extract_many([path], settings))
    assert result.readers == [{"extractor": "pdfium", "why": MISDECODED, "pages": [1]}]
    assert [p.why for p in result.pages] == [MISDECODED]


def test_healthy_cid_font_keeps_pypdfs_text(tmp_path, settings, monkeypatch):
    """A correct CID font (reportlab's STSong-Light): pypdf's text stays, PDFium is asked twice, then trusted."""
    from conftest import write_pdf
    from indexer import extract

    pages = ["中欧区域政策合作第%d页，国家发展和改革委员会与欧盟委员会" % n for n in range(1, 7)]
    path = write_pdf(tmp_path / "healthy.pdf", pages)
    asked = []
    real = extract._PdfJob._pdfium_text

    def counting(job, index):
        asked.append(index)
        return real(job, index)

    monkeypatch.setattr(extract._PdfJob, "_pdfium_text", counting)
    result = extract_file(path, settings)
    assert [p.extractor for p in result.pages] == ["pypdf"] * 6
    assert result.readers == [{"extractor": "pypdf", "why": "", "pages": [1, 2, 3, 4, 5, 6]}]
    assert asked == list(range(extract.TRUSTED_AFTER_PAGES))
    assert_agrees_with_poppler(result, path)


def test_english_pages_are_not_read_twice(tmp_path, settings, monkeypatch):
    from conftest import write_pdf
    from indexer import extract

    path = write_pdf(tmp_path / "en.pdf", ["Cohesion policy and regional development, page %d" % n
                                           for n in range(1, 4)])
    monkeypatch.setattr(extract._PdfJob, "_pdfium_text", lambda job, index: pytest.fail("PDFium asked"))
    result = extract_file(path, settings)
    assert [p.extractor for p in result.pages] == ["pypdf"] * 3
    assert_agrees_with_poppler(result, path)


@needs_tesseract
def test_font_neither_reader_decodes_is_read_by_ocr(tmp_path, settings):
    """Codes that are glyph numbers, no ToUnicode: pypdf, PDFium and poppler all fail; OCR reads the page.

    The oracle is poppler's text of the same page with a correct ToUnicode map.
    """
    lines = CHINESE_PAGES[0]
    path = pdfcases.write_cid_pdf(tmp_path / "gid.pdf", [lines], ordering="Identity")
    twin = pdfcases.write_cid_pdf(tmp_path / "twin.pdf", [lines], ordering="Identity", to_unicode="true")
    assert pdfcases.agreement(pdfcases.pdftotext(path, 1), pdfcases.pdftotext(twin, 1)) < 0.3
    result = extract_file(path, settings.replace(ocr=True))
    assert [(p.extractor, p.why) for p in result.pages] == [("ocr", OCR_UNREADABLE)]
    assert result.readers == [{"extractor": "ocr", "why": OCR_UNREADABLE, "pages": [1]}]
    assert_agrees_with_poppler(result, path, oracle_path=twin)
