"""Reports and statistical tables made by real office producers, for bench/visible_phrases.py (issue 27).

    python bench/office_producers.py OUT [--variants 3] [--seed 7]
    python bench/visible_phrases.py OUT

The archive's real files are exported from office suites and browsers, not
written by our test helpers. This writes the kinds of page that listed-company
reports and government statistics hold, and has the real programs lay them
out and export them to PDF:
- Chromium's headless `--print-to-pdf`, from HTML (CSS columns, tables with
  merged headers and tight padding, footnotes);
- LibreOffice Writer (headless), from the same HTML imported as a text document;
- LibreOffice Calc (headless), from flat ODF spreadsheets (narrow columns,
  numbers formatted 1,234,567 and 920.68 and right-aligned against the next
  cell's text, dates, merged header cells).
A producer that is not installed is skipped, and the script says so. On Debian:
`apt-get install --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui`
and, for more CJK typefaces, `fonts-noto-cjk fonts-arphic-uming`.

Body text comes from the archive's stand-in texts (archive/standins.toml,
English and Chinese); the tables are invented and neutral (cost categories,
generic regions, random figures), and each says it is generated. Files are
written to OUT, which must lie outside the repository.
"""

from __future__ import annotations

import argparse
import html
import random
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent

LATIN_FONTS = ("Liberation Serif", "Liberation Sans", "DejaVu Sans", "DejaVu Serif")
CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "AR PL UMing CN", "WenQuanYi Micro Hei")

COSTS_EN = ("staff transportation", "training seminar", "office supplies", "interpretation services",
            "venue rental", "printing costs", "study visit", "expert fees", "translation", "catering",
            "travel insurance", "per diem", "equipment", "communication", "audit fees")
COSTS_ZH = ("人员交通", "培训研讨会", "办公用品", "口译服务", "场地租金", "印刷费用", "考察访问", "专家费用",
            "笔译", "餐饮", "旅行保险", "每日津贴", "设备", "通讯", "审计费用")
REGIONS_EN = ("eastern region", "central region", "western region", "northeast region", "urban areas",
              "rural areas", "coastal provinces", "inland provinces", "total")
REGIONS_ZH = ("东部地区", "中部地区", "西部地区", "东北地区", "城镇", "农村", "沿海省份", "内陆省份", "合计")
MEASURES_EN = ("population", "employment", "investment", "output", "households", "enterprises")
MEASURES_ZH = ("人口", "就业", "投资", "产值", "户数", "企业数")
GENERATED_EN = "Generated test table: the figures are random and describe nothing."
GENERATED_ZH = "生成的测试表格：数字为随机数，不代表任何实际情况。"


def stand_in_paragraphs(lang: str) -> list[str]:
    """Return the stand-in texts' paragraphs of one language, headings and list marks removed."""
    pages = tomllib.loads((ROOT / "archive" / "standins.toml").read_text(encoding="utf-8"))
    paragraphs = []
    for name, texts in sorted(pages.items()):
        if not name.endswith(f".{lang}.pdf"):
            continue
        for text in texts:
            for block in text.split("\n\n"):
                block = " ".join(line.removeprefix("- ").removeprefix("## ").strip()
                                 for line in block.strip().splitlines())
                if len(block) > 40 and not block.startswith(("STAND-IN", "替代文本")):
                    paragraphs.append(block)
    return paragraphs


# --- table content --------------------------------------------------------------------------

def amount(rng: random.Random) -> str:
    """A money amount as reports print it: 920.68, 1,234.50 or 1,234,567."""
    value = rng.choice((rng.uniform(10, 999), rng.uniform(1000, 99999), rng.uniform(1e5, 9e6)))
    return f"{value:,.2f}" if value < 1e5 else f"{value:,.0f}"


