"""Extraction: every file gets its text out, or a precise reason why not (issue 5).

The documents are generated in tmp_path by tests/hostile.py: real PDFs written
with reportlab, pypdf and raw bytes, a .docx, a .doc and image-only scans.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

import hostile
from indexer import cleaning, sandbox
from indexer.config import Settings
from indexer.extract import (ENCRYPTED, FAILED, INDEXED, NEEDS_OCR, PARTIAL, Extraction, PageText,
                             _extract_many, detect_language, extract_file, extract_many, ocr_languages)

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim)")
# The sample .doc is one that antiword refuses ("text stream too small"): catdoc reads it.
HAS_CATDOC = shutil.which("catdoc") is not None
needs_catdoc = pytest.mark.skipif(not HAS_CATDOC, reason="catdoc is not installed (apt-get install catdoc)")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The whole hostile set, written once for this module."""
    folder = tmp_path_factory.mktemp("hostile")
    groups = [hostile.GOOD, hostile.BROKEN]
    if hostile.CJK_FONT.exists():
        groups.append(hostile.SCANNED)
    else:
        groups.append({"scan-en.pdf": hostile.scanned_english_pdf})
    written = hostile.write_set(folder, *groups)
    written["garbled.pdf"] = hostile.garbled_pdf(folder / "garbled.pdf")
    return written


@pytest.fixture(autouse=True)
def no_warm_workers_left():
    """Each test starts and ends without the warm workers of extract_many (sandbox.shared_pool)."""
    yield
    sandbox.close_shared_pools()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(archive_dir=tmp_path, index_dir=tmp_path / "index", workers=2,
                    extract_timeout_s=30.0, extract_memory_mb=1024, ocr=False)


def words(extraction: Extraction) -> str:
    return "\n".join(page.text for page in extraction.pages)


# --- broken files, one by one -------------------------------------------------------------------

def test_zero_byte_file(files, settings):
    result = extract_file(files["zero.pdf"], settings)
    assert (result.status, result.reason) == (FAILED, "empty file (0 bytes)")
    assert result.pages == [] and result.chars == 0


def test_text_file_named_pdf(files, settings):
    result = extract_file(files["text.pdf"], settings)
    assert result.status == FAILED
    # What the file is, never what it says: a reason is shown on the public status page.
    assert result.reason == "not a PDF: the file is text"


def test_web_page_named_pdf(files, settings):
    result = extract_file(files["download.pdf"], settings)
    assert result.status == FAILED
    assert result.reason == "not a PDF: the file is a web page (perhaps a failed download)"


def test_truncated_file_keeps_the_pages_that_remain(files, settings):
    result = extract_file(files["truncated.pdf"], settings)
    assert result.status == PARTIAL
    assert result.page_count == 12
    assert [p.number for p in result.pages] == [1, 2, 3, 4, 5, 6]
    assert all(hostile.ENGLISH_WORD in p.text for p in result.pages)
    assert result.failed_pages == [7, 8, 9, 10, 11, 12]
    assert "the file is truncated (it has no end-of-file marker)" in result.reason
    assert "pages 7–12 could not be read" in result.reason


def test_garbage_xref_is_rebuilt(files, settings):
    result = extract_file(files["garbage-xref.pdf"], settings)
    assert result.status == INDEXED
    assert result.reason == "repaired: the cross-reference table is broken and was rebuilt"
    assert [p.number for p in result.pages] == [1, 2, 3]
    assert result.pages[2].text == f"Page 3: {hostile.ENGLISH_WORD} survives a broken xref."


def test_page_tree_pointing_to_itself(files, settings):
    result = extract_file(files["self-tree.pdf"], settings)
    assert result.status == PARTIAL
    assert [(p.number, p.text, p.extractor) for p in result.pages] == [(1, "A page inside a looping tree", "pdfium")]
    assert result.failed_pages == [2]
    assert "read with PDFium because pypdf failed (PdfReadError: Detected cyclic page references.)" in result.reason


