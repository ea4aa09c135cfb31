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
from conftest import write_pdf
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
    """A correct CID font (reportlab's STSong-Light): pypdf's text stays; PDFium is asked until the font is trusted."""

    from indexer import extract

    # A title page too short to prove anything, then pages of text.
    pages = ["中欧区域政策合作"] + ["第%d页。" % n + "国家发展和改革委员会与欧盟委员会区域政策总司签署了谅解备忘录。" * 4
                              for n in range(2, 7)]
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
    assert extract.TRUSTED_AFTER_PAGES == 1 and asked == [0, 1]
    assert_agrees_with_poppler(result, path)


def test_english_pages_are_not_read_twice(tmp_path, settings, monkeypatch):

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
    why = f"{OCR_UNREADABLE} (Tesseract languages: chi_sim+eng)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, path, oracle_path=twin)


def test_status_and_document_page_say_which_reader_read_which_pages(tmp_path, capsys):
    """Tried as a user would: the mis-decoded file is found by a phrase on it, and every status view says why."""
    import json

    from conftest import make_settings, write_config, write_pdf
    from indexer.cli import main
    from webapp import create_app

    settings = make_settings(tmp_path)
    archive = Path(settings.archive_dir)
    pdfcases.write_cid_pdf(archive / "gb1.pdf", CHINESE_PAGES, ordering="GB1")
    write_pdf(archive / "plain.pdf", ["Cohesion policy and regional development."])
    pdfcases.write_cid_pdf(archive / "rare.pdf", [["𠮷田先生在广州参加了研讨会"]], to_unicode="pua", rare={"𠮷": "吉"})
    config = write_config(settings, tmp_path / "config.toml")
    assert main(["--config", str(config), "update"]) == 0
    capsys.readouterr()

    assert main(["--config", str(config), "status", "--json"]) == 0
    files = {f["path"]: f for f in json.loads(capsys.readouterr().out)["files"]}
    assert files["gb1.pdf"]["readers"] == [{"extractor": "pdfium", "why": MISDECODED, "pages": [1, 2, 3]}]
    assert files["gb1.pdf"]["reading"] == f"pages 1–3: {MISDECODED}"
    assert files["plain.pdf"]["readers"] == [{"extractor": "pypdf", "why": "", "pages": [1]}]
    assert files["plain.pdf"]["reading"] == ""

    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert f"read with help: gb1.pdf: pages 1–3: {MISDECODED}" in out
    assert "plain.pdf" not in out

    client = create_app(settings).test_client()
    status_page = client.get("/status").get_data(as_text=True)
    helped = status_page.split('id="helped-heading"')[1]
    assert "gb1.pdf" in helped and MISDECODED in helped.replace("&#39;", "'")
    assert "plain.pdf" not in helped
    document = client.get("/documents/gb1").get_data(as_text=True)
    assert f"pages 1–3: {MISDECODED}" in document.replace("&#39;", "'")
    found = client.get("/api/search", query_string={"q": '"区域协调发展"'}).get_json()
    assert [hit["id"] for hit in found["results"]] == ["gb1"]
    found = client.get("/api/search", query_string={"q": "𠮷田"}).get_json()
    assert [hit["id"] for hit in found["results"]] == ["rare"]


ENGLISH_SCAN = ("Chapter II\nPart IV of the Regional Policy Dialogue, Annex III and Article VI of the Memorandum "
                "of Understanding.\nSection XII: territorial cohesion, urbanisation and the cooperation between "
                "cities in Europe and China.\nChapter III sets out the programme for 2013, Volume I and Volume II.\n"
                "The seminar in Guangzhou brought together officials of the provinces and experts of the "
                "European Commission to compare the instruments of regional policy, the evaluation of "
                "structural funds and the statistics on which the allocation of funds is based. "
                "The participants agreed that the next training session would address the governance of "
                "metropolitan areas, the protection of farmland and the role of small and medium cities.\n"
                "Annex I lists the participants; Annex II gives the agenda of the study visit to Brussels.")
CHINESE_SCAN = ("中欧区域政策合作是双方在区域发展领域的重要对话机制。"
                "国家发展和改革委员会与欧盟委员会区域政策总司签署了谅解备忘录。")


@needs_tesseract
@pytest.mark.parametrize("name, text, langs", [("en", ENGLISH_SCAN, "eng"), ("zh", CHINESE_SCAN, "chi_sim+eng")])
def test_scanned_page_is_read_in_its_own_language(tmp_path, settings, name, text, langs):
    """A scan (an image of a generated page): OCR in the languages of the script Tesseract detects.

    The oracle is poppler's text of the page the scan was made from.
    """


    # Printed in a serif face, as reports are: in Helvetica, "III" and "Ill" are the same glyphs.
    source = write_pdf(tmp_path / f"{name}-source.pdf", [text], font="Times-Roman" if name == "en" else None)
    scan = pdfcases.write_scan_pdf(tmp_path / f"{name}-scan.pdf", source, dpi=300)
    assert pdfcases.pdftotext(scan, 1).strip() == ""
    result = extract_file(scan, settings.replace(ocr=True))
    why = f"{OCR_NO_LAYER} (Tesseract languages: {langs})"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, scan, oracle_path=source)
    if name == "en":
        assert "Chapter II" in result.pages[0].text and "Section XII" in result.pages[0].text


def test_ocr_languages_of_a_page_follow_its_script():
    from indexer.extract import page_ocr_languages

    assert page_ocr_languages("eng+chi_sim", "Latin") == "eng"
    assert page_ocr_languages("eng+fra+deu+chi_sim", "Latin") == "eng+fra+deu"
    assert page_ocr_languages("eng+fra+chi_sim", "Han") == "chi_sim+eng"
    assert page_ocr_languages("fra+chi_sim", "Han") == "chi_sim"
    # OSD takes a Chinese page for Korean at times: the CJK languages read it.
    assert page_ocr_languages("eng+chi_sim", "Korean") == "chi_sim+eng"
    # A script no configured language reads, or none detected: every configured language, the CJK
    # ones first (an English model first reads Chinese lines as junk letters).
    assert page_ocr_languages("eng+chi_sim", "Cyrillic") == "chi_sim+eng"
    assert page_ocr_languages("eng+fra+chi_sim", "") == "chi_sim+eng+fra"
    assert page_ocr_languages("eng+fra", "Han") == "eng+fra"


def test_a_tounicode_map_that_lies_needs_ocr(tmp_path, settings):
    """Every glyph mapped to another common character: pypdf and PDFium agree on Chinese that is not Chinese."""
    path = pdfcases.write_cid_pdf(tmp_path / "lie.pdf", CHINESE_PAGES[:1], to_unicode="lie")
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    lie = doc[0].get_textpage().get_text_range()
    doc.close()
    assert pdfcases.agreement(lie, pdfcases.pdftotext(path, 1)) > 0.9       # every reader is fooled
    result = extract_file(path, settings)
    assert (result.status, result.reason) == ("needs_ocr", "needs OCR: 1 page has only unreadable text")


