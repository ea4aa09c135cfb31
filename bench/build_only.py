"""Only the build of bench/run.py, repeated: `python -m indexer update` on a cached corpus, timed.

    python bench/build_only.py --pages 1000 --repeat 3 --cache-dir /tmp/bench-cache

For comparing two versions on a shared host when the whole suite is too long:
run it from a checkout of each, alternately, with the same --cache-dir, and
compare the CPU a page (build process and workers, `cpu_ms_per_page`) as
well as the pages a second, which the other processes on the host move most.
Prints one JSON line a build, the fields of bench/run.py's build().
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import run as bench  # noqa: E402


def main() -> None:
    """Build the corpus's index REPEAT times from scratch and print each build's figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--pages-per-doc", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cache-dir", help="where generated corpora are kept (default bench/.cache)")
    parser.add_argument("--work-dir", help="where the throw-away archives and indexes go")
    args = parser.parse_args()
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)
    folder, info = corpus.ensure_corpus(args.pages, args.pages_per_doc, log=bench.log)
    for _ in range(args.repeat):
        work, config = bench.make_workdir(folder, Path(args.work_dir or tempfile.gettempdir()), args.pages)
        try:
            print(json.dumps({"code": str(bench.ROOT), **bench.build(config, info["pages"])}), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
