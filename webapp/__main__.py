"""Serve the archive with waitress (a production WSGI server, pure Python):

    python -m webapp [--config FILE] [--host H] [--port P] [--watch | --no-watch]
    python -m webapp hash-password      print a hash for admin_password_hash
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import logging
import signal
import sys

from indexer.config import load_settings
from indexer.errors import IndexerError

log = logging.getLogger("webapp")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve (or hash a password); return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hash-password"]:
        return hash_password()
    parser = argparse.ArgumentParser(prog="python -m webapp", description="Serve the archive's search site.")
    parser.add_argument("--config", help="configuration file (default: $ARCHIVE_CONFIG or config.toml)")
    parser.add_argument("--host", help="address to listen on (default from the configuration)")
    parser.add_argument("--port", type=int, help="port to listen on (default from the configuration)")
    parser.add_argument("--watch", action=argparse.BooleanOptionalAction, default=None,
                        help="re-index the archive folder's changes while serving (default from the configuration)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port), ("watch", args.watch)) if v is not None}
    try:
        settings = load_settings(args.config, **overrides)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from waitress import create_server

    from . import create_app, normalize_prefix

    app = create_app(settings)
    try:
        server = create_server(app, host=settings.host, port=settings.port, threads=settings.threads, ident="archive")
    except OSError as exc:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    watcher = start_watcher(settings) if settings.watch else None
    # Printed once the socket is bound, so the address works as soon as it is shown.
    host = server.effective_host
    host = f"[{host}]" if ":" in str(host) else host
    print(f"Serving the archive at http://{host}:{server.effective_port}{normalize_prefix(settings.url_prefix)}/ "
          f"(Ctrl+C stops)", flush=True)
    # systemd stops services with SIGTERM: end like Ctrl+C, closing the socket and the watcher.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        log.info("stopping")
    finally:
        server.close()
        if watcher is not None:
            watcher.stop()
    return 0


def start_watcher(settings):
    """Start indexer.watch's watcher and return it; None (with a log line) if that module is missing."""
    try:
        watch = importlib.import_module("indexer.watch")
    except ModuleNotFoundError as exc:
        if exc.name != "indexer.watch":
            raise
        log.warning("watching is on, but indexer.watch is not available: not watching the archive")
        return None
    watcher = watch.start_watcher(settings)
    log.info("watching %s for changes", settings.archive_dir)
    return watcher


def hash_password() -> int:
    """Ask for a password twice and print its hash for admin_password_hash in config.toml."""
    from werkzeug.security import generate_password_hash

    first = getpass.getpass("Admin password: ")
    if len(first) < 8:
        print("error: use at least 8 characters", file=sys.stderr)
        return 2
    if getpass.getpass("Again: ") != first:
        print("error: the passwords differ", file=sys.stderr)
        return 2
    print(generate_password_hash(first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
