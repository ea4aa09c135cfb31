"""`python -m webapp` with several worker processes: the real launcher, real workers, real HTTP.

Searches are answered by more than one process; an admin session made by one
worker is good in the others (one signing key, made once); the watcher runs
once; SIGTERM, Ctrl+C and even a killed launcher leave no process behind.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from conftest import make_settings, write_config, write_pdf
from indexer.build import update
from indexer.config import PROJECT_ROOT

psutil = pytest.importorskip("psutil")

PASSWORD = "correct horse battery"
# A cheap hash keeps the test fast.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def archive_settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    settings = make_settings(root, admin_password_hash=PASSWORD_HASH)
    archive = Path(settings.archive_dir)
    write_pdf(archive / "cohesion.pdf", ["Cohesion policy and regional cooperation.", "Second page on cohesion."])
    write_pdf(archive / "zh.pdf", ["区域政策合作与城镇化"])
    update(settings)
    return settings


class Server:
    """`python -m webapp` in its own process group, with its address and its output."""

    def __init__(self, settings, tmp_path: Path, *args: str):
        self.port = free_port()
        self.config = write_config(settings, tmp_path / "config.toml")
        self.stderr_path = tmp_path / "server.err"
        self.stderr = open(self.stderr_path, "wb")
        # A session of its own: the Ctrl+C test signals the whole group, as a terminal does.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webapp", "--config", str(self.config), "--port", str(self.port), *args],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=self.stderr, text=True, start_new_session=True)
        self.line = self.proc.stdout.readline()
        assert f"http://127.0.0.1:{self.port}/" in self.line, self.log()
        self.base = f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def processes(self) -> list:
        """The launcher and every process under it."""
        launcher = psutil.Process(self.proc.pid)
        return [launcher] + launcher.children(recursive=True)

    def workers(self) -> list:
        """The live worker processes (the watcher's extraction processes are children too)."""
        found = []
        for p in psutil.Process(self.proc.pid).children():
            try:
                if "webapp.workers" in p.cmdline():
                    found.append(p)
            except psutil.Error:        # exited, or a zombie not yet reaped
                pass
        return found

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()


@pytest.fixture
def server(archive_settings, tmp_path, request):
    args = getattr(request, "param", ("--workers", "2", "--no-watch"))
    srv = Server(archive_settings, tmp_path, *args)
    yield srv
    srv.close()


def access_pids(settings, path_prefix: str) -> set[int]:
    lines = (Path(settings.log_dir) / "access.log").read_text(encoding="utf-8").splitlines()
    return {e["pid"] for e in map(json.loads, lines) if e.get("path", "").startswith(path_prefix)}


def gone(processes, timeout: float = 15) -> list:
    """Those of PROCESSES still alive after TIMEOUT seconds (zombies count as gone)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_searches_are_answered_by_several_worker_processes(server, archive_settings):
    workers = server.workers()
    assert len(workers) == 2
    assert "with 2 processes" in server.line

    def search(n: int) -> dict:
        url = f"{server.base}/api/search?" + urllib.parse.urlencode({"q": "cohesion", "page": 1, "n": n})
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.headers["Server"] == "archive"
            return json.load(response)

    error_log = Path(archive_settings.log_dir) / "error.log"
    logged_before = error_log.stat().st_size if error_log.exists() else 0
    # Concurrent searches: a busy worker leaves the next connection to the other.
    for attempt in range(5):
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(search, range(40)))
        assert all(a["total"] == 1 for a in answers)
        if len(access_pids(archive_settings, "/api/search")) >= 2:
            break
    assert access_pids(archive_settings, "/api/search") == {w.pid for w in workers}
    # Eight clients, two processes of one thread: requests waited for a thread, and waitress's
    # warning of it is in error.log at most once a minute per process (not once per request).
    with open(error_log, "rb") as fh:
        fh.seek(logged_before)
        waits = [e for e in map(json.loads, fh.read().decode("utf-8").splitlines())
                 if e["logger"] == "waitress.queue"]
    assert 1 <= len(waits) <= len(workers), waits


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies kept, redirects not followed, a new connection per request (so any worker may answer)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect)

    def fetch(self, path: str, data: bytes | None = None, content_type: str = "application/x-www-form-urlencoded"):
        request = urllib.request.Request(self.base + path, data=data)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace"), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), exc.headers

    def login(self, password: str):
        _, page, _ = self.fetch("/admin/login")
        return self.fetch("/admin/login", urllib.parse.urlencode({"csrf_token": csrf(page), "password": password}).encode())


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def replace_workers(server: Server) -> None:
    """Kill every worker and wait for the launcher's new ones: processes that saw nothing of what came before."""
    before = server.workers()
    for worker in before:
        worker.kill()
    deadline = time.monotonic() + 60
    while len({w.pid for w in server.workers()} - {w.pid for w in before}) < len(before):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.2)


