"""The benchmark suite: build, query, add-a-document, web and memory figures in one run.

    python bench/run.py --quick                 # 1,000 pages, a few minutes
    python bench/run.py --full                  # 1,000, 10,000 and 50,000 pages
    python bench/run.py --sizes 1000,10000      # chosen sizes
    python bench/run.py --sizes 40 --web-seconds 2 --no-append    # the smoke test

Prints ONE JSON object on standard output (progress goes to standard error)
and appends a dated table, with the machine and the exact command, to
docs/BENCHMARKS-log.md (unless --no-append; docs/BENCHMARKS.md holds the
current figures and how to compare two versions). All figures come from one run, so
ratios hold on a noisy machine. The targets are those of issue 7, at
50,000 pages; at smaller sizes the table says at which size each was measured.

What each figure measures:
- extract_pages_per_s: raw pypdf (PdfReader + extract_text, nothing else) in
  one process over a sample of the largest corpus; _all_cores: the same sample
  over one process per core;
- build_pages_per_s: `python -m indexer update` on an empty index, end to end
  (scan, extraction in the sandboxed workers, analysis, commits), wall time;
  build_vs_extract_ratio: that over extract_pages_per_s_all_cores;
  build_cpu_ms_per_page: the CPU time of that build (the build process and
  its workers, sampled every 0.2 s) a page; build_cpu_ms_per_page_for_ratio_target:
  the most it may be for a ratio of 0.3 with every core busy; and
  extract_ms_per_page, raw pypdf's time a page in one process;
- query_ms: `indexer.search.search()` (the site's code: parsing, glossary
  expansion, grouping by document, facets, snippets of the first result page)
  with a searcher from `indexer.readers.IndexReaderPool`; several queries per
  class, of varied frequency, each run once to warm up and then --repeat
  times; p50 and p95 over the timed runs;
- add_one_doc_s: a 20-page PDF copied into the archive, `indexer.build.update()`
  in this process (as the watcher runs it in the server), then a fresh
  searcher from the pool finds the document's marker word; 20 successive
  documents;
- web: `python -m webapp` (waitress, one process per core as in production, the
  launcher's default) on a free loopback port, --web-clients
  threads sending searches (GET /search?q=..., the results page) for
  --web-seconds, each over its own kept-alive HTTP/1.1 connection, as a
  browser (or locust's HttpUser) keeps one; searches/s counts answered
  requests, errors are non-200 answers and failed connections (a request on a
  kept connection the server had closed is sent again on a new one, as
  browsers do, and counted in web_reconnects);
- build_peak_rss_mb: the largest sum of RSS over the build process and its
  workers (sampled every 0.2 s); server_rss_mb: the largest RSS of one server
  worker process after the load (the target is per process), server_rss_mb_sum
  all server processes together (launcher included);
  index_mb: the index folder's size after the build.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402

QUICK_SIZES = (1000,)
FULL_SIZES = (1000, 10000, 50000)
ADD_DOC_PAGES = 20
ADD_PREFIX = "benchadd"

RATIO_TARGET = 0.3
# The targets assume a host whose raw pypdf reads this many pages a second in
# one process; on another host a rate target scales with the host's measured
# rate and a time target inversely (half the speed: half the pages/s, twice the ms).
REFERENCE_EXTRACT_PAGES_PER_S = 330
# Issue 7's targets, at 50,000 pages: key -> (comparison, bound, how the bound scales with
# the host: "rate", "time" or None, what the figure is).
TARGETS = {
    "build_pages_per_s": ("≥", 100, "rate", ""),
    "build_vs_extract_ratio": ("≥", RATIO_TARGET, None, ""),
    "query_p50_ms": ("≤", 20, "time", " (every class)"),
    "query_p95_ms": ("≤", 60, "time", " (every class)"),
    "add_one_doc_p95_s": ("≤", 1.5, "time", ""),
    "add_one_doc_max_s": ("≤", 3, "time", ""),
    "add_one_doc_growth": ("≤", 1.5, None, " × the 1k figure (p95)"),
    "web_searches_per_s": ("≥", 100, "rate", ""),
    "web_errors": ("=", 0, None, ""),
    "server_rss_mb": ("≤", 800, None, ""),
}
_COMPARE = {"≥": lambda v, b: v >= b, "≤": lambda v, b: v <= b, "=": lambda v, b: v == b}


def host_speed(out: dict) -> float:
    """The host's raw pypdf rate (one process) against the rate the targets assume."""
    return out["extract_pages_per_s"] / REFERENCE_EXTRACT_PAGES_PER_S


