"""A synthetic archive for the benchmarks: N documents of P pages, rendered to real PDFs.

    python bench/corpus.py --pages 10000          # generate (or find) the corpus, print its folder

Each page holds about 2,500 characters. Documents are 60 % English, 30 %
Chinese and 10 % mixed (English and Chinese paragraphs on the same page):
- English: words drawn from a Zipf distribution over a vocabulary made of the
  collection's own words (archive/standins.toml, ranked by their frequency
  there), a list of common English words, numbers, and a long tail of
  generated proper names (so the index sees a realistic number of rare
  terms); 15 % of the draws are two- or three-word phrases of the stand-in
  texts, so phrase queries have something to find;
- Chinese: words sampled by frequency from jieba's own dictionary, with the
  collection's terms (userdict, glossary) mixed in, and Chinese punctuation.
Rendered with reportlab (Chinese with the STSong-Light CID font, which pypdf
extracts correctly), in parallel over every core, and cached in
bench/.cache/ keyed by the parameters; a catalogue.toml gives each document a
kind, a date and a programme, so facet filters have something to filter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import textwrap
import time
import tomllib
from bisect import bisect
from collections import Counter
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
# Bump when the generated text or layout changes: the cache key includes it.
GENERATOR_VERSION = 1

PAGE_CHARS = 2500
KINDS = ("study", "joint statement", "joint conclusions", "high-level seminar", "training report",
         "programme report", "memorandum of understanding")
PROGRAMMES = ("CETREGIO", "World Cities", "International Urban Cooperation")

# Common English words the stand-in texts may lack; they rank among the
# collection's own words by a rough frequency order.
COMMON_ENGLISH = """
the of and to in a is that for it as was with be by on not he this are or his from at which but have an
they you were her she there one all we their has been would more if will no so its said who what up
out about into than them can only other new some could time these two may then do first any my now
such like our over man me even most made after also did many before must through back years where much
your way well down should because each just those people how too little state good very make world still
own see men work long get here between both life being under never day same another know while last
might us great old year off come since against go came right used take three states himself few house
use during without again place american around however home small found thought went say part once
general high upon school every does got united left number course war until always away something fact
though water less public put think almost hand enough far took head yet government system better set
told nothing night end why called didn find look asked later knew point next program city business give
group toward young days let room president side social given present several order national possible
rather second face per among form important often things looked early white case john become large big
need four within felt along children saw best church ever least power development light thing seemed
family interest want members mind country area others done turned although open god service problem
certain kind different thus began door help means sense whole matter perhaps itself york times law human
line above name example action company hands local show whether five history gave today either act
feet across taken past quite anything seen having death experience body word half really week free field
car words already themselves information tell college shall together money period held keep sure real
probably fiscal budget investment infrastructure rural province municipal employment labour transport
""".split()

SYLLABLES = ("ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu "
             "ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo zan zen lin wen hai shan jing guo "
             "yang zhou feng tian hua ming").split()

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")


# --- vocabularies -------------------------------------------------------------


@lru_cache(maxsize=1)
def english_vocabulary() -> tuple[list[str], list[tuple[str, ...]]]:
    """(words ranked most frequent first, phrases ranked likewise) from the stand-ins and COMMON_ENGLISH."""
    data = tomllib.loads((ROOT / "archive" / "standins.toml").read_text(encoding="utf-8"))
    words: Counter = Counter()
    phrases: Counter = Counter()
    for pages in data.values():
        for page in pages:
            for sentence in re.split(r"[.;:!?()\n]+", page):
                toks = [w.lower() for w in WORD.findall(sentence) if "-" not in w]
                words.update(toks)
                for n in (2, 3):
                    for i in range(len(toks) - n + 1):
                        gram = tuple(toks[i:i + n])
                        # Phrases of content words at both ends, as people quote them.
                        if gram[0] not in STOP and gram[-1] not in STOP:
                            phrases[gram] += 1
    # Interleave: common English words rank by their list order, the
    # collection's words by their count there.
    ranked = [w for w, _ in words.most_common()]
    merged: list[str] = []
    seen: set[str] = set()
    for i in range(max(len(ranked), len(COMMON_ENGLISH))):
        for source in (COMMON_ENGLISH, ranked):
            if i < len(source) and source[i] not in seen:
                seen.add(source[i])
                merged.append(source[i])
    rng = random.Random(1)
    # A long tail of proper names and rare words, as real reports have.
    tail = set()
    while len(tail) < 30000:
        tail.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    merged.extend(sorted(tail - seen))
    top_phrases = [p for p, c in phrases.most_common() if c >= 2][:3000]
    return merged, top_phrases


STOP = frozenset("a an and are as at be by for from has have in is of on or that the this to was were will "
                 "with which its into than then there these those been it not".split())


@lru_cache(maxsize=1)
def chinese_vocabulary() -> tuple[list[str], list[int]]:
    """Chinese words of jieba's dictionary with their frequencies, most frequent first."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    items = sorted(((w, f) for w, f in tk.FREQ.items()
                    if f > 0 and all("\u4e00" <= c <= "\u9fff" for c in w)), key=lambda wf: (-wf[1], wf[0]))
    return [w for w, _ in items], [f for _, f in items]


