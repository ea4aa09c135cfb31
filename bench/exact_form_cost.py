"""What the exact-form clause costs: bench/run.py's queries with the clause and without, alternately.

    python bench/exact_form_cost.py --pages 10000 --cache-dir /root/bench-cache --work-dir DIR [--repeat 15]

An unquoted English word is also looked for in its exact form (ranking.EXACT_FORM_WEIGHT, the
fields of schema.EXACT_FIELDS). Each query runs with the clause and without it in turn, REPEAT
times each, and the median CPU time (of this process) of each side is kept: a noisy host then
moves both sides alike, and the ratio per query class is the figure. The index is built into
DIR/index once and kept (DIR/config.toml); a later run reuses it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402
import run as bench  # noqa: E402


def main() -> None:
    """Build (or reuse) the corpus's index and print each query class's CPU time with and without the clause."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--pages-per-doc", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cache-dir", help="where generated corpora are kept (default bench/.cache)")
    parser.add_argument("--work-dir", required=True, help="where the kept archive and index go")
    args = parser.parse_args()
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)
    from indexer.config import load_settings
    from indexer.engine import analysis, parse, ranking
    from indexer.readers import IndexReaderPool
    from indexer.search import Filters, search

    work = Path(args.work_dir)
    config = work / "config.toml"
    if not config.exists():
        folder, info = corpus.ensure_corpus(args.pages, args.pages_per_doc, log=bench.log)
        work.mkdir(parents=True, exist_ok=True)
        (work / "archive").mkdir()
        for pdf in folder.glob("*.pdf"):
            corpus.link_or_copy(pdf, work / "archive" / pdf.name)
        (work / "archive" / "catalogue.toml").write_bytes((folder / "catalogue.toml").read_bytes())
        bench.write_config(config, work, port=bench.free_port())
        bench.log(f"build: {json.dumps(bench.build(config, info['pages']))}")
    settings = load_settings(config)
    analysis.configure_segmenter(settings.userdict)
    queries = bench.query_set(random.Random(7))
    pool = IndexReaderPool(settings.index_dir)
    weight = ranking.EXACT_FORM_WEIGHT

    def cpu_ms(text: str, filters: dict, clause_weight: float) -> float:
        parse.EXACT_FORM_WEIGHT = clause_weight
        parse.clear_parse_caches()  # kept parses hold the clause or not: both sides parse anew
        start = time.process_time()
        search(pool.searcher(), text, settings, Filters(**filters))
        return (time.process_time() - start) * 1000

    out = {}
    try:
        for cls, items in queries.items():
            with_clause, without = [], []
            for text, filters in items:
                cpu_ms(text, filters, weight), cpu_ms(text, filters, 0.0)  # warm both
                pairs = [(cpu_ms(text, filters, weight), cpu_ms(text, filters, 0.0)) for _ in range(args.repeat)]
                with_clause.append(statistics.median(a for a, _ in pairs))
                without.append(statistics.median(b for _, b in pairs))
            out[cls] = {"with_ms": round(statistics.mean(with_clause), 2), "without_ms": round(statistics.mean(without), 2),
                        "ratio": round(sum(with_clause) / sum(without), 3)}
            bench.log(f"    {cls}: {out[cls]}")
    finally:
        parse.EXACT_FORM_WEIGHT = weight
        pool.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
