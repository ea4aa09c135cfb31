"""The deployment kit in docs/deploy/: nginx config, a real nginx in front of a real server, systemd units."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import write_pdf
from indexer.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "docs" / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/install-system-deps.sh)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


def nginx_main_conf(tmp: Path, site: Path) -> Path:
    """A minimal nginx.conf around the site, with every writable path in TMP (no root files touched)."""
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
daemon off;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};
}}
""")
    return conf


def site_conf(tmp: Path, listen_port: int, app_port: int) -> Path:
    """The shipped site file with only its two ports changed."""
    text = (DEPLOY / "nginx-eu-china-archive.conf").read_text()
    text = text.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    text = text.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = tmp / "site.conf"
    site.write_text(text)
    return site


@needs_nginx
def test_nginx_config_is_valid(tmp_path):
    conf = nginx_main_conf(tmp_path, site_conf(tmp_path, free_port(), 8000))
    result = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.urls.append(value)


@pytest.fixture
def served_under_prefix(tmp_path):
    """The real server (waitress) with url_prefix /archive, behind a real nginx on loopback."""
    archive = tmp_path / "archive"
    write_pdf(archive / "report.pdf", ["Cohesion policy and regional cooperation.", "区域政策合作"])
    app_port, nginx_port = free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(f"""
[paths]
archive_dir = "{archive}"
catalogue = "{archive}/catalogue.toml"
userdict = "{PROJECT_ROOT}/archive/userdict.txt"
glossary = "{PROJECT_ROOT}/archive/glossary.toml"
index_dir = "{tmp_path}/index"
log_dir = "{tmp_path}/log"
[server]
host = "127.0.0.1"
port = {app_port}
threads = 4
url_prefix = "/archive"
trusted_proxies = 1
[indexer]
workers = 1
ocr = false
""")
    env = dict(os.environ, ARCHIVE_CONFIG=str(config), PYTHONPATH=str(PROJECT_ROOT))
    subprocess.run([sys.executable, "-m", "indexer", "update"], env=env, check=True, capture_output=True)
    conf = nginx_main_conf(tmp_path, site_conf(tmp_path, nginx_port, app_port))
    with open(tmp_path / "app.log", "wb") as app_log, open(tmp_path / "nginx.out", "wb") as nginx_log:
        app = subprocess.Popen([sys.executable, "-m", "webapp", "--no-watch"], env=env, cwd=PROJECT_ROOT,
                               stdout=app_log, stderr=subprocess.STDOUT)
        proxy = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stdout=nginx_log,
                                 stderr=subprocess.STDOUT)
        try:
            wait_for_port(app_port)
            wait_for_port(nginx_port)
            yield f"http://127.0.0.1:{nginx_port}"
        finally:
            proxy.terminate()
            app.terminate()
            proxy.wait(timeout=10)
            app.wait(timeout=10)


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read().decode("utf-8")


@needs_nginx
def test_every_link_works_under_a_sub_path_behind_nginx(served_under_prefix):
    base = served_under_prefix
    status, _, html = fetch(f"{base}/archive/search?q=cohesion")
    assert status == 200
    assert "report" in html
    parser = Links()
    parser.feed(html)
    local = [u for u in parser.urls if not re.match(r"^(https?:)?//", u) and not u.startswith(("#", "?"))]
    assert local, "the page has links"
    for url in local:
        assert url.startswith("/archive/"), f"link without the prefix: {url}"
    # every asset and page the search page links to answers through nginx
    for url in sorted(set(u.split("#")[0] for u in local))[:40]:
        with urllib.request.urlopen(base + url, timeout=10) as response:
            assert response.status == 200, url

    status, _, feed = fetch(f"{base}/archive/feed.atom")
    assert status == 200 and "/archive/documents/" in feed
    status, _, osd = fetch(f"{base}/archive/opensearch.xml")
    assert status == 200 and "/archive/search?q={searchTerms}" in osd.replace("&amp;", "&")
    status, _, health = fetch(f"{base}/archive/healthz")
    assert status == 200 and '"documents"' in health
    # without the trailing slash nginx redirects to the site
    request = urllib.request.Request(f"{base}/archive")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.url.endswith("/archive/")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", ["eu-china-archive-web.service", "eu-china-archive-watch.service"])
def test_systemd_units_verify(tmp_path, unit):
    # Only the install location of the virtual environment and the user differ here.
    text = (DEPLOY / unit).read_text()
    text = text.replace("/opt/eu-china-archive/.venv/bin/python", sys.executable)
    user = os.environ.get("USER") or "root"
    text = text.replace("User=archive", f"User={user}").replace("Group=archive", f"Group={user}")
    path = tmp_path / unit
    path.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if unit in line and ("Unknown" in line or "ignoring" in line or "Failed" in line)]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_production_config_loads_and_matches_the_layout():
    from indexer.config import load_settings

    s = load_settings(DEPLOY / "config.production.toml")
    assert s.url_prefix == "/archive" and s.trusted_proxies == 1
    assert str(s.archive_dir) == "/srv/eu-china-archive/archive"
    assert str(s.index_dir) == "/var/lib/eu-china-archive/index"
    readme = (DEPLOY / "README.md").read_text()
    for path in ("/srv/eu-china-archive/archive", "/var/lib/eu-china-archive/index", "/etc/eu-china-archive"):
        assert path in readme