@needs_tesseract
def test_a_tounicode_map_that_lies_is_read_by_ocr(tmp_path, settings):
    lines = CHINESE_PAGES[0]
    path = pdfcases.write_cid_pdf(tmp_path / "lie.pdf", [lines], to_unicode="lie")
    twin = pdfcases.write_cid_pdf(tmp_path / "twin.pdf", [lines], to_unicode="true")
    result = extract_file(path, settings.replace(ocr=True))
    why = f"{OCR_UNREADABLE} (Tesseract languages: chi_sim+eng)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, path, oracle_path=twin)


# Real-world text layers that every reader decodes the same wrong way (seen in ocrmypdf's test
# files): a ToUnicode map in the wrong byte order, and a font whose codes map to signs.
LABEL_LINES = ["Multicolor Black", "Pure Magenta", "Phone and Fax"]      # short, as a label is


@needs_tesseract
@pytest.mark.parametrize("to_unicode", ["swapped", "signs"])
def test_a_text_layer_every_reader_decodes_wrongly_is_read_by_ocr(tmp_path, settings, to_unicode):
    path = pdfcases.write_cid_pdf(tmp_path / f"{to_unicode}.pdf", [LABEL_LINES], to_unicode=to_unicode)
    twin = pdfcases.write_cid_pdf(tmp_path / "twin.pdf", [LABEL_LINES], to_unicode="true")
    assert pdfcases.agreement(pdfcases.pdftotext(path, 1), pdfcases.pdftotext(twin, 1)) == 0  # poppler is fooled
    result = extract_file(path, settings.replace(ocr=True))
    why = f"{OCR_UNREADABLE} (Tesseract languages: eng)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, path, oracle_path=twin)


def test_a_first_ocr_reading_tells_a_latin_page_from_a_chinese_one():
    from indexer.extract import _reads_as_latin

    # Latin letters and rules misread as Chinese, as ocrmypdf's map and chart scans came out.
    assert _reads_as_latin("Lehuntze Mugerre Angelu Milafranga Komunikabideak BAIONA ss 和二")
    assert _reads_as_latin("600 500 Support No vote[note 1] Oppose 一一一 et[mote 2] Percentage [note 3]")
    assert _reads_as_latin("Desktop Test")
    assert not _reads_as_latin(CHINESE_SCAN)
    assert not _reads_as_latin("第三章 区域政策 Regional policy and cohesion")


def test_type3_glyphs_named_by_their_codes_are_read_with_pdfium(tmp_path, settings):
    """An insurer's report in Type3 fonts whose glyphs are named "/65", "/115": pypdf printed the
    names; PDFium and poppler take the number for the code. Dates' slashes stay text."""
    from indexer.cleaning import looks_garbled
    from indexer.extract import UNREADABLE_PDFIUM

    lines = ["Assicurazione sulla vita di tipo Unit Linked", "Documento informativo precontrattuale aggiuntivo",
             "per i prodotti di investimento assicurativi (DIP aggiuntivo IBIP)", "Data: 03/06/2019 e 1/2"]
    path = pdfcases.write_type3_numbered_glyphs_pdf(tmp_path / "type3.pdf", lines)
    result = extract_file(path, settings)
    assert result.readers == [{"extractor": "pdfium", "why": UNREADABLE_PDFIUM, "pages": [1]}]
    assert_agrees_with_poppler(result, path)
    assert not looks_garbled("Importi al 03/06/2019, 12/05/2020 e 1/2/3 del totale; fondi 1/4")


def test_a_page_in_several_scripts_both_readers_agree_on_is_kept(tmp_path, settings):
    """A summary listed in the EU's and China's languages (Latin, Cyrillic, Greek, Chinese) mixes
    scripts as a mis-decoded font does; but each word keeps to one script and PDFium reads the
    same letters, so pypdf's text stands. It was sent to OCR, and lost where OCR is off."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from hostile import LATIN_FONT
    from indexer.cleaning import words_keep_to_one_script

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(LATIN_FONT)))
    lines = [("DejaVu", "The summary of the joint study is published in these languages:"),
             ("DejaVu", "Bulgarian: Резюме на съвместното проучване"), ("DejaVu", "Greek: Περίληψη της κοινής μελέτης"),
             ("DejaVu", "Russian: Краткое изложение совместного исследования"),
             (_sans_cjk_font(), "Chinese: 联合研究摘要"), ("DejaVu", "English: Summary of the joint study")]
    path = tmp_path / "languages.pdf"
    c = canvas.Canvas(str(path), invariant=1)
    for line, (font, text) in enumerate(lines):
        c.setFont(font, 12)
        c.drawString(50, 780 - 20 * line, text)
    c.showPage()
    c.save()
    result = extract_file(path, settings)
    assert result.readers == [{"extractor": "pypdf", "why": "", "pages": [1]}]
    assert_agrees_with_poppler(result, path)
    # A Chinese line read as chr(CID) mixes scripts inside its words.
    assert not words_keep_to_one_script("Ӓ႕ԑᎭ Ⴥ৩ঊᏃ ୬ౘԴ summary")


def test_typewriter_annotations_are_read_with_the_page(tmp_path, settings):
    """A form filled with Acrobat's "Add text" tool: the answers are FreeText annotations, which the
    page shows (and pdftotext reads from their appearance) but pypdf's page text leaves out. A
    hidden one is not shown, and not read."""
    lines = ["Application for the study visit to Brussels", "Name of the official:"]
    notes = ["Wang Lei, Department of Regional Economy", "Approved by the steering committee"]
    path = pdfcases.write_free_text_pdf(tmp_path / "form.pdf", lines, notes, hidden="internal draft remark")
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    assert "Wang Lei" in result.pages[0].text and "draft" not in result.pages[0].text
    # A page of annotations alone (no content text) is read, not taken for blank.
    alone = pdfcases.write_free_text_pdf(tmp_path / "alone.pdf", [], notes)
    assert extract_file(alone, settings).pages[0].text == "\n\n".join(notes)


def test_a_subset_reencoded_by_the_pdf_is_read_with_pdfium(tmp_path, settings):
    """A journal's Type1C subsets whose PDF /Differences re-number the glyphs from 0 (as Acrobat
    Distiller writes them) over the font program's own encoding: the PDF's wins, as PDFium and
    poppler read it; pypdf took the program's and gave letters in the wrong places, which passed
    every check as Latin text."""
    words = "Gastrointestinal endoscopy in the cat a minimally invasive approach".split()
    letters = sorted(set("".join(words))) + [" "]
    names = {code: "space" if ch == " " else ch for code, ch in enumerate(letters, start=1)}
    codes = sorted(names)
    own = {code: names[codes[(i + 3) % len(codes)]] for i, code in enumerate(codes)}    # the program's order
    text = bytes(letters.index(ch) + 1 for ch in " ".join(words))
    path = pdfcases.write_builtin_encoding_pdf(tmp_path / "journal.pdf", text, own, differences=names)
    result = extract_file(path, settings)
    assert result.readers == [{"extractor": "pdfium", "why": MISDECODED, "pages": [1]}]
    assert_agrees_with_poppler(result, path)
    # The same font whose program agrees with the PDF is read by pypdf, and trusted.
    agreeing = pdfcases.write_builtin_encoding_pdf(tmp_path / "agreeing.pdf", text, names, differences=names)
    assert extract_file(agreeing, settings).readers == [{"extractor": "pypdf", "why": "", "pages": [1]}]


def test_a_text_layer_of_signs_alone_is_unreadable():
    from indexer.cleaning import looks_garbled

    assert looks_garbled('"7+%-') and looks_garbled("\u4d00\u7500\u6c00\u7400")   # signs; "Mult" byte-swapped
    # A page number, a row of figures, real Chinese with 一 (U+4E00) are text.
    assert not any(map(looks_garbled, ["- 3 -", "(12)", "1,234.5 6.7 (8.9)", "一二三四", "一般"]))


@needs_tesseract
def test_letters_drawn_as_outlines_are_read_by_ocr(tmp_path, settings):
    """A page with no text layer and no image whose letters are paths (an exported drawing) is OCR'd."""
    lines = ["Sample Vector Page for Testing", "This text is drawn as outlines"]
    path = pdfcases.write_outlined_text_pdf(tmp_path / "vector.pdf", lines)
    twin = write_pdf(tmp_path / "twin.pdf", ["\n".join(lines)])
    assert pdfcases.pdftotext(path, 1).strip() == ""
    result = extract_file(path, settings.replace(ocr=True))
    why = f"{OCR_NO_LAYER} (Tesseract languages: eng)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, path, oracle_path=twin)
    # A table's frame alone is no text: the page is blank, not OCR'd.
    frame = pdfcases.write_outlined_text_pdf(tmp_path / "frame.pdf", [], frame_only=True)
    blank = extract_file(frame, settings.replace(ocr=True))
    assert (blank.status, blank.readers) == ("failed", [])