def day(rng: random.Random) -> str:
    """A date, dd/mm/yyyy or yyyy-mm-dd."""
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2006, 2019)
    return rng.choice((f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}"))


def ledger_table(rng: random.Random, zh: bool, rows: int = 14) -> dict:
    """Rows of an expense ledger: date, amount, category (English capitals, lower case, or Chinese), code, share."""
    costs = COSTS_ZH if zh else COSTS_EN
    head = (["日期", "金额", "类别", "编号", "占比"] if zh else ["Date", "Amount", "Category", "Code", "Share"])
    upper = rng.random() < 0.5
    body = []
    for _ in range(rows):
        category = rng.choice(costs)
        if not zh and upper:
            category = category.upper()
        body.append([day(rng), amount(rng), category, f"{rng.choice('ABCDK')}-{rng.randint(1, 99):02d}",
                     f"{rng.uniform(0.1, 40):.1f}%"])
    return {"caption": "支出明细表" if zh else "Statement of expenditure", "groups": [], "head": head,
            "rows": body, "numeric": {1, 4}}


def statistics_table(rng: random.Random, zh: bool) -> dict:
    """A statistical table: regions down, years across under a merged header per measure."""
    regions = REGIONS_ZH if zh else REGIONS_EN
    measures = rng.sample(MEASURES_ZH if zh else MEASURES_EN, 2)
    years = sorted(rng.sample(range(2006, 2020), 3))
    head = ["地区" if zh else "Region"] + [str(y) for _ in measures for y in years]
    groups = [("", 1)] + [(m + ("（万）" if zh else " (thousands)"), len(years)) for m in measures]
    body = []
    for region in regions:
        row = [region]
        for _ in measures:
            for _ in years:
                row.append(rng.choice((f"{rng.randint(1000, 9_999_999):,}", f"{rng.uniform(0, 99):.2f}")))
        body.append(row)
    return {"caption": "分地区主要指标" if zh else "Main indicators by region", "groups": groups,
            "head": head, "rows": body, "numeric": set(range(1, len(head)))}


def documents(rng: random.Random, variants: int) -> list[dict]:
    """The documents to produce: (kind, language, fonts, paragraphs, tables, footnotes), VARIANTS of each kind."""
    english, chinese = stand_in_paragraphs("en"), stand_in_paragraphs("zh")
    docs = []
    for v in range(variants):
        for zh in (False, True):
            source = chinese if zh else english
            font = rng.choice(CJK_FONTS) if zh else rng.choice(LATIN_FONTS)
            cjk_font = rng.choice(CJK_FONTS)
            start = rng.randrange(max(1, len(source) - 12))
            paragraphs = source[start:start + 12]
            notes = rng.sample(source, 3)
            docs.append({"name": f"report-{'zh' if zh else 'en'}-{v}", "zh": zh, "font": font, "cjk_font": cjk_font,
                         "paragraphs": paragraphs, "notes": [n[:160] for n in notes],
                         "tables": [ledger_table(rng, zh), statistics_table(rng, zh)],
                         "columns": 2 if v % 2 == 0 else 1, "font_pt": rng.choice((8, 9, 10)),
                         "padding_px": rng.choice((0, 1, 2))})
            docs.append({"name": f"tables-{'zh' if zh else 'en'}-{v}", "zh": zh, "font": font, "cjk_font": cjk_font,
                         "paragraphs": paragraphs[:1], "notes": [],
                         "tables": [ledger_table(rng, zh, rows=30), statistics_table(rng, zh),
                                    ledger_table(rng, not zh, rows=10)],
                         "columns": 1, "font_pt": rng.choice((7, 8)), "padding_px": rng.choice((0, 1))})
    return docs


# --- HTML (Chromium, LibreOffice Writer) ----------------------------------------------------

def table_html(table: dict, zh: bool, padding_px: int) -> str:
    """TABLE as an HTML table: merged group headers, numbers right-aligned."""
    out = [f'<table cellpadding="{padding_px}" cellspacing="0"><caption>{html.escape(table["caption"])}</caption>']
    if table["groups"]:
        out.append("<tr>" + "".join(f'<th colspan="{span}">{html.escape(label)}</th>'
                                    for label, span in table["groups"]) + "</tr>")
    out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table["head"]) + "</tr>")
    for row in table["rows"]:
        out.append("<tr>" + "".join(
            f'<td align="right" class="n">{html.escape(c)}</td>' if i in table["numeric"]
            else f"<td>{html.escape(c)}</td>" for i, c in enumerate(row)) + "</tr>")
    note = GENERATED_ZH if zh else GENERATED_EN
    out.append(f'<tr><td colspan="{len(table["head"])}"><small>{note}</small></td></tr>')
    out.append("</table>")
    return "\n".join(out)