def test_content_stream_inflating_to_gigabytes(files, settings):
    started = time.monotonic()
    result = extract_file(files["inflating.pdf"], settings)
    assert time.monotonic() - started < 10, "the bomb must be stopped, not inflated"
    assert result.status == PARTIAL
    assert [p.text for p in result.pages] == [f"Intact first page on {hostile.ENGLISH_WORD}"]
    assert result.failed_pages == [2]
    assert result.reason == "page 2 could not be read: a compressed stream inflates beyond pypdf's safety limit"


def test_inflating_stream_under_a_low_memory_limit(files, settings):
    low = settings.replace(extract_memory_mb=150, workers=1)
    [(path, result)] = list(extract_many([files["inflating.pdf"]], low))
    assert result.status == PARTIAL
    assert result.reason == "page 2 could not be read: exceeded the memory limit (150 MiB)"
    assert [p.number for p in result.pages] == [1]


def test_deeply_nested_objects(files, settings):
    result = extract_file(files["nested.pdf"], settings)
    assert result.status == PARTIAL
    assert [p.text for p in result.pages] == [f"Readable page about {hostile.ENGLISH_WORD}"]
    assert result.failed_pages == [2]
    assert result.reason == "page 2 could not be read: objects nested too deeply (RecursionError)"


# --- encryption ---------------------------------------------------------------------------------

def test_user_password_is_reported(files, settings):
    result = extract_file(files["user-password.pdf"], settings)
    assert (result.status, result.reason) == (ENCRYPTED, "encrypted: needs a password")
    assert result.pages == []


@pytest.mark.parametrize("name", ["owner-only.pdf", "empty-password.pdf"])
def test_pdf_that_opens_without_a_password_is_indexed(files, settings, name):
    result = extract_file(files[name], settings)
    assert (result.status, result.reason) == (INDEXED, "")
    assert hostile.ENGLISH_WORD in words(result)
    assert result.title == "Regional policy dialogue report"


# --- good files ---------------------------------------------------------------------------------

def test_english_pdf(files, settings):
    result = extract_file(files["english.pdf"], settings)
    assert (result.status, result.page_count, result.failed_pages) == (INDEXED, 2, [])
    assert [p.lang for p in result.pages] == ["en", "en"]
    assert result.pages[0].text == ("Page 1 of the regional policy report.\n"
                                    f"Territorial {hostile.ENGLISH_WORD} and urban development in the EU and China.")
    assert result.extractor == "pypdf" and result.chars == sum(len(p.text) for p in result.pages)
    assert len(result.date) == 10 and result.date[4] == "-"


def test_chinese_pdf(files, settings):
    result = extract_file(files["chinese.pdf"], settings)
    assert result.status == INDEXED
    # The two lines of the page are one sentence flow for search: no break inside a word.
    assert result.pages[0].text == f"中欧{hostile.CHINESE_WORD}对话城镇化与区域协调发展合作"
    assert result.pages[0].lang == "zh"


def test_thousands_of_pages_in_a_worker(tmp_path, settings):
    path = hostile.thousands_of_pages(tmp_path / "long.pdf", pages=3000)
    done, pages_read = [], []
    [(got, result)] = list(extract_many([path], settings, progress=lambda *a: done.append(a),
                                        page_progress=lambda p, n: pages_read.append((p, n))))
    assert got == path and done == [(1, 1, path)]
    # progress is reported page by page while the long file is read
    assert pages_read == [(path, n) for n in range(1, 3001)]
    assert (result.status, result.page_count, len(result.pages)) == (INDEXED, 3000, 3000)
    assert [p.number for p in result.pages] == list(range(1, 3001))
    assert result.pages[-1].text == f"Final page mentions {hostile.LAST_PAGE_WORD}."
    assert [p.number for p in result.pages if hostile.LAST_PAGE_WORD in p.text] == [3000]


def test_docx_with_english_and_chinese(files, settings):
    result = extract_file(files["word.docx"], settings)
    assert (result.status, result.page_count, result.extractor) == (INDEXED, 2, "docx")
    first, second = result.pages
    assert first.text == ("EU-China regional policy dialogue\n"
                          f"Territorial {hostile.ENGLISH_WORD} is a shared goal of both partners.\nA table follows.")
    assert first.lang == "en"
    assert second.text == f"中欧区域政策合作\n双方就{hostile.CHINESE_WORD}与城镇化交流了经验。\nTable cell text"
    assert second.lang == "zh"
    assert result.date == "2012-05-03"