@needs_tesseract
def test_a_few_words_osd_cannot_place_are_read_in_english_only(tmp_path, settings):
    """Too few letters for script detection: the first reading, in every language, finds (almost) no Chinese."""
    source = write_pdf(tmp_path / "source.pdf", ["Capture Desktop Test"], font="Times-Roman")
    scan = pdfcases.write_scan_pdf(tmp_path / "scan.pdf", source, dpi=300)
    result = extract_file(scan, settings.replace(ocr=True))
    why = f"{OCR_NO_LAYER} (Tesseract languages: eng)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, scan, oracle_path=source)


def _sans_cjk_font() -> str:
    """Register the CJK sans face tests draw with (WenQuanYi Micro Hei) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "MicroHei" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("MicroHei", str(pdfcases.CJK_FONT), subfontIndex=0))
    return "MicroHei"


@needs_tesseract
def test_chinese_lines_under_an_english_title_are_read_in_chinese(tmp_path, settings):
    """OSD names a page's main script only: on a cover whose English title outweighs its Chinese
    lines it says Latin, and the English reading turns the Chinese into junk letters. A reading
    Tesseract is unsure of is read again with the Chinese languages first, and kept as it reads more."""
    from reportlab.pdfgen import canvas

    source = tmp_path / "cover.pdf"
    c = canvas.Canvas(str(source), invariant=1)
    c.setFont("Times-Bold", 30)
    c.drawString(50, 720, "Regional Policy in Europe and China")
    c.setFont("Times-Roman", 20)
    c.drawString(50, 680, "From Cohesion to Territorial Development")
    c.setFont(_sans_cjk_font(), 12)
    c.drawString(50, 600, CHINESE_SCAN[:27])
    c.drawString(50, 580, CHINESE_SCAN[27:])
    c.setFont("Times-Roman", 16)
    c.drawString(50, 480, "Joint Study of the European Commission and the NDRC")
    c.showPage()
    c.save()
    scan = pdfcases.write_scan_pdf(tmp_path / "scan.pdf", source, dpi=300)
    result = extract_file(scan, settings.replace(ocr=True))
    why = f"{OCR_NO_LAYER} (Tesseract languages: chi_sim+eng)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, scan, oracle_path=source)


@needs_tesseract
def test_a_scan_on_unevenly_lit_paper_is_read_whole(tmp_path, settings):
    """One threshold for the whole page turns the shaded part of the paper black and its text is
    lost; a page whose paper is unevenly lit is read again with Sauvola's local threshold."""
    from reportlab.pdfgen import canvas

    source = tmp_path / "source.pdf"
    c = canvas.Canvas(str(source), invariant=1)
    c.setFont(_sans_cjk_font(), 11)
    for line in range(8):
        c.drawString(40, 780 - 18 * line, CHINESE_SCAN[:27] if line % 2 == 0 else CHINESE_SCAN[27:])
    c.showPage()
    c.save()
    scan = pdfcases.write_scan_pdf(tmp_path / "scan.pdf", source, dpi=300, shadow=130)
    result = extract_file(scan, settings.replace(ocr=True))
    why = f"{OCR_NO_LAYER} (Tesseract languages: chi_sim+eng; Sauvola thresholding)"
    assert result.readers == [{"extractor": "ocr", "why": why, "pages": [1]}]
    assert_agrees_with_poppler(result, scan, oracle_path=source)


SONG_FONT = Path("/usr/share/fonts/truetype/arphic/uming.ttc")        # Debian: fonts-arphic-uming


