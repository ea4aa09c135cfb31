"""Print retrieval quality (recall@10, MRR@10, nDCG@10) of the judged query set over archive/.

    python bench/quality.py [--queries tests/quality/queries.toml] [--misses]

The archive is indexed into a temporary folder with the project's settings,
so the live index is never touched.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import update  # noqa: E402
from indexer.config import load_settings  # noqa: E402
from indexer.quality import evaluate, format_report, load_judgements  # noqa: E402
from indexer.readers import open_searcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", default=str(ROOT / "tests" / "quality" / "queries.toml"))
    parser.add_argument("--misses", action="store_true", help="list queries that missed or ranked low")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-expand", action="store_true", help="switch glossary expansion off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(ROOT / "config.toml", index_dir=str(Path(tmp) / "index"), ocr=False)
        if args.no_expand:
            settings = settings.replace(expand_glossary=False)
        update(settings)
        with open_searcher(settings.index_dir) as searcher:
            report = evaluate(searcher, settings, load_judgements(Path(args.queries)))
    if args.json:
        print(json.dumps(report.by_category(), indent=2))
    else:
        print(format_report(report))
    if args.misses:
        for o in report.misses():
            print(f"- [{o.query.category}] {o.query.q!r}: relevant {o.query.relevant}, got {o.returned}"
                  f" (recall {o.recall:.2f}, rr {o.rr:.2f}) {o.error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