def document_html(doc: dict, for_writer: bool) -> str:
    """DOC as one HTML page; FOR_WRITER uses the markup LibreOffice reads (multicol, sdfootnote) instead of CSS."""
    lang = "zh-CN" if doc["zh"] else "en"
    fonts = f"'{doc['font']}', '{doc['cjk_font']}'"
    style = (f"body {{ font-family: {fonts}; font-size: {doc['font_pt'] + 1}pt; }}"
             f" table {{ border-collapse: collapse; font-size: {doc['font_pt']}pt; margin: 8pt 0; }}"
             f" td, th {{ padding: 0 {doc['padding_px']}px; border: 0.5pt solid #888; }}"
             " td.n { text-align: right; } .cols { column-count: 2; column-gap: 14pt; text-align: justify; }"
             " .notes { font-size: 7pt; border-top: 0.5pt solid black; }")
    paragraphs = []
    for i, text in enumerate(doc["paragraphs"]):
        mark = ""
        if i < len(doc["notes"]):
            n = i + 1
            mark = (f'<a class="sdfootnoteanc" name="sdfootnote{n}anc" href="#sdfootnote{n}sym"><sup>{n}</sup></a>'
                    if for_writer else f"<sup>{n}</sup>")
        paragraphs.append(f"<p>{html.escape(text)}{mark}</p>")
    body = "\n".join(paragraphs)
    if doc["columns"] == 2:
        body = (f'<multicol cols="2">{body}</multicol>' if for_writer else f'<div class="cols">{body}</div>')
    tables = "\n".join(table_html(t, doc["zh"], doc["padding_px"]) for t in doc["tables"])
    if for_writer:
        notes = "\n".join(f'<div id="sdfootnote{n}"><p><a class="sdfootnotesym" name="sdfootnote{n}sym" '
                          f'href="#sdfootnote{n}anc">{n}</a> {html.escape(t)}</p></div>'
                          for n, t in enumerate(doc["notes"], 1))
    else:
        notes = ('<div class="notes">' + "".join(f"<p><sup>{n}</sup> {html.escape(t)}</p>"
                                                  for n, t in enumerate(doc["notes"], 1)) + "</div>")
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{doc["name"]}</title>'
            f"<style>{style}</style></head><body>\n{body}\n{tables}\n{notes}\n</body></html>")


# --- flat ODF spreadsheet (LibreOffice Calc) ------------------------------------------------

def column_width(table: dict, column: int, font_pt: float) -> float:
    """Points that just hold COLUMN's longest cell (CJK 1 em, others 0.6): narrow, as printed tables are."""
    def width(cell: str) -> float:
        return sum(1.0 if ord(ch) > 0x2e80 else 0.6 for ch in cell) * font_pt
    return max(width(row[column]) for row in [table["head"], *table["rows"]]) + 7


