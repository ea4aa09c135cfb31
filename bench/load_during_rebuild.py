"""Proof under load (issue 8, item 5): many clients search while the index is rebuilt, and every answer is right.

    python bench/load_during_rebuild.py                     # 50 clients, 60 s, appends to docs/BENCHMARKS-log.md
    python bench/load_during_rebuild.py --seconds 5 --clients 8 --no-append     # the smoke test

What it does, all on loopback:
1. writes a generated archive in a temporary folder: --docs documents of
   --pages pages, half English and half Chinese, rendered to real PDFs, and
   builds its index with `python -m indexer update`;
2. starts the real server (`python -m webapp`: waitress, a process per core) on a free port;
3. runs --clients threads (a bounded pool) for --seconds, each sending a mix
   of English and Chinese searches (JSON API and HTML results page) and
   document pages;
4. --rebuild-after seconds in, runs a full `python -m indexer rebuild`, and
   again each time one finishes, until the time is up (the clients go on
   until the first rebuild has swapped, so every run answers across a swap).
   Before each rebuild one new PDF (extra-NNN.pdf) is put into the archive,
   so each index generation holds a known set of documents.

Every answer names the index generation that produced it (the
X-Index-Generation header), and is checked against what that generation
must hold: each search must return exactly the expected documents (and the
expected total for the word every document has), each document page must
show its own marker word. Errors are non-200 answers, failed connections and
wrong answers. Prints one JSON object (p50/p95/p99 latency, counts per kind
and per generation, rebuild times); appends a dated section to
docs/BENCHMARKS-log.md unless --no-append; exits 1 if anything went wrong.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"          # loopback only, always

# Words chosen so that each search has an exact answer:
# - every page of every document has COMMON, so a search for it counts the generation's documents;
# - each English document has one of EN_GROUPS, each Chinese one one of ZH_GROUPS (rare characters that
#   no filler word contains, so no bigram of the filler can match them);
# - each document has its own marker docmarkNNN, shown on its document page;
# - the extra documents added before each rebuild have EXTRA.
COMMON = "archivemark"
EXTRA = "extramark"
EN_GROUPS = ("alphagroup", "bravogroup", "charliegroup", "deltagroup", "echogroup")
ZH_GROUPS = ("熊猫", "骆驼", "麒麟", "孔雀", "蝴蝶")
EN_FILLER = ("regional policy cooperation development urban rural innovation cohesion investment planning "
             "governance territorial growth province municipal strategy dialogue exchange seminar report "
             "the of and in for with on between partners experience").split()
ZH_FILLER = ("发展 合作 经济 社会 区域 农村 创新 投资 规划 治理 省份 战略 对话 交流 研讨 报告 政策 地方 结构 "
             "资金 中欧 伙伴 经验 试点 项目").split()


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


# --- the archive ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    doc_id: str
    lang: str
    group: str
    marker: str


def make_docs(n: int) -> list[Doc]:
    docs = []
    for i in range(n):
        lang = "en" if i % 2 == 0 else "zh"
        groups = EN_GROUPS if lang == "en" else ZH_GROUPS
        docs.append(Doc(f"doc-{i:03d}", lang, groups[(i // 2) % len(groups)], f"docmark{i:03d}"))
    return docs


def page_text(doc: Doc, page: int, rng: random.Random) -> str:
    if doc.lang == "en":
        filler = " ".join(rng.choice(EN_FILLER) for _ in range(120))
        return f"{COMMON} {doc.marker} {doc.group}. Page {page}. {filler}."
    filler = "，".join(rng.choice(ZH_FILLER) for _ in range(80))
    return f"{COMMON} {doc.marker} {doc.group}。第{page}页。{filler}。"


def write_pdf(path: Path, pages: list[str], title: str) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), invariant=1)
    c.setTitle(title)
    for text in pages:
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
        c.setFont("STSong-Light" if chinese else "Helvetica", 10)
        width = 40 if chinese else 95
        y = 800
        for start in range(0, len(text), width):
            c.drawString(40, y, text[start:start + width])
            y -= 14
        c.showPage()
    c.save()


def make_archive(work: Path, docs: list[Doc], pages: int) -> Path:
    archive = work / "archive"
    archive.mkdir(parents=True)
    rng = random.Random(7)
    entries = []
    for doc in docs:
        name = f"{doc.doc_id}.{doc.lang}.pdf"
        write_pdf(archive / name, [page_text(doc, p, rng) for p in range(1, pages + 1)], f"Load test {doc.doc_id}")
        entries.append(f'[[document]]\nid = "{doc.doc_id}"\ntitle = "Load test document {doc.doc_id}"\n'
                       f'title_zh = "负载测试文件 {doc.doc_id}"\nkind = "study"\ndate = "20{10 + int(doc.doc_id[-2:]) % 10}"\n'
                       f'\n[[document.files]]\nlang = "{doc.lang}"\nfile = "{name}"\n')
    (archive / "catalogue.toml").write_text("\n".join(entries), encoding="utf-8")
    return archive


def add_extra(archive: Path, k: int) -> str:
    """Put extra-K.pdf into the archive (no catalogue entry: its id is made from its name); return that id."""
    doc_id = f"extra-{k:03d}"
    write_pdf(archive / f"{doc_id}.pdf", [f"{COMMON} {EXTRA} added before rebuild {k}."], f"Extra {k}")
    return doc_id


def write_config(work: Path, port: int) -> Path:
    config = work / "config.toml"
    config.write_text(f"""
