"""The real waitress server as `python -m webapp` builds it (webapp/serving.py): proxy headers, hosts, body limits.

Each test starts the server on a free loopback port in a thread and talks to it
over a socket, as nginx would; the access log shows what the app saw.
"""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from conftest import make_settings
from webapp import create_app
from webapp.serving import SMALL_BODY_BYTES, create_archive_server


@pytest.fixture
def serve(tmp_path):
    """serve(**settings) -> (port, settings): the site on a free port, stopped after the test."""
    started = []

    def start(**overrides):
        settings = make_settings(tmp_path / f"site{len(started)}", host="127.0.0.1", port=0, threads=2, **overrides)
        app = create_app(settings)
        server = create_archive_server(app, settings, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread))
        return server.effective_port, settings

    yield start
    for server, thread in started:
        # The request threads first: one still answering would write to the closed server's trigger.
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        server.close()
        thread.join(timeout=5)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request to the server on PORT."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


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
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("POST", "/search", body=iter([b"y" * 32 * 1024] * 4), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    assert conn.getresponse().status == 413
    conn.close()
    # The upload path takes a body up to upload_max_mb (the app then refuses the anonymous client) ...
    status, _, _ = request(port, "POST", "/admin/upload", big, {"Content-Type": "application/octet-stream"})
    assert status == 403
    # ... and not past it.
    status, _, _ = request(port, "POST", "/admin/upload", b"z" * (3 * 1024 * 1024),
                           {"Content-Type": "application/octet-stream"})
    assert status == 413