@needs_tesseract
@pytest.mark.skipif(not SONG_FONT.exists(), reason="no Song face (apt-get install fonts-arphic-uming)")
def test_a_chinese_scan_in_a_song_face_keeps_its_lines(tmp_path, settings):
    """Chinese print is set in a Song (Ming) face: read at the resolution it was rendered at, its lines stay whole."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "UMing" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("UMing", str(SONG_FONT), subfontIndex=0))
    source = tmp_path / "song.pdf"
    c = canvas.Canvas(str(source), invariant=1)
    c.setFont("UMing", 11)
    c.drawString(40, 800, CHINESE_SCAN[:40])
    c.drawString(40, 784, CHINESE_SCAN[40:])
    c.showPage()
    c.save()
    scan = pdfcases.write_scan_pdf(tmp_path / "scan.pdf", source, dpi=300)
    result = extract_file(scan, settings.replace(ocr=True))
    assert_agrees_with_poppler(result, scan, oracle_path=source)


def test_real_chinese_is_plausible_and_shuffled_is_not():
    from indexer.cleaning import chinese_word_share, implausible_chinese

    real = "".join(CHINESE_PAGES[0] + CHINESE_PAGES[2])
    hits, pairs = chinese_word_share(real)
    assert pairs >= 40 and hits / pairs > 0.3 and not implausible_chinese(real)
    shuffled = "".join(sorted(real))
    assert implausible_chinese(shuffled)
    assert not implausible_chinese(shuffled[:30])        # too short to judge
    assert not implausible_chinese("Cohesion policy " * 20)


def test_the_common_words_file_is_jiebas():
    import importlib.util

    from indexer.cleaning import _common_chinese_words
    from indexer.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("make_words", PROJECT_ROOT / "scripts" / "make-zh-common-words.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert _common_chinese_words() == frozenset(module.common_words())


TABLE = [
    ["Amount", "Description", "Date", "Code"],
    ["920.68", "STAFF TRANSPORTATION", "03/06/2019", "281,25"],
    ["1,204.00", "TRAINING SEMINAR GUANGZHOU", "STOOF", "14/11/2012"],
    ["77.10", "OFFICE SUPPLIES", "01/02/2013", "A-17"],
    ["3,560.00", "STUDY VISIT BRUSSELS", "22/09/2011", "CETREGIO"],
]


WORD_TABLE = [
    ["Region", "Programme", "Partner", "Status"],
    ["Guangdong", "Interreg", "Andalusia", "Ongoing"],
    ["Sichuan", "Urban", "Lombardy", "Completed"],
    ["STAFF", "TRANSPORTATION", "SEMINAR", "GUANGZHOU"],
]


# Cells of words and codes, no digit against a letter: a word against a code ("C-04"), as
# LibreOffice Calc sets a full column against the next one.
CODE_TABLE = [
    ["STAFF TRANSPORTATION", "C-04", "17.0%"],
    ["travel insurance", "A-36", "2.4%"],
]


# A statistical table of numbers only: glued, they make numbers no number is.
NUMBER_TABLE = [
    ["89.56", "9,374,584", "1,893,065"],
    ["5,729,023", "9,736,999", "60.22"],
]
# Cells of one word each, 2 points apart (0.22 em) in a font whose space is 1 em wide.
WIDE_SPACE_TABLE = [
    ["5,603,589", "EXPERT", "C-33"],
    ["917.40", "catering", "B-25"],
]


@pytest.mark.parametrize("table, options, glued, cells", [
    # Cells 1 point apart (0.11 em; a space is 0.28): pypdf and PDFium glue them, poppler does not.
    (TABLE, {}, ["TRANSPORTATION03/06/2019281,25"],
     ("920.68", "STAFF", "03/06/2019", "281,25", "GUANGZHOU", "STOOF", "CETREGIO")),
    # Cells without a digit: a word against a capitalised word, a long run of capitals.
    (WORD_TABLE, {}, ["GuangdongInterregAndalusiaOngoing", "STAFFTRANSPORTATION"],
     ("Programme", "Guangdong", "Interreg", "Andalusia", "Lombardy", "Completed", "STAFF", "TRANSPORTATION",
      "GUANGZHOU")),
    (CODE_TABLE, {}, ["TRANSPORTATIONC-04", "insuranceA-36"], ("TRANSPORTATION", "C-04", "insurance", "A-36")),
    # In a composite font, as browsers and office suites embed fonts: the page's fonts are not
    # yet trusted, so PDFium reads the page too, and pypdf's text is kept, its cells split as well.
    (TABLE, {"composite": True}, ["TRANSPORTATION03/06/2019281,25"],
     ("920.68", "STAFF", "03/06/2019", "281,25", "GUANGZHOU", "STOOF", "CETREGIO")),
    # Chromium's matrix: 12 Tf under 0.75 is a 9-point font, so 1.4 text-space units apart
    # (1.05 points) are 0.12 em, a word gap for poppler, though 0.09 of the 12 PDFium gives.
    (TABLE, {"scale": 0.75, "font_size": 12, "gap": 1.4}, ["TRANSPORTATION03/06/2019281,25"],
     ("920.68", "STAFF", "03/06/2019", "281,25", "GUANGZHOU", "STOOF", "CETREGIO")),
    (NUMBER_TABLE, {}, ["89.569,374,5841,893,065", "5,729,0239,736,99960.22"],
     ("89.56", "9,374,584", "1,893,065", "5,729,023", "9,736,999", "60.22")),
    # pypdf wants a word gap as wide as the font's space, PDFium writes a space of its own at a
    # narrower one: PDFium's words are apart, pypdf's are one ("5,603,589EXPERTC-33").
    (WIDE_SPACE_TABLE, {"space_width": 1000, "gap": 2.0}, ["5,603,589EXPERTC-33", "917.40cateringB-25"],
     ("5,603,589", "EXPERT", "C-33", "917.40", "catering", "B-25")),
    # pypdf writes the ligature the font draws ("oﬃce"), PDFium its letters.
    ([["8,747,767", "o\ufb03ce supplies", "A-57"]], {"composite": True}, ["8,747,767o\ufb03ce"],
     ("8,747,767", "office", "supplies", "A-57")),
], ids=["with-numbers", "words-only", "word-against-code", "composite-font", "scaled-by-matrix", "numbers-only",
        "pdfium-spaces", "ligature"])
def test_table_cells_closer_than_a_space_stay_words(tmp_path, settings, table, options, glued, cells):
    """Table cells glued in pypdf's text are split as poppler splits them, and pypdf's text is kept."""
    import pypdf

    path = pdfcases.write_table_pdf(tmp_path / "table.pdf", table, **{"gap": 1.0, **options})
    raw = pypdf.PdfReader(path).pages[0].extract_text()
    assert all(run in raw for run in glued)             # the case is real
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    words = result.pages[0].text.split()
    for cell in cells:
        assert cell in words
    assert [(p.extractor, p.why) for p in result.pages] == [("pypdf", "")]


def test_cells_pypdf_runs_together_and_pdfium_keeps_apart_stay_words(tmp_path, settings):
    """A word processor's table (cells placed one by one in a scaled, upside-down coordinate system):
    pypdf misjudges the space's width and runs whole rows together; PDFium keeps the cells apart."""
    rows = [["MENA", "JUAN MARTIN", "27.083.460", "09/10/2013", "EFECTIVO", "$ 10.000,00"],
            ["FERNANDEZ", "JUAN", "25.348.547", "09/10/2013", "EFECTIVO", "$ 5.000,00"]]
    path = pdfcases.write_subset_table_pdf(tmp_path / "donors.pdf", rows)
    import pypdf

    assert "2013EFECTIVO" in pypdf.PdfReader(path).pages[0].extract_text()    # the cause, as found
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    assert "FERNANDEZ JUAN 25.348.547 09/10/2013 EFECTIVO" in result.pages[0].text