def _multipart(fields: dict, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "----workers-test-boundary"
    parts = [(f'name="{k}"', v.encode()) for k, v in fields.items()]
    parts.append((f'name="file"; filename="{filename}"\r\nContent-Type: application/pdf', content))
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; {head}\r\n\r\n".encode() + value + b"\r\n"
                    for head, value in parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_admin_session_and_its_csrf_token_hold_in_every_worker(archive_settings, tmp_path):
    # A private copy of the archive: the upload changes it. No secret_key: the launcher makes one.
    root = tmp_path / "site"
    settings = make_settings(root, admin_password_hash=PASSWORD_HASH)
    write_pdf(Path(settings.archive_dir) / "cohesion.pdf", ["Cohesion policy and regional cooperation."])
    update(settings)
    assert settings.secret_key == ""
    server = Server(settings, tmp_path, "--workers", "2", "--no-watch")
    try:
        browser = Browser(server.base)
        fetch = browser.fetch
        status, _, headers = browser.login(PASSWORD)
        assert status == 303 and headers["Location"].endswith("/admin/")
        status, page, _ = fetch("/admin/upload")
        assert status == 200
        token = csrf(page)
        # Which worker takes a connection is the kernel's choice; to be sure that processes which did not
        # make the session accept it, the launcher replaces the workers: the new ones have the same key.
        replace_workers(server)
        with ThreadPoolExecutor(4) as pool:
            pages = list(pool.map(lambda _: fetch("/admin/upload"), range(12)))
        assert all(status == 200 for status, _, _ in pages), [status for status, _, _ in pages]
        assert csrf(pages[-1][1]) == token

        content = write_pdf(tmp_path / "made" / "new.pdf", ["A report on urbanisation and innovation."]).read_bytes()
        body, content_type = _multipart({"csrf_token": token, "lang": "en", "title": "A new report", "kind": "study",
                                         "date": "2020-06-01"}, "new-report.pdf", content)
        status, page, headers = fetch("/admin/upload", body, content_type)
        assert status == 303, page[:2000]
        assert "/documents/" in headers["Location"]
        # The new document is found by every worker (each reopens the index after the commit).
        for _ in range(6):
            with urllib.request.urlopen(f"{server.base}/api/search?q=urbanisation&expand=0", timeout=30) as r:
                assert json.load(r)["total"] == 1
    finally:
        server.close()


def test_a_failed_login_locks_the_address_out_of_every_worker(server, archive_settings):
    first, second = server.workers()
    browser = Browser(server.base)
    # A stopped process accepts nothing: the failure goes to the first worker, the next try to the second.
    second.suspend()
    try:
        status, _, _ = browser.login("wrong password")
        assert status == 401
    finally:
        second.resume()
    first.suspend()
    try:
        status, _, headers = browser.login(PASSWORD)
    finally:
        first.resume()
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert access_pids(archive_settings, "/admin/login") == {first.pid, second.pid}


@pytest.mark.parametrize("server", [("--workers", "2", "--watch")], indirect=True)
def test_the_watcher_runs_once_in_the_launcher(server, archive_settings):
    assert len(server.workers()) == 2
    deadline = time.monotonic() + 30
    while "watching" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = server.log()
    # indexer.watch says "watching <folder> (...)" when its thread starts; once for the site, not per worker.
    assert len(re.findall(r"indexer\.watch: watching ", log)) == 1, log
    assert len(re.findall(r"webapp: watching ", log)) == 1, log
    # And it works from there: a file dropped into the archive is found by the workers.
    write_pdf(Path(archive_settings.archive_dir) / "dropped.pdf", ["Xylophonic transhipment report."])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server.base}/api/search?q=xylophonic&expand=0", timeout=30) as response:
            if json.load(response)["total"] == 1:
                break
        time.sleep(0.5)
    else:
        pytest.fail(f"the dropped file was not indexed: {server.log()}")
    assert len(re.findall(r"archive changed: 1 added", server.log())) == 1, server.log()
    # Stopping takes the watcher's extraction processes along too.
    processes = server.processes()
    server.proc.terminate()
    assert server.proc.wait(30) == 0
    assert gone(processes) == []


def test_sigterm_stops_every_process(server):
    processes = server.processes()
    assert len(processes) == 3
    server.proc.terminate()
    assert server.proc.wait(20) == 0
    assert gone(processes) == []
    assert "stopped" in server.log()


def test_ctrl_c_stops_every_process(server):
    processes = server.processes()
    # A terminal's Ctrl+C sends SIGINT to the whole foreground process group.
    os.killpg(server.proc.pid, signal.SIGINT)
    assert server.proc.wait(20) == 0
    assert gone(processes) == []
    assert "Traceback" not in server.log()


def test_workers_do_not_outlive_a_killed_launcher(server):
    workers = server.workers()
    assert len(workers) == 2
    server.proc.kill()
    server.proc.wait()
    assert gone(workers) == []


def test_a_worker_that_dies_is_replaced(server):
    before = server.workers()
    before[0].kill()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = server.workers()
        if len(now) == 2 and before[0].pid not in {w.pid for w in now}:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"no new worker: {server.log()}")
    with urllib.request.urlopen(f"{server.base}/api/search?q=cohesion", timeout=30) as response:
        assert json.load(response)["total"] == 1


@pytest.mark.parametrize("server", [("--workers", "1", "--no-watch")], indirect=True)
def test_one_worker_serves_in_the_launcher_itself(server):
    assert server.workers() == [] and "processes" not in server.line
    with urllib.request.urlopen(f"{server.base}/api/search?q=cohesion", timeout=30) as response:
        assert json.load(response)["total"] == 1