def spreadsheet_fods(doc: dict) -> str:
    """DOC's tables as a flat ODF spreadsheet, one sheet a table: narrow columns, formatted numbers, merged headers."""
    font = escape(doc["cjk_font"] if doc["zh"] else doc["font"])
    sheets, column_styles = [], []
    for k, table in enumerate(doc["tables"]):
        rows = []
        if table["groups"]:
            cells = []
            for label, span in table["groups"]:
                cells.append(f'<table:table-cell table:number-columns-spanned="{span}" office:value-type="string">'
                             f"<text:p>{escape(label)}</text:p></table:table-cell>")
                cells.extend("<table:covered-table-cell/>" for _ in range(span - 1))
            rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        rows.append("<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(h)}</text:p></table:table-cell>'
            for h in table["head"]) + "</table:table-row>")
        for row in table["rows"]:
            cells = []
            for i, cell in enumerate(row):
                number = cell.replace(",", "").rstrip("%")
                if i in table["numeric"] and number.replace(".", "", 1).isdigit():
                    decimals = len(number.partition(".")[2])
                    style = {0: "int", 1: "pct" if cell.endswith("%") else "dec2"}.get(decimals, "dec2")
                    value = float(number) / (100 if cell.endswith("%") else 1)
                    cells.append(f'<table:table-cell table:style-name="{style}" office:value-type='
                                 f'"{"percentage" if style == "pct" else "float"}" office:value="{value}">'
                                 f"<text:p>{escape(cell)}</text:p></table:table-cell>")
                else:
                    cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(cell)}</text:p>'
                                 "</table:table-cell>")
            rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        columns = "".join(f'<table:table-column table:style-name="c{k}-{i}"/>' for i in range(len(table["head"])))
        column_styles.extend(
            f'<style:style style:name="c{k}-{i}" style:family="table-column"><style:table-column-properties '
            f'style:column-width="{column_width(table, i, doc["font_pt"]):.2f}pt"/></style:style>'
            for i in range(len(table["head"])))
        sheets.append(f'<table:table table:name="{escape(table["caption"])[:28] or k}">{columns}{"".join(rows)}'
                      "</table:table>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:font-face-decls><style:font-face style:name="{font}" svg:font-family="'{font}'"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"/></office:font-face-decls>
<office:styles>
 <style:default-style style:family="table-cell"><style:text-properties style:font-name="{font}"
  style:font-name-asian="{font}" fo:font-size="{doc['font_pt']}pt" style:font-size-asian="{doc['font_pt']}pt"/>
 </style:default-style>
</office:styles>
<office:automatic-styles>
 <number:number-style style:name="N0"><number:number number:decimal-places="0" number:min-decimal-places="0"
  number:min-integer-digits="1" number:grouping="true"/></number:number-style>
 <number:number-style style:name="N2"><number:number number:decimal-places="2" number:min-integer-digits="1"
  number:grouping="true"/></number:number-style>
 <number:percentage-style style:name="P1"><number:number number:decimal-places="1" number:min-integer-digits="1"/>
  <number:text>%</number:text></number:percentage-style>
 <style:style style:name="int" style:family="table-cell" style:data-style-name="N0"/>
 <style:style style:name="dec2" style:family="table-cell" style:data-style-name="N2"/>
 <style:style style:name="pct" style:family="table-cell" style:data-style-name="P1"/>
 {"".join(column_styles)}
</office:automatic-styles>
<office:body><office:spreadsheet>{"".join(sheets)}</office:spreadsheet></office:body>
</office:document>
"""


# --- producers ------------------------------------------------------------------------------

def chromium() -> str | None:
    """The Chromium executable, or None."""
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def produce(out: Path, variants: int, seed: int) -> dict[str, int]:
    """Write every document with every installed producer into OUT; return the files made per producer."""
    rng = random.Random(seed)
    docs = documents(rng, variants)
    made = {"chromium": 0, "libreoffice-writer": 0, "libreoffice-calc": 0}
    browser, office = chromium(), shutil.which("soffice")
    if browser is None:
        print("skipped Chromium: not installed", file=sys.stderr)
    if office is None:
        print("skipped LibreOffice Writer and Calc: soffice is not installed", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for doc in docs:
            if browser:
                source = work / f"{doc['name']}.html"
                source.write_text(document_html(doc, for_writer=False), encoding="utf-8")
                target = out / f"chromium-{doc['name']}.pdf"
                subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                                f"--user-data-dir={work / 'profile'}", f"--print-to-pdf={target}", source.as_uri()],
                               check=True, capture_output=True, timeout=120)
                made["chromium"] += target.exists()
            if office:
                writer = work / f"writer-{doc['name']}.html"
                writer.write_text(document_html(doc, for_writer=True), encoding="utf-8")
                calc = work / f"calc-{doc['name']}.fods"
                calc.write_text(spreadsheet_fods(doc), encoding="utf-8")
                profile = f"-env:UserInstallation={(work / 'lo-profile').as_uri()}"
                subprocess.run([office, profile, "--headless", "--infilter=HTML (StarWriter)",
                                "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out), str(writer)],
                               check=True, capture_output=True, timeout=300)
                subprocess.run([office, profile, "--headless", "--convert-to", "pdf:calc_pdf_Export",
                                "--outdir", str(out), str(calc)], check=True, capture_output=True, timeout=300)
                made["libreoffice-writer"] += (out / f"{writer.stem}.pdf").exists()
                made["libreoffice-calc"] += (out / f"{calc.stem}.pdf").exists()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the PDFs, outside the repository")
    parser.add_argument("--variants", type=int, default=3, help="documents of each kind and language")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out = Path(args.out).resolve()
    if out.is_relative_to(ROOT):
        sys.exit("write the files outside the repository")
    out.mkdir(parents=True, exist_ok=True)
    made = produce(out, args.variants, args.seed)
    print(", ".join(f"{producer}: {count} files" for producer, count in made.items()), f"in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
