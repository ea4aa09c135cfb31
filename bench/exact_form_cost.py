"""The query step of bench/run.py alone, with the exact-form clause on, off and on again.

    python bench/exact_form_cost.py --pages 10000 --cache-dir /root/bench-cache --work-dir DIR [--repeat 5]

An unquoted English word is also looked for in its exact form (ranking.EXACT_FORM_WEIGHT, the
fields of schema.EXACT_FIELDS). This measures what that optional clause costs per query class,
as a ratio measured in one process on one index, so that a noisy host moves both sides alike.
The index is built into DIR/index once and kept (DIR/config.toml); a later run reuses it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402
import run as bench  # noqa: E402


def main() -> None:
    """Build (or reuse) the corpus's index and time the query classes with the clause on/off/on."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--pages-per-doc", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache-dir", help="where generated corpora are kept (default bench/.cache)")
    parser.add_argument("--work-dir", required=True, help="where the kept archive and index go")
    args = parser.parse_args()
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)
    from indexer.config import load_settings
    from indexer.engine import analysis, parse, ranking

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
    out = {}
    for label, weight in (("on", ranking.EXACT_FORM_WEIGHT), ("off", 0.0), ("on-again", ranking.EXACT_FORM_WEIGHT)):
        parse.EXACT_FORM_WEIGHT = weight
        parse.clear_parse_caches()
        bench.log(f"exact-form clause {label}")
        out[label], _ = bench.run_queries(settings.index_dir, settings, queries, args.repeat)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
