"""The waitress server of the site, one way for every process: its options, the proxy headers and body limits.

`python -m webapp` serves either in its own process or in workers
(webapp/workers.py); both build their server with `create_archive_server`,
so the proxy trust and the request-body limits are the same everywhere.

- Proxy headers are handled in one place, Flask's ProxyFix (webapp/security.py),
  which trusts exactly `trusted_proxies` hops of X-Forwarded-For/-Proto/-Host/
  -Prefix. waitress clears X-Forwarded-* itself unless told which proxy to trust;
  with `trusted_proxies > 0` it passes them on to ProxyFix, and with 0 it clears
  them, so no client can set its own address or scheme.
- A request body is refused (413) before waitress stores it when it is larger
  than `upload_max_mb` on the upload path, or than SMALL_BODY_BYTES on any other
  path: waitress buffers a whole body (to a temporary file past 512 KiB) before
  the app sees the request, so the app's own check would come after the disk use.
"""

from __future__ import annotations

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from waitress.utilities import RequestEntityTooLarge

from indexer.config import Settings

from .links import normalize_prefix

# The largest body of a request other than an upload: the login and logout forms are a few hundred bytes.
SMALL_BODY_BYTES = 64 * 1024
# The upload path, under the site's prefix or not (a proxy may pass the prefix on or strip it).
UPLOAD_PATH = "/admin/upload"
# Room for the multipart form around the file itself (the fields and boundaries are small).
UPLOAD_FORM_OVERHEAD_BYTES = 1024 * 1024


def upload_body_limit(settings: Settings) -> int:
    """The largest request body accepted on the upload path, in bytes."""
    return settings.upload_max_mb * 1024 * 1024 + UPLOAD_FORM_OVERHEAD_BYTES


def server_options(settings: Settings) -> dict:
    """waitress's options for SETTINGS (threads, proxy headers, the largest body)."""
    return {
        "threads": settings.threads,
        "ident": "archive",
        # ProxyFix reads the trusted hops (webapp/security.py); with no trusted proxy waitress drops them.
        "clear_untrusted_proxy_headers": settings.trusted_proxies == 0,
        "max_request_body_size": upload_body_limit(settings),
    }


def bounded_channel(settings: Settings) -> type[HTTPChannel]:
    """A waitress channel class whose requests refuse a body over the limit of their path."""
    upload_paths = {UPLOAD_PATH, normalize_prefix(settings.url_prefix) + UPLOAD_PATH}

    class BoundedBodyParser(HTTPRequestParser):
        """waitress's request parser, with SMALL_BODY_BYTES as the body limit off the upload path."""

        def received(self, data):
            consumed = super().received(data)
            if self.error is None and self.headers_finished and self.path not in upload_paths:
                # content_length is known once the headers are read; a chunked body is counted as it comes.
                size = max(self.content_length, self.body_bytes_received)
                if size > SMALL_BODY_BYTES:
                    self.error = RequestEntityTooLarge(f"exceeds max_body of {SMALL_BODY_BYTES}")
                    self.completed = True
            return consumed

    class BoundedBodyChannel(HTTPChannel):
        parser_class = BoundedBodyParser

    return BoundedBodyChannel


def create_archive_server(app, settings: Settings, **where):
    """A waitress server of APP for SETTINGS, on WHERE (host and port, or sockets)."""
    server = create_server(app, **where, **server_options(settings))
    channel = bounded_channel(settings)
    # create_server makes one server per listening socket (in its map when there are several).
    listeners = [server] if isinstance(server, BaseWSGIServer) else list(server.map.values())
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = channel
    return server