JUSTIFIED_LINES = ["a report by the European Commission concluded in 2002 that",
                   "for every euro devoted to measurement activity, nearly three euros are generated",
                   "This is the right time to explain why and how the concept of measurement uncer-",
                   "tainty became explicitly applicable to analytical sciences."]


def test_words_of_a_tightly_justified_line_stay_words(tmp_path, settings):
    """A book set by iText: word gaps of 0.21 em in a subset font whose code 32 is another glyph
    0.6 em wide; pypdf runs every word of a line together, and PDFium joins a line-end
    hyphen to the next line ("uncer\ufffetainty"). Both are read as the glyphs stand."""
    path = pdfcases.write_justified_pdf(tmp_path / "book.pdf", JUSTIFIED_LINES)
    import pypdf

    assert "foreveryeurodevoted" in pypdf.PdfReader(path).pages[0].extract_text()    # the cause, as found
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    assert "explain why and how the concept of measurement uncertainty became" in result.pages[0].text


def test_glyph_places_after_a_character_beyond_the_bmp(tmp_path, settings):
    """PDFium counts a character beyond the BMP (𝛽 in a formula, 𠮷 in a name; here 𐐀, which the
    test's font draws) as two: every glyph after it was measured as its neighbour's, and cells
    were split inside words ("920.68S TAFF")."""
    rows = [["(𐐀 = 80 %)"], ["920.68", "STAFF", "TRANSPORTATION", "03/06/2019"], ["1,234,567", "EXPERT", "FEES", "C-04"]]
    path = pdfcases.write_table_pdf(tmp_path / "astral.pdf", rows, gap=1.0, composite=True)
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    assert "920.68 STAFF TRANSPORTATION 03/06/2019" in result.pages[0].text


def test_figures_aligned_on_the_point_stay_whole(tmp_path, settings):
    """A layout program's table maps the decimal point to " ." (with ActualText "."): pypdf reads
    "11,062 .6"; PDFium reads the figure whole, and so does the archive."""
    rows = [["Total", "11,062.6", "1,540.0"], ["Violent crime", "467.9", "69.1"], ["Murder", "12.6", "1.0"]]
    path = pdfcases.write_decimal_column_pdf(tmp_path / "figures.pdf", rows)
    import pypdf

    assert "11,062 .6" in pypdf.PdfReader(path).pages[0].extract_text()
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    assert "11,062.6 1,540.0" in result.pages[0].text


FOOTNOTED = [("The memorandum on regional cooperation", "1", " was signed in Brussels by both sides."),
             ("Alpha Huang", "12", " wrote the notes on territorial cohesion policy."),
             ("The seminar on urbanisation", "3", " brought together experts from the provinces.")]


def test_a_footnote_mark_run_into_its_word_is_a_word_of_its_own(tmp_path, settings):
    """A raised, smaller mark after a word ("cooperation¹"): pypdf, PDFium and poppler all give
    "cooperation1", which no search for the word finds; the archive gives "cooperation 1"."""
    path = pdfcases.write_footnote_marks_pdf(tmp_path / "notes.pdf", FOOTNOTED)
    twin = pdfcases.write_footnote_marks_pdf(tmp_path / "twin.pdf", FOOTNOTED, spaced=True)
    assert "cooperation1" in pdfcases.pdftotext(path, 1)                  # every reader runs them together
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path, oracle_path=twin)
    # A subscript is lowered, not raised: "CO2" and "nh3" stay words beside a footnote mark.
    formula = pdfcases.write_footnote_marks_pdf(tmp_path / "co2.pdf", FOOTNOTED[:1] + [
        ("emissions of CO", "2", " fell", -2), ("and of nh", "3", " too", -2)])
    text = extract_file(formula, settings).pages[0].text
    assert "cooperation 1" in text and "CO2" in text and "nh3" in text


def test_radicals_a_font_shares_with_ideographs_are_read_as_the_ideographs(tmp_path, settings):
    """A ToUnicode map that names a CJK radical for an ideograph's glyph (Chromium's): the ideograph is kept.

    The page gives the ideograph in an ActualText span, which poppler and
    PDFium read and pypdf does not: "网页" would be stored as "网⻚" and never found.
    """
    import pypdf

    lines = ["来源网页列出了研讨会的文件", "区域政策对增长和就业的贡献", "户数和人口按地区统计", "部门之间的合作"]
    path = pdfcases.write_cid_pdf(tmp_path / "radicals.pdf", [lines], to_unicode="radicals")
    raw = pypdf.PdfReader(path).pages[0].extract_text()
    assert "\u2eda" in raw and "\u2f3e" in raw          # the case is real: pypdf gives the radicals
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    text = result.pages[0].text
    assert all(word in text for word in ("网页", "增长", "户数", "部门"))
    assert [(p.extractor, p.why) for p in result.pages] == [("pypdf", "")]


def test_a_number_against_a_cells_word_is_split_closer_than_poppler_splits(tmp_path, settings):
    """Cells 0.6 points apart (0.067 em) where a number meets a word: split, though poppler glues them.

    A right-aligned amount against the next cell's text, with no padding but
    the cell's rule between them (Chromium's and LibreOffice's tables); "expert
    fees" cannot be found in "5,603,589expert fees". A line whose glyphs are
    set one by one, each as far apart (letter-spacing), keeps its words whole.
    """
    rows = [["5,603,589", "expert fees", "C-33"], ["917.40", "venue rental", "B-25"], ["2019", "report", "2,400"]]
    path = pdfcases.write_table_pdf(tmp_path / "table.pdf", rows, gap=0.6)
    assert "5,603,589expert" in pdfcases.pdftotext(path, 1)       # poppler glues them
    words = extract_file(path, settings).pages[0].text.split()
    assert {"5,603,589", "expert", "917.40", "venue", "2019", "report", "2,400"} <= set(words)
    line = "COVID19 and G20 in the 2nd round, 5km and 2019report"
    tracked = pdfcases.write_table_pdf(tmp_path / "tracked.pdf", [list(line)], gap=0.7)
    assert extract_file(tracked, settings).pages[0].text == line