def test_docx_without_page_breaks_is_cut_into_sections(tmp_path, settings):
    paragraph = "Cohesion policy supports pilot regions in both partner countries. " * 10   # ~670 characters
    sections = [[("", f"{n}. {paragraph}") for n in range(1, 13)]]
    result = extract_file(hostile.docx_file(tmp_path / "long.docx", sections), settings)
    assert result.status == INDEXED
    assert result.page_count == len(result.pages) >= 3
    assert all(len(p.text) < 3000 + 700 for p in result.pages)
    lines = [line for p in result.pages for line in p.text.split("\n")]
    assert [line.split(".")[0] for line in lines] == [str(n) for n in range(1, 13)] + ["Table cell text"]


def test_zip_that_is_not_a_word_document(tmp_path, settings):
    import zipfile

    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    result = extract_file(path, settings)
    assert (result.status, result.reason) == (FAILED, "not a Word document: a ZIP archive without word/document.xml")


def test_password_protected_word_file(tmp_path, settings):
    result = extract_file(hostile.encrypted_docx(tmp_path / "secret.docx"), settings)
    assert (result.status, result.reason) == (ENCRYPTED, "encrypted: needs a password")


@needs_catdoc
def test_legacy_doc(files, settings):
    result = extract_file(files["legacy.doc"], settings)
    assert (result.status, result.extractor) == (INDEXED, "doc")
    assert hostile.ENGLISH_WORD in words(result)
    assert hostile.CHINESE_WORD in words(result)


# --- no text layer: OCR -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["scan-en.pdf", "scan-zh.pdf"])
def test_scan_without_ocr_needs_ocr(files, settings, name):
    if name not in files:
        pytest.skip(f"no CJK font at {hostile.CJK_FONT} (apt-get install fonts-wqy-microhei)")
    result = extract_file(files[name], settings)
    assert (result.status, result.reason) == (NEEDS_OCR, "needs OCR: 1 page has no text layer")
    assert result.failed_pages == [1] and result.pages == []


@needs_tesseract
@pytest.mark.parametrize("name, word", [("scan-en.pdf", hostile.ENGLISH_WORD), ("scan-zh.pdf", hostile.CHINESE_WORD)])
def test_scan_with_ocr_is_found_by_a_word(files, settings, name, word):
    if name not in files:
        pytest.skip(f"no CJK font at {hostile.CJK_FONT} (apt-get install fonts-wqy-microhei)")
    result = extract_file(files[name], settings.replace(ocr=True))
    assert (result.status, result.reason, result.extractor) == (INDEXED, "", "ocr")
    assert [p.extractor for p in result.pages] == ["ocr"]
    assert word in result.pages[0].text
    assert result.pages[0].lang == ("zh" if name == "scan-zh.pdf" else "en")


@needs_tesseract
def test_ocr_languages_follow_the_settings(settings):
    assert ocr_languages(settings) == ""                       # OCR off
    assert ocr_languages(settings.replace(ocr=True)) == "eng+chi_sim"
    assert ocr_languages(settings.replace(ocr=True, ocr_languages="eng+xx_nonexistent")) == "eng"


def test_text_page_and_scanned_page_without_ocr(tmp_path, settings):
    result = extract_file(hostile.text_and_scan_pdf(tmp_path / "mixed.pdf"), settings)
    assert (result.status, result.reason) == (PARTIAL, "needs OCR: 1 page has no text layer")
    assert [p.number for p in result.pages] == [1] and result.failed_pages == [2]


@needs_tesseract
def test_text_page_and_scanned_page_with_ocr(tmp_path, settings):
    result = extract_file(hostile.text_and_scan_pdf(tmp_path / "mixed.pdf"), settings.replace(ocr=True))
    assert (result.status, result.reason, result.extractor) == (INDEXED, "", "pypdf+ocr")
    assert [(p.number, p.extractor) for p in result.pages] == [(1, "pypdf"), (2, "ocr")]
    assert hostile.ENGLISH_WORD in result.pages[1].text


