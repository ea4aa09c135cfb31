"""jieba against rjieba (a Rust binding of the same algorithm and dictionary): same tokens? how fast?

Issue 7 allows a faster binding of jieba only if it yields the same tokens on
the whole archive. This segments every CJK run of the archive's PDFs and of a
generated benchmark corpus (the text bench/corpus.py renders, without the
rendering) with both, each loaded with the collection's user dictionary, and
prints one JSON object: runs, characters, runs segmented differently (with
examples) and each segmenter's speed.

    pip install -e '.[bench]'
    python bench/segmenters.py --pages 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402

from indexer import analysis  # noqa: E402
from indexer.config import load_settings  # noqa: E402


def rjieba_segmenter(userdict: Path | None):
    """An rjieba segmenter with USERDICT's words added as jieba's load_userdict adds them."""
    import rjieba

    seg = rjieba.Jieba()
    if userdict is not None and userdict.exists():
        for line in userdict.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if not parts:
                continue
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
            seg.add_word(parts[0], freq, tag)
    return seg


def archive_texts(archive: Path):
    from pypdf import PdfReader

    for path in sorted(archive.glob("*.pdf")):
        for page in PdfReader(path).pages:
            yield page.extract_text() or ""


def corpus_texts(pages: int, pages_per_doc: int = 20, seed: int = 1):
    """The text of a benchmark corpus of PAGES pages, as bench/corpus.py renders it."""
    for i in range(pages // pages_per_doc):
        lang = corpus._doc_language(i)
        if lang == "en":
            continue            # no CJK to segment
        maker = corpus.TextMaker(seed * 1_000_003 + i)
        for _ in range(pages_per_doc):
            yield "\n".join(text for _, text in maker.page(lang))


def compare(texts, jieba_seg, rjieba_seg, examples: int = 5) -> dict:
    runs = [r.group() for t in texts for r in analysis.CJK_RUN.finditer(analysis.fold(t))]
    chars = sum(map(len, runs))
    t0 = time.perf_counter()
    by_jieba = [[tuple(t) for t in jieba_seg.tokenize(r, HMM=True)] for r in runs]
    jieba_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    by_rjieba = [[tuple(t) for t in rjieba_seg.tokenize(r, "default", True)] for r in runs]
    rjieba_s = time.perf_counter() - t0
    differ = [(r, a, b) for r, a, b in zip(runs, by_jieba, by_rjieba) if a != b]
    return {
        "runs": len(runs), "chars": chars, "runs_differing": len(differ),
        "examples": [{"text": r, "jieba": [w for w, *_ in a], "rjieba": [w for w, *_ in b]}
                     for r, a, b in differ[:examples]],
        "jieba_chars_per_s": round(chars / jieba_s) if jieba_s else None,
        "rjieba_chars_per_s": round(chars / rjieba_s) if rjieba_s else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument("--pages", type=int, default=10_000, help="pages of generated benchmark corpus")
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    analysis.configure_segmenter(settings.userdict)
    jieba_seg = analysis.segmenter()
    rjieba_seg = rjieba_segmenter(settings.userdict)
    out = {
        "archive": compare(archive_texts(settings.archive_dir), jieba_seg, rjieba_seg),
        f"corpus_{args.pages}_pages": compare(corpus_texts(args.pages), jieba_seg, rjieba_seg),
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