# LibreOffice Writer's expense table without cell padding: each amount, right-aligned, ends where
# the next cell's word begins (">": a cell that ends at its column's right edge).
TOUCHING_TABLE = [["2012-11-27", ">6,363,615", "PER DIEM", "C-92"],
                  ["19/09/2015", ">49.17", "EXPERT FEES", "C-81"],
                  ["2011-12-06", ">899.10", "venue rental", "A-68"]]
TOUCHING_EDGES = [50, 100, 150, 240, 270]


def test_cells_that_touch_in_a_column_stay_words(tmp_path, settings):
    """Amounts whose last glyph ends where the next cell's word begins, on every row: split.

    The page shows "49.17EXPERT FEES" with no gap and no rule (Writer's
    borderless table), and pypdf, PDFium and poppler all read it so; what
    tells the cells apart is the column: each word is a text object of its
    own starting at one x on every row, right after an amount that ends
    there. The words are the cells the table was made of, so poppler, which
    glues them, is not the oracle here.
    """
    import pypdf

    path = pdfcases.write_touching_cells_pdf(tmp_path / "writer.pdf", TOUCHING_TABLE, TOUCHING_EDGES)
    assert "49.17EXPERT" in pypdf.PdfReader(path).pages[0].extract_text()       # the case is real
    assert "49.17EXPERT" in pdfcases.pdftotext(path, 1)
    text = extract_file(path, settings).pages[0].text
    assert text.splitlines() == [" ".join(cell.lstrip(">") for cell in row) for row in TOUCHING_TABLE]


def test_cells_a_vertical_rule_parts_stay_words(tmp_path, settings):
    """Cells that touch but for the rule drawn between them (a bordered table without padding): split.

    The rule is 0.5 points wide, 0.06 em at 8 points, under the 0.1 em at
    which poppler ends a word, so pdftotext glues "GuangdongInterreg" and
    "2017-12-0299,315.50" as pypdf does; the page shows each pair parted by
    its cell's border, and no column of glued figures would tell them apart.
    """
    import pypdf

    rows = [[">Guangdong", "Interreg", ">2017-12-02", "99,315.50"],
            [">Andalusia", "Lombardy", ">2018-01-06", "5,707,090"]]
    path = pdfcases.write_touching_cells_pdf(tmp_path / "ruled.pdf", rows, [50, 100, 140, 190, 240], rule_width=0.5)
    assert "GuangdongInterreg" in pypdf.PdfReader(path).pages[0].extract_text()   # the case is real
    assert {"GuangdongInterreg", "2017-12-0299,315.50"} <= set(pdfcases.pdftotext(path, 1).split())
    text = extract_file(path, settings).pages[0].text
    assert text.splitlines() == [" ".join(cell.lstrip(">") for cell in row) for row in rows]


def test_lines_that_are_no_cell_border_split_no_word(tmp_path, settings):
    """A rule through a glyph (text run over its cell's border), an underline, a tick short of the
    line's height, a rule under a word of one text object (a heading over merged cells), and a
    column of figures glued to letters in a fixed-pitch listing or to two letters ("2nd"): no word
    is split, though each glyph of the first page and of the ordinals is a text object of its own
    (as Chromium sets text), so a cell could start at any of them."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines = ["INTERPRETATION SERVICES", "regional cooperation", "EUROPEAN COMMISSION", "the 2019report"]

    def x(prefix: str) -> float:
        return 50 + stringWidth(prefix, "Helvetica", 8)

    def baseline(line: int) -> float:
        return 780 - line * 8 * 1.15

    drawn = (b"%.2f %.2f 0.5 9.2 re f" % (x("INTERP") + stringWidth("R", "Helvetica", 8) / 2 - 0.25, baseline(0) - 2),
             b"50 %.2f %.2f 0.4 re f" % (baseline(1) - 1.2, stringWidth(lines[1], "Helvetica", 8)),
             b"%.2f %.2f 0.5 3 re f" % (x("EUR") - 0.25, baseline(2) - 2.5))
    path = pdfcases.write_touching_cells_pdf(tmp_path / "lines.pdf", [[line] for line in lines], [50, 400],
                                             by_glyph=True, drawn=drawn)
    assert extract_file(path, settings).pages[0].text == "\n".join(lines)
    under_heading = b"%.2f %.2f 0.5 9.2 re f" % (x("Statement of exp") - 0.25, baseline(0) - 2)
    heading = pdfcases.write_touching_cells_pdf(tmp_path / "heading.pdf", [["Statement of expenditure"],
                                                                           ["2019report"]],
                                                [50, 400], drawn=(under_heading,))
    assert extract_file(heading, settings).pages[0].text == "Statement of expenditure\n2019report"
    # A listing whose highlighted figure is a text object of its own, on three lines at one x.
    listing = pdfcases.write_touching_cells_pdf(tmp_path / "listing.pdf", [[">size = 2019", "report;"]] * 3,
                                                [50, 50 + stringWidth("size = 2019", "Courier", 8), 400],
                                                font="Courier", fixed_pitch=True)
    assert extract_file(listing, settings).pages[0].text == "\n".join(["size = 2019report;"] * 3)
    ordinals = ["Round 1st", "Round 2nd", "Round 3rd", "the 2019report"]
    column = pdfcases.write_touching_cells_pdf(tmp_path / "column.pdf", [[line] for line in ordinals], [50, 400],
                                               by_glyph=True)
    assert extract_file(column, settings).pages[0].text == "\n".join(ordinals)


def test_words_set_normally_are_not_split(tmp_path, settings):
    """Letters and words at their normal spacing, with the trigger of the check on the page: nothing is split."""


    text = "The COVID19 report of 2020 lists 12ABC and the EU2020 strategy for regional development."
    path = write_pdf(tmp_path / "prose.pdf", [text])
    result = extract_file(path, settings)
    assert result.pages[0].text == text


KERNED_LINES = [
    "The C|ompany reports on regional coo|peration with the Commi|ssion",
    "A|nnual R|eport of the W|orking Group on T|ourism and Y|outh",
    "V|isit to Guangzhou and Chengdu: W|ater, T|ransport, A|ir Quality",
]


@pytest.mark.parametrize("base_font, metrics, subtype, flags", [
    ("TimesNewRomanPSMT", "Times-Roman", "TrueType", None),        # an office export's serif, by its name
    ("ArialMT", "Helvetica", "TrueType", None),                    # its sans serif
    ("Georgia", "Times-Roman", "TrueType", None),                 # a serif, by its name
    ("Arial-BoldMT", "Helvetica-Bold", "TrueType", None),          # a weight, by its name
    ("F3", "Times-Italic", "Type1", 2 | 32 | 64),                  # nothing in the name: the descriptor's flags
])
def test_words_set_in_kerned_runs_stay_whole(tmp_path, settings, base_font, metrics, subtype, flags):
    """Runs of a word kerned 0.25 pt apart in a font with no glyph widths: pypdf, guessing every glyph
    half an em wide, splits the words ("C ompany"); poppler, with a standard font's metrics, does not."""
    import pypdf

    path = pdfcases.write_kerned_runs_pdf(tmp_path / "runs.pdf", KERNED_LINES, base_font=base_font,
                                          metrics=metrics, subtype=subtype, flags=flags)
    shown = "\n".join(line.replace("|", "") for line in KERNED_LINES)
    raw = pypdf.PdfReader(path).pages[0].extract_text()
    assert pdfcases.agreement(raw, shown) < 0.8                      # the case is real
    assert pdfcases.agreement(pdfcases.pdftotext(path, 1), shown) == 1.0
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    words = result.pages[0].text.split()
    for word in ("Company", "cooperation", "Commission", "Annual", "Report", "Tourism", "Water,", "Quality"):
        assert word in words
    assert [(p.extractor, p.why) for p in result.pages] == [("pypdf", "")]


