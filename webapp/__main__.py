"""Serve the archive with waitress (a production WSGI server, pure Python), in several processes:

    python -m webapp [--config FILE] [--host H] [--port P] [--workers N] [--watch | --no-watch]
    python -m webapp hash-password      print a hash for admin_password_hash

With more than one worker (`web_workers`, default one per core) this process
binds the port and starts the workers (webapp/workers.py); it runs the
watcher itself, once. With one worker it serves in this process.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import secrets
import signal
import sys

from indexer.config import load_settings
from indexer.errors import IndexerError

log = logging.getLogger("webapp")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve (or hash a password); return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hash-password"]:
        return hash_password(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m webapp", description="Serve the archive's search site.")
    parser.add_argument("--config", help="configuration file (default: $ARCHIVE_CONFIG or config.toml)")
    parser.add_argument("--host", help="address to listen on (default from the configuration)")
    parser.add_argument("--port", type=int, help="port to listen on (default from the configuration)")
    parser.add_argument("--workers", type=int, dest="web_workers",
                        help="server processes (default from the configuration, web_workers; 0: one per core)")
    parser.add_argument("--watch", action=argparse.BooleanOptionalAction, default=None,
                        help="re-index the archive folder's changes while serving (default from the configuration)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port), ("watch", args.watch),
                                   ("web_workers", args.web_workers)) if v is not None}
    try:
        settings = load_settings(args.config, **overrides)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if settings.web_workers < 0:
        print("error: the number of workers must be 0 (one per core) or more", file=sys.stderr)
        return 2
    if settings.web_processes > 1:
        return serve_in_workers(settings)

    from . import create_app, site
    from .links import normalize_prefix
    from .serving import create_archive_server

    app = create_app(settings)
    site.warm_up(app)
    try:
        server = create_archive_server(app, settings, host=settings.host, port=settings.port)
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


def serve_in_workers(settings) -> int:
    """Bind the port, start the worker processes, watch the archive here; until SIGTERM or Ctrl+C."""
    from . import logs
    from .links import normalize_prefix
    from .workers import Launcher, bind_sockets

    # One key for every worker, made here when the configuration has none: a session cookie signed
    # by one worker must be valid in the others. It reaches them through a pipe, never a file.
    if not settings.secret_key:
        settings = settings.replace(secret_key=secrets.token_hex(32))
    try:
        sockets = bind_sockets(settings.host, settings.port)
    except OSError as exc:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    logs.init_process(settings)
    launcher = Launcher(settings, sockets, settings.web_processes)
    # systemd stops services with SIGTERM: the launcher stops its workers, then itself.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: launcher.stop())
    watcher = None
    try:
        if not launcher.start():
            print("error: no web worker started (see the messages above)", file=sys.stderr)
            return 1
        # Started once the workers serve, so that its first update does not slow their start. (Workers
        # started later, to replace one, are spawned with fork+exec: the watcher's thread never forks along.)
        watcher = start_watcher(settings) if settings.watch else None
        host, port = sockets[0].getsockname()[:2]
        host = f"[{host}]" if ":" in str(host) else host
        print(f"Serving the archive at http://{host}:{port}{normalize_prefix(settings.url_prefix)}/ "
              f"with {settings.web_processes} processes (Ctrl+C stops)", flush=True)
        return launcher.supervise()
    finally:
        launcher.shutdown()
        if watcher is not None:
            watcher.stop()
        for sock in sockets:
            sock.close()
        log.info("stopped")


def start_watcher(settings):
    """Start the watcher of the archive folder and return it; None (with a log line) if it is not available."""
    # Imported here: the launcher process serves nothing, and without watching it needs no index code.
    from indexer.service import start_watcher as start_archive_watcher

    watcher = start_archive_watcher(settings)
    if watcher is None:
        log.warning("watching is on, but indexer.watch is not available: not watching the archive")
        return None
    log.info("watching %s for changes", settings.archive_dir)
    return watcher


def hash_password(argv: list[str] | None = None) -> int:
    """Ask for a password (twice on a terminal, one line from standard input otherwise) and print its hash."""
    from werkzeug.security import generate_password_hash

    parser = argparse.ArgumentParser(
        prog="python -m webapp hash-password",
        description="Print the hash of an admin password, for admin_password_hash in config.toml. On a terminal "
                    "the password is asked twice and not shown; otherwise it is read from the first line of "
                    "standard input (echo ... | python -m webapp hash-password). A running server takes a new "
                    "hash at the next login, without a restart.")
    parser.parse_args(argv or [])
    if sys.stdin.isatty():
        first = getpass.getpass("Admin password: ")
        again = getpass.getpass("Again: ")
    else:
        first = again = sys.stdin.readline().rstrip("\r\n")
    if len(first) < 8:
        print("error: use at least 8 characters", file=sys.stderr)
        return 2
    if again != first:
        print("error: the passwords differ", file=sys.stderr)
        return 2
    print(generate_password_hash(first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