def test_garbled_page_without_ocr(files, settings):
    result = extract_file(files["garbled.pdf"], settings)
    assert (result.status, result.reason) == (NEEDS_OCR, "needs OCR: 1 page has only unreadable text")
    assert result.pages == []


@needs_tesseract
def test_garbled_page_is_read_by_ocr(files, settings):
    result = extract_file(files["garbled.pdf"], settings.replace(ocr=True))
    assert result.status == INDEXED
    assert [(p.extractor, p.text) for p in result.pages] == [("ocr", f"Regional {hostile.ENGLISH_WORD} report")]


def test_blank_pdf_is_not_success(tmp_path, settings):
    path = tmp_path / "blank.pdf"
    path.write_bytes(hostile.simple_pdf_bytes(["", ""]))
    result = extract_file(path, settings)
    assert (result.status, result.reason) == (FAILED, "no text found on any of the 2 pages")


# --- the sandbox ----------------------------------------------------------------------------------

def test_all_files_together_with_a_hung_worker(files, settings, tmp_path):
    """One run over the whole set: good files indexed, bad ones explained, a hang killed."""
    hung = tmp_path / "hang.pdf"
    shutil.copy(files["english.pdf"], hung)
    paths = list(files.values()) + [hung]
    quick = settings.replace(ocr=shutil.which("tesseract") is not None, extract_timeout_s=8.0)
    done = []
    started = time.monotonic()
    results = dict(_extract_many(paths, quick, lambda *a: done.append(a), hostile.hang_on_marker))
    elapsed = time.monotonic() - started
    assert sorted(results) == sorted(paths)
    assert [d[:2] for d in done] == [(n, len(paths)) for n in range(1, len(paths) + 1)]
    status = {path.name: (r.status, r.reason) for path, r in results.items()}

    for name in hostile.GOOD:
        if name == "legacy.doc" and not HAS_CATDOC:
            continue
        assert status[name][0] == INDEXED, (name, status[name])
    assert status["hang.pdf"] == (FAILED, "timed out after 8 s on page 1; pages 1–3 not read")
    assert results[hung].failed_pages == [1, 2, 3]
    assert status["zero.pdf"] == (FAILED, "empty file (0 bytes)")
    assert status["user-password.pdf"] == (ENCRYPTED, "encrypted: needs a password")
    for name in ("truncated.pdf", "self-tree.pdf", "inflating.pdf", "nested.pdf"):
        assert status[name][0] == PARTIAL, (name, status[name])
    for name in ("text.pdf", "download.pdf"):
        assert status[name][0] == FAILED and status[name][1].startswith("not a PDF"), status[name]
    for name in ("scan-en.pdf", "scan-zh.pdf", "garbled.pdf"):
        if name in status:
            assert status[name][0] == (INDEXED if quick.ocr else NEEDS_OCR), (name, status[name])
    # Two workers: the hang costs its time limit once, the rest runs beside it.
    assert elapsed < 8.0 + 20.0
    # The hung worker is gone; the others wait, idle, for the next call.
    assert sorted(sandbox_children()) == sandbox.shared_idle_pids()
    sandbox.close_shared_pools()
    assert sandbox_children() == []


def test_a_file_that_takes_too_long_is_killed(tmp_path, settings):
    slow = hostile.slow_pdf(tmp_path / "slow.pdf")
    good = hostile.english_pdf(tmp_path / "good.pdf")
    results = dict(extract_many([slow, good], settings.replace(extract_timeout_s=1.0, workers=1)))
    assert (results[slow].status, results[slow].reason) == (FAILED, "timed out after 1 s on page 1")
    assert results[good].status == INDEXED


def sandbox_children() -> list[int]:
    import multiprocessing

    return [p.pid for p in multiprocessing.active_children() if p.name == "extract-worker"]


def _sleep_or_echo(payload, emit):
    hostile.misbehave(payload, emit)
    emit("one")
    return payload.upper()


