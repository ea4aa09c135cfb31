"""update()'s bookkeeping at archive scale, without building the archive's index.

    python bench/bookkeeping.py --size 50000 [--profile]

An index holding only the file and document records of the cached corpus of
--size pages (its real catalogue, its files on disk through hard links, every
record up to date), but none of its page records, is made once in --work-dir;
then update() runs with nothing to do, three times, and its wall time is
printed as JSON. That is the part of every addition that grows with the
archive (scan, catalogue, reading every file and document record), measured
at 50,000 pages in seconds instead of a 40-minute build.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import run  # noqa: E402


def make_index(folder: Path, work: Path) -> None:
    from indexer.engine import analysis
    from indexer import build
    from indexer.catalogue import load_catalogue
    from indexer.config import load_settings
    from indexer.engine.writer import index_writer
    from indexer.engine.storage import open_index

    shutil.rmtree(work, ignore_errors=True)
    (work / "archive").mkdir(parents=True)
    for pdf in folder.glob("*.pdf"):
        corpus.link_or_copy(pdf, work / "archive" / pdf.name)
    shutil.copy(folder / "catalogue.toml", work / "archive" / "catalogue.toml")
    run.write_config(work / "config.toml", work, port=run.free_port())
    settings = load_settings(work / "config.toml")
    analysis.configure_segmenter(settings.userdict)
    gen = build._create_live_index(settings)
    catalogue = load_catalogue(settings.catalogue)
    by_file = catalogue.by_file()
    ix = open_index(gen)
    writer = index_writer(ix, limitmb=256)
    for i, (path, st) in enumerate(sorted(build.scan_archive(settings.archive_dir).items())):
        entry, cfile = by_file[path]
        # As update() records a file it read, with a made-up hash (size and time match, so it is not re-hashed).
        info = {"hash": f"{i:064x}", "size": st.st_size, "mtime_ns": st.st_mtime_ns, "status": "indexed",
                "reason": "", "pages": 20, "text_pages": 20, "chars": 50_000, "failed_pages": [],
                "extractor": "pypdf", "title": "", "date": "", "lang": cfile.lang, "indexed_at": build._now(),
                "entry_fp": entry.fingerprint(), "lang_used": cfile.lang}
        writer.add_document(**build.file_fields(path, entry, cfile.lang, info))
    for entry in catalogue.entries.values():
        writer.add_document(**build.doc_fields(entry, build._now()))
    writer.commit()
    ix.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--work-dir", default="/tmp/bench-bookkeeping")
    parser.add_argument("--cache-dir", help="generated corpora (default bench/.cache)")
    parser.add_argument("--profile", action="store_true", help="cProfile one more update, top 30 on standard error")
    args = parser.parse_args(argv)
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)

    from indexer.engine import analysis

    from indexer import build
    from indexer.config import load_settings

    folder, _ = corpus.ensure_corpus(args.size, 20, log=run.log)
    work = Path(args.work_dir) / str(args.size)
    if not (work / "index").is_dir():
        make_index(folder, work)
    settings = load_settings(work / "config.toml")
    analysis.configure_segmenter(settings.userdict)
    seconds = []
    for _ in range(3):
        t = time.perf_counter()
        report = build.update(settings)
        seconds.append(round(time.perf_counter() - t, 3))
        assert not report.changed and not report.extracted, report
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        build.update(settings)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    print(json.dumps({"size": args.size, "files": len(build.scan_archive(settings.archive_dir)),
                      "noop_update_s": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
