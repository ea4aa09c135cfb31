"""Command line: thin commands over the indexer library.

    python -m indexer build|update|rebuild|status|watch [--config FILE] [-v] [--allow-removals]
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


class ProgressLines:
    """Progress as plain lines on standard error, for logs and pipes: every 10 % of the files, and every
    PAGE_LINE_EVERY pages of a long file, with the rate and the time left."""

    PAGE_LINE_EVERY = 500        # a line every so many pages of one file

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last_decile = -1

    def __enter__(self) -> "ProgressLines":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start(self, total: int) -> None:
        """Say how many files are to be read."""
        if total:
            print(f"  {total} files to read", file=self.stream, flush=True)

    def __call__(self, done: int, total: int, path: str) -> None:
        frac = done / total if total else 1.0
        decile = int(frac * 10)
        if decile != self._last_decile or done == total:
            self._last_decile = decile
            print(f"  {done}/{total} files ({frac:.0%}){_rate_and_eta(self.started, done, total)}",
                  file=self.stream, flush=True)

    def page(self, path: str, pages_read: int) -> None:
        """Say that PATH is being read: PAGES_READ pages so far."""
        if pages_read % self.PAGE_LINE_EVERY == 0:
            print(f"  {path}: {pages_read} pages read", file=self.stream, flush=True)


def _rate_and_eta(started: float, done: int, total: int) -> str:
    elapsed = time.monotonic() - started
    if not done or elapsed <= 0 or done >= total:
        return f" in {elapsed:.0f} s" if done and done >= total else ""
    rate = done / elapsed
    return f", {rate:.1f} files/s, about {(total - done) / rate:.0f} s left"


class ProgressBar:
    """A progress bar on a terminal (rich): files read of all, pages read, rate and time left, the file being read.

    The update tells it the number of files as soon as it is known (start), each
    file read (read, or the call itself) and each page of the file being read
    (page), so the bar tracks the real work from the first second. When segments
    are written by worker processes, the files committed so far show beside it.
    """

    def __init__(self, stream=None):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.console = Console(file=stream or sys.stderr)
        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
            TextColumn("{task.fields[pages]} pages"), TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("left"),
            TextColumn("{task.fields[committed]}{task.fields[current]}"),
            console=self.console, transient=False, refresh_per_second=8)
        self.task = self.bar.add_task("indexing", total=None, pages=0, rate="", committed="", current="")
        self.started = time.monotonic()
        self._pages_done = 0           # pages of the files finished
        self._pages_current: dict[str, int] = {}
        self._reads_separately = False

    def __enter__(self) -> "ProgressBar":
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def start(self, total: int) -> None:
        """Set the number of files to read."""
        self.bar.update(self.task, total=total)

    def read(self, done: int, total: int, path: str) -> None:
        """Count a file read (DONE of TOTAL); the update calls it when files are committed later, by workers."""
        self._reads_separately = True
        self._show_read(done, total, path)

    def __call__(self, done: int, total: int, path: str) -> None:
        if self._reads_separately:
            # Called per file committed: shown beside the files read.
            self.bar.update(self.task, committed=f"{done} committed ")
        else:
            self._show_read(done, total, path)

    def _show_read(self, done: int, total: int, path: str) -> None:
        self._pages_done += self._pages_current.pop(path, 0)
        elapsed = time.monotonic() - self.started
        self.bar.update(self.task, completed=done, total=total, pages=self._pages(),
                        rate=f"{done / elapsed:.1f} files/s" if elapsed > 0 else "", current=f" {_short(path)}")

    def page(self, path: str, pages_read: int) -> None:
        """Show PAGES_READ pages of PATH read so far."""
        self._pages_current[path] = pages_read
        self.bar.update(self.task, pages=self._pages(), current=f" {_short(path)} p. {pages_read}")

    def _pages(self) -> int:
        return self._pages_done + sum(self._pages_current.values())


def _short(path: str, width: int = 40) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1):]


def progress_display(stream=None):
    """A progress bar on a terminal, plain lines otherwise (a log, a pipe)."""
    stream = stream or sys.stderr
    return ProgressBar(stream) if stream.isatty() else ProgressLines(stream)


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
    if report.held_removals:
        print(f"NOT REMOVED: {report.held_reason}.", file=out)
        for path in report.held_removals[:20]:
            print(f"  gone from the archive, kept in the index: {path}", file=out)
        if len(report.held_removals) > 20:
            print(f"  … and {len(report.held_removals) - 20} more", file=out)
        print("If these files were deleted on purpose, confirm with: python -m indexer update --allow-removals",
              file=out)


def print_status(settings, as_json: bool, out=None) -> None:
    out = out or sys.stdout
    st = index_status(settings)
    if as_json:
        json.dump(st.as_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    _print_update_problem(st, out)
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


def _print_update_problem(st, out) -> None:
    """The last update's error, or the removals it held back, and since when."""
    if not st.update_failing:
        return
    outcome = st.update
    age = outcome.get("failing_for_s")
    since = f" (failing for {age} s, {outcome.get('failures', 1)} updates in a row)" if age is not None else ""
    if outcome.get("error_kind") == "removals_held":
        print(f"WARNING: nothing removed: {outcome.get('held_reason') or outcome.get('error')}{since}. "
              "If the files were deleted on purpose: python -m indexer update --allow-removals", file=out)
    else:
        print(f"WARNING: the last update failed: {outcome.get('error')}{since}", file=out)


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
    # The common options are accepted before or after the command ("-v update" and "update -v"):
    # each sub-parser has them too, with no default of its own, so it does not undo what came before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="settings file (default: $ARCHIVE_CONFIG or config.toml)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more detail")
    parser = argparse.ArgumentParser(prog="python -m indexer", parents=[common],
                                     description="Index the EU-China regional policy archive.")
    sub = parser.add_subparsers(dest="command", required=True)
    allow = dict(action="store_true",
                 help="confirm the removal of files gone from the archive even when the archive folder is "
                      "missing or empty or more than removal_guard_share of the files are gone")
    p_build = sub.add_parser("build", parents=[common], help="create the index, or bring it up to date (same as update)")
    p_build.add_argument("--allow-removals", **allow)
    p_update = sub.add_parser("update", parents=[common], help="index what was added or changed, drop what was deleted")
    p_update.add_argument("--retry-failed", action="store_true", help="read failed files again")
    p_update.add_argument("--allow-removals", **allow)
    p_rebuild = sub.add_parser("rebuild", parents=[common], help="build a fresh index beside the live one and swap it in")
    p_rebuild.add_argument("--allow-removals", **allow)
    p_status = sub.add_parser("status", parents=[common], help="documents and pages indexed, failures, what is stale")
    p_status.add_argument("--json", action="store_true", help="one entry per file, for monitoring")
    sub.add_parser("watch", parents=[common],
                   help="re-index files as they are added, changed, renamed or deleted (Ctrl-C stops)")
    args = parser.parse_args(argv)
    verbose, config = getattr(args, "verbose", False), getattr(args, "config", None)
    watching = args.command == "watch"
    # The watcher runs for days: its log says what it did and when.
    logging.basicConfig(level=logging.INFO if verbose or watching else logging.WARNING,
                        format=("%(asctime)s " if watching else "") + "%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(config)
        if args.command == "status":
            print_status(settings, args.json)
            return 0
        if watching:
            return watch(settings)
        allow_removals = getattr(args, "allow_removals", False)
        with progress_display() as progress:
            if args.command == "rebuild":
                report = rebuild(settings, progress=progress, allow_removals=allow_removals)
            else:
                report = update(settings, progress=progress, retry_failed=getattr(args, "retry_failed", False),
                                allow_removals=allow_removals)
        print_report(report)
        return 0
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the index keeps its last completed commit; run update again to finish", file=sys.stderr)
        return 130
