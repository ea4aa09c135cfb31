"""Plain searches while two clients send the costliest query the site accepts (issue 24, point 2).

    python bench/costly_queries.py --pages 10000 [--seconds 30] [--work-dir DIR] [--keep | --reuse WORK]

Builds the cached corpus of --pages pages (bench/corpus.py) into a throw-away
archive, starts `python -m webapp` as deployed (a worker per core, the
default threads and query limits), and finds the costliest accepted query:
`max_wildcard_words` prefixes of `min_prefix_chars` letters, the ones whose
terms have the most postings, together within `max_expanded_terms` (AND and
OR tried; the slower one is kept). Then a plain-search client (its own
loopback address) measures its latencies for --seconds unloaded, and again
while two other clients (two more addresses) send the costly query back to
back. Target: the loaded p95 under 3 × the unloaded p95. Prints JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402
import run  # noqa: E402

PLAIN_QUERIES = ["policy", "regional", "cooperation", "innovation", "区域", "合作", "urban development",
                 "cohesion policy", "发展", "environment"]
TARGET_RATIO = 3.0


def prefix_costs(settings) -> list[tuple[str, int, int]]:
    """(prefix, terms, postings) for every prefix of min_prefix_chars letters that the index knows."""
    from indexer.engine.cost import wildcard_leaves
    from indexer.engine.evaluate import segment_terms
    from indexer.readers import open_searcher
    from indexer.search import parse_query

    out = []
    with open_searcher(settings.index_dir) as s:
        readers = [sub.reader() for sub, _ in s.leaf_searchers()]
        for letters in product(string.ascii_lowercase, repeat=settings.min_prefix_chars):
            prefix = "".join(letters)
            q, _ = parse_query(prefix + "*", None)
            terms, postings = set(), 0
            for leaf in set(wildcard_leaves(q)):
                for reader in readers:
                    for t in segment_terms(leaf, reader):
                        terms.add((leaf.field, t))
                        postings += reader.doc_frequency(leaf.field, t)
            if terms:
                out.append((prefix, len(terms), postings))
    return out


def costliest_candidates(settings) -> list[str]:
    """Queries at the limits: the prefixes with the most postings that fit max_expanded_terms together."""
    costs = sorted(prefix_costs(settings), key=lambda c: c[2], reverse=True)
    chosen, terms = [], 0
    for prefix, n, _postings in costs:
        if terms + n <= settings.max_expanded_terms and len(chosen) < settings.max_wildcard_words:
            chosen.append(prefix)
            terms += n
    words = [p + "*" for p in chosen]
    return [" ".join(words), " OR ".join(words)]


class Client:
    """Requests from one loopback address over one kept connection; latencies in ms."""

    def __init__(self, port: int, source: str):
        self.port, self.source = port, source
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, float]:
        started = time.perf_counter()
        for _attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                                       source_address=(self.source, 0))
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status, (time.perf_counter() - started) * 1000
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
        return 0, (time.perf_counter() - started) * 1000


def search_path(q: str) -> str:
    return "/search?" + urllib.parse.urlencode({"q": q})


def plain_latencies(port: int, seconds: float) -> tuple[list[float], int]:
    client = Client(port, "127.0.0.1")
    latencies, errors, i = [], 0, 0
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        status, ms = client.get(search_path(PLAIN_QUERIES[i % len(PLAIN_QUERIES)]))
        i += 1
        if status == 200:
            latencies.append(ms)
        else:
            errors += 1
    return latencies, errors


def attack(port: int, source: str, q: str, stop: threading.Event, record: dict) -> None:
    client = Client(port, source)
    while not stop.is_set():
        status, ms = client.get(search_path(q))
        record.setdefault(status, []).append(ms)


def start_server(config: Path) -> tuple[subprocess.Popen, int]:
    port = int(next(line.split("=")[1] for line in config.read_text().splitlines() if line.startswith("port")))
    out = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "--config", str(config), "--no-watch"],
                            cwd=ROOT, env=run.child_env(), stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            out.seek(0)
            raise RuntimeError(f"the server exited: {out.read()[-2000:]}")
        out.seek(0)
        if "Serving the archive at" in out.read():
            return proc, port
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start within 180 s")
        time.sleep(0.3)


def measure(pages: int, seconds: float, base: Path, pages_per_doc: int = 20, reuse: Path | None = None) -> dict:
    from indexer.config import load_settings

    if reuse is not None:
        # A work folder of an earlier run (--keep), its index built: its config, with a port free now.
        work, config = reuse, reuse / "config.toml"
        run.write_config(config, work, port=run.free_port())
        result: dict = {"pages": pages, "work": str(work), "build": "reused"}
    else:
        folder, _ = corpus.ensure_corpus(pages, pages_per_doc, log=run.log)
        work, config = run.make_workdir(folder, base, pages)
        result = {"pages": pages, "work": str(work), "build": run.build(config, pages)}
    settings = load_settings(config)
    result["limits"] = {name: getattr(settings, name) for name in (
        "max_wildcard_words", "min_prefix_chars", "max_expanded_terms", "expensive_per_client", "threads",
        "query_time_limit_s")}
    result["web_processes"] = settings.web_processes
    proc, port = start_server(config)
    try:
        # The costliest accepted query: each candidate timed alone, three times, the slowest kept.
        timed = {}
        probe = Client(port, "127.0.0.9")
        for q in costliest_candidates(settings):
            runs = [probe.get(search_path(q)) for _ in range(3)]
            if all(status == 200 for status, _ in runs):
                timed[q] = sorted(ms for _, ms in runs)[1]
            else:
                timed[q] = None
        accepted = {q: ms for q, ms in timed.items() if ms is not None}
        if not accepted:
            raise RuntimeError(f"no candidate was accepted: {timed}")
        costly = max(accepted, key=accepted.get)
        result["costly_candidates_ms"] = timed
        result["costly_query"] = costly
        plain_latencies(port, 3.0)      # warm every worker's caches for the plain queries
        unloaded, errors = plain_latencies(port, seconds)
        stop = threading.Event()
        records = [{}, {}]
        attackers = [threading.Thread(target=attack, args=(port, source, costly, stop, rec), daemon=True)
                     for source, rec in zip(("127.0.0.2", "127.0.0.3"), records)]
        for t in attackers:
            t.start()
        time.sleep(1.0)
        loaded, loaded_errors = plain_latencies(port, seconds)
        stop.set()
        for t in attackers:
            t.join(timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    p95_unloaded = run.percentile(unloaded, 0.95)
    p95_loaded = run.percentile(loaded, 0.95)
    result.update({
        "plain_unloaded": {"requests": len(unloaded), "errors": errors, "p50_ms": round(run.percentile(unloaded, 0.5), 1),
                           "p95_ms": round(p95_unloaded, 1)},
        "plain_loaded": {"requests": len(loaded), "errors": loaded_errors, "p50_ms": round(run.percentile(loaded, 0.5), 1),
                         "p95_ms": round(p95_loaded, 1)},
        "costly_answers": [{str(status): {"count": len(ms), "p50_ms": round(run.percentile(ms, 0.5), 1)}
                            for status, ms in rec.items()} for rec in records],
        "ratio": round(p95_loaded / p95_unloaded, 2),
        "target_ratio": TARGET_RATIO,
    })
    result["met"] = result["ratio"] < TARGET_RATIO
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the scenario and print its JSON; exit 1 if the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="of plain searches, unloaded and loaded")
    parser.add_argument("--pages-per-doc", type=int, default=20)
    parser.add_argument("--cache-dir", help="where generated corpora are kept (default bench/.cache)")
    parser.add_argument("--work-dir", help="where the throw-away archive and index go (default: the temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--reuse", help="the work folder of an earlier run with --keep (its index is not rebuilt)")
    args = parser.parse_args(argv)
    base = Path(args.work_dir or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)
    reuse = Path(args.reuse) if args.reuse else None
    result = measure(args.pages, args.seconds, base, args.pages_per_doc, reuse)
    if not args.keep and reuse is None:
        shutil.rmtree(result["work"], ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
