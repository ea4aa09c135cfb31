"""Command line: thin commands over the indexer library.

    python -m indexer build|update|rebuild|status|watch [--config FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from .build import UpdateReport, rebuild, update
from .config import load_settings
from .errors import IndexerError
from .status import index_status


class ProgressBar:
    """A one-line progress bar on standard error (only on a terminal, or every 10 % otherwise).

    Files count on the bar; the pages of the file being read show beside it,
    so that a report of thousands of pages visibly moves.
    """

    PAGE_REDRAW_S = 0.1          # redraw at most this often for page progress
    PAGE_LINE_EVERY = 500        # without a terminal: a line every so many pages

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_decile = -1
        self._done, self._total = 0, 0
        self._last_draw = 0.0

    def __call__(self, done: int, total: int, path: str) -> None:
        self._done, self._total = done, total
        frac = done / total if total else 1.0
        if not self.tty:
            decile = int(frac * 10)
            if decile != self._last_decile or done == total:
                self._last_decile = decile
                print(f"  {done}/{total} files ({frac:.0%})", file=self.stream, flush=True)
            return
        self._draw(path)
        if done == total:
            self.stream.write("\n")
        self.stream.flush()

    def page(self, path: str, pages_read: int) -> None:
        """Show that PATH is being read: PAGES_READ pages so far."""
        if not self.tty:
            if pages_read % self.PAGE_LINE_EVERY == 0:
                print(f"  {path}: {pages_read} pages read", file=self.stream, flush=True)
            return
        now = time.monotonic()
        if now - self._last_draw >= self.PAGE_REDRAW_S:
            self._draw(f"{path} p. {pages_read}")
            self.stream.flush()

    def _draw(self, label: str) -> None:
        self._last_draw = time.monotonic()
        frac = self._done / self._total if self._total else 0.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        name = label if len(label) <= 40 else "…" + label[-39:]
        elapsed = self._last_draw - self.started
        self.stream.write(f"\r[{bar}] {self._done}/{self._total} {elapsed:5.1f}s {name:<40}")


def print_report(report: UpdateReport, out=None) -> None:
    """The summary at the end of an update: what changed, and each failure with its reason."""
    # Looked up at each call, not bound at import: output can then be redirected.
    out = out or sys.stdout
    if report.rebuilt:
        print(f"Built a new index ({report.rebuild_reason}).", file=out)
    parts = [f"{len(report.added)} added", f"{len(report.updated)} updated",
             f"{len(report.renamed)} renamed", f"{len(report.removed)} removed",
             f"{len(report.metadata_updated)} metadata updated", f"{len(report.failed)} failed"]
    print(f"Done in {report.seconds:.1f} s: " + ", ".join(parts) +
          f"; {report.extracted} files read, {report.pages_indexed} pages indexed.", file=out)
    if report.reanalysed_pages:
        print(f"Re-analysed {report.reanalysed_pages} Chinese pages (user dictionary changed).", file=out)
    for old, new in report.renamed:
        print(f"  renamed: {old} -> {new}", file=out)
    for path in report.removed:
        print(f"  removed: {path}", file=out)
    for path, reason in report.failed:
        print(f"  FAILED {path}: {reason}", file=out)


def print_status(settings, as_json: bool, out=None) -> None:
    out = out or sys.stdout
    st = index_status(settings)
    if as_json:
        json.dump(st.as_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    if not st.built:
        print(f"No index yet at {settings.index_dir}; {len(st.waiting)} files waiting. "
              "Run: python -m indexer update", file=out)
        return
    print(f"Index: {settings.index_dir} ({st.generation}), version {st.version}"
          + ("" if st.version_ok else " — OUTDATED, the next update rebuilds it"), file=out)
    print(f"Documents: {st.documents}   pages: {st.pages}   last update: {st.last_update or 'never'}", file=out)
    counts = st.counts()
    print("Files: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), file=out)
    if st.waiting:
        print(f"Stale: {len(st.waiting)} files new or changed since the last update:", file=out)
        for p in st.waiting:
            print(f"  waiting: {p}", file=out)
    for p in st.missing:
        print(f"  deleted from the archive, still indexed: {p}", file=out)
    for f in st.failures:
        detail = f" (pages failed: {', '.join(map(str, f.failed_pages))})" if f.failed_pages else ""
        print(f"  {f.status}: {f.path}: {f.reason}{detail}", file=out)
        if f.reading:
            print(f"    {f.reading}", file=out)
    for f in st.helped:
        print(f"  read with help: {f.path}: {f.reading}", file=out)
    if not st.waiting and not st.missing:
        print("Up to date.", file=out)


def watch(settings) -> int:
    """Keep the index in line with the archive until Ctrl-C or SIGTERM."""
    import signal

    from .watch import start_watcher

    watcher = start_watcher(settings)
    signal.signal(signal.SIGTERM, lambda *_: watcher.request_stop())
    try:
        watcher.join()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer",
                                     description="Index the EU-China regional policy archive.")
    parser.add_argument("--config", help="settings file (default: $ARCHIVE_CONFIG or config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="create the index, or bring it up to date (same as update)")
    p_update = sub.add_parser("update", help="index what was added or changed, drop what was deleted")
    p_update.add_argument("--retry-failed", action="store_true", help="read failed files again")
    sub.add_parser("rebuild", help="build a fresh index beside the live one and swap it in")
    p_status = sub.add_parser("status", help="documents and pages indexed, failures, what is stale")
    p_status.add_argument("--json", action="store_true", help="one entry per file, for monitoring")
    sub.add_parser("watch", help="re-index files as they are added, changed, renamed or deleted (Ctrl-C stops)")
    args = parser.parse_args(argv)
    watching = args.command == "watch"
    # The watcher runs for days: its log says what it did and when.
    logging.basicConfig(level=logging.INFO if args.verbose or watching else logging.WARNING,
                        format=("%(asctime)s " if watching else "") + "%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
        if args.command == "status":
            print_status(settings, args.json)
            return 0
        if watching:
            return watch(settings)
        bar = ProgressBar()
        if args.command == "rebuild":
            report = rebuild(settings, progress=bar)
        else:
            report = update(settings, progress=bar, retry_failed=getattr(args, "retry_failed", False))
        print_report(report)
        return 0
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the index keeps its last completed commit; run update again to finish", file=sys.stderr)
        return 130
