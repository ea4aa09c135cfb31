"""Compare Whoosh distributions on our own schema: correctness checks, indexing and query speed.

Run it once with each distribution installed (they share the import name):

    .venv/bin/python bench/whoosh_forks.py --pages 3000
    /tmp/venv-w3/bin/python bench/whoosh_forks.py --pages 3000

Pages are synthetic text (English words drawn from a Zipf distribution over
the collection's vocabulary, Chinese words by frequency from jieba's
dictionary) written straight into an index with our schema, then searched
through indexer.search, the code the site uses. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import whoosh  # noqa: E402

from indexer import analysis  # noqa: E402
from indexer.build import doc_fields, page_fields  # noqa: E402
from indexer.catalogue import CatalogueEntry  # noqa: E402
from indexer.config import load_settings  # noqa: E402
from indexer.extract import PageText, detect_language  # noqa: E402
from indexer.search import search  # noqa: E402
from indexer.engine.storage import create_index  # noqa: E402

EN_WORDS = ("regional policy cohesion cooperation development china european union commission "
            "dialogue seminar training programme urban rural cities regions innovation clusters "
            "governance partnership memorandum understanding statement study report growth "
            "competitiveness employment disparities provinces delta sustainable territorial").split()


def chinese_vocabulary(n: int = 20000) -> tuple[list[str], list[int]]:
    seg = analysis.segmenter()
    words = sorted(((w, f) for w, f in seg.FREQ.items() if f and all("\u4e00" <= c <= "\u9fff" for c in w)),
                   key=lambda wf: -wf[1])[:n]
    return [w for w, _ in words], [f for _, f in words]


def make_pages(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    zh_words, zh_weights = chinese_vocabulary()
    en_weights = [1 / (i + 1) for i in range(len(EN_WORDS))]
    pages = []
    for i in range(count):
        if i % 10 < 6:
            text = " ".join(rng.choices(EN_WORDS, en_weights, k=400))
        elif i % 10 < 9:
            text = "".join(rng.choices(zh_words, zh_weights, k=1200))
        else:
            text = " ".join(rng.choices(EN_WORDS, en_weights, k=200)) + "".join(rng.choices(zh_words, zh_weights, k=600))
        pages.append(text)
    return pages


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    pages = make_pages(args.pages)
    out = {"whoosh": whoosh.versionstring(), "pages": args.pages, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(ROOT / "config.toml", index_dir=str(Path(tmp) / "index"))
        gen = Path(tmp) / "index" / "gen-000001"
        gen.mkdir(parents=True)
        ix = create_index(gen)
        entry = CatalogueEntry(id="synthetic", title="Synthetic", kind="study", date="2020")
        started = time.perf_counter()
        w = ix.writer(limitmb=256)
        w.add_document(**doc_fields(entry, "2020-01-01T00:00:00"))
        for n, text in enumerate(pages, start=1):
            w.add_document(**page_fields(entry, "en", f"doc{n // 20}.pdf", PageText(n, text, detect_language(text))))
        w.commit()
        out["index_pages_per_s"] = round(args.pages / (time.perf_counter() - started), 1)
        queries = {"english_word": "cohesion", "english_phrase": '"regional policy"', "two_words": "urban governance",
                   "chinese_word": "发展", "chinese_4": "经济发展", "chinese_phrase": '"经济发展"',
                   "traditional": "經濟發展"}
        with ix.searcher() as s:
            timings = {}
            for name, q in queries.items():
                result = search(s, q, settings, expand=False)
                samples = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    search(s, q, settings, expand=False)
                    samples.append((time.perf_counter() - t0) * 1000)
                timings[name] = {"hits": result.total, "p50_ms": round(statistics.median(samples), 2)}
            out["query"] = timings
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
