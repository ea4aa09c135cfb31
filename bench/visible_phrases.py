"""Does a phrase visible on a page find its document? Real-world PDFs, pdftotext as the eye (issue 27).

    python bench/visible_phrases.py FOLDER [FOLDER ...] [--per-page 2] [--per-script 1] [--seed 5] [--misses 40]

Every PDF under the FOLDERs is copied into a temporary archive and indexed
with the project's settings (OCR off: these files have text layers). From
each page's text as poppler's `pdftotext` reads it (the nearest thing to
what the page shows), up to --per-page phrases are drawn: four CJK
characters from a run of four or more (Han, kana), a Korean word of two
syllables or more, and two neighbouring Latin words of three letters or more. Each phrase is searched
as a user types it (unquoted) and in quotes, and counts as found when its
file's document is among the results. A miss is put down to extraction
when the phrase (spaces and case aside) is not in the page's extracted text,
else to search. Prints one JSON object: the files, pages and phrases, the
found shares per script and quoting, the readers the pages needed, and the
first --misses misses with both texts around the phrase.

Where real files come from on an offline machine: Debian's TeX Live language
packages carry their documentation as PDFs typeset in Chinese, Japanese and
Korean (dvipdfmx, XeTeX, LuaTeX, pdfTeX), fetched without installing them:

    apt-get download texlive-lang-chinese texlive-lang-japanese texlive-lang-korean
    for d in *.deb; do dpkg-deb -x "$d" x; done
    python bench/visible_phrases.py x/usr/share/doc/texlive-doc

and the test files that PDF tools ship in their source packages on PyPI (tabula-py's
government and campaign-finance tables; ocrmypdf's scans, whose pages have no text layer
and are left to the OCR check in docs/DECISIONS.md):

    pip download --no-deps --no-binary :all: tabula-py ocrmypdf pikepdf pypdf pdf2docx -d sdists

(PyMuPDF's tests/resources, its users' bug reports, come in its sdist too; pip cannot build
it to download it, so fetch the sdist's URL from https://pypi.org/pypi/pymupdf/json.)

Files of the office producers (Chromium, LibreOffice) are made by bench/office_producers.py;
they have few pages, so draw more phrases from each:

    python bench/office_producers.py /tmp/office --variants 8
    python bench/visible_phrases.py /tmp/office --per-script 4 --per-page 8
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{4,}")
HANGUL_WORD = re.compile(r"(?<![\uac00-\ud7af])[\uac00-\ud7af]{2,}(?![\uac00-\ud7af])")
# Whole words only: "NIMO" of "GERÓNIMO" is no word.
LATIN_PAIR = re.compile(r"(?<![^\W\d_])([A-Za-z]{3,}) ([A-Za-z]{3,})(?![^\W\d_])")
MIN_PAGE_CHARS = 20


def script_of(phrase: str) -> str:
    if re.search(r"[\uac00-\ud7af]", phrase):
        return "hangul"
    if re.search(r"[\u3040-\u30ff]", phrase):
        return "kana"
    if re.search(r"[\u3400-\u9fff]", phrase):
        return "han"
    return "latin"


def poppler_pages(path: Path) -> list[str]:
    """Each page's text as pdftotext reads it, in compatibility form: the page shows "float"
    where poppler writes the ligature "ﬂoat", and a reader types the letters."""
    run = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=False,
                         capture_output=True, timeout=300)
    return unicodedata.normalize("NFKC", run.stdout.decode("utf-8", "replace")).split("\f")


def draw_phrases(text: str, rng: random.Random, per_page: int, stop_words: frozenset[str],
                 per_script: int = 1) -> list[str]:
    """Draw up to PER_SCRIPT phrases of each kind from TEXT, then PER_PAGE of them."""
    phrases = []
    runs = [m.group() for m in CJK_RUN.finditer(text)]
    for _ in range(per_script if runs else 0):
        run = rng.choice(runs)
        start = rng.randrange(len(run) - 3)
        phrases.append(run[start:start + 4])
    words = HANGUL_WORD.findall(text)      # Korean is written in words: a user types a whole one
    for _ in range(per_script if words else 0):
        phrases.append(rng.choice(words))
    # Two stop words ("from the") are no search anyone makes unquoted.
    pairs = [f"{a} {b}" for line in text.splitlines() for a, b in LATIN_PAIR.findall(line)
             if not {a.lower(), b.lower()} <= stop_words]
    for _ in range(per_script if pairs else 0):
        phrases.append(rng.choice(pairs))
    rng.shuffle(phrases)
    return phrases[:per_page]


def page_text_of(searcher, record, name: str, number: int) -> str:
    from indexer.search import page_text

    return page_text(searcher, record["doc_id"], name, number) or ""


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--per-page", type=int, default=2)
    parser.add_argument("--per-script", type=int, default=1,
                        help="phrases of each kind (CJK, Korean, Latin) a page offers before --per-page")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--misses", type=int, default=40)
    parser.add_argument("--max-files", type=int, default=0, help="at most this many files (0: all)")
    args = parser.parse_args()
    if shutil.which("pdftotext") is None:
        sys.exit("pdftotext (Debian poppler-utils) is needed")

    import corpus

    from indexer.build import update
    from indexer.engine.analysis import STOP_WORDS
    from indexer.readers import open_searcher
    from indexer.search import RECORD_FILE, search

    sources = sorted(p for folder in args.folders for p in Path(folder).rglob("*.pdf") if p.is_file())
    if args.max_files:
        sources = sources[:args.max_files]
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        archive, settings = corpus.scratch_settings(Path(tmp))
        names: dict[str, Path] = {}
        for i, source in enumerate(sources):
            name = f"f{i:04d}-{re.sub(r'[^A-Za-z0-9-]+', '-', source.stem)[:40]}.pdf"
            shutil.copyfile(source, archive / name)
            names[name] = source
        started = time.perf_counter()
        update(settings)
        build_s = time.perf_counter() - started

        found = collections.Counter()
        in_text = collections.Counter()
        asked = collections.Counter()
        misses = []
        pages_drawn = 0
        with open_searcher(settings.index_dir) as searcher:
            files = {f["path"]: f for f in searcher.documents(record=RECORD_FILE)}
            readers = collections.Counter()
            for name, source in names.items():
                record = files.get(name)
                for r in json.loads(record["data"]).get("readers", []) if record else ():
                    readers[f"{r['extractor']}: {r['why'] or 'pypdf read it'}"] += len(r["pages"])
                visible = poppler_pages(archive / name)
                for number, page_text in enumerate(visible, 1):
                    if len(page_text.strip()) < MIN_PAGE_CHARS:
                        continue
                    phrases = draw_phrases(page_text, rng, args.per_page, STOP_WORDS, args.per_script)
                    pages_drawn += bool(phrases)
                    ours = page_text_of(searcher, record, name, number) if record else ""
                    for phrase in phrases:
                        script = script_of(phrase)
                        extracted = squeezed(phrase) in squeezed(ours)
                        in_text[script] += extracted
                        for quoted in (False, True):
                            key = f"{script}{' quoted' if quoted else ''}"
                            asked[key] += 1
                            text = f'"{phrase}"' if quoted else phrase
                            try:
                                result = search(searcher, text, settings, page_size=500)
                                hit = any(f.path == name for h in result.hits for f in h.files)
                            except Exception:  # noqa: BLE001 - a query error is a miss
                                hit = False
                            if hit:
                                found[key] += 1
                                continue
                            misses.append({"file": str(source), "page": number, "phrase": text,
                                           "cause": "search" if extracted else "extraction",
                                           "ours": _around(ours, phrase), "pdftotext": _around(page_text, phrase)})
    scripts = sorted({k.split()[0] for k in asked})
    figures = {script: {"phrases": asked[script],
                        "in_extracted_text": round(in_text[script] / asked[script], 3),
                        "found": round(found[script] / asked[script], 3),
                        "found_quoted": round(found[f"{script} quoted"] / asked[f"{script} quoted"], 3)}
               for script in scripts}
    causes = collections.Counter(f"{m['cause']} ({script_of(m['phrase'])})" for m in misses)
    print(json.dumps({
        "files": len(names), "pages_with_phrases": pages_drawn, "build_s": round(build_s, 1),
        "by_script": figures, "miss_causes": dict(sorted(causes.items())), "pages_by_reader": dict(readers),
        "misses": [m for m in misses if m["cause"] == "extraction"][:args.misses]
        + [m for m in misses if m["cause"] == "search"][:args.misses],
    }, ensure_ascii=False, indent=1))
    return 0


def _around(text: str, phrase: str, width: int = 60) -> str:
    """TEXT near PHRASE's first character (or its start), on one line."""
    flat = re.sub(r"\s+", " ", text)
    at = flat.find(phrase[:2])
    at = 0 if at < 0 else max(0, at - width // 2)
    return flat[at:at + width]


if __name__ == "__main__":
    sys.exit(main())
