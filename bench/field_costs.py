"""What each group of index fields costs a segment writer: CPU a page, with and without it.

    pip install -e '.[bench]'
    python bench/field_costs.py                     # 1,000 pages of the cached corpus, 3 rounds
    python bench/field_costs.py --pages 1000 --rounds 5

The corpus's PDFs (bench/corpus.py, generated if not cached) are read once
with the project's extraction (indexer.extract) and made into records as the
build makes them (indexer.build: the page, text, file and document records).
Then, round after round, each variant writes one segment of all of them in
this process, as a segment writer process does (indexer.segments), and its
CPU time is taken: every field; without the word-pair fields
(schema.PHRASE_PAIR_FIELDS: phrases of common words without position
checks); without the exact fields (schema.EXACT_FIELDS: quoted text); without
the bigram fields (schema.CJK_FIELDS: Chinese substrings and phrases); without
the pairs and the bigrams. The variants alternate within each round, so a
machine that slows down slows them all.

Prints one JSON object: per variant, the CPU seconds of each round, the
median in ms a page, and that median as a share of every field's. Only the
segment writers' part of a build is measured here; extraction and the
updating process are the rest (bench/run.py gives the whole build's CPU a
page).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402

from indexer import build, extract, segments  # noqa: E402
from indexer.catalogue import load_catalogue  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.engine import analysis  # noqa: E402
from indexer.engine.schema import CJK_FIELDS, EXACT_FIELDS, PHRASE_PAIR_FIELDS  # noqa: E402

PAIR_FIELDS = tuple(PHRASE_PAIR_FIELDS.values())
VARIANTS = {
    "every field": (),
    "without the exact fields": tuple(EXACT_FIELDS.values()),
    "without word pairs": PAIR_FIELDS,
    "without bigrams": CJK_FIELDS,
    "without word pairs and bigrams": PAIR_FIELDS + CJK_FIELDS,
}


def file_records(folder: Path, settings: Settings) -> list[list[dict]]:
    """Each PDF of FOLDER as the build's records of it (pages, text, file, and its document's)."""
    catalogue = load_catalogue(folder / "catalogue.toml")
    entry_of = catalogue.by_file()
    out = []
    paths = sorted(folder.glob("*.pdf"))
    for path, ex in extract.extract_many(paths, settings):
        entry, catalogued = entry_of[path.name]
        lang = catalogued.lang
        info = build._file_info(build.file_hash(path), path.stat(), ex)
        records = [build.page_fields(entry, path.name, page) for page in ex.pages if page.text.strip()]
        text = build.text_fields(entry, lang, path.name, ex.pages)
        if text is not None:
            records.append(text)
        records.append(build.file_fields(path.name, entry, lang, info))
        records.append(build.doc_fields(entry, build._now()))
        out.append(records)
    return out


def write_segment(files: list[list[dict]], dropped: tuple[str, ...], staging: Path) -> float:
    """CPU seconds to write one segment of FILES' records without the fields DROPPED."""
    files = [[{k: v for k, v in record.items() if k not in dropped} for record in records] for records in files]
    started = time.process_time()
    segment_writer, folder = segments._open_segment(str(staging), limitmb=256)
    with segment_writer as writer:
        for records in files:
            for fields in records:
                writer.add_document(**fields)
            gc.freeze()     # as a segment writer does after each file
    gc.unfreeze()
    seconds = time.process_time() - started
    shutil.rmtree(folder, ignore_errors=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="corpus size in pages (cached in bench/.cache)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-dir", help="generated corpora (default bench/.cache)")
    args = parser.parse_args(argv)
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)
    userdict = ROOT / "archive" / "userdict.txt"
    settings = Settings(ocr=False, userdict=userdict)
    analysis.configure_segmenter(userdict)
    folder, info = corpus.ensure_corpus(args.pages, 20, log=lambda m: print(m, file=sys.stderr))
    files = file_records(folder, settings)
    pages = sum(1 for records in files for r in records if r.get("record") == "page")
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="field-costs-") as tmp:
        write_segment(files[:2], (), Path(tmp))      # jieba's dictionary and the codec loaded
        for round_number in range(args.rounds):
            for name, dropped in VARIANTS.items():
                seconds[name].append(round(write_segment(files, dropped, Path(tmp)), 2))
                print(f"round {round_number + 1}: {name} {seconds[name][-1]} s", file=sys.stderr)
    full = statistics.median(seconds["every field"])
    print(json.dumps({
        "command": "python bench/field_costs.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M"), "pages": pages, "files": len(files), "rounds": args.rounds,
        "variants": {name: {"dropped": list(VARIANTS[name]), "cpu_s": s,
                            "ms_per_page": round(statistics.median(s) * 1000 / pages, 2),
                            "share_of_every_field": round(statistics.median(s) / full, 3)}
                     for name, s in seconds.items()},
    }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
