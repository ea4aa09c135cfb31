"""The real waitress server as `python -m webapp` builds it (webapp/serving.py): proxy headers, hosts, body limits.

Each test starts the server on a free loopback port in a thread and talks to it
over a socket, as nginx would; the access log shows what the app saw.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from conftest import make_settings, stop_waitress
from webapp import create_app
from webapp.serving import SMALL_BODY_BYTES, create_archive_server


@pytest.fixture
def serve(tmp_path):
    """serve(**settings) -> (port, settings): the site on a free port, stopped after the test."""
    started = []

    def start(**overrides):
        settings = make_settings(tmp_path / f"site{len(started)}", host="127.0.0.1", port=0, threads=2, **overrides)
        app = create_app(settings)
        # Our own socket map: every connection the server still holds is closed at the end.
        sockets: dict = {}
        server = create_archive_server(app, settings, host="127.0.0.1", port=0, map=sockets)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread, sockets))
        return server.effective_port, settings

    yield start
    for server, thread, sockets in started:
        stop_waitress(server, sockets, thread)
        assert not thread.is_alive()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request to the server on PORT."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def declared_body_status(port: int, path: str, length: int) -> int:
    """The status answered to a POST that announces LENGTH bytes of body and sends none of them."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode())
        return int(sock.recv(1024).split(b" ", 2)[1])


def access_entries(settings) -> list[dict]:
    return [json.loads(line) for line in (settings.log_dir / "access.log").read_text().splitlines()]


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "archive.example"}


def test_without_a_trusted_proxy_a_client_cannot_claim_another_address_or_scheme(serve):
    port, settings = serve(trusted_proxies=0)
    status, _, body = request(port, "GET", "/opensearch.xml", headers=FORWARDED)
    assert status == 200
    assert b"https://" not in body and b"archive.example" not in body
    assert access_entries(settings)[-1]["remote"] == "127.0.0.1"


def test_with_one_trusted_proxy_its_headers_give_the_client_scheme_and_host(serve):
    port, settings = serve(trusted_proxies=1)
    status, _, body = request(port, "GET", "/opensearch.xml",
                              headers=dict(FORWARDED, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}))
    assert status == 200 and b"https://archive.example/search?q=" in body
    # Exactly one hop is trusted: the address the proxy saw, not what the client put before it.
    assert access_entries(settings)[-1]["remote"] == "203.0.113.7"


def test_trusted_hosts_refuse_another_host_and_name_the_links(serve):
    port, _ = serve(trusted_hosts=("archive.example",))
    status, _, body = request(port, "GET", "/opensearch.xml", headers={"Host": "archive.example:8443"})
    assert status == 200 and b"http://archive.example:8443/search?q=" in body
    for host in ("evil.example", "archive.example.evil.example"):
        status, _, body = request(port, "GET", "/opensearch.xml", headers={"Host": host})
        assert status == 400 and host.encode() not in body


def test_a_large_body_is_refused_before_it_is_stored_except_on_the_upload_path(serve):
    port, _ = serve(upload_max_mb=1)
    big = b"x" * (SMALL_BODY_BYTES + 1)
    for path in ("/search", "/admin/login", "/api/search", "/admin/upload/extra"):
        status, _, _ = request(port, "POST", path, big, {"Content-Type": "application/octet-stream"})
        assert status == 413, path
    # A chunked body (no length given) is counted as it arrives.
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"POST /search HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (32 * 1024, b"y" * 32 * 1024)
        try:
            for _ in range(3):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the server stopped reading: its answer is already there
        assert int(sock.recv(1024).split(b" ", 2)[1]) == 413
    # The upload path takes a body up to upload_max_mb (the app then refuses the anonymous client) ...
    status, _, _ = request(port, "POST", "/admin/upload", big, {"Content-Type": "application/octet-stream"})
    assert status == 403
    # ... and not past it: refused on the announced length, before a byte of the body is read.
    assert declared_body_status(port, "/admin/upload", 3 * 1024 * 1024) == 413
    assert declared_body_status(port, "/search", SMALL_BODY_BYTES + 1) == 413