def test_a_font_with_its_widths_is_read_as_before(tmp_path, settings):
    """Only fonts without widths are lent a standard font's: a word kerned apart by a fifth of an em
    in Helvetica (its widths known) is split by pypdf and poppler alike, and stays so."""
    path = pdfcases.write_kerned_runs_pdf(tmp_path / "helvetica.pdf", ["The C|ompany"], base_font="Helvetica",
                                          metrics="Helvetica", subtype="Type1", kern=2.0)
    result = extract_file(path, settings)
    assert result.pages[0].text == "The C ompany"
    assert pdfcases.pdftotext(path, 1).split() == ["The", "C", "ompany"]


def test_a_rare_character_mapped_to_private_use_is_restored(tmp_path, settings):
    """𠮷 (CJK Extension B) drawn by a glyph the ToUnicode map sends to U+E000; the font's own cmap names it."""
    lines = ["姓名：𠮷田先生，中欧区域政策合作专家组成员", "𠮷田先生在广州参加了研讨会"]
    path = pdfcases.write_cid_pdf(tmp_path / "rare.pdf", [lines], to_unicode="pua", rare={"𠮷": "吉"})
    twin = pdfcases.write_cid_pdf(tmp_path / "twin.pdf", [lines], to_unicode="true", rare={"𠮷": "吉"})
    assert "\ue000" in pdfcases.pdftotext(path, 1)             # every reader gives the private-use point
    result = extract_file(path, settings)
    assert "\ue000" not in result.pages[0].text and result.pages[0].text.count("𠮷") == 2
    assert_agrees_with_poppler(result, path, oracle_path=twin)


@pytest.mark.parametrize("text, mixed", [
    ("ᇏ\u0b78\u0c75თᆟҦކቔ൞චٚᄝ\u0c75თؿᅚਵთ֥ᇗေࠏ߅ؓᇅ", True),            # a CID font read as chr(CID)
    ("中欧区域政策合作 ΑΒΓΔΕ 发展和改革委员会与欧盟委员会", True),         # Greek in bulk beside Chinese
    ("Η Ευρωπαϊκή Επιτροπή και η Κίνα συνεργάζονται", False),           # one other script alone
    ("Регионална политика на Европейския съюз and China", False),
    ("energy E = mc² with α and β coefficients in the model of regional growth", False),
    ("Café, naïve, señora, ªº µm and ʼokina in European texts", False),
    ("中欧区域政策合作 Regional Policy Dialogue 2019", False),
])
def test_mixed_scripts_as_its_definition_says(text, mixed):
    from indexer.cleaning import mixed_scripts, plausibility

    assert mixed_scripts(text) is mixed
    # Letters in a mix count as garbage; every other letter and digit here is plausible.
    assert plausibility(text) < 0.5 if mixed else plausibility(text) == 1.0


def test_plausibility_orders_garbage_below_text():
    from indexer.cleaning import plausibility

    assert plausibility("区域政策 cohesion policy 2019") == 1.0
    assert plausibility("区域政策\ufffd\ufffd") < plausibility("区域政策")
    assert plausibility("/g42/g43/g44 text") < 0
    assert plausibility("") == 0.0


# An English page of a TeX document: the body in a simple font, a heading in a Chinese
# CID font without ToUnicode (as lshort-zh-cn's bold headings are written).
ENGLISH_LINES = [
    "The Commission and the National Development and Reform Commission signed",
    "a memorandum of understanding on regional policy cooperation in 2006.",
    "Both sides agreed to exchange experience on urbanisation and innovation clusters,",
    "on the evaluation of programmes and on territorial cooperation across borders.",
]


def test_a_chinese_heading_on_an_english_page_is_read_by_pdfium(tmp_path, settings):
    """Four mis-decoded characters among 300 letters move no page-wide measure: pypdf's letters
    of other scripts that PDFium reads as Chinese decide, even once the page's fonts are trusted."""
    import pypdf

    heading = ["参考文献"]
    # Page 1 lists the CID font but draws only English: pypdf and PDFium agree, and the fonts earn trust.
    path = pdfcases.write_cid_pdf(tmp_path / "heading.pdf", [[], heading, heading], ordering="GB1",
                                  latin=[ENGLISH_LINES, ENGLISH_LINES, ENGLISH_LINES[:2]])
    raw = pypdf.PdfReader(path).pages[1].extract_text()
    assert "参考文献" not in raw and "Commission" in raw                   # the case is real
    result = extract_file(path, settings)
    assert_agrees_with_poppler(result, path)
    assert all("参考文献" in p.text for p in result.pages[1:])
    assert [(p.extractor, p.why) for p in result.pages] == [("pypdf", ""), ("pdfium", MISDECODED),
                                                            ("pdfium", MISDECODED)]


def test_cyrillic_that_both_readers_see_stays_pypdfs(tmp_path, settings):
    """Letters of another alphabet that PDFium reads alike are on the page: pypdf's text stands, on every page."""
    lines = ["中欧区域政策合作", "Регионална политика"]
    path = pdfcases.write_cid_pdf(tmp_path / "cyrillic.pdf", [lines, lines], to_unicode="true",
                                  latin=[ENGLISH_LINES, ENGLISH_LINES])
    result = extract_file(path, settings)
    assert [(p.extractor, p.why) for p in result.pages] == [("pypdf", ""), ("pypdf", "")]
    assert all("Регионална" in p.text for p in result.pages)
    assert_agrees_with_poppler(result, path)


