"""Smoke test of the benchmark suite: bench/run.py on a tiny corpus prints every figure.

No timing is asserted here (timings never go into unit tests); this only
proves that the suite runs end to end (corpus, build, queries, additions, the
web server under load) and that its JSON carries every key of issue 7.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

KEYS = ("extract_pages_per_s", "extract_pages_per_s_all_cores", "build_pages_per_s", "build_vs_extract_ratio",
        "build_cpu_ms_per_page", "build_cpu_ms_per_page_for_ratio_target", "extract_ms_per_page",
        "query_ms", "add_one_doc_s", "web_searches_per_s", "web_p95_ms", "web_errors", "build_peak_rss_mb",
        "server_rss_mb", "index_mb")
QUERY_CLASSES = ("english_word", "english_phrase", "two_english_words", "chinese_word", "chinese_four_chars",
                 "chinese_quoted_phrase", "traditional", "facet_filter")


@pytest.fixture(scope="module")
def bench_output(tmp_path_factory):
    pytest.importorskip("psutil")
    tmp = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "40", "--pages-per-doc", "10",
         "--web-seconds", "2", "--web-clients", "4", "--adds", "2", "--repeat", "1", "--extract-sample", "40",
         "--cache-dir", str(tmp / "cache"), "--work-dir", str(tmp), "--no-append"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_every_figure_is_printed(bench_output):
    out = bench_output
    for key in KEYS:
        assert key in out, key
        assert out[key] is not None, key
    assert set(out["query_ms"]) == set(QUERY_CLASSES)
    for by_size in out["query_ms"].values():
        assert set(by_size["40"]) == {"p50", "p95"}
    assert set(out["add_one_doc_s"]["40"]) >= {"p50", "p95", "max"}
    assert out["add_one_doc_s"]["40"]["not_found"] == 0
    assert out["web_errors"] == 0
    # Each client keeps its one connection: the server closed none of them.
    assert out["web_reconnects"] == 0
    assert out["web_connections"] == 4     # --web-clients 4
    # The build's CPU time (the build process and the workers it waited for) is counted, and no
    # more than its cores could give in its wall time.
    build = out["build"]["40"]
    assert build["cpu_s"] > 0 and build["cpu_ms_per_page"] > 0
    assert 0 < build["cores_busy"] <= out["machine"]["cores"] + 0.1


def test_machine_and_targets_are_described(bench_output):
    out = bench_output
    assert {"cpu", "cpu_family", "cpu_model", "cpu_stepping", "cpu_mhz", "cores", "ram_gb", "python",
            "whoosh"} <= set(out["machine"])
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and "cpu family" in cpuinfo.read_text():     # x86 Linux; ARM says other things
        # The host is told apart by more than its model name (which a virtual machine may shorten).
        assert out["machine"]["cpu_family"] and out["machine"]["cpu_model"]
    assert out["command"].startswith("python bench/run.py")
    for target in out["targets"].values():
        assert {"value", "target", "met", "at_pages"} <= set(target)


def test_the_markdown_table_shows_each_target(bench_output):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.markdown(bench_output)
    assert text.startswith("## Run of ")
    assert "Command: `python bench/run.py --sizes 40" in text
    for row in ("build_pages_per_s", "add_one_doc_s p95", "web_searches_per_s", "server_rss_mb"):
        assert f"| {row}" in text


def test_targets_scale_with_the_hosts_raw_rate(bench_output, monkeypatch):
    """Rate targets scale with the host's raw pypdf rate and time targets inversely; the others stand."""
    run = _load_script("run", monkeypatch)
    out = dict(bench_output)
    for speed in (0.5, 1.0, 2.0):
        out["extract_pages_per_s"] = run.REFERENCE_EXTRACT_PAGES_PER_S * speed
        targets = run.evaluate_targets(out)
        assert targets["build_pages_per_s"]["bound_on_this_host"] == 100 * speed
        assert targets["web_searches_per_s"]["bound_on_this_host"] == 100 * speed
        assert targets["query_p95_ms"]["bound_on_this_host"] == 60 / speed
        assert targets["add_one_doc_p95_s"]["bound_on_this_host"] == 1.5 / speed
        assert targets["build_vs_extract_ratio"]["bound_on_this_host"] == run.RATIO_TARGET
        assert targets["server_rss_mb"]["bound_on_this_host"] == 800
        web = targets["web_searches_per_s"]
        assert web["met"] == (web["value"] >= 100 * speed)
    out["extract_pages_per_s"] = run.REFERENCE_EXTRACT_PAGES_PER_S / 2
    out["web_searches_per_s"] = 49
    assert run.evaluate_targets(out)["web_searches_per_s"]["met"] is False
    out["web_searches_per_s"] = 51
    assert run.evaluate_targets(out)["web_searches_per_s"]["met"] is True
    assert "≥ 50 on this host" in run.evaluate_targets(out)["web_searches_per_s"]["target"]


