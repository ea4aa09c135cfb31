"""The deployment kit in docs/deploy/: nginx config, a real nginx in front of a real server, systemd units."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from werkzeug.security import generate_password_hash

from conftest import write_pdf
from indexer.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "docs" / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None or shutil.which("openssl") is None,
                                 reason="nginx or openssl is not installed (scripts/install-system-deps.sh)")
PASSWORD = "correct horse battery"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


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


def wait_until_served(port: int, timeout: float = 180.0) -> None:
    """Wait until the app on PORT answers /archive/healthz (its workers load the dictionary's tables first)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/archive/healthz", headers={"Host": HOST})
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def nginx_main_conf(tmp: Path, site: Path) -> Path:
    """A minimal nginx.conf around the site, with every writable path in TMP (no root files touched)."""
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    # Run as root (as in CI containers), nginx's workers would become "nobody", who cannot write TMP.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
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


HOST = "intranet.example"


def make_certificate(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for HOST, made with openssl: (certificate, key)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                    "-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def site_conf(tmp: Path, http_port: int, https_port: int, app_port: int) -> Path:
    """The shipped site file with only its ports, certificate and log file changed."""
    text = (DEPLOY / "nginx-eu-china-archive.conf").read_text()
    cert, key = make_certificate(tmp)
    for old, new in (("listen 80", f"listen 127.0.0.1:{http_port}"), ("listen 443", f"listen 127.0.0.1:{https_port}"),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
                     (f"/etc/ssl/certs/{HOST}.pem", str(cert)), (f"/etc/ssl/private/{HOST}.key", str(key)),
                     ("/var/log/nginx/eu-china-archive.access.log", str(tmp / "site-access.log")),
                     ("/var/log/nginx/eu-china-archive.error.log", str(tmp / "site-error.log"))):
        assert old in text, old
        text = text.replace(old, new)
    site = tmp / "site.conf"
    site.write_text(text)
    return site


@needs_nginx
def test_nginx_config_is_valid(tmp_path):
    conf = nginx_main_conf(tmp_path, site_conf(tmp_path, free_port(), free_port(), 8000))
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


class LoopbackHTTPS(http.client.HTTPSConnection):
    """HTTPS to HOST on loopback (no DNS), from a chosen loopback address, checking the test certificate."""

    def __init__(self, port: int, cafile: Path, source: str = "127.0.0.1", server_name: str = HOST):
        self.tls = ssl.create_default_context(cafile=str(cafile))
        super().__init__(server_name, port, timeout=20, context=self.tls, source_address=(source, 0))

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout, self.source_address)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Deployed:
    """The site as deployed: nginx (http and https) in front of the real server; where its logs are."""

    http_port: int
    https_port: int
    cert: Path
    tmp: Path

    @property
    def base(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def get(self, path: str, source: str = "127.0.0.1", method: str = "GET", body: bytes | None = None,
            headers: dict | None = None):
        """(status, headers, body text) of one request over https from SOURCE."""
        conn = LoopbackHTTPS(self.https_port, self.cert, source)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read().decode("utf-8", "replace")
        finally:
            conn.close()


@pytest.fixture
def served_under_prefix(tmp_path):
    """The real server (waitress) with url_prefix /archive, behind a real nginx with TLS on loopback."""
    archive = tmp_path / "archive"
    write_pdf(archive / "report.pdf", ["Cohesion policy and regional cooperation.", "区域政策合作"])
    app_port, http_port, https_port = free_port(), free_port(), free_port()
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
trusted_hosts = ["{HOST}"]
[indexer]
workers = 1
ocr = false
[admin]
admin_password_hash = "{PASSWORD_HASH}"
""")
    env = dict(os.environ, ARCHIVE_CONFIG=str(config), PYTHONPATH=str(PROJECT_ROOT))
    subprocess.run([sys.executable, "-m", "indexer", "update"], env=env, check=True, capture_output=True)
    conf = nginx_main_conf(tmp_path, site_conf(tmp_path, http_port, https_port, app_port))
    with open(tmp_path / "app.log", "wb") as app_log, open(tmp_path / "nginx.out", "wb") as nginx_log:
        app = subprocess.Popen([sys.executable, "-m", "webapp", "--no-watch"], env=env, cwd=PROJECT_ROOT,
                               stdout=app_log, stderr=subprocess.STDOUT)
        proxy = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stdout=nginx_log,
                                 stderr=subprocess.STDOUT)
        try:
            wait_for_port(app_port)
            wait_until_served(app_port)
            wait_for_port(https_port)
            yield Deployed(http_port, https_port, tmp_path / "cert.pem", tmp_path)
        finally:
            proxy.terminate()
            app.terminate()
            proxy.wait(timeout=10)
            app.wait(timeout=10)


@needs_nginx
def test_every_link_works_under_a_sub_path_behind_nginx(served_under_prefix):
    site = served_under_prefix
    status, _, html = site.get("/archive/search?q=cohesion")
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
        status, headers, _ = site.get(url)
        if status in (301, 302, 303):
            location = headers["Location"]
            assert location.startswith(f"{site.base}/archive/") or location.startswith("/archive/"), location
            status, _, _ = site.get(location.removeprefix(site.base))
        assert status == 200, url

    # Absolute links are https, on the named host and port, under the prefix.
    status, _, feed = site.get("/archive/feed.atom")
    assert status == 200 and f"{site.base}/archive/documents/" in feed
    assert "http://" not in feed.replace("http://www.w3.org", "")
    status, _, osd = site.get("/archive/opensearch.xml")
    assert status == 200 and f"{site.base}/archive/search?q={{searchTerms}}" in osd.replace("&amp;", "&")
    status, _, csv_text = site.get("/archive/export.csv?q=cohesion")
    assert status == 200 and f"{site.base}/archive/documents/" in csv_text
    status, _, health = site.get("/archive/healthz")
    assert status == 200 and '"documents"' in health
    # without the trailing slash nginx redirects to the site, on https
    status, headers, _ = site.get("/archive")
    assert status == 301 and headers["Location"] == f"{site.base}/archive/"


def logged_text(path: Path, expected: str, timeout: float = 5.0) -> str:
    """PATH's text once it holds EXPECTED (a log line is written just after its answer is sent)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        if expected in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def login(site: Deployed, source: str, password: str):
    """Log in from SOURCE: (status of the login, the session cookie)."""
    status, headers, page = site.get("/archive/admin/login", source)
    assert status == 200, page
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "password": password}).encode()
    status, headers, _ = site.get("/archive/admin/login", source, "POST", form, {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    return status, headers.get("Set-Cookie", "")


@needs_nginx
def test_the_app_sees_each_client_and_https_through_nginx(served_under_prefix):
    site = served_under_prefix
    # Someone at 127.0.0.2 guesses passwords: only that address is made to wait.
    assert login(site, "127.0.0.2", "wrong guess")[0] == 401
    assert login(site, "127.0.0.2", "wrong again")[0] == 429
    status, cookie = login(site, "127.0.0.1", PASSWORD)
    assert status == 303, "the admin is not locked out by another client's guesses"
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "secure" in attributes and "httponly" in attributes
    # A saved copy of the cookie is worthless after logout, whichever worker it reaches.
    saved = {"Cookie": cookie.split(";")[0]}
    status, headers, page = site.get("/archive/admin/", headers=saved)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    status, _, _ = site.get("/archive/admin/logout", method="POST", body=urllib.parse.urlencode(
        {"csrf_token": token}).encode(), headers=dict(saved, **{"Content-Type": "application/x-www-form-urlencoded"}))
    assert status == 303
    assert {site.get("/archive/admin/", headers=saved)[0] for _ in range(6)} == {303}

    # Each log names the client, never a query string, and nginx names no version.
    status, headers, _ = site.get("/archive/search?q=confidential+merger", "127.0.0.3")
    assert status == 200 and headers["Server"] == "nginx"
    nginx_log = logged_text(site.tmp / "site-access.log", "127.0.0.3")
    assert "127.0.0.3" in nginx_log and "127.0.0.2" in nginx_log
    assert "confidential" not in nginx_log and "?" not in nginx_log
    app_log = [json.loads(line) for line in logged_text(site.tmp / "log" / "access.log", "127.0.0.3").splitlines()]
    remotes = {entry.get("remote") for entry in app_log}
    assert {"127.0.0.1", "127.0.0.2", "127.0.0.3"} <= remotes
    assert not any("confidential" in json.dumps(entry) for entry in app_log)


@needs_nginx
def test_nginx_drops_unknown_hosts_large_bodies_and_floods(served_under_prefix):
    site = served_under_prefix
    # Another name over TLS: no handshake.
    with pytest.raises(ssl.SSLError):
        conn = LoopbackHTTPS(site.https_port, site.cert, server_name="evil.example")
        conn.tls.check_hostname = False
        conn.request("GET", "/archive/")
    # The right name in TLS but another Host header, or another Host over plain http: no answer at all.
    for request in (lambda: site.get("/archive/", headers={"Host": "evil.example"}),):
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            request()
    with socket.create_connection(("127.0.0.1", site.http_port), timeout=10) as s:
        s.sendall(b"GET /archive/ HTTP/1.1\r\nHost: evil.example\r\n\r\n")
        assert s.recv(1024) == b""
    # The app refuses a Host outside trusted_hosts even if it reaches it some other way.

    # A body larger than a form is refused anywhere but the upload path.
    status, _, _ = site.get("/archive/search", method="POST", body=b"x" * 200_000,
                            headers={"Content-Type": "application/octet-stream"})
    assert status == 413
    status, _, _ = site.get("/archive/admin/upload", method="POST", body=b"x" * 200_000,
                            headers={"Content-Type": "application/octet-stream"})
    assert status == 403, "the upload path takes a large body (and the app refuses the anonymous client)"

    # One client sending requests as fast as it can is held back; another is still served.
    statuses = [site.get("/archive/healthz", "127.0.0.4")[0] for _ in range(80)]
    assert 429 in statuses and statuses[0] == 200
    assert site.get("/archive/healthz", "127.0.0.5")[0] == 200


@needs_nginx
@pytest.mark.parametrize("level", ["shipped", "error"])
def test_nginx_logs_no_query_string_when_it_fails_a_request(tmp_path, level):
    """Requests nginx itself fails (the app not answering, a body too large, a flood) are logged
    without their query string. With the error log lowered to "error" the same requests do quote
    it, which shows the trial provokes what the shipped level keeps out."""
    http_port, https_port = free_port(), free_port()
    site_file = site_conf(tmp_path, http_port, https_port, free_port())     # nothing listens on the app's port
    if level != "shipped":
        site_file.write_text(site_file.read_text().replace("error.log crit;", f"error.log {level};"))
    conf = nginx_main_conf(tmp_path, site_file)
    with open(tmp_path / "nginx.out", "wb") as nginx_out:
        proxy = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stdout=nginx_out,
                                 stderr=subprocess.STDOUT)
        try:
            wait_for_port(https_port)
            site = Deployed(http_port, https_port, tmp_path / "cert.pem", tmp_path)
            assert site.get("/archive/search?q=confidential+merger", "127.0.0.3")[0] == 502
            status, _, _ = site.get("/archive/search?q=confidential+body", "127.0.0.5", method="POST",
                                    body=b"x" * 200_000, headers={"Content-Type": "application/octet-stream"})
            assert status == 413
            statuses = [site.get("/archive/healthz?q=confidential+flood", "127.0.0.4")[0] for _ in range(60)]
            assert 429 in statuses
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
    error_logs = (tmp_path / "site-error.log").read_text() + (tmp_path / "error.log").read_text()
    if level != "shipped":
        assert 'request: "GET /archive/search?q=confidential+merger' in error_logs
        return
    assert "confidential" not in error_logs
    access_log = (tmp_path / "site-access.log").read_text()
    assert "confidential" not in access_log
    # The access log still says why: the app did not answer (502 from the upstream).
    [failed] = [line for line in access_log.splitlines() if line.startswith("127.0.0.3 ")]
    assert '"GET /archive/search HTTP/1.1" 502 ' in failed and "upstream=502/" in failed


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
    # The records kept outside the index sit with the service's data, not beside the config file in /etc.
    assert str(s.state_dir) == "/var/lib/eu-china-archive/state"
    readme = (DEPLOY / "README.md").read_text()
    for path in ("/srv/eu-china-archive/archive", "/var/lib/eu-china-archive/index", "/var/lib/eu-china-archive/state",
                 "/etc/eu-china-archive"):
        assert path in readme