[paths]
archive_dir = "{work / 'archive'}"
catalogue = "{work / 'archive' / 'catalogue.toml'}"
userdict = "{ROOT / 'archive' / 'userdict.txt'}"
glossary = "{ROOT / 'archive' / 'glossary.toml'}"
index_dir = "{work / 'index'}"
log_dir = "{work / 'log'}"

[server]
host = "{HOST}"
port = {port}

[indexer]
ocr = false
""", encoding="utf-8")
    return config


def server_threads(config: Path) -> tuple[int, int]:
    """The server's processes and threads per process, as the configuration sets them."""
    sys.path.insert(0, str(ROOT))
    from indexer.config import load_settings

    settings = load_settings(config)
    return settings.web_processes, settings.threads


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def indexer(config: Path, command: str) -> tuple[float, str]:
    """Run `python -m indexer COMMAND`; return (seconds, the live generation after it)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "indexer", "--config", str(config), command], cwd=ROOT,
                          env=child_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"`python -m indexer {command}` failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds, os.readlink(config.parent / "index" / "current")


# --- the clients ------------------------------------------------------------------------------


@dataclass
class Answer:
    kind: str
    key: str             # what was asked (a query, or a document id)
    generation: str
    ms: float
    ids: frozenset = frozenset()
    total: int = -1
    ok: bool = True
    why: str = ""


@dataclass
class Tally:
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def requests_for(docs: list[Doc]) -> list[tuple[str, str, str]]:
    """(kind, key, path) of every request the clients choose from, weighted by repetition."""
    out = []
    for group in EN_GROUPS:
        q = urllib.parse.urlencode({"q": group, "expand": "0"})
        out += [("search_en", group, f"/api/search?{q}")] * 3 + [("page_en", group, f"/search?{q}")]
    for group in ZH_GROUPS:
        q = urllib.parse.urlencode({"q": group, "expand": "0"})
        out += [("search_zh", group, f"/api/search?{q}")] * 3 + [("page_zh", group, f"/search?{q}")]
    out += [("search_all", COMMON, f"/api/search?q={COMMON}&expand=0")] * 3
    out += [("search_extra", EXTRA, f"/api/search?q={EXTRA}&expand=0")] * 3
    out += [("document", d.doc_id, f"/documents/{d.doc_id}") for d in docs[::2]]
    return out


RESULT_LINK = re.compile(r'href="/documents/((?:doc|extra)-\d{3})\?')


def client(n: int, port: int, stop, requests, docs_by_id: dict[str, Doc], tally: Tally) -> int:
    """Send requests until STOP() says so; return how many were sent."""
    rng = random.Random(n)
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    sent = 0
    while not stop():
        kind, key, path = rng.choice(requests)
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Accept-Language": "en"})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            with tally.lock:
                tally.errors.append(f"{kind} {key}: {type(exc).__name__}")
            continue
        ms = (time.perf_counter() - started) * 1000
        sent += 1
        answer = Answer(kind, key, response.getheader("X-Index-Generation", ""), ms)
        if response.status != 200:
            answer.ok, answer.why = False, f"HTTP {response.status}"
        elif kind.startswith("search"):
            data = json.loads(body)
            answer.ids, answer.total = frozenset(r["id"] for r in data["results"]), data["total"]
        elif kind.startswith("page"):
            answer.ids = frozenset(RESULT_LINK.findall(body.decode("utf-8")))
        elif docs_by_id[key].marker not in body.decode("utf-8"):
            answer.ok, answer.why = False, "the document page lacks its marker word"
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
        with tally.lock:
            tally.answers.append(answer)
    conn.close()
    return sent


def check(answer: Answer, docs: list[Doc], extras_of: dict[str, list[str]]) -> str:
    """Why ANSWER is wrong for the generation that gave it ("" if it is right)."""
    if not answer.ok:
        return answer.why
    if answer.generation not in extras_of:
        return f"answered by an unknown index generation {answer.generation!r}"
    extras = set(extras_of[answer.generation])
    if answer.kind == "document":
        return ""
    if answer.key == COMMON:
        expected_total = len(docs) + len(extras)
        if answer.total != expected_total:
            return f"{COMMON}: {answer.total} documents, expected {expected_total}"
        return ""
    expected = extras if answer.key == EXTRA else {d.doc_id for d in docs if d.group == answer.key}
    if answer.ids != expected:
        return f"{answer.key}: {sorted(answer.ids)}, expected {sorted(expected)}"
    if answer.total not in (-1, len(expected)):
        return f"{answer.key}: total {answer.total}, expected {len(expected)}"
    return ""


# --- one run ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_for_server(proc, port: int, stderr_path: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the server exited ({proc.returncode}): {tail}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:g} s")


def run(args) -> dict:
    base = Path(args.work_dir) if args.work_dir else None
    work = Path(tempfile.mkdtemp(prefix="load-rebuild-", dir=base))
    docs = make_docs(args.docs)
    try:
        started = time.perf_counter()
        archive = make_archive(work, docs, args.pages)
        log(f"archive of {len(docs)} documents × {args.pages} pages written in {time.perf_counter() - started:.1f} s")
        port = free_port()
        config = write_config(work, port)
        build_s, first_gen = indexer(config, "update")
        log(f"index built in {build_s:.1f} s ({first_gen})")
        extras_of: dict[str, list[str]] = {first_gen: []}
        # The server's standard error goes to a file: it logs every request there, and an unread
        # pipe would fill up after a few hundred requests and block the server.
        stderr_path = work / "server.stderr"
        with open(stderr_path, "w", encoding="utf-8") as stderr:
            server = subprocess.Popen([sys.executable, "-m", "webapp", "--config", str(config), "--no-watch"],
                                      cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_for_server(server, port, stderr_path)
            return _load(args, docs, archive, config, port, extras_of, build_s)
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")


def _load(args, docs, archive: Path, config: Path, port: int, extras_of: dict, build_s: float) -> dict:
    tally = Tally()
    requests = requests_for(docs)
    docs_by_id = {d.doc_id: d for d in docs}
    rebuilds: list[float] = []
    rebuild_errors: list[str] = []
    first_swap = threading.Event()
    started = time.monotonic()
    deadline = started + args.seconds

    def rebuilder():
        time.sleep(args.rebuild_after)
        added: list[str] = []
        while not rebuilds or time.monotonic() < deadline:
            added.append(add_extra(archive, len(added) + 1))
            try:
                seconds, gen = indexer(config, "rebuild")
            except RuntimeError as exc:
                rebuild_errors.append(str(exc))
                first_swap.set()
                return
            extras_of[gen] = list(added)
            rebuilds.append(round(seconds, 2))
            log(f"rebuild {len(rebuilds)} done in {seconds:.1f} s ({gen}, {len(added)} extra documents)")
            first_swap.set()

    def stop() -> bool:
        # Past the deadline, and past the first swap (plus a second of answers from the new generation).
        return time.monotonic() > deadline and first_swap.is_set() and time.monotonic() > swap_seen[0] + 1.0

    swap_seen = [float("inf")]

    def watch_swap():
        first_swap.wait()
        swap_seen[0] = time.monotonic()

    threads = [threading.Thread(target=rebuilder, daemon=True), threading.Thread(target=watch_swap, daemon=True)]
    for t in threads:
        t.start()
    log(f"{args.clients} clients for {args.seconds:g} s, a rebuild from {args.rebuild_after:g} s on")
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.clients) as pool:
        sent = sum(pool.map(lambda n: client(n, port, stop, requests, docs_by_id, tally), range(args.clients)))
    load_s = time.monotonic() - started
    threads[0].join()          # the rebuild under way finishes; its generation's answers are checked too

    wrong = Counter()
    examples: list[str] = []
    for answer in tally.answers:
        why = check(answer, docs, extras_of)
        if why:
            wrong[answer.kind] += 1
            if len(examples) < 10:
                examples.append(f"{answer.kind} via {answer.generation or '?'}: {why}")
    latencies = [a.ms for a in tally.answers]
    by_kind = Counter(a.kind for a in tally.answers)
    per_kind_ms = {kind: {"p50": round(percentile([a.ms for a in tally.answers if a.kind == kind], 0.5), 1),
                          "p95": round(percentile([a.ms for a in tally.answers if a.kind == kind], 0.95), 1)}
                   for kind in sorted(by_kind)}
    errors = len(tally.errors) + sum(wrong.values()) + len(rebuild_errors)
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
        "archive": {"documents": len(docs), "pages_per_document": args.pages,
                    "english": sum(d.lang == "en" for d in docs), "chinese": sum(d.lang == "zh" for d in docs)},
        "initial_build_s": round(build_s, 1),
        "clients": args.clients,
        "server_processes": server_threads(config)[0],
        "server_threads": server_threads(config)[1],
        "seconds": round(load_s, 1),
        "requests": sent + len(tally.errors),
        "answers": len(tally.answers),
        "requests_per_s": round(len(tally.answers) / load_s, 1) if load_s else 0.0,
        "by_kind": dict(sorted(by_kind.items())),
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 1), "p95": round(percentile(latencies, 0.95), 1),
                       "p99": round(percentile(latencies, 0.99), 1), "max": round(max(latencies, default=0), 1)},
        "latency_ms_by_kind": per_kind_ms,
        "rebuilds": len(rebuilds),
        "rebuild_s": rebuilds,
        "answers_by_generation": dict(sorted(Counter(a.generation for a in tally.answers).items())),
        "failed_requests": len(tally.errors),
        "failed_request_kinds": sorted(set(tally.errors))[:10],
        "wrong_answers": sum(wrong.values()),
        "wrong_by_kind": dict(wrong),
        "wrong_examples": examples,
        "rebuild_errors": rebuild_errors,
        "errors": errors,
    }


def markdown(out: dict) -> str:
    """A dated section for docs/BENCHMARKS-log.md."""
    lat = out["latency_ms"]
    gens = ", ".join(f"{g or '(none)'}: {n:,}" for g, n in out["answers_by_generation"].items())
    kinds = ", ".join(f"{k} {n:,}" for k, n in out["by_kind"].items())
    m = out["machine"]
    a = out["archive"]
    rows = [
        ("machine", f"{m['cores']} cores, Python {m['python']}, {m['system']}"),
        ("archive", f"{a['documents']} documents × {a['pages_per_document']} pages ({a['english']} English, "
                    f"{a['chinese']} Chinese), built in {out['initial_build_s']} s"),
        ("load", f"{out['clients']} clients on loopback for {out['seconds']} s, against `python -m webapp` "
                 f"(waitress, {out.get('server_processes', 1)} processes × {out['server_threads']} threads)"),
        ("rebuilds during the load", f"{out['rebuilds']} (" + ", ".join(f"{s} s" for s in out["rebuild_s"]) + ")"),
        ("answers", f"{out['answers']:,} ({out['requests_per_s']}/s): {kinds}"),
        ("answers by index generation", gens),
        ("latency p50 / p95 / p99 / max", f"{lat['p50']} / {lat['p95']} / {lat['p99']} / {lat['max']} ms "
                                          "(waiting for a free server thread included)"),
        ("failed requests", str(out["failed_requests"])),
        ("wrong answers", str(out["wrong_answers"])),
        ("errors in all", f"**{out['errors']}**"),
    ]
    lines = [f"## Load during a rebuild, {out['date']}", "", f"`{out['command']}`", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "Every answer was checked against the index generation that gave it (X-Index-Generation): "
              "exact result sets for English and Chinese searches, the document count, each document page's "
              "own marker word.", ""]
    return "\n".join(lines)


LOG = ROOT / "docs" / "BENCHMARKS-log.md"


def append_markdown(text: str, path: Path | None = None) -> None:
    """Append TEXT to the benchmark log (others append there too: never rewrite it)."""
    with open(LOG if path is None else path, "a", encoding="utf-8") as fh:
        if fh.tell() == 0:
            fh.write("# Benchmark log\n\nEvery benchmark run, oldest first; docs/BENCHMARKS.md has the current figures.\n")
        fh.write("\n" + text)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run (default 60)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--docs", type=int, default=40, help="documents in the generated archive (default 40)")
    parser.add_argument("--pages", type=int, default=5, help="pages per document (default 5)")
    parser.add_argument("--rebuild-after", type=float, default=3.0,
                        help="seconds into the load when the first rebuild starts (default 3)")
    parser.add_argument("--work-dir", help="where the throw-away archive and index go (default: the temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-append", action="store_true", help="do not append to docs/BENCHMARKS-log.md")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.clients > 200 or args.docs < 10 or args.seconds <= 0:
        parser.error("use 1 to 200 clients, at least 10 documents and a positive duration")
    args.command = " ".join(["python bench/load_during_rebuild.py", *argv])
    out = run(args)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if not args.no_append:
        append_markdown(markdown(out))
    return 0 if out["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