def test_sandbox_survives_hangs_crashes_memory_and_errors():
    tasks = [(name, name) for name in ("hang", "a", "crash", "b", "allocate", "raise", "c")]
    outcomes = {o.key: o for o in sandbox.run_isolated(_sleep_or_echo, tasks, workers=2, timeout_s=1.0,
                                                         memory_mb=256)}
    assert {k: o.value for k, o in outcomes.items() if o.failure is None} == {"a": "A", "b": "B", "c": "C"}
    assert outcomes["a"].chunks == ["one"]
    failures = {k: (o.failure.kind, o.failure.message) for k, o in outcomes.items() if o.failure}
    assert failures["hang"] == (sandbox.TIMEOUT, "timed out after 1 s")
    assert outcomes["hang"].chunks == ["started"]
    assert failures["crash"][0] == sandbox.CRASH and failures["crash"][1].startswith("the reader crashed (SIGSEGV)")
    assert failures["allocate"] == (sandbox.MEMORY, "exceeded the memory limit (256 MiB)")
    assert failures["raise"] == (sandbox.ERROR, "ValueError: bad value in the file")
    assert sandbox_children() == []


def test_closing_the_generator_kills_the_workers():
    outcomes = sandbox.run_isolated(_sleep_or_echo, [("a", "a"), ("hang", "hang")], workers=2, timeout_s=60)
    first = next(outcomes)
    assert first.key == "a"
    outcomes.close()
    assert sandbox_children() == []


def test_extract_many_of_nothing(settings):
    assert list(extract_many([], settings)) == []


# --- cleaning -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("ＥＵ２０１０年，中国", "EU2010年，中国"),                     # full-width letters fold, punctuation stays
    ("区域 政策 与 城镇化", "区域政策与城镇化"),
    ("中欧区域\n政策", "中欧区域政策"),
    ("regio-\nnal policy", "regional policy"),
    ("EU-\nChina dialogue", "EU-\nChina dialogue"),
    ("RReeggiioonnaall  PPoolliiccyy", "Regional Policy"),
    ("Annual Report 2012 Annual Report 2012", "Annual Report 2012"),
    ("区域政策合作区域政策合作", "区域政策合作"),
    ("nul\x00 and\x07 controls\ud800 and\ufeff bom", "nul and controls and bom"),
    ("ﬁnance", "finance"),
    ("line one\r\nline two\fpage", "line one\nline two\npage"),
    ("a  lot   of\t\tspace  ", "a lot of\tspace"),
    ("来源\u2f79\u2eda，增\u2ed3，\u2f3e数", "来源网页，增长，户数"),   # radicals for ideographs' glyphs (Chromium)
])
def test_clean_text(raw, clean):
    assert cleaning.clean_text(raw) == clean


def test_radical_ideographs_are_radicals_to_cjk_ideographs():
    import unicodedata

    for radical, ideograph in cleaning.RADICAL_IDEOGRAPHS.items():
        assert 0x2E80 <= radical <= 0x2FDF
        assert unicodedata.name(ideograph).startswith("CJK UNIFIED IDEOGRAPH")


@pytest.mark.parametrize("text", [
    "New York, New York", "Bora Bora", "1122 3344", "...... dots", "高高兴兴地", "Mississippi", "well-known",
    "Die Förderung der Regionalpolitik für Städte und Gemeinden",
    "Coopération territoriale européenne et politique de cohésion",
    "2012年5月3日，中欧区域政策合作对话在布鲁塞尔举行。",
])
def test_clean_text_leaves_normal_text_alone(text):
    assert cleaning.clean_text(text) == text
    assert not cleaning.looks_garbled(text)


@pytest.mark.parametrize("text", [
    "\ufffd" * 12 + " report",
    "".join(chr(0xE000 + i) for i in range(30)),
    "/g42/g43/g44/g45 /g46/g47 /g48",
    "(cid:12)(cid:44)(cid:45)(cid:46) text",
    "ÖÐ¹ú¹úÎñÔº°ì¹«Ìü¹ØÓÚÓ¡·¢¹ú¼Ò¹ú¼ÒÐÂÐÍ³ÇÕò»¯¹æ»®µÄÍ¨Öª",
    "ضصثقفغعهخحجدشسيبلاتنمكطئءؤرلاىةوزظ",
])
def test_looks_garbled(text):
    assert cleaning.looks_garbled(text)