# Chinese in a classical register (Nineteen Old Poems): fewer of its neighbouring characters
# are modern words (9 %) than on a modern page (28 % and more), more than where a map lies (4 %).
CLASSICAL_LINES = ["行行重行行，与君生别离。相去万余里，各在天一涯。",
                   "道路阻且长，会面安可知。胡马依北风，越鸟巢南枝。",
                   "相去日已远，衣带日已缓。浮云蔽白日，游子不顾返。",
                   "思君令人老，岁月忽已晚。弃捐勿复道，努力加餐饭。",
                   "迢迢牵牛星，皎皎河汉女。纤纤擢素手，札札弄机杼。",
                   "终日不成章，泣涕零如雨。河汉清且浅，相去复几许。"]
# Japanese: its kanji compounds in Japanese forms (関数, 図形) are seldom Chinese words (7 % here).
JAPANESE_LINES = ["場合の数と確率：異なる個のものから個選んで並べる場合の数、円順列と重複順列",
                  "二次関数の変化と図形の証明、単位円と三角関数の関係、対数関数の値の変化",
                  "円形に並べるとき、一つを固定して考えると、残りを並べる順列の個数に等しい",
                  "関数の極値と図形の面積、変数変換の証明、単調増加と単調減少の判定"]
# Katakana words with the prolonged sound mark (ー) and a Greek letter, and Chinese with mathematical italic letters.
KATAKANA_LINES = ["用語集（β版）：データー・メモリー・サーバー・ユーザー"]
MATH_LINES = ["设函数𝑓(𝑥)=𝑎𝑥+𝑏，其中𝑎和𝑏为常数，求𝑥与𝑦的关系", "当𝑥增大时𝑦随之增大"]


@pytest.mark.parametrize("lines", [CLASSICAL_LINES, JAPANESE_LINES, KATAKANA_LINES, MATH_LINES],
                         ids=["classical-chinese", "japanese-kanji", "prolonged-sound-mark", "math-letters"])
def test_real_pages_the_plausibility_rules_once_refused_are_read(tmp_path, settings, lines):
    """Pages of real-world TeX documents that both readers read alike and the rules took for a lying
    map (classical Chinese, Japanese) or a mix of scripts (ー, 𝑥 beside CJK): their text is kept."""
    rare = {"𝑓": "f", "𝑥": "x", "𝑦": "y", "𝑎": "a", "𝑏": "b"} if lines is MATH_LINES else None
    path = pdfcases.write_cid_pdf(tmp_path / "page.pdf", [lines], to_unicode="true", rare=rare)
    result = extract_file(path, settings)
    assert result.status == INDEXED, result.reason
    assert_agrees_with_poppler(result, path)


def test_greek_in_formulas_beside_chinese_that_both_readers_see_is_kept(tmp_path, settings):
    """Greek letters in bulk beside Chinese make a page a mix; PDFium reading the same letters shows they are on it."""
    from indexer.cleaning import mixed_scripts

    lines = ["设角α、β、γ为三角形的内角，则α+β+γ=π", "若θ满足sinθ=cosθ，求θ与φ的值"]
    assert mixed_scripts("\n".join(lines))                  # the case is real
    path = pdfcases.write_cid_pdf(tmp_path / "greek.pdf", [lines], to_unicode="true")
    result = extract_file(path, settings)
    assert [(p.extractor, p.why) for p in result.pages] == [("pypdf", "")]
    assert_agrees_with_poppler(result, path)


def test_a_lying_map_is_still_refused_at_the_lower_share():
    """The shares the lower bound must keep apart: a lying map's pages and shuffled Chinese stay implausible."""
    from indexer.cleaning import ZH_MIN_WORD_SHARE, chinese_word_share, implausible_chinese

    classical = "".join(CLASSICAL_LINES)
    hits, pairs = chinese_word_share(classical)
    assert ZH_MIN_WORD_SHARE < hits / pairs < 0.15 and not implausible_chinese(classical)
    shuffled = "".join(sorted("".join(CHINESE_PAGES[0] + CHINESE_PAGES[2])))
    hits, pairs = chinese_word_share(shuffled)
    assert hits / pairs < ZH_MIN_WORD_SHARE and implausible_chinese(shuffled)
    # Kana make a page Japanese; Chinese with a handful of kana (a name) is still judged.
    assert not implausible_chinese("\n".join(JAPANESE_LINES))
    assert implausible_chinese(shuffled + "ソニー")


def test_a_word_pdfium_finds_broken_at_a_line_end_is_joined(tmp_path, settings):
    """PDFium marks a hyphen at a line's end with U+FFFE and joins the lines: the word is whole, as poppler reads it."""
    lines = ["The Commission reported on the regional develop-", "ment of the partner provinces in 2019."]
    path = pdfcases.write_cid_pdf(tmp_path / "hyphen.pdf", [["参考文献"]], ordering="GB1", latin=[lines])
    result = extract_file(path, settings)
    assert [(p.extractor, p.why) for p in result.pages] == [("pdfium", MISDECODED)]    # PDFium reads the page
    assert "development" in result.pages[0].text.split() and "\ufffe" not in result.pages[0].text
    assert_agrees_with_poppler(result, path)


def test_an_accent_set_before_its_letter_is_composed(tmp_path, settings):
    """TeX sets "ä" as a dieresis glyph and then the letter over it: pypdf gives "f¨ahigkeit", poppler "fähigkeit"."""
    import unicodedata

    import pypdf

    path = pdfcases.write_accented_pdf(tmp_path / "accents.pdf", [
        [("Die Leistungsf", "\xa8", "ahigkeit der Regionen"), (" und Sch", "\xa8", "opf")],
        [("Coh", "\xb4", "esion, Comisi", "\xb4", "on europea")],
    ])
    raw = pypdf.PdfReader(path).pages[0].extract_text()
    shown = unicodedata.normalize("NFC", pdfcases.pdftotext(path, 1))          # poppler writes "a" and U+0308
    assert "Leistungsfähigkeit" not in raw and "Leistungsfähigkeit" in shown      # the case is real
    result = extract_file(path, settings)
    words = result.pages[0].text.split()
    for word in ("Leistungsfähigkeit", "Schöpf", "Cohésion,", "Comisión"):
        assert word in words
    assert_agrees_with_poppler(result, path)


def test_a_ligature_only_the_font_program_names_is_read(tmp_path, settings):
    """TeX's OT1 fonts draw "fi" at code 12 and say so only in the embedded CFF font's own encoding;
    without fontTools pypdf gives a form feed there ("\\x0celd": "field" split)."""
    encoding = {12: "fi", 32: "space", **{ord(ch): ch for ch in "eldcopr"}}
    path = pdfcases.write_builtin_encoding_pdf(tmp_path / "ligature.pdf", b"\x0celd code proo\x0cle", encoding)
    result = extract_file(path, settings)
    assert result.pages[0].text.split() == ["field", "code", "proofile"]
    assert_agrees_with_poppler(result, path)
