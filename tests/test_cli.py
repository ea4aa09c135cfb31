"""The command line: update, rebuild, status (text and JSON), watch, and its error messages."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.config import PROJECT_ROOT
from indexer.lock import WriterLock
from indexer.readers import open_searcher
from conftest import write_config

ENV = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
COMMANDS = ("build", "update", "rebuild", "status", "watch")



@pytest.fixture
def config(settings, tmp_path):
    return write_config(settings, tmp_path / "config.toml")


@pytest.fixture
def cli(config, capsys):
    """Run `python -m indexer ARGS` in this process; returns (exit code, stdout, stderr)."""
    def run(*args: str):
        code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_update_prints_a_summary_and_status_tells_what_is_indexed(cli, pdf, settings):
    pdf("a.pdf", ["First page.", "Second page."])
    pdf("b.pdf", ["Only page."])
    (Path(settings.archive_dir) / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")

    code, out, _ = cli("update")

    assert code == 0
    assert "Built a new index (no index yet)." in out
    assert "3 added, 0 updated, 0 renamed, 0 removed, 0 metadata updated, 1 failed" in out
    assert "FAILED broken.pdf: failed" in out

    code, out, _ = cli("status")
    assert code == 0
    assert "Documents: 3   pages: 3   last update: 20" in out
    assert "Files: 1 failed, 2 indexed" in out
    assert "failed: broken.pdf: " in out
    assert "Up to date." in out


def test_status_lists_waiting_and_deleted_files(cli, pdf, settings):
    pdf("a.pdf", ["First page."])
    pdf("b.pdf", ["Other."])
    cli("update")
    pdf("new.pdf", ["New."])
    (Path(settings.archive_dir) / "b.pdf").unlink()

    code, out, _ = cli("status")

    assert code == 0
    assert "Stale: 1 files new or changed since the last update:" in out
    assert "  waiting: new.pdf" in out
    assert "  deleted from the archive, still indexed: b.pdf" in out
    assert "Up to date." not in out


def test_status_json_has_one_entry_per_file(cli, pdf, settings):
    pdf("a.pdf", ["First page.", "Second page."])
    (Path(settings.archive_dir) / "broken.pdf").write_bytes(b"not a PDF at all")
    cli("update")
    pdf("new.pdf", ["New."])

    code, out, _ = cli("status", "--json")

    assert code == 0
    status = json.loads(out)
    assert status["built"] is True
    assert (status["documents"], status["pages"]) == (2, 2)
    assert status["last_update"].startswith("20")
    assert status["waiting"] == ["new.pdf"]
    by_path = {f["path"]: f for f in status["files"]}
    assert sorted(by_path) == ["a.pdf", "broken.pdf", "new.pdf"]
    assert len(status["files"]) == 3
    assert (by_path["a.pdf"]["status"], by_path["a.pdf"]["pages"], by_path["a.pdf"]["doc_id"]) == ("indexed", 2, "a")
    assert by_path["broken.pdf"]["status"] == "failed" and by_path["broken.pdf"]["reason"]
    assert by_path["new.pdf"]["status"] == "waiting"
    assert status["counts"] == {"indexed": 1, "failed": 1, "waiting": 1}


def test_status_before_any_build(cli, pdf):
    pdf("a.pdf", ["First page."])

    code, out, _ = cli("status")
    assert code == 0 and "No index yet" in out and "1 files waiting" in out

    code, out, _ = cli("status", "--json")
    status = json.loads(out)
    assert status["built"] is False and status["waiting"] == ["a.pdf"]


def test_rebuild_builds_a_new_index(cli, pdf):
    pdf("a.pdf", ["First page."])
    cli("update")

    code, out, _ = cli("rebuild")

    assert code == 0
    assert "Built a new index (requested)." in out and "1 files read" in out


def test_a_catalogue_error_is_a_clear_message_and_a_failure_exit(cli, pdf, settings):
    pdf("a.pdf", ["First page."])
    Path(settings.catalogue).write_text('[[document]]\nid = "a"\ntitle = "A"\nkind = "novel"\n', encoding="utf-8")

    code, out, err = cli("update")

    assert code == 2
    assert err.startswith("error: catalogue.toml: document 1 (a): kind 'novel' is not one of")
    assert "Traceback" not in err


def test_a_missing_config_file_is_a_clear_message(tmp_path, capsys):
    code = main(["--config", str(tmp_path / "nope.toml"), "status"])
    assert code == 2
    assert "configuration file not found" in capsys.readouterr().err


def test_a_second_update_says_which_process_runs_the_first_and_fails(config, pdf, settings):
    pdf("a.pdf", ["First page."])
    with WriterLock(settings.index_dir, what="python -m indexer update"):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "indexer", "--config", str(config), "update"],
                              env=ENV, capture_output=True, text=True, timeout=60)
        waited = time.monotonic() - started

    assert done.returncode == 2
    assert f"error: an update is already running (process {os.getpid()}: python -m indexer update" in done.stderr
    assert waited >= settings.lock_timeout_s
    assert "Traceback" not in done.stderr


def test_watch_indexes_new_files_until_stopped(settings, pdf, tmp_path):
    config = write_config(settings.replace(settle_s=0.3, rescan_interval_s=0.5), tmp_path / "config.toml")
    pdf("a.pdf", ["A note on Qingdao."])
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "--config", str(config), "watch"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pdf("b.pdf", ["A note on Lhasa."])
        deadline = time.monotonic() + 20
        while not _indexed(settings, "b.pdf"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "b.pdf was not indexed within 20 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 0, err
    assert "watching" in err and "archive changed:" in err and "added" in err
    assert "Traceback" not in err


def _indexed(settings, path: str) -> bool:
    try:
        with open_searcher(settings.index_dir) as s:
            return s.document(key=f"file:{path}") is not None
    except Exception:  # noqa: BLE001 - no index yet, or one being created
        return False


def test_every_command_has_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "usage: python -m indexer " + command in capsys.readouterr().out


def test_every_command_is_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in COMMANDS if f"python -m indexer {c}" not in readme and f"indexer {c}" not in readme]
    assert missing == []


def test_status_counts_what_is_indexed_after_changes_and_deletions(cli, pdf, settings):
    # Whoosh keeps deleted records (and their terms) in a segment until it is
    # merged: the counts must not include them.
    for i in range(3):
        pdf(f"a{i}.pdf", [f"Alpha {i}.", "Second page."])
    cli("update")
    pdf("a0.pdf", ["Changed.", "Second page.", "Third page."])
    cli("update")
    (Path(settings.archive_dir) / "a1.pdf").unlink()
    cli("update")

    status = json.loads(cli("status", "--json")[1])

    assert (status["documents"], status["pages"]) == (2, 5)
    assert sorted(f["path"] for f in status["files"]) == ["a0.pdf", "a2.pdf"]


def test_the_progress_shows_the_pages_of_a_long_file_as_it_is_read(settings, config, capsys):
    import hostile

    hostile.thousands_of_pages(Path(settings.archive_dir) / "long.pdf", pages=1200)
    assert main(["--config", str(config), "update"]) == 0
    err = capsys.readouterr().err
    assert "long.pdf: 500 pages read" in err and "long.pdf: 1000 pages read" in err
    assert "1/1 files (100%)" in err


def test_options_work_before_or_after_the_command(config, pdf, capsys):
    pdf("a.pdf", ["Alpha."])
    assert main(["update", "--config", str(config), "-v"]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["-v", "--config", str(config), "status"]) == 0
    assert "Documents: 1" in capsys.readouterr().out


def test_an_update_that_would_empty_the_index_says_so_and_waits_for_allow_removals(cli, pdf, settings, caplog):
    for n in range(3):
        pdf(f"a{n}.pdf", [f"Alpha {n}."])
    cli("update")
    for n in range(3):
        (Path(settings.archive_dir) / f"a{n}.pdf").unlink()

    code, out, err = cli("update")
    assert code == 0 and "0 removed" in out
    assert "NOT REMOVED: the archive folder" in out and "holds no documents" in out
    assert "gone from the archive, kept in the index: a0.pdf" in out and "--allow-removals" in out
    assert "removing nothing until confirmed" in caplog.text       # and in the log
    code, out, err = cli("rebuild")
    assert code == 2 and "rebuild refused" in err

    code, out, _ = cli("update", "--allow-removals")
    assert code == 0 and "3 removed" in out and "NOT REMOVED" not in out


def test_plain_progress_lines_give_the_total_first_then_the_rate_and_time_left(config, pdf, capsys):
    for n in range(10):
        pdf(f"a{n}.pdf", [f"Alpha {n}."])
    assert main(["--config", str(config), "update"]) == 0
    err = capsys.readouterr().err
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    assert lines[0] == "10 files to read"
    assert any(line.startswith("5/10 files (50%), ") and "files/s, about" in line and "s left" in line
               for line in lines), lines
    assert lines[-1].startswith("10/10 files (100%) in ")


def test_on_a_terminal_a_progress_bar_tracks_the_files_and_pages(config, pdf):
    import pty

    for n in range(3):
        pdf(f"a{n}.pdf", [f"Alpha {n} page {p}." for p in range(4)])
    # Standard error on a terminal of its own (a pseudo-terminal), as when a person runs the command.
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "update", "--config", str(config)],
                            env=dict(ENV, COLUMNS="160", TERM="xterm"), stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    err = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:         # the terminal closes when the command ends
            break
        if not chunk:
            break
        err += chunk
    with proc.stdout:
        out = proc.stdout.read().decode()
    assert proc.wait(60) == 0, err
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err.decode("utf-8", "replace"))
    assert "3/3 files" in text and "12 pages" in text and "files/s" in text and "left" in text
    assert "3 added" in out