@lru_cache(maxsize=1)
def collection_terms() -> list[str]:
    """Chinese terms of the collection: the user dictionary and the glossary's Chinese side."""
    terms = []
    for line in (ROOT / "archive" / "userdict.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            terms.append(line.split()[0])
    data = tomllib.loads((ROOT / "archive" / "glossary.toml").read_text(encoding="utf-8"))
    terms += [t["zh"] for t in data.get("term", []) if t.get("zh")]
    return sorted(set(terms))


class _Sampler:
    """Draw from a list with given weights, fast (bisect over cumulative weights)."""

    def __init__(self, items, weights, rng: random.Random):
        self.items = items
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]
        self.rng = rng

    def __call__(self):
        return self.items[bisect(self.cum, self.rng.random() * self.total)]


class TextMaker:
    """Pages of English, Chinese or mixed text from the vocabularies above."""

    def __init__(self, seed: int):
        self.rng = rng = random.Random(seed)
        words, phrases = english_vocabulary()
        self.en_word = _Sampler(words, [1 / (r + 1) ** 1.05 for r in range(len(words))], rng)
        self.en_phrase = _Sampler(phrases, [1 / (r + 1) for r in range(len(phrases))], rng)
        zh_words, zh_freq = chinese_vocabulary()
        self.zh_word = _Sampler(zh_words, zh_freq, rng)
        terms = collection_terms()
        self.zh_term = _Sampler(terms, [1 / (r + 1) ** 0.5 for r in range(len(terms))], rng)

    def english_sentence(self) -> str:
        rng = self.rng
        out: list[str] = []
        for _ in range(rng.randint(8, 24)):
            x = rng.random()
            if x < 0.15:
                out.extend(self.en_phrase())
            elif x < 0.18:
                out.append(rng.choice((str(rng.randint(1990, 2025)), f"{rng.randint(1, 999)}.{rng.randint(0, 9)}",
                                       f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}", f"{rng.randint(1, 100)}%")))
            else:
                out.append(self.en_word())
        out[0] = out[0][:1].upper() + out[0][1:]
        return " ".join(out) + "."

    def chinese_sentence(self) -> str:
        rng = self.rng
        parts: list[str] = []
        for i in range(rng.randint(6, 20)):
            parts.append(self.zh_term() if rng.random() < 0.03 else self.zh_word())
            if i and rng.random() < 0.12:
                parts.append("，")
        return "".join(parts) + "。"

    def paragraph(self, lang: str, chars: int) -> str:
        out, n = [], 0
        make = self.english_sentence if lang == "en" else self.chinese_sentence
        sep = " " if lang == "en" else ""
        while n < chars:
            s = make()
            out.append(s)
            n += len(s) + len(sep)
        return sep.join(out)

    def page(self, lang: str, marker: str = "") -> list[tuple[str, str]]:
        """A page as (language, paragraph) pairs, about PAGE_CHARS characters in all."""
        paras = []
        if lang == "mixed":
            for i in range(4):
                paras.append(("en" if i % 2 == 0 else "zh", self.paragraph("en" if i % 2 == 0 else "zh", PAGE_CHARS // 4)))
        else:
            for _ in range(4):
                paras.append((lang, self.paragraph(lang, PAGE_CHARS // 4)))
        if marker:
            paras.append(("en", f"Reference {marker}."))
        return paras


# --- rendering ----------------------------------------------------------------


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


def render_pdf(path: Path, pages: list[list[tuple[str, str]]], title: str) -> None:
    """Write PAGES (lists of (language, paragraph)) as an A4 PDF at PATH."""
    from reportlab.pdfgen import canvas

    _register_font()
    c = canvas.Canvas(str(path), invariant=1, pageCompression=1)
    c.setTitle(title)
    for paras in pages:
        text = c.beginText(40, 805)
        for lang, para in paras:
            if lang == "en":
                text.setFont("Helvetica", 8.5, 11)
                lines = textwrap.wrap(para, 118)
            else:
                text.setFont("STSong-Light", 9.5, 12)
                lines = [para[i:i + 54] for i in range(0, len(para), 54)]
            for line in lines:
                text.textLine(line)
            text.textLine("")
        c.drawText(text)
        c.showPage()
    c.save()


def _doc_language(i: int) -> str:
    # 60 % English, 30 % Chinese, 10 % mixed, spread evenly over the corpus.
    r = i % 10
    return "en" if r < 6 else ("zh" if r < 9 else "mixed")


def _render_docs(job: tuple[str, int, int, int, int, str]) -> int:
    """Render documents [start, stop) of a corpus (one worker's share); return pages written."""
    folder, start, stop, pages_per_doc, seed, prefix = job
    written = 0
    for i in range(start, stop):
        maker = TextMaker(seed * 1_000_003 + i)
        lang = _doc_language(i)
        marker = f"{prefix}{_letters(i)}" if prefix else ""
        pages = [maker.page(lang, marker if n == 0 else "") for n in range(pages_per_doc)]
        file_lang = "zh" if lang == "zh" else "en"
        render_pdf(Path(folder) / f"{prefix or 'bench'}-{i:06d}.{file_lang}.pdf", pages, f"Benchmark document {i}")
        written += len(pages)
    return written


def _letters(i: int) -> str:
    """A letters-only code for I (aa, ab, ...), so a marker word is one English token."""
    out = ""
    for _ in range(4):
        out = chr(ord("a") + i % 26) + out
        i //= 26
    return out


def _catalogue(n_docs: int, pages_per_doc: int, seed: int) -> str:
    rng = random.Random(seed)
    words, _ = english_vocabulary()
    zh_words, _ = chinese_vocabulary()
    lines = []
    for i in range(n_docs):
        lang = _doc_language(i)
        file_lang = "zh" if lang == "zh" else "en"
        title = " ".join(rng.choice(words[:400]) for _ in range(5)).title()
        entry = {
            "id": f"bench-{i:06d}",
            "title": f"{title} {i}",
            "date": f"{rng.randint(2006, 2023)}-{rng.randint(1, 12):02d}",
            "kind": rng.choice(KINDS),
            "programme": rng.choice(PROGRAMMES),
        }
        if lang != "en":
            entry["title_zh"] = "".join(rng.choice(zh_words[:3000]) for _ in range(4))
        lines.append("[[document]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
        lines += ["[[document.files]]", f'lang = "{file_lang}"', f'file = "bench-{i:06d}.{file_lang}.pdf"', ""]
    return "\n".join(lines)


def link_or_copy(source: Path, target: Path) -> None:
    """Put SOURCE's file at TARGET: a hard link (no copy of the bytes), or a copy across file systems.

    Not a symbolic link: the indexer skips links whose target is outside the archive folder.
    """
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def scratch_settings(tmp: Path, **options):
    """(an empty archive folder in TMP, settings indexing it into TMP with the repository's user
    dictionary and glossary, OCR off, and OPTIONS): for a benchmark's throw-away index."""
    from indexer.config import settings_from_mapping

    repository = Path(__file__).resolve().parent.parent / "archive"
    archive = tmp / "archive"
    archive.mkdir()
    settings = settings_from_mapping({
        "archive_dir": str(archive), "catalogue": str(archive / "catalogue.toml"),
        "userdict": str(repository / "userdict.txt"), "glossary": str(repository / "glossary.toml"),
        "index_dir": str(tmp / "index"), "log_dir": str(tmp / "log"), "ocr": False, **options}, base=tmp)
    return archive, settings


def corpus_key(pages: int, pages_per_doc: int, seed: int, prefix: str = "") -> str:
    blob = json.dumps([pages, pages_per_doc, seed, prefix, GENERATOR_VERSION, PAGE_CHARS])
    return f"{prefix or 'corpus'}-{pages}p-{pages_per_doc}pp-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def ensure_corpus(pages: int, pages_per_doc: int = 20, seed: int = 1, prefix: str = "",
                  workers: int | None = None, log=print) -> tuple[Path, dict]:
    """Return (folder, info) of the corpus, generating it if not cached.

    The folder holds the PDFs and, unless PREFIX is given (extra documents to
    add one by one, with a marker word "PREFIXxxxx" on their first page),
    catalogue.toml. info records how long rendering took.
    """
    key = corpus_key(pages, pages_per_doc, seed, prefix)
    folder = CACHE / key
    done = folder / "corpus.json"
    if done.exists():
        return folder, json.loads(done.read_text())
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    n_docs = max(1, -(-pages // pages_per_doc))
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    # Vocabularies are loaded once here and inherited by the forked workers.
    english_vocabulary(), chinese_vocabulary(), collection_terms()
    step = max(1, min(25, -(-n_docs // (workers * 4))))
    jobs = [(str(folder), s, min(n_docs, s + step), pages_per_doc, seed, prefix) for s in range(0, n_docs, step)]
    written = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n in pool.imap_unordered(_render_docs, jobs):
            written += n
            if log and written % max(1, (pages // 10) // pages_per_doc * pages_per_doc or 1) == 0:
                log(f"  corpus {key}: {written}/{n_docs * pages_per_doc} pages")
    if not prefix:
        (folder / "catalogue.toml").write_text(_catalogue(n_docs, pages_per_doc, seed), encoding="utf-8")
    seconds = time.perf_counter() - started
    info = {"key": key, "documents": n_docs, "pages": n_docs * pages_per_doc, "pages_per_doc": pages_per_doc,
            "render_seconds": round(seconds, 1), "render_pages_per_s": round(n_docs * pages_per_doc / seconds, 1),
            "render_workers": workers,
            "bytes": sum(p.stat().st_size for p in folder.glob("*.pdf"))}
    done.write_text(json.dumps(info, indent=2))
    return folder, info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--pages-per-doc", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    folder, info = ensure_corpus(args.pages, args.pages_per_doc, args.seed, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps({"folder": str(folder), **info}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
