"""The add_one_doc_s figure alone, with an optional cProfile of the additions.

    python bench/add_one_doc.py                        # 1,000 pages, 20 additions
    python bench/add_one_doc.py --size 1000 --profile /tmp/add.prof
    python bench/add_one_doc.py --template /tmp/tpl1000 --phases   # one build, then where each addition's time goes

Same method as bench/run.py (it calls its functions): a fresh index of the
cached corpus is built with `python -m indexer update`, then 20-page PDFs are
copied into the archive one at a time, `indexer.build.update()` runs in this
process, and a fresh searcher must find each one's marker word. Prints one
JSON object. With --profile, the timed additions run under cProfile (timings
then include its overhead) and the stats are saved to the file named, with
the top of update()'s breakdown on standard error. With --phases, each
addition's wall time is split (no profiler overhead): waiting for extraction,
add_document (analysis), commit (the segment write), the rest of update()
(bookkeeping), and the search that finds it.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="corpus size in pages")
    parser.add_argument("--adds", type=int, default=20)
    parser.add_argument("--cache-dir", help="generated corpora (default bench/.cache)")
    parser.add_argument("--profile", help="save a cProfile of the additions to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--phases", action="store_true", help="split each addition's time into its phases")
    parser.add_argument("--template", help="build the index once into this folder and start each run from a "
                                           "copy of it (before/after comparisons on one index)")
    args = parser.parse_args(argv)
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)

    from indexer.engine import analysis
    from indexer.config import load_settings

    folder, info = corpus.ensure_corpus(args.size, 20, log=run.log)
    add_dir, _ = corpus.ensure_corpus(run.ADD_DOC_PAGES * args.adds, run.ADD_DOC_PAGES, seed=99,
                                      prefix=run.ADD_PREFIX, log=None)
    template = Path(args.template) if args.template else None
    if template is not None and not (template / "index").is_dir():
        work, config = run.make_workdir(folder, Path(tempfile.gettempdir()), args.size)
        run.log(f"build of {info['pages']} pages in {work}, kept as {template}")
        run.build(config, info["pages"])
        shutil.copytree(work, template, symlinks=True)
        shutil.rmtree(work, ignore_errors=True)
    if template is not None:
        # A copy of the built archive and index (symlinks kept), with its own config.
        work = Path(tempfile.mkdtemp(prefix=f"bench-{args.size}-", dir=tempfile.gettempdir()))
        shutil.rmtree(work)
        shutil.copytree(template, work, symlinks=True)
        config = work / "config.toml"
        run.write_config(config, work, port=run.free_port())
    else:
        work, config = run.make_workdir(folder, Path(tempfile.gettempdir()), args.size)
    try:
        if template is None:
            run.log(f"build of {info['pages']} pages in {work}")
            built = run.build(config, info["pages"])
        else:
            built = {"seconds": None}
        settings = load_settings(config)
        analysis.configure_segmenter(settings.userdict)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        phases = _instrument() if args.phases else None
        if phases:
            added = _add_with_phases(settings, add_dir, args.adds, phases)
        else:
            added = run.add_documents(work, settings, add_dir, args.adds)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
            stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
            stats.print_stats(45)
        out = {"size": args.size, "build_s": built["seconds"], "add_one_doc_s": added, "profiled": bool(profiler)}
        if phases:
            out["phases_median_s"] = phases.medians()
            out["phases_s"] = phases.rows
        print(json.dumps(out))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


class _Phases:
    """Wall time of each phase of the current addition, by wrapping the functions that do them."""

    def __init__(self):
        self.current: dict[str, float] = {}
        self.rows: list[dict] = []

    def add(self, name: str, seconds: float) -> None:
        self.current[name] = self.current.get(name, 0.0) + seconds

    def medians(self) -> dict:
        out = {}
        for lang in ("en", "zh", "mixed"):
            rows = [r for r in self.rows if r["lang"] == lang]
            if rows:
                out[lang] = {k: round(statistics.median(r[k] for r in rows), 3)
                             for k in rows[0] if k not in ("doc", "lang")}
        return out


def _instrument() -> _Phases:
    import whoosh.writing as ww

    from indexer import build
    phases = _Phases()

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases.add(name, time.perf_counter() - t)
        return wrapper

    real_extract = build._extract_many

    def extract_spy(*a, **k):
        items = real_extract(*a, **k)
        while True:
            t = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                phases.add("extract", time.perf_counter() - t)
            yield item

    build._extract_many = extract_spy
    ww.SegmentWriter.commit = timed("commit", ww.SegmentWriter.commit)
    ww.SegmentWriter.add_document = timed("add_document", ww.SegmentWriter.add_document)
    return phases


def _add_with_phases(settings, add_dir: Path, count: int, phases: _Phases) -> dict:
    """run.add_documents, with each addition split into its phases."""
    from indexer.build import update
    from indexer.search import search
    from indexer.readers import IndexReaderPool

    pool = IndexReaderPool(settings.index_dir)
    seconds, misses = [], 0
    try:
        for i, pdf in enumerate(sorted(add_dir.glob("*.pdf"))[:count]):
            phases.current = {}
            t0 = time.perf_counter()
            shutil.copy(pdf, Path(settings.archive_dir) / pdf.name)
            update(settings)
            t1 = time.perf_counter()
            result = search(pool.searcher(), f"{run.ADD_PREFIX}{corpus._letters(i)}", settings)
            t2 = time.perf_counter()
            if not any(f.path == pdf.name for h in result.hits for f in h.files):
                misses += 1
            seconds.append(t2 - t0)
            row = {k: round(v, 3) for k, v in phases.current.items()}
            row["bookkeeping"] = round((t1 - t0) - sum(phases.current.values()), 3)
            row["search"] = round(t2 - t1, 3)
            row["total"] = round(t2 - t0, 3)
            phases.rows.append({"doc": pdf.name, "lang": pdf.suffixes[0].lstrip(".") if len(pdf.suffixes) > 1 else "",
                                **row})
    finally:
        pool.close()
    return {"p50": round(run.percentile(seconds, 0.5), 3), "p95": round(run.percentile(seconds, 0.95), 3),
            "max": round(max(seconds), 3), "all": [round(s, 3) for s in seconds], "not_found": misses}


if __name__ == "__main__":
    sys.exit(main())
