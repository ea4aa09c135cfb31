"""Security headers, request ids, access log, and running behind a reverse proxy under a sub-path."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Flask, g, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from indexer.config import Settings

from .links import normalize_prefix

access_log = logging.getLogger("webapp.access")

# Everything comes from this site: no CDN, no web fonts, no inline code.
# worker-src allows the pdf.js worker (served from /static, possibly started from a blob: URL);
# img-src data: lets pdf.js and CSS use small inline images.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'self'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# A request id given by the proxy is reused only if it looks like one (it ends up in logs and pages).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_app(app: Flask, settings: Settings) -> None:
    """Add headers and request ids to every response; wrap the app for the proxy and the URL prefix."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
    prefix = normalize_prefix(settings.url_prefix)
    if prefix:
        app.wsgi_app = PrefixMiddleware(app.wsgi_app, prefix)
    if settings.trusted_hosts:
        # Inside ProxyFix: the host checked is the one links are built from (a trusted X-Forwarded-Host).
        app.wsgi_app = TrustedHostsMiddleware(app.wsgi_app, settings.trusted_hosts)
    if settings.trusted_proxies > 0:
        # ProxyFix runs first (outermost): X-Forwarded-Prefix, if a trusted proxy sends it, sets SCRIPT_NAME.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)


class TrustedHostsMiddleware:
    """Answer 400 to a request whose host is not one of HOSTS, before the app builds a link from it.

    A plain-text answer: the error page itself holds links, which would need the refused host.
    """

    def __init__(self, app, hosts):
        self.app = app
        self.hosts = list(hosts)

    def __call__(self, environ, start_response):
        try:
            get_host(environ, trusted_hosts=self.hosts)
        except SecurityError:
            body = b"Bad Request: this site does not serve that host name.\n"
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                               ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


class PrefixMiddleware:
    """Serve the app under PREFIX: strip it from the path, put it in SCRIPT_NAME so url_for adds it.

    Works whether the proxy passes the prefix on (`proxy_pass http://app;` keeps
    /archive/...) or strips it (`proxy_pass http://app/;`): in both cases the
    links the app generates start with the prefix.
    """

    def __init__(self, app, prefix: str):
        self.app = app
        self.prefix = prefix

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        script_name = environ.get("SCRIPT_NAME", "").rstrip("/")
        # No route of the app starts with the prefix, so a leading prefix is always the proxy's.
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["PATH_INFO"] = path[len(self.prefix):] or "/"
        # The server, or a trusted X-Forwarded-Prefix, may have set it already.
        if not script_name.endswith(self.prefix):
            environ["SCRIPT_NAME"] = script_name + self.prefix
        return self.app(environ, start_response)


def _start_request() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish_request(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["X-Request-Id"] = g.get("request_id", "")
    # The language switch and Accept-Language change what a page says (not what a PDF or a stylesheet is).
    if response.mimetype in ("text/html", "application/json", "application/atom+xml",
                             "application/opensearchdescription+xml"):
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    # Paths only, never query strings: queries of other users stay out of the logs.
    access_log.info(
        "%s %s %s %.1fms",
        request.method, request.path, response.status_code, elapsed_ms,
        extra={"request_id": g.get("request_id", ""), "method": request.method, "path": request.path,
               "status": response.status_code, "ms": round(elapsed_ms, 1), "remote": request.remote_addr,
               # Which server process answered (python -m webapp runs several).
               "pid": os.getpid()},
    )
    return response