def test_text_quality_counts_each_character_as_its_definition_says():
    """cleaning.text_quality and detect_language test each distinct character once and multiply by its
    count: the results are those of the per-character definitions over random text of every kind."""
    import random
    import unicodedata

    rng = random.Random(3)
    pools = ["abcXYZ019 \n\t\f", "区域政策合作", "ÖÐ¹úéü", "\ufffd\ue000\uf8ff\U000f0001", "\x00\x07\x0b\x7f\x9f",
             "²①٣½", "ضصث", "/g42(cid:3)"]
    for _ in range(300):
        text = "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 80)))
        bad = len("".join(m.group() for m in cleaning._GLYPH_NAMES.finditer(text)))
        good = len(cleaning._PLAUSIBLE_LETTER.findall(text))
        for ch in text:
            o = ord(ch)
            private = 0xE000 <= o <= 0xF8FF or o >= 0xF0000
            control = unicodedata.category(ch) == "Cc" and ch not in "\n\t\r\f"
            bad += ch == "\ufffd" or private or control
            good += ch.isdigit()
        assert cleaning.text_quality(text) == (good, bad), text
        cjk = sum("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)
        latin = sum(ch.isalpha() and ch.isascii() for ch in text)
        share = cjk / (cjk + latin / 4) if cjk or latin else None
        expected = "" if share is None else "zh" if share > 0.8 else "en" if share < 0.2 else "mixed"
        assert cleaning.detect_language(text) == expected, text


def test_looks_garbled_and_doubled_tokens_as_their_definitions_say():
    """cleaning.looks_garbled (characters classified once each, in one pass) answers as its
    straightforward definition does, and the fake-bold repair's shortcut (lines without three
    doubled characters left unsplit) as its token-by-token repair, over random text of every kind."""
    import random
    from collections import Counter

    def garbled(text):
        counts = Counter(text)
        visible = sum(n for ch, n in counts.items() if not ch.isspace())
        if not visible:
            return False
        good, bad = cleaning.text_quality(text)
        if bad / visible > 0.1:
            return True
        runs = cleaning._GLYPH_NAMES.findall(text)
        if len(runs) >= 3 and sum(map(len, runs)) / visible > 0.05:
            return True
        letters = sum(ch.isalpha() for ch in text)
        if letters >= 20:
            if good / letters < 0.6:
                return True
            accented = sum("\u00c0" <= ch <= "\u00ff" for ch in text)
            if accented > 10 and accented > sum(ch.isascii() and ch.isalpha() for ch in text):
                return True
        return False

    rng = random.Random(5)
    pools = ["abcXYZ019 \n\t", "区域政策合作", "ÖÐ¹úéüÄ", "\ufffd\ue000", "ضصثقف", "/g42(cid:3)", "  ",
             "RReeggiioonn", "aabbcc", "高高兴兴"]
    seen = set()
    for _ in range(3000):
        text = "".join(rng.choice(rng.choice(pools)) if rng.random() < 0.7 else rng.choice(pools)
                       for _ in range(rng.randint(0, 120)))
        assert cleaning.looks_garbled(text) == garbled(text), text
        seen.add(garbled(text))
        for line in text.split("\n"):
            undoubled = cleaning._undouble_tokens(line)
            assert cleaning._collapse_doubled_tokens(line) == undoubled, line
            seen.add(("collapsed", undoubled != line))
    assert seen == {True, False, ("collapsed", True), ("collapsed", False)}


@pytest.mark.parametrize("text, lang", [
    ("Regional policy", "en"), ("区域政策", "zh"), ("EU 区域政策 dialogue on cohesion", "mixed"), ("12 34", ""),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_page_text_fields():
    page = PageText(3, "text", "en", "pdfium")
    assert (page.number, page.text, page.lang, page.extractor) == (3, "text", "en", "pdfium")