def scaled_bound(key: str, speed: float) -> float:
    """TARGETS[KEY]'s bound on a host of SPEED (host_speed)."""
    _, bound, scaling, _ = TARGETS[key]
    if scaling == "rate":
        return round(bound * speed, 3)
    if scaling == "time":
        return round(bound / speed, 3)
    return bound


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine -------------------------------------------------------------


def machine() -> dict:
    import psutil
    import whoosh

    cpu = platform.processor() or ""
    # The model name alone ("AMD EPYC" on a virtual machine) does not tell two hosts apart: the
    # eleventh session's host extracted about 40 % faster than the tenth's under the same name.
    details: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                cpu = value.strip()
            elif key in ("cpu family", "model", "stepping", "cpu MHz") and key not in details:
                details[key] = value.strip()
            elif not line.strip() and details:
                break       # the first processor's entry is enough
    except OSError:
        pass
    import importlib.metadata as md

    def version(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return ""

    return {
        "cpu": cpu,
        "cpu_family": details.get("cpu family", ""),
        "cpu_model": details.get("model", ""),
        "cpu_stepping": details.get("stepping", ""),
        "cpu_mhz": details.get("cpu MHz", ""),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "whoosh": f"{whoosh.versionstring()} ({'whoosh-reloaded' if version('whoosh-reloaded') else 'whoosh3' if version('whoosh3') else 'whoosh'})",
        "jieba": version("jieba"),
        "pypdf": version("pypdf"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- extraction --------------------------------------------------------------


def _raw_extract(path: str) -> int:
    """Raw pypdf: open the file and extract every page's text; return the page count."""
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = pypdf.PdfReader(path)
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def measure_extraction(folder: Path, sample_pages: int, pages_per_doc: int) -> dict:
    """Pages/s of raw pypdf over a sample of FOLDER's PDFs, in one process and on every core."""
    files = sorted(folder.glob("*.pdf"))
    want = max(1, sample_pages // max(1, pages_per_doc))
    # Runs of ten consecutive files, spread over the corpus: the corpus cycles
    # through its languages every ten documents (6 English, 3 Chinese, 1 mixed),
    # so each run keeps the mix (every n-th file alone could be all English).
    runs = max(1, want // 10)
    step = max(10, len(files) // runs)
    sample = [str(p) for start in range(0, len(files), step) for p in files[start:start + 10]][:want]
    started = time.perf_counter()
    pages = sum(_raw_extract(p) for p in sample)
    one = pages / (time.perf_counter() - started)
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        pages_all = sum(pool.imap_unordered(_raw_extract, sample))
    all_cores = pages_all / (time.perf_counter() - started)
    return {"extract_pages_per_s": round(one, 1), "extract_pages_per_s_all_cores": round(all_cores, 1),
            "extract_sample_pages": pages, "extract_sample_files": len(sample)}


# --- a work folder per size --------------------------------------------------


def make_workdir(corpus_dir: Path, base: Path, size: int) -> tuple[Path, Path]:
    """A throw-away archive (hard links to the cached PDFs, or copies) and config; return (workdir, config path)."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=base))
    archive = work / "archive"
    archive.mkdir()
    for pdf in corpus_dir.glob("*.pdf"):
        corpus.link_or_copy(pdf, archive / pdf.name)
    shutil.copy(corpus_dir / "catalogue.toml", archive / "catalogue.toml")
    config = work / "config.toml"
    write_config(config, work, port=free_port())
    return work, config


def write_config(config: Path, work: Path, port: int) -> None:
    repo_archive = ROOT / "archive"
    config.write_text(f"""
[paths]
archive_dir = "{work / 'archive'}"
catalogue = "{work / 'archive' / 'catalogue.toml'}"
userdict = "{repo_archive / 'userdict.txt'}"
glossary = "{repo_archive / 'glossary.toml'}"
index_dir = "{work / 'index'}"
log_dir = "{work / 'log'}"

[server]
host = "127.0.0.1"
port = {port}

[indexer]
ocr = false
""", encoding="utf-8")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def folder_mb(path: Path) -> float:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return round(total / 2**20, 1)


class ProcessTreeSampler:
    """Samples a process and its descendants in a thread: the peak of their summed RSS, and the CPU
    time of each (user + system, the last value seen of every process that lived).

    The CPU time of the workers cannot be had from the kernel after they end:
    the extraction workers and segment writers are started by a fork server,
    whose children are reaped by no process this one waits for. A process's
    last fraction of an interval is not seen.
    """

    def __init__(self, pid: int, interval: float = 0.2):
        import psutil

        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.cpu: dict[tuple[int, float], float] = {}     # (pid, create time) -> CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> int:
        import psutil

        total = 0
        try:
            procs = [self.proc] + self.proc.children(recursive=True)
        except psutil.Error:
            return 0
        for p in procs:
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    self.cpu[(p.pid, p.create_time())] = times.user + times.system
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def stop(self) -> float:
        """Stop sampling; return the peak RSS in MB."""
        self._stop.set()
        self._thread.join()
        return round(self.peak / 2**20, 1)

    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def build(config: Path, pages: int) -> dict:
    """Run `python -m indexer update` on an empty index; time it and sample its memory."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "--config", str(config), "update"],
                            cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = ProcessTreeSampler(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"the build failed ({proc.returncode}): {err[-2000:]}")
    # What the build costs in CPU, whatever the cores it ran on: the build process and its workers.
    cpu = sampler.cpu_seconds()
    summary = next((line for line in out.splitlines() if line.startswith("Done")), out.strip()[-300:])
    return {"seconds": round(seconds, 1), "pages_per_s": round(pages / seconds, 1), "peak_rss_mb": peak,
            "cpu_s": round(cpu, 1), "cpu_ms_per_page": round(cpu * 1000 / pages, 2),
            "cores_busy": round(cpu / seconds, 2), "summary": summary}


# --- queries -----------------------------------------------------------------


def query_set(rng: random.Random) -> dict[str, list[tuple[str, dict]]]:
    """Queries per class, (text, filters) pairs, from the corpus vocabularies at varied frequency."""
    import zhconv

    from indexer.engine import analysis
    words, phrases = corpus.english_vocabulary()
    content = [w for w in words if w not in corpus.STOP and len(w) >= 4 and w.isalpha()][:5000]
    zh_words, _ = corpus.chinese_vocabulary()
    zh2 = [w for w in zh_words if 2 <= len(w) <= 3]
    zh4 = [w for w in zh_words if len(w) == 4]
    terms = [t for t in corpus.collection_terms() if len(t) >= 3]
    ranks = (2, 10, 40, 150, 600, 2000)
    english = [content[r] for r in ranks]
    chinese = [zh2[r] for r in (5, 40, 200, 1000, 4000, 15000)]
    four = [zh4[r] for r in (0, 20, 100, 400, 1500, 5000)]
    trad = []
    for w in chinese + four + terms:
        t = zhconv.convert(w, "zh-hant")
        if t != w and analysis.fold(t) == w:
            trad.append(t)
    pick = lambda seq, n: seq[:n] if len(seq) <= n else [seq[i * len(seq) // n] for i in range(n)]  # noqa: E731
    return {
        "english_word": [(w, {}) for w in english],
        "english_phrase": [(f'"{" ".join(p)}"', {}) for p in pick(phrases[:600], 6)],
        "two_english_words": [(f"{content[a]} {content[b]}", {}) for a, b in
                              ((1, 7), (5, 60), (20, 300), (3, 900), (80, 150), (400, 1200))],
        "chinese_word": [(w, {}) for w in chinese],
        "chinese_four_chars": [(w, {}) for w in four],
        "chinese_quoted_phrase": [(f'"{t}"', {}) for t in pick(terms, 3)] + [(f'"{w}"', {}) for w in four[:3]],
        "traditional": [(t, {}) for t in pick(trad, 6)],
        "facet_filter": [(english[0], {"kind": ("study",)}), (english[2], {"programme": ("CETREGIO",)}),
                         (chinese[1], {"year": ("2015",)}), (english[4], {"lang": ("zh",)}),
                         (four[1], {"kind": ("joint statement",)}), (english[1], {"year": ("2010", "2011")})],
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_queries(index_dir: Path, settings, queries, repeat: int) -> tuple[dict, dict]:
    """Time every query class through indexer.search.search; return (timings, details)."""
    from indexer.search import Filters, search
    from indexer.readers import IndexReaderPool

    pool = IndexReaderPool(index_dir)
    timings, details = {}, {}
    try:
        for cls, items in queries.items():
            samples = []
            for text, filt in items:
                filters = Filters(**filt)
                # The first run warms the searcher's caches for this query; it is
                # reported apart (first_ms), not in the percentiles.
                t0 = time.perf_counter()
                result = search(pool.searcher(), text, settings, filters)
                first = (time.perf_counter() - t0) * 1000
                snippets = sum(len(p.pages) for h in result.hits for p in h.files)
                details.setdefault(cls, []).append({"q": text, "filters": filt, "documents": result.total,
                                                    "snippets": snippets, "first_ms": round(first, 1)})
            for _ in range(repeat):
                for text, filt in items:
                    filters = Filters(**filt)
                    t0 = time.perf_counter()
                    search(pool.searcher(), text, settings, filters)
                    samples.append((time.perf_counter() - t0) * 1000)
            timings[cls] = {"p50": round(percentile(samples, 0.5), 1), "p95": round(percentile(samples, 0.95), 1)}
            log(f"    {cls}: p50 {timings[cls]['p50']} ms, p95 {timings[cls]['p95']} ms")
    finally:
        pool.close()
    return timings, details


# --- adding one document -----------------------------------------------------


def add_documents(work: Path, settings, add_dir: Path, count: int) -> dict:
    """Add COUNT 20-page PDFs one by one; seconds from copy to found by a fresh searcher."""
    from indexer.build import update
    from indexer.search import search
    from indexer.readers import IndexReaderPool

    pool = IndexReaderPool(settings.index_dir)
    files = sorted(add_dir.glob("*.pdf"))[:count]
    seconds = []
    misses = 0
    try:
        for i, pdf in enumerate(files):
            marker = f"{ADD_PREFIX}{corpus._letters(i)}"
            target = Path(settings.archive_dir) / pdf.name
            t0 = time.perf_counter()
            shutil.copy(pdf, target)
            update(settings)
            result = search(pool.searcher(), marker, settings)
            elapsed = time.perf_counter() - t0
            if not any(f.path == pdf.name for h in result.hits for f in h.files):
                misses += 1
            seconds.append(elapsed)
    finally:
        pool.close()
    return {"p50": round(percentile(seconds, 0.5), 3), "p95": round(percentile(seconds, 0.95), 3),
            "max": round(max(seconds), 3), "all": [round(s, 3) for s in seconds], "not_found": misses}


# --- the web server ------------------------------------------------------------


def web_load(config: Path, queries, clients: int, seconds: float) -> dict:
    """Start `python -m webapp` (as production: a worker process per core), search from CLIENTS threads
    for SECONDS; return rate, p95, errors, RSS per worker."""
    import psutil

    port = int(next(line.split("=")[1] for line in config.read_text().splitlines() if line.startswith("port")))
    # Its messages go to a file: the server writes a line per request to standard error, and a pipe
    # nobody reads fills after a few hundred requests and stops every server process on its next write.
    errors_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    output_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "--config", str(config), "--no-watch"],
                            cwd=ROOT, env=child_env(), stdout=output_file, stderr=errors_file, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        # The load starts once every worker serves (the launcher then prints "Serving the archive"), not
        # at the first answer: the clients keep their connections, so connections opened while one
        # worker still warms up all stay on the other, and one core serves the whole run.
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                errors_file.seek(0)
                raise RuntimeError(f"the server exited ({proc.returncode}): {errors_file.read()[-2000:]}")
            output_file.seek(0)
            if "Serving the archive at" in output_file.read():
                with urllib.request.urlopen(base + "/", timeout=30) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError("the server's workers were not all serving within 180 s")
            time.sleep(0.3)
        paths = []
        for items in queries.values():
            for text, filt in items:
                params = [("q", text)] + [(k, v) for k, values in filt.items() for v in values]
                paths.append("/search?" + urllib.parse.urlencode(params))
        latencies: list[float] = []
        errors: list[str] = []
        reconnects = [0]
        connections = [0]
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def client(n: int) -> None:
            i = n
            conn: http.client.HTTPConnection | None = None
            while time.monotonic() < stop_at:
                path = paths[i % len(paths)]
                i += clients
                t0 = time.perf_counter()
                for attempt in (1, 2):
                    reused = conn is not None
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        with lock:
                            connections[0] += 1
                    try:
                        conn.request("GET", path)
                        r = conn.getresponse()
                        r.read()
                        ok, why = r.status == 200, f"HTTP {r.status}"
                        if r.will_close:
                            conn.close()
                            conn = None
                        break
                    except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                        conn.close()
                        conn = None
                        ok, why = False, type(exc).__name__
                        # Only a kept connection the server closed is tried again, once, on a new one.
                        if not (reused and attempt == 1 and isinstance(exc, (ConnectionError, http.client.HTTPException))):
                            break
                        with lock:
                            reconnects[0] += 1
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors.append(why)
            if conn is not None:
                conn.close()

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as ex:
            list(ex.map(client, range(clients)))
        duration = time.perf_counter() - started
        # `python -m webapp` is a launcher with one worker process per core (or serves alone with one):
        # the target is per worker process, so the largest worker is server_rss_mb; all of them together
        # (launcher included) are server_rss_mb_sum.
        launcher = psutil.Process(proc.pid)
        workers = launcher.children() or [launcher]
        worker_rss = [w.memory_info().rss for w in workers]
        every = [launcher] + launcher.children(recursive=True)
        total = sum(p.memory_info().rss for p in every)
        return {"web_searches_per_s": round(len(latencies) / duration, 1),
                "web_p95_ms": round(percentile(latencies, 0.95), 1),
                "web_p50_ms": round(percentile(latencies, 0.5), 1),
                "web_errors": len(errors), "web_error_kinds": sorted(set(errors))[:10],
                "web_requests": len(latencies) + len(errors), "web_reconnects": reconnects[0],
                "web_connections": connections[0],
                "server_rss_mb": round(max(worker_rss) / 2**20, 1),
                "server_rss_mb_sum": round(total / 2**20, 1),
                "server_rss_mb_workers": [round(r / 2**20, 1) for r in worker_rss],
                "web_workers": len(worker_rss)}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors_file.close()
        output_file.close()


# --- one run -----------------------------------------------------------------------


def run(args) -> dict:
    from indexer.engine import analysis
    from indexer.config import load_settings

    sizes = sorted(args.sizes)
    out: dict = {"command": args.command, "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
                 "machine": machine(), "sizes": sizes}
    if args.cache_dir:
        corpus.CACHE = Path(args.cache_dir)
    corpora = {}
    for size in sizes:
        log(f"corpus of {size} pages")
        folder, info = corpus.ensure_corpus(size, args.pages_per_doc, log=log)
        corpora[size] = (folder, info)
    add_dir, add_info = corpus.ensure_corpus(ADD_DOC_PAGES * args.adds, ADD_DOC_PAGES, seed=99,
                                             prefix=ADD_PREFIX, log=None)
    out["corpus"] = {str(size): info for size, (_, info) in corpora.items()}

    log("raw extraction")
    out.update(measure_extraction(corpora[sizes[-1]][0], args.extract_sample, args.pages_per_doc))
    log(f"  {out['extract_pages_per_s']} pages/s in one process, {out['extract_pages_per_s_all_cores']} on all cores")

    queries = query_set(random.Random(7))
    out["query_ms"] = {cls: {} for cls in queries}
    out["add_one_doc_s"] = {}
    out["build"] = {}
    base = Path(args.work_dir or tempfile.gettempdir())
    for size in sizes:
        folder, info = corpora[size]
        work, config = make_workdir(folder, base, size)
        try:
            pages = info["pages"]
            log(f"build of {pages} pages in {work}")
            b = build(config, pages)
            b["index_mb"] = folder_mb(work / "index")
            b["build_vs_extract_ratio"] = round(b["pages_per_s"] / out["extract_pages_per_s_all_cores"], 3)
            out["build"][str(size)] = b
            log(f"  {b['pages_per_s']} pages/s, peak RSS {b['peak_rss_mb']} MB, index {b['index_mb']} MB")
            settings = load_settings(config)
            analysis.configure_segmenter(settings.userdict)
            log("  queries")
            timings, details = run_queries(settings.index_dir, settings, queries, args.repeat)
            for cls, t in timings.items():
                out["query_ms"][cls][str(size)] = t
            out.setdefault("query_details", {})[str(size)] = details
            # The same queries without the dictionary's translations, in the same run: what translation costs.
            log("  queries without the dictionary's translations")
            untranslated, _ = run_queries(settings.index_dir, settings.replace(translate_dictionary=False),
                                          queries, args.repeat)
            for cls, t in untranslated.items():
                out.setdefault("query_ms_no_dictionary", {}).setdefault(cls, {})[str(size)] = t
            log(f"  adding {args.adds} documents of {ADD_DOC_PAGES} pages")
            out["add_one_doc_s"][str(size)] = add_documents(work, settings, add_dir, args.adds)
            a = out["add_one_doc_s"][str(size)]
            log(f"    p50 {a['p50']} s, p95 {a['p95']} s, max {a['max']} s")
            # Do queries stay fast with the segments the additions left?
            after, _ = run_queries(settings.index_dir, settings, queries, 1)
            out.setdefault("query_ms_after_adds", {})[str(size)] = {
                "p50_max": max(t["p50"] for t in after.values()), "p95_max": max(t["p95"] for t in after.values())}
            if size == sizes[-1] and args.web_seconds > 0:
                log(f"  web: {args.web_clients} clients for {args.web_seconds} s")
                out.update(web_load(config, queries, args.web_clients, args.web_seconds))
                out["web_size"] = size
                log(f"    {out['web_searches_per_s']} searches/s, p95 {out['web_p95_ms']} ms, "
                    f"{out['web_errors']} errors, server RSS {out['server_rss_mb']} MB per worker at most "
                    f"({out['web_workers']} workers, {out['server_rss_mb_sum']} MB in all)")
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    largest = out["build"][str(sizes[-1])]
    out["build_pages_per_s"] = largest["pages_per_s"]
    out["build_vs_extract_ratio"] = largest["build_vs_extract_ratio"]
    out["build_peak_rss_mb"] = largest["peak_rss_mb"]
    # The ratio target as CPU a page: the whole build (every process) may cost at most this on
    # this machine's cores, all busy, for the build to run at 0.3 x raw extraction on all cores.
    out["build_cpu_ms_per_page"] = largest["cpu_ms_per_page"]
    out["extract_ms_per_page"] = round(1000 / out["extract_pages_per_s"], 2)
    out["build_cpu_ms_per_page_for_ratio_target"] = round(
        out["machine"]["cores"] * 1000 / (RATIO_TARGET * out["extract_pages_per_s_all_cores"]), 2)
    out["index_mb"] = largest["index_mb"]
    for key in ("web_searches_per_s", "web_p95_ms", "web_errors", "web_reconnects", "server_rss_mb", "server_rss_mb_sum",
                "web_workers"):
        out.setdefault(key, None)
    out["targets"] = evaluate_targets(out)
    return out


def evaluate_targets(out: dict) -> dict:
    """Each target with the figure it applies to, the size measured at, its bound scaled to this host's
    speed (host_speed), and whether the figure meets that bound."""
    size = str(out["sizes"][-1])
    smallest = str(out["sizes"][0])
    figures = {
        "build_pages_per_s": out["build_pages_per_s"],
        "build_vs_extract_ratio": out["build_vs_extract_ratio"],
        "query_p50_ms": max(t[size]["p50"] for t in out["query_ms"].values()),
        "query_p95_ms": max(t[size]["p95"] for t in out["query_ms"].values()),
        "add_one_doc_p95_s": out["add_one_doc_s"][size]["p95"],
        "add_one_doc_max_s": out["add_one_doc_s"][size]["max"],
        "add_one_doc_growth": round(out["add_one_doc_s"][size]["p95"] / out["add_one_doc_s"][smallest]["p95"], 2)
        if out["add_one_doc_s"][smallest]["p95"] else None,
        "web_searches_per_s": out["web_searches_per_s"],
        "web_errors": out["web_errors"],
        "server_rss_mb": out["server_rss_mb"],
    }
    speed = host_speed(out)
    result = {}
    for key, (comparison, bound, scaling, what) in TARGETS.items():
        value = figures[key]
        here = scaled_bound(key, speed)
        target = f"{comparison} {bound:g}{what}"
        if scaling:
            target += f"; {comparison} {here:.3g} on this host"
        result[key] = {"value": value, "target": target, "bound": bound, "bound_on_this_host": here,
                       "at_pages": int(size),
                       "met": None if value is None else bool(_COMPARE[comparison](value, here))}
    return result


# --- docs/BENCHMARKS-log.md ----------------------------------------------------------


def _cpu_details(m: dict) -> str:
    """" (family 26, model 2, stepping 1, 2596 MHz)", from what /proc/cpuinfo told; "" without it."""
    parts = [f"{name} {m[key]}" for name, key in (("family", "cpu_family"), ("model", "cpu_model"),
                                                    ("stepping", "cpu_stepping")) if m.get(key)]
    if m.get("cpu_mhz"):
        try:
            parts.append(f"{float(m['cpu_mhz']):.0f} MHz")
        except ValueError:
            pass
    return f" ({', '.join(parts)})" if parts else ""


def markdown(out: dict) -> str:
    m = out["machine"]
    sizes = [str(s) for s in out["sizes"]]
    largest = sizes[-1]
    lines = [f"## Run of {out['date']} ({', '.join(f'{int(s):,}' for s in sizes)} pages)", "",
             f"Command: `{out['command']}`  ",
             f"Machine: {m['cpu']}{_cpu_details(m)}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}, "
             f"Whoosh {m['whoosh']}, jieba {m['jieba']}, pypdf {m['pypdf']}; load average at start "
             f"{' / '.join(map(str, m['load_average_at_start']))}.", ""]
    if largest != "50000":
        lines += [f"Targets apply at 50,000 pages; this run's largest size is {int(largest):,} pages.", ""]
    lines += ["| figure | value | target | met |", "|---|---|---|---|"]
    met = lambda v: "—" if v is None else ("yes" if v else "**no**")  # noqa: E731
    t = out["targets"]
    rows = [
        ("extract_pages_per_s (raw pypdf, 1 process)", out["extract_pages_per_s"], "", None),
        (f"host speed (raw pypdf rate / {REFERENCE_EXTRACT_PAGES_PER_S}; rate targets × it, time targets ÷ it)",
         round(host_speed(out), 3), "", None),
        ("extract_pages_per_s_all_cores", out["extract_pages_per_s_all_cores"], "", None),
        ("build_pages_per_s", out["build_pages_per_s"], t["build_pages_per_s"]["target"], t["build_pages_per_s"]["met"]),
        ("build_vs_extract_ratio", out["build_vs_extract_ratio"], t["build_vs_extract_ratio"]["target"],
         t["build_vs_extract_ratio"]["met"]),
        ("build CPU a page, every process (ms)", out.get("build_cpu_ms_per_page"), "", None),
        (f"the most it may be for a ratio of {RATIO_TARGET} ({m['cores']} cores busy; ms)",
         out.get("build_cpu_ms_per_page_for_ratio_target"), "", None),
        ("raw pypdf a page, 1 process (ms)", out.get("extract_ms_per_page"), "", None),
        ("slowest query class p50 (ms)", t["query_p50_ms"]["value"], t["query_p50_ms"]["target"], t["query_p50_ms"]["met"]),
        ("slowest query class p95 (ms)", t["query_p95_ms"]["value"], t["query_p95_ms"]["target"], t["query_p95_ms"]["met"]),
        ("add_one_doc_s p95", t["add_one_doc_p95_s"]["value"], t["add_one_doc_p95_s"]["target"], t["add_one_doc_p95_s"]["met"]),
        ("add_one_doc_s max", t["add_one_doc_max_s"]["value"], t["add_one_doc_max_s"]["target"], t["add_one_doc_max_s"]["met"]),
        (f"add_one_doc_s p95 at {int(largest):,} / at {int(sizes[0]):,}", t["add_one_doc_growth"]["value"],
         t["add_one_doc_growth"]["target"], t["add_one_doc_growth"]["met"]),
        (f"web_searches_per_s (16 clients on kept connections, {out['web_workers'] or '?'} server processes)",
         out["web_searches_per_s"],
         t["web_searches_per_s"]["target"],
         t["web_searches_per_s"]["met"]),
        ("web_p95_ms", out["web_p95_ms"], "", None),
        ("web_errors", out["web_errors"], t["web_errors"]["target"], t["web_errors"]["met"]),
        ("web_reconnects (requests sent again on a new connection)", out.get("web_reconnects"), "", None),
        ("build_peak_rss_mb", out["build_peak_rss_mb"], "", None),
        ("server_rss_mb (largest worker process)", out["server_rss_mb"], t["server_rss_mb"]["target"],
         t["server_rss_mb"]["met"]),
        ("server_rss_mb_sum (all server processes)", out["server_rss_mb_sum"], "", None),
        ("index_mb", out["index_mb"], "", None),
    ]
    for name, value, target, ok in rows:
        lines.append(f"| {name} | {value} | {target} | {met(ok) if target else ''} |")
    lines += ["", "Build per size:", "",
              "| pages | seconds | pages/s | vs extraction | CPU s | CPU ms a page | cores busy | peak RSS MB | index MB |",
              "|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        b = out["build"][s]
        lines.append(f"| {int(s):,} | {b['seconds']} | {b['pages_per_s']} | {b['build_vs_extract_ratio']} | "
                     f"{b.get('cpu_s', '—')} | {b.get('cpu_ms_per_page', '—')} | {b.get('cores_busy', '—')} | "
                     f"{b['peak_rss_mb']} | {b['index_mb']} |")
    p50_here, p95_here = out["targets"]["query_p50_ms"]["bound_on_this_host"], out["targets"]["query_p95_ms"]["bound_on_this_host"]
    lines += ["", f"Query time, ms (p50 / p95; target ≤ {p50_here:g} / ≤ {p95_here:g} on this host):", "",
              "| class | " + " | ".join(f"{int(s):,} pages" for s in sizes) + " |",
              "|---|" + "---|" * len(sizes)]
    for cls, by_size in out["query_ms"].items():
        cells = []
        for s in sizes:
            v = by_size.get(s)
            flag = "" if v is None or (v["p50"] <= p50_here and v["p95"] <= p95_here) else " ✗"
            cells.append("—" if v is None else f"{v['p50']} / {v['p95']}{flag}")
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    untranslated = out.get("query_ms_no_dictionary")
    if untranslated:
        lines += ["", "Query time without the dictionary's translations (same run), ms (p50 / p95; the table above "
                  "has them on):", "", "| class | " + " | ".join(f"{int(s):,} pages" for s in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for cls, by_size in untranslated.items():
            lines.append(f"| {cls} | " + " | ".join("—" if by_size.get(s) is None else
                                                   f"{by_size[s]['p50']} / {by_size[s]['p95']}" for s in sizes) + " |")
    add_p95, add_max = out["targets"]["add_one_doc_p95_s"]["bound_on_this_host"], out["targets"]["add_one_doc_max_s"]["bound_on_this_host"]
    lines += ["", f"Adding one 20-page document, s (p50 / p95 / max; target p95 ≤ {add_p95:g}, max ≤ {add_max:g} on this host):", "",
              "| pages | p50 | p95 | max | queries after the additions, slowest p50 / p95 ms |", "|---|---|---|---|---|"]
    for s in sizes:
        a = out["add_one_doc_s"][s]
        after = out.get("query_ms_after_adds", {}).get(s, {})
        lines.append(f"| {int(s):,} | {a['p50']} | {a['p95']} | {a['max']} | "
                     f"{after.get('p50_max', '—')} / {after.get('p95_max', '—')} |")
    renders = [f"{int(s):,} pages: {c['render_seconds']} s ({c['render_pages_per_s']} pages/s on "
               f"{c['render_workers']} processes)" for s, c in out["corpus"].items()]
    lines += ["", "Corpus rendering (when it was generated): " + "; ".join(renders) + ".", ""]
    return "\n".join(lines) + "\n"


LOG = ROOT / "docs" / "BENCHMARKS-log.md"


def append_markdown(text: str, path: Path | None = None) -> None:
    """Append a run's table to the benchmark log (others append there too: never rewrite it)."""
    with open(LOG if path is None else path, "a", encoding="utf-8") as fh:
        if fh.tell() == 0:
            fh.write("# Benchmark log\n\nEvery benchmark run, oldest first; docs/BENCHMARKS.md has the current figures.\n")
        fh.write("\n" + text)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="1,000 pages (the default)")
    mode.add_argument("--full", action="store_true", help="1,000, 10,000 and 50,000 pages")
    mode.add_argument("--sizes", help="comma-separated corpus sizes in pages, e.g. 1000,10000")
    parser.add_argument("--pages-per-doc", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query")
    parser.add_argument("--adds", type=int, default=20, help="documents added one by one")
    parser.add_argument("--extract-sample", type=int, default=1000, help="pages in the raw extraction sample")
    parser.add_argument("--web-seconds", type=float, default=30.0)
    parser.add_argument("--web-clients", type=int, default=16)
    parser.add_argument("--cache-dir", help="where generated corpora are kept (default bench/.cache)")
    parser.add_argument("--work-dir", help="where the throw-away archives and indexes go (default: the temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    parser.add_argument("--no-append", action="store_true", help="do not append to docs/BENCHMARKS-log.md")
    args = parser.parse_args(argv)
    if args.sizes:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    elif args.full:
        args.sizes = list(FULL_SIZES)
    else:
        args.sizes = list(QUICK_SIZES)
    args.command = "python bench/run.py " + " ".join(argv)
    out = run(args)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if not args.no_append:
        append_markdown(markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