def _load_script(name, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)    # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["run", "load_during_rebuild"])
def test_dated_tables_go_to_the_log_not_the_reference(script, tmp_path, monkeypatch):
    """Each script appends its dated table to docs/BENCHMARKS-log.md, after what is there, never to BENCHMARKS.md."""
    module = _load_script(script, monkeypatch)
    assert module.LOG == ROOT / "docs" / "BENCHMARKS-log.md"
    log = tmp_path / "BENCHMARKS-log.md"
    monkeypatch.setattr(module, "LOG", log)
    module.append_markdown("## Run of A\n")
    module.append_markdown("## Run of B\n")
    text = log.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark log\n") and text.count("# Benchmark log") == 1
    assert text.index("## Run of A") < text.index("## Run of B")
    log.write_text("# Benchmark log\n\nearlier runs\n", encoding="utf-8")
    module.append_markdown("## Run of C\n")
    assert log.read_text(encoding="utf-8") == "# Benchmark log\n\nearlier runs\n\n## Run of C\n"


def test_field_costs_writes_a_segment_per_variant(tmp_path):
    """bench/field_costs.py on a tiny corpus: every variant writes its segment and is reported."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "field_costs.py"), "--pages", "40", "--rounds", "1",
         "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["pages"] == 40 and out["files"] == 2
    assert set(out["variants"]) == {"every field", "without the exact fields", "without word pairs",
                                    "without bigrams", "without word pairs and bigrams"}
    assert out["variants"]["without the exact fields"]["dropped"] == ["title_exact", "meta_exact", "body_exact"]
    assert out["variants"]["without bigrams"]["dropped"] == ["title_cjk", "meta_cjk", "body_cjk"]
    for variant in out["variants"].values():
        assert len(variant["cpu_s"]) == 1 and variant["ms_per_page"] > 0


def test_exact_form_cost_reports_each_query_class_with_and_without_the_clause(tmp_path):
    """bench/exact_form_cost.py on a tiny corpus: both sides timed for every class of bench/run.py's queries."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "exact_form_cost.py"), "--pages", "40", "--pages-per-doc", "10",
         "--repeat", "1", "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert {"english_word", "two_english_words", "chinese_word"} <= set(figures)
    for cls, row in figures.items():
        assert row["with_ms"] > 0 and row["without_ms"] > 0, (cls, row)


def test_visible_phrases_finds_what_poppler_reads_on_each_page(tmp_path):
    """bench/visible_phrases.py on two real PDFs (English, Chinese): every phrase drawn is found, by script."""
    import pdfcases
    from conftest import write_pdf

    if not pdfcases.pdftotext_available():
        pytest.skip("pdftotext (poppler-utils) is not installed")
    folder = tmp_path / "pdfs"
    write_pdf(folder / "english.pdf", ["Regional policy dialogue between the European Union and China",
                                       "Urban development and territorial cohesion in Guangdong"])
    write_pdf(folder / "chinese.pdf", ["中国与欧盟区域政策合作对话的会议纪要和联合声明", "城镇化与区域协调发展的经验交流和地方政府的作用"])
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "visible_phrases.py"), str(folder)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["files"] == 2 and out["pages_with_phrases"] == 4
    assert set(out["by_script"]) == {"han", "latin"}
    for script, row in out["by_script"].items():
        assert row["phrases"] >= 2 and row["in_extracted_text"] == 1.0 and row["found"] == 1.0, (script, row)
    assert out["misses"] == []
