"""Archive -> index, incrementally.

`update()` compares the archive folder and the catalogue with what the index
records and touches only the difference:
- a new or changed file (by content hash) is extracted and indexed;
- a renamed file (same hash, new name) keeps its stored text, nothing is re-read;
- a deleted file leaves the index;
- a catalogue edit rewrites the document's records from stored text, no PDF is read;
- a changed jieba user dictionary re-analyses the pages holding Chinese, from stored text;
- an index whose stamp differs (schema, analysis, codec, Whoosh, jieba or its
  dictionary; indexer.engine.stamp), or that cannot be opened, is rebuilt.

An update is planned, then applied: `plan_update()` reads the archive, the
catalogue and the index and returns an `UpdatePlan` (nothing is written);
`_Sync.apply()` carries it out. Work is committed in batches; each commit is
consistent on its own, so an update killed at any moment leaves the last
commit intact and the next update picks up the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from whoosh.query import And, Term

from .engine import analysis
from . import extract, ledger, segments
from .catalogue import CatalogueEntry, CatalogueFile, load_catalogue, slugify
from .config import Settings
from .errors import RemovalsHeldError
from .extract import INDEXED, Extraction, PageText
from .engine.schema import RECORD_DOC, RECORD_FILE, RECORD_PAGE, RECORD_TEXT
from .lock import WriterLock
from .engine.stamp import read_stamp, stamp_difference
from .engine.storage import create_index, open_index, segment_count
from .generations import current_generation, new_generation, swap_current
from .engine.writer import open_writer
from .engine.reading import stored_records_data

log = logging.getLogger(__name__)

META_KEY = "meta"

# Merging. Every commit writes a new segment; Whoosh's default policy
# (MERGE_SMALL, a Fibonacci rule) decides at each commit what to fold
# together, and on a large index it can fold mid-sized segments into a small
# update's commit (seconds of work while the user waits). Ours is tiered: a
# segment's tier is its size in powers of MERGE_FACTOR above TIER_DOCS
# records; MERGE_FACTOR segments of one tier merge into one of the next, so
# each record is rewritten about log(N) times and the segment count stays
# bounded. A commit merges at most `budget` records (MERGE_BUDGET_SMALL for a
# small update, more when the update itself indexed much), except that more
# than MAX_SEGMENTS segments are always brought back down, whatever the cost
# (queries slow down with the segment count).
MERGE_FACTOR = 8
TIER_DOCS = 200
MAX_SEGMENTS = 48
# Merge cost follows the number of distinct terms, and a Chinese page has
# about a thousand distinct bigrams: merging eight 20-page segments takes
# seconds. So an update that wrote fewer than BULK_RECORDS records (a
# document or two: the user waits for it) merges nothing; its small segments
# are merged by the next bulk update, by merge_segments() at idle, or when
# MAX_SEGMENTS is reached.
MERGE_BUDGET_SMALL = 0
BULK_RECORDS = 500
# An update with at least this many files to read writes its segments in
# worker processes (indexer.segments); fewer are written in the updating
# process, which starts no worker (an addition of one report stays quick).
PARALLEL_MIN_FILES = 8


def _tier(records: int) -> int:
    tier = 0
    while records > TIER_DOCS * MERGE_FACTOR ** tier:
        tier += 1
    return tier


def tiered_merge(budget: int):
    """A Whoosh merge policy (commit(mergetype=...)) merging full tiers of at most BUDGET records."""

    def policy(writer, segments):
        from whoosh.reading import SegmentReader

        keep = sorted(segments, key=lambda seg: seg.doc_count_all())
        chosen: list = []
        tiers: dict[int, list] = {}
        for seg in keep:
            tiers.setdefault(_tier(seg.doc_count_all()), []).append(seg)
        carried = 0
        for tier in sorted(tiers):
            group = tiers[tier]
            size = sum(seg.doc_count_all() for seg in group)
            # A full tier merges, together with everything smaller chosen below it.
            if len(group) + (1 if chosen else 0) >= MERGE_FACTOR and carried + size <= budget:
                chosen += group
                carried += size
            elif chosen:
                break
        rest = [seg for seg in keep if seg not in chosen]
        # Too many segments: merge the smallest, whatever the budget.
        while len(rest) + (1 if chosen else 0) > MAX_SEGMENTS:
            chosen.append(rest.pop(0))
        if len(chosen) < 2:
            return segments
        for seg in chosen:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
        return rest

    return policy
# Commit after settings.commit_every_files files or this many seconds of
# extraction, whichever comes first, so a long build keeps its progress if
# it is interrupted. Each commit writes a segment at a cost per distinct term
# (a Chinese page brings a thousand distinct bigrams), and segments are
# merged later: the time limit is long enough that commit_every_files is
# usually what cuts a batch, so a build does not write needlessly small segments.
BATCH_SECONDS = 60.0

# progress(files_done, files_total, path) after each file read; if the object
# also has a method page(path, pages_read), it is called after each page, so
# that a long report shows its progress while it is read; start(files_total),
# if it has one, as soon as the files to read are known. When worker processes
# write the segments, progress() counts files committed, and read(files_read,
# files_total, path), if there is one, each file read.
Progress = Callable[[int, int, str], None]


@dataclass
class UpdateReport:
    """What an update or rebuild did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    metadata_updated: list[str] = field(default_factory=list)
    reanalysed_pages: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    extracted: int = 0          # files actually read (PDF parses)
    pages_indexed: int = 0
    rebuilt: bool = False
    rebuild_reason: str = ""
    seconds: float = 0.0
    # Files gone from the archive but kept in the index until confirmed (update --allow-removals), and why.
    held_removals: list[str] = field(default_factory=list)
    held_reason: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.renamed or self.removed
                    or self.metadata_updated or self.reanalysed_pages or self.rebuilt)

    def as_dict(self) -> dict:
        return asdict(self)


# --- the archive on disk ------------------------------------------------------


def scan_archive(archive_dir: Path) -> dict[str, os.stat_result]:
    """Files of a registered format (extract.FORMATS, by suffix) below ARCHIVE_DIR, by path relative to it (POSIX form).

    Every update and every poll of the watcher scans the whole archive, so
    this works on strings and os.scandir's entries, not os.walk and a Path
    per file. As with os.walk, a link to a folder is not followed; a link to
    a file is, and a file that cannot be read is left out. A link whose target
    is outside the archive is listed with the link's own stat: the update
    skips it (OUTSIDE_ARCHIVE) without reading it.
    """
    found: dict[str, os.stat_result] = {}
    suffixes = extract.supported_suffixes()
    folders = [("", os.fspath(archive_dir))]
    while folders:
        prefix, folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                entries = list(entries)
        except OSError:     # gone, not a folder, or unreadable (skipped, as os.walk skips them)
            continue
        for entry in entries:
            name = entry.name
            # Hidden files and folders (.git, .uploads in progress) are not part of the archive.
            if name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if not entry.is_symlink():
                        folders.append((prefix + name + "/", entry.path))
                    continue
                if not name.lower().endswith(suffixes):
                    continue
                st = entry.stat()           # a broken link raises: left out
                if entry.is_symlink() and outside_archive(archive_dir, prefix + name):
                    st = entry.stat(follow_symlinks=False)
                found[prefix + name] = st
            except OSError:
                continue
    return found


# Why a link out of the archive is not read (the report and the status page show it; no content is quoted).
OUTSIDE_ARCHIVE = "skipped: a link to a file outside the archive"


def outside_archive(archive_dir: Path, path: str) -> bool:
    """Whether PATH (relative to ARCHIVE_DIR) resolves, through links, to a file outside the archive."""
    root = os.path.realpath(archive_dir)
    target = os.path.realpath(os.path.join(root, path))
    return os.path.commonpath([root, target]) != root


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks; the file's own name must not be a link (links are resolved first)."""
    h = hashlib.sha256()
    # O_NOFOLLOW: the checked target is what is read, even if the name is replaced by a link meanwhile.
    with open(os.open(os.path.realpath(path), os.O_RDONLY | os.O_NOFOLLOW), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- records --------------------------------------------------------------------


def _now() -> str:
    """The current time as ISO 8601 in UTC, with its offset (feeds and status pages need a zone)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def _drop_empty(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if v not in ("", None)}


def doc_fields(entry: CatalogueEntry, added_at: str) -> dict:
    """The fields of a document's "doc" record."""
    meta = " ".join(filter(None, [entry.event, entry.place, entry.programme, entry.kind, entry.summary]))
    data = asdict(entry)
    data["fingerprint"] = entry.fingerprint()
    data["added_at"] = added_at
    return _drop_empty(dict(
        record=RECORD_DOC,
        key=f"doc:{entry.id}",
        doc_id=entry.id,
        lang=" ".join(entry.languages),
        kind=entry.kind,
        year=entry.year,
        date=entry.date,
        programme=entry.programme,
        title=entry.title,
        title_pairs=entry.title,
        title_exact=entry.title,
        title_zh=entry.title_zh,
        title_cjk=" ".join(filter(None, [entry.title_zh, entry.title])),
        meta=meta,
        meta_pairs=meta,
        meta_exact=meta,
        meta_cjk=meta if analysis.HAS_CJK.search(meta) else "",
        data=json.dumps(data, ensure_ascii=False),
    ))


def page_fields(entry: CatalogueEntry, path: str, page: PageText) -> dict:
    """The fields of one page record: stored text for snippets and the document page, not searched."""
    return _drop_empty(dict(
        record=RECORD_PAGE,
        key=f"page:{path}#{page.number}",
        doc_id=entry.id,
        path=path,
        page=page.number,
        page_lang=page.lang,
        content=page.text,
        data=json.dumps({"extractor": page.extractor}),
    ))


def text_fields(entry: CatalogueEntry, lang: str, path: str, pages: Iterable[PageText]) -> dict | None:
    """The fields of a file's text record (every page, positions paged), with the document's metadata for filters."""
    text = analysis.join_pages({p.number: p.text for p in pages if p.text.strip()})
    if not text:
        return None
    has_cjk = bool(analysis.HAS_CJK.search(text))
    return _file_record(
        RECORD_TEXT, path, entry, lang,
        kind=entry.kind,
        year=entry.year,
        date=entry.date,
        programme=entry.programme,
        body=text,
        body_pairs=text,
        body_exact=text,
        # Chinese analysis is skipped for files with no CJK at all (most English files).
        body_zh=text if has_cjk else "",
        body_zh_pairs=text if has_cjk else "",
        body_cjk=text if has_cjk else "",
    )


def file_fields(path: str, entry: CatalogueEntry, lang: str, info: dict) -> dict:
    return _file_record(RECORD_FILE, path, entry, lang, data=json.dumps(info, ensure_ascii=False))


def _file_record(record: str, path: str, entry: CatalogueEntry, lang: str, **fields) -> dict:
    """A record of one file (its text or its bookkeeping), keyed "<record>:<path>"."""
    return _drop_empty(dict(record=record, key=f"{record}:{path}", doc_id=entry.id, path=path, lang=lang, **fields))


def _auto_entry(path: str, info: dict, taken: set[str]) -> CatalogueEntry:
    """A catalogue entry for a file that has none, from its own metadata or name."""
    doc_id = slugify(Path(path).name)
    if doc_id in taken:
        doc_id = f"{doc_id}-{hashlib.sha256(path.encode()).hexdigest()[:6]}"
    taken.add(doc_id)
    title = info.get("title") or re.sub(r"[_\-.]+", " ", Path(path).stem).strip() or Path(path).name
    # A year in the file name was put there by a person and names the
    # document; the PDF's creation date may be the day it was scanned or
    # exported. The metadata date is kept when it agrees (it is more precise).
    date = info.get("date") or ""
    m = re.search(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", Path(path).stem)
    if m and not date.startswith(m.group(1)):
        date = m.group(1)
    lang = info.get("lang") or "en"
    file_format = extract.format_for(path)
    fmt = file_format.key if file_format is not None else Path(path).suffix.lstrip(".").lower()
    return CatalogueEntry(id=doc_id, title=title, kind="document", date=date,
                          files=(CatalogueFile(lang, path, fmt),), catalogued=False)


def _main_language(pages: Iterable[PageText]) -> str:
    counts: dict[str, int] = {}
    for p in pages:
        if p.lang in ("en", "zh"):
            counts[p.lang] = counts.get(p.lang, 0) + len(p.text)
    return max(counts, key=counts.get) if counts else "en"


def _file_info(digest: str, st: os.stat_result, ex: Extraction) -> dict:
    extractors = sorted({p.extractor for p in ex.pages if p.text})
    return {
        "hash": digest,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "status": ex.status,
        "reason": ex.reason,
        "pages": ex.page_count,
        "text_pages": sum(1 for p in ex.pages if p.text.strip()),
        "chars": ex.chars,
        "failed_pages": list(ex.failed_pages),
        "extractor": ", ".join(extractors) or ex.extractor,
        "readers": ex.readers,
        "title": ex.title,
        "date": ex.date,
        "lang": _main_language(ex.pages),
        "indexed_at": _now(),
    }


# --- the update -------------------------------------------------------------------


class _Entries:
    """The catalogue entry and language of each file: its catalogue entry's, or one made from the file.

    An entry made from a file takes an id no other document has; ids are
    handed out in the order files are asked about.
    """

    def __init__(self, catalogue):
        self.by_file = catalogue.by_file()
        self.taken = set(catalogue.entries)
        self.resolved: dict[str, tuple[CatalogueEntry, str]] = {}

    def __call__(self, path: str, info: dict) -> tuple[CatalogueEntry, str]:
        if path not in self.resolved:
            if path in self.by_file:
                entry, cfile = self.by_file[path]
                self.resolved[path] = (entry, cfile.lang)
            else:
                auto = _auto_entry(path, info, self.taken)
                self.resolved[path] = (auto, auto.files[0].lang)
        return self.resolved[path]

    def copy(self) -> "_Entries":
        """A copy that hands out further ids without changing this one."""
        other = object.__new__(_Entries)
        other.by_file, other.taken, other.resolved = self.by_file, set(self.taken), dict(self.resolved)
        return other


@dataclass
class UpdatePlan:
    """What an update will do, decided from the archive, the catalogue and the index before anything is written.

    File paths are relative to the archive. Files that stay (`unchanged`,
    with their bookkeeping brought up to date) may be rewritten from stored
    text: `relabelled` when their catalogue entry or language changed,
    `reanalysed` when the user dictionary changed (those holding Chinese);
    `touched` ones only get a new bookkeeping record. `documents` holds the
    document records wanted before the files read now add their own
    automatic entries; records whose fingerprint differs are rewritten.
    """

    to_read: dict[str, tuple[str, os.stat_result]] = field(default_factory=dict)   # path -> (sha256, stat)
    renamed: dict[str, tuple[str, dict]] = field(default_factory=dict)   # new path -> (old path, file info)
    removed: list[str] = field(default_factory=list)
    unchanged: dict[str, dict] = field(default_factory=dict)           # path -> file info
    relabelled: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    reanalysed: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)    # (path, reason): not even hashed
    documents: dict[str, CatalogueEntry] = field(default_factory=dict)
    reanalyse_all: bool = False                 # the user dictionary changed: every record is rewritten
    known: dict[str, dict] = field(default_factory=dict)           # the index's file records, by path
    indexed_docs: dict[str, dict] = field(default_factory=dict)    # the index's document records, by id
    meta: dict = field(default_factory=dict)                       # the index's stamp record
    userdict_fp: str = ""
    entries: _Entries | None = None
    # Removals held back by the guard (removal_refusal): kept in the index as they are, until confirmed.
    held_removals: list[str] = field(default_factory=list)
    held_reason: str = ""
    hold_everything: bool = False       # the archive folder is missing or empty: nothing is changed at all

    @property
    def new_files(self) -> list[str]:
        """Files to read that the index does not hold yet."""
        return [p for p in self.to_read if p not in self.known]

    @property
    def changed_files(self) -> list[str]:
        """Files to read again: their content changed (or a failed file is retried)."""
        return [p for p in self.to_read if p in self.known]

    @property
    def documents_changed(self) -> list[str]:
        """Ids of the wanted documents whose record is new or out of date."""
        return [doc_id for doc_id, entry in self.documents.items()
                if self.reanalyse_all
                or self.indexed_docs.get(doc_id, {}).get("fingerprint") != entry.fingerprint()]


def removal_refusal(settings: Settings, on_disk: int, indexed: int, removed: int) -> tuple[str, bool]:
    """(why REMOVED of INDEXED files must not leave the index without a confirmation, whether the folder is
    missing or empty), or ("", False) when they may.

    A network share that did not mount looks like an archive whose every
    file was deleted: removing them would empty the site without a word.
    """
    if not removed:
        return "", False
    archive = Path(settings.archive_dir)
    if not archive.is_dir():
        return (f"the archive folder {archive} is missing (a share that did not mount?): "
                f"{removed} indexed files would be removed"), True
    if not on_disk:
        return (f"the archive folder {archive} holds no documents (a share that did not mount?): "
                f"{removed} indexed files would be removed"), True
    share = removed / max(1, indexed)
    if removed > settings.removal_guard_files and share > settings.removal_guard_share:
        return (f"{removed} of the {indexed} indexed files are gone from {archive} ({share:.0%}, more than "
                f"removal_guard_share = {settings.removal_guard_share:.0%})"), False
    return "", False


def plan_update(ix, settings: Settings, retry_failed: bool = False, allow_removals: bool = False) -> UpdatePlan:
    """Decide what bringing IX in line with the archive takes; read the index and the files, write nothing.

    Removals the guard refuses (removal_refusal) are held unless ALLOW_REMOVALS:
    the files stay indexed as they are.
    """
    archive = Path(settings.archive_dir)
    catalogue = load_catalogue(settings.catalogue)
    on_disk = scan_archive(archive)
    plan = UpdatePlan()
    with ix.searcher() as s:
        # Read-only (shared with the searchers of this process): copied before any change.
        plan.known = known = {f["path"]: data for f, data in stored_records_data(s, RECORD_FILE)}
        plan.indexed_docs = {d["doc_id"]: data for d, data in stored_records_data(s, RECORD_DOC)}
        meta_doc = s.document(key=META_KEY)
    plan.meta = json.loads(meta_doc["data"]) if meta_doc else {}
    plan.userdict_fp = analysis.userdict_fingerprint(settings.userdict)

    # Which files are new, changed, renamed, gone.
    by_hash_missing = {}
    for path, info in known.items():
        if path not in on_disk:
            by_hash_missing.setdefault(info.get("hash"), path)
    for path, st in sorted(on_disk.items()):
        if stat.S_ISLNK(st.st_mode):         # scan_archive's mark of a link out of the archive
            plan.unreadable.append((path, OUTSIDE_ARCHIVE))
            continue
        info = known.get(path)
        if info and info.get("size") == st.st_size and info.get("mtime_ns") == st.st_mtime_ns:
            digest = info["hash"]
        else:
            try:
                digest = file_hash(archive / path)
            except OSError as exc:
                plan.unreadable.append((path, f"cannot read the file: {exc.strerror}"))
                continue
        if info and info.get("hash") == digest:
            info = dict(info, mtime_ns=st.st_mtime_ns, size=st.st_size)
            if retry_failed and info.get("status") != INDEXED:
                plan.to_read[path] = (digest, st)
            else:
                plan.unchanged[path] = info
        elif not info and digest in by_hash_missing:
            old = by_hash_missing.pop(digest)
            plan.renamed[path] = (old, dict(known[old], mtime_ns=st.st_mtime_ns, size=st.st_size))
        else:
            plan.to_read[path] = (digest, st)
    renamed_from = {old for old, _ in plan.renamed.values()}
    # A file that became a link out of the archive leaves the index with its text.
    plan.removed = [p for p in known
                    if (p not in on_disk or stat.S_ISLNK(on_disk[p].st_mode)) and p not in renamed_from]
    reason, everything = removal_refusal(settings, len(on_disk), len(known), len(plan.removed))
    if reason and not allow_removals:
        plan.held_removals, plan.held_reason, plan.hold_everything = sorted(plan.removed), reason, everything
        if everything:
            # No archive to compare with (nor, often, its catalogue): the index stays exactly as it is.
            plan.to_read, plan.renamed, plan.removed, plan.unchanged = {}, {}, [], {}
            return plan
        # Held files stay as they are: unchanged, in path order like the others.
        plan.unchanged = dict(sorted({**plan.unchanged, **{p: known[p] for p in plan.removed}}.items()))
        plan.removed = []

    # The effective catalogue entry of every file that stays, asked in the
    # order the update writes them (automatic ids are handed out in that order).
    entry_for = plan.entries = _Entries(catalogue)
    for new, (_old, info) in plan.renamed.items():
        entry_for(new, info)
    plan.reanalyse_all = plan.meta.get("userdict") != plan.userdict_fp and bool(known)
    for path, info in plan.unchanged.items():
        entry, lang = entry_for(path, info)
        if info.get("entry_fp") != entry.fingerprint() or info.get("lang_used") != lang:
            plan.relabelled.append(path)
            continue
        if info.get("mtime_ns") != known[path].get("mtime_ns"):
            plan.touched.append(path)
        if plan.reanalyse_all:
            plan.reanalysed.append(path)

    # Documents: catalogue entries (files or not) and the automatic ones.
    plan.documents = dict(catalogue.entries)
    for path, info in list(plan.unchanged.items()) + [(n, i) for n, (_, i) in plan.renamed.items()]:
        if path not in entry_for.by_file:
            entry, _ = entry_for(path, info)
            plan.documents[entry.id] = entry
    return plan


def apply_update(ix, settings: Settings, plan: UpdatePlan, progress: Progress | None = None) -> UpdateReport:
    """Carry out PLAN (made by plan_update on IX, nothing written since) on IX; the caller holds the WriterLock."""
    started = time.monotonic()
    analysis.configure_segmenter(settings.userdict)
    report = _Sync(ix, settings, progress, retry_failed=False).apply(plan)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _extract_many(paths: list[Path], settings: Settings, page_progress=None):
    """Read PATHS in the extraction sandbox (one place, so tests can count the reads)."""
    return extract.extract_many(paths, settings, page_progress=page_progress)


class _Sync:
    """One pass that brings an index in line with the archive."""

    def __init__(self, ix, settings: Settings, progress: Progress | None, retry_failed: bool,
                 allow_removals: bool = False):
        self.ix = ix
        self.settings = settings
        self.progress = progress
        self.retry_failed = retry_failed
        self.allow_removals = allow_removals
        # When each document entered the archive: kept outside the index (indexer.ledger), so a
        # rebuild or a deleted index does not make old documents new.
        self.added_dates = ledger.added_dates(settings)
        self._new_dates: dict[str, str] = {}
        self.report = UpdateReport()
        self.archive = Path(settings.archive_dir)
        self.reanalyse_all = False
        self._docs_written: set[str] = set()
        self._records_written = 0
        self._committed = (0, 0)       # files committed, of how many (parallel writing)
        self._wrote_in_workers = False

    def _merge_policy(self):
        """A small update merges nothing (MERGE_BUDGET_SMALL); a bulk one in proportion to what it wrote.

        After segments were written by worker processes, nothing merges
        either: their segments are few and large, and merging them here, in
        one process, would cost as much as writing them did (the watcher
        merges at idle, in a process of its own).
        """
        if self._records_written >= BULK_RECORDS and not self._wrote_in_workers:
            return tiered_merge(MERGE_FACTOR * self._records_written)
        return tiered_merge(MERGE_BUDGET_SMALL)

    def _merging(self, writer, segments):
        """Merge as _merge_policy() says when the commit is made (it depends on what was written by then)."""
        return self._merge_policy()(writer, segments)

    def run(self) -> UpdateReport:
        """Plan the update, then apply the plan; return what was done."""
        started = time.monotonic()
        analysis.configure_segmenter(self.settings.userdict)
        plan = plan_update(self.ix, self.settings, self.retry_failed, self.allow_removals)
        self.apply(plan)
        self.report.seconds = round(time.monotonic() - started, 3)
        return self.report

    def apply(self, plan: UpdatePlan) -> UpdateReport:
        """Carry PLAN out in commits, each consistent on its own; return what was done.

        The order of the commits is what makes an update safe to kill: first
        removals, renames and catalogue changes (one commit, none when nothing
        changed), then the files read in batches, the last batch with the
        document records and the stamp.
        """
        self.reanalyse_all = plan.reanalyse_all
        self.report.held_removals, self.report.held_reason = list(plan.held_removals), plan.held_reason
        if plan.held_removals:
            log.warning("removing nothing until confirmed (update --allow-removals): %s", plan.held_reason)
        if plan.hold_everything:
            return self.report
        self.report.failed.extend(plan.unreadable)
        # Dates the index knows and the archive's facts do not (an index made before they were kept).
        for doc_id, data in plan.indexed_docs.items():
            if data.get("added_at") and doc_id not in self.added_dates:
                self._new_dates[doc_id] = data["added_at"]
        entry_for = plan.entries.copy()
        known, indexed_docs = plan.known, plan.indexed_docs
        wanted_docs = dict(plan.documents)

        # 1. Removals, renames, catalogue changes and re-analysis, from stored text.
        # Nothing to change here (the usual case when files were only added):
        # no commit, so no empty commit for readers to reopen on.
        dirty = bool(plan.removed or plan.renamed)
        relabelled, touched, reanalysed = set(plan.relabelled), set(plan.touched), set(plan.reanalysed)
        with open_writer(self.ix, mergetype=self._merging, limitmb=256) as writer:
            for path in plan.removed:
                self._delete_file(writer, path)
                self.report.removed.append(path)
            with self.ix.searcher() as s:
                for new, (old, info) in plan.renamed.items():
                    entry, lang = entry_for(new, info)
                    pages = self._stored_pages(s, old)
                    self._delete_file(writer, old)
                    self._write_file(writer, new, entry, lang, info, pages)
                    self._write_doc(writer, entry, indexed_docs)
                    self.report.renamed.append((old, new))
                for path, info in plan.unchanged.items():
                    entry, lang = entry_for(path, info)
                    if path in relabelled:
                        dirty = True
                        pages = self._stored_pages(s, path)
                        self._write_file(writer, path, entry, lang, info, pages, delete_first=True)
                        self._write_doc(writer, entry, indexed_docs)
                        self.report.metadata_updated.append(path)
                        continue
                    if path in touched:
                        # Touched but not changed: only the bookkeeping moves.
                        dirty = True
                        writer.update_document(**file_fields(path, entry, lang, info))
                    if path in reanalysed:
                        pages = self._stored_pages(s, path)
                        cjk_pages = sum(1 for p in pages if analysis.HAS_CJK.search(p.text))
                        if cjk_pages:
                            # Only the text record is analysed; the page records are stored text.
                            writer.update_document(**text_fields(entry, lang, path, pages))
                            self.report.reanalysed_pages += cjk_pages
                            dirty = True
            if not dirty:
                writer.cancel()

        # 3. Document records and the stamp, written into the last commit of step 2.
        def write_documents_and_stamp(writer) -> None:
            for doc_id in set(indexed_docs) - set(wanted_docs):
                writer.delete_by_term("key", f"doc:{doc_id}")
            for entry in wanted_docs.values():
                self._write_doc(writer, entry, indexed_docs)
            # The index's version lives in its stamp file (engine.stamp), read before the index is opened.
            meta = {k: v for k, v in plan.meta.items() if k != "version"}
            meta.update(userdict=plan.userdict_fp, last_update=_now())
            writer.update_document(key=META_KEY, record="meta", data=json.dumps(meta))

        # 2. Extract what is new or changed, committing in batches; the last
        # batch is committed with the document records and the stamp
        # (one commit, one new segment, for a small update).
        self._extract_and_write(plan.to_read, known, entry_for, wanted_docs, indexed_docs,
                                write_documents_and_stamp)
        self.report.metadata_updated = sorted(set(self.report.metadata_updated))
        # After the last commit: a date recorded here is one the index holds (one an
        # interrupted update committed is taken from the index by the next update).
        ledger.record_added_dates(self.settings, self._new_dates)
        return self.report

    def _extract_and_write(self, to_extract, known, entry_for, wanted_docs, indexed_docs,
                           finish: Callable) -> None:
        """Extract and write TO_EXTRACT, committing full batches; FINISH(writer) writes into the last commit."""
        processes = self.settings.segment_writers
        if to_extract and hasattr(self.progress, "start"):
            self.progress.start(len(to_extract))
        if not to_extract or (processes > 1 and len(to_extract) >= PARALLEL_MIN_FILES):
            if to_extract:
                self._extract_and_write_parallel(to_extract, known, entry_for, wanted_docs, indexed_docs,
                                                 processes)
            with open_writer(self.ix, mergetype=self._merging, limitmb=128) as writer:
                finish(writer)
            return
        paths = [self.archive / p for p in to_extract]
        total, done = len(paths), 0
        extracted = iter(_extract_many(paths, self.settings, self._page_progress()))
        last_batch = False
        while not last_batch:
            # One batch, one commit: commit_every_files files or BATCH_SECONDS, whichever comes first.
            with open_writer(self.ix, mergetype=self._merging, limitmb=256) as writer:
                batch_started, in_batch = time.monotonic(), 0
                for full_path, ex in extracted:
                    path, entry, lang, info = self._extracted(full_path, ex, to_extract, known, entry_for,
                                                              wanted_docs)
                    self._write_file(writer, path, entry, lang, info, ex.pages, delete_first=path in known)
                    self._write_doc(writer, entry, indexed_docs)
                    done += 1
                    in_batch += 1
                    if self.progress:
                        self.progress(done, total, path)
                    if (in_batch >= max(1, self.settings.commit_every_files)
                            or time.monotonic() - batch_started > BATCH_SECONDS):
                        break
                else:
                    last_batch = True
                    finish(writer)

    def _extracted(self, full_path, ex, to_extract, known, entry_for, wanted_docs):
        """Account for one extracted file; return its (path, catalogue entry, language, file info)."""
        path = Path(full_path).relative_to(self.archive).as_posix()
        digest, st = to_extract[path]
        info = _file_info(digest, st, ex)
        entry, lang = entry_for(path, info)
        if not entry.catalogued:
            info["doc_id_auto"] = entry.id
            wanted_docs[entry.id] = entry
        self.report.extracted += 1
        (self.report.updated if path in known else self.report.added).append(path)
        if ex.status not in (INDEXED,):
            self.report.failed.append((path, f"{ex.status}: {ex.reason}" if ex.reason else ex.status))
        return path, entry, lang, info

    def _page_progress(self):
        if self.progress is None or not hasattr(self.progress, "page"):
            return None

        def page_progress(full_path, pages_read):
            self.progress.page(Path(full_path).relative_to(self.archive).as_posix(), pages_read)
        return page_progress

    def _extract_and_write_parallel(self, to_extract, known, entry_for, wanted_docs, indexed_docs,
                                    processes: int) -> None:
        """Like _extract_and_write, with segments written by PROCESSES worker processes (indexer.segments).

        Each finished segment is committed, with its files' old records
        deleted and its documents' records, while the workers write on.
        """
        paths = [self.archive / p for p in to_extract]
        # Progress counts committed files here (what an interruption keeps), not files read.
        self._committed = (0, len(paths))
        self._wrote_in_workers = True
        folder = Path(self.ix.storage.folder)
        segments.remove_stale_staging(folder)
        # A worker's first segment holds commit_every_files files (so the first
        # results are soon searchable), each later one twice as many.
        writers = segments.SegmentWriters(folder, self.settings.userdict, processes,
                                          first_files=self.settings.commit_every_files)
        reads = getattr(self.progress, "read", None)
        try:
            for n_read, (full_path, ex) in enumerate(_extract_many(paths, self.settings, self._page_progress()), 1):
                path, entry, lang, info = self._extracted(full_path, ex, to_extract, known, entry_for, wanted_docs)
                if reads is not None:
                    reads(n_read, len(paths), path)
                records = self._file_records(path, entry, lang, info, ex.pages)
                # The document's record goes into the same segment as its
                # first file (one segment per commit, not one more for records).
                doc = self._doc_record(entry, indexed_docs)
                if doc is not None:
                    records.append(doc)
                replaced_doc = entry.id if doc is not None and entry.id in indexed_docs else None
                for finished in writers.add(records, (path, path in known, replaced_doc), group=entry.id):
                    self._commit_segments(writers, [finished])
            # The workers' last, partial segments in one commit: like the
            # one-process path, an update commits whole batches and then the rest.
            self._commit_segments(writers, writers.finish())
        finally:
            writers.close()

    def _commit_segments(self, writers, finished: list[tuple]) -> None:
        """Commit segments written by workers, deleting the old records of the files and documents they replace."""
        if not finished:
            return
        files = [f for _staged, segment_files in finished for f in segment_files]
        with open_writer(self.ix, mergetype=self._merging, limitmb=128) as writer:
            for path, replaced, replaced_doc in files:
                if replaced:
                    self._delete_file(writer, path)
                if replaced_doc:
                    writer.delete_by_term("key", f"doc:{replaced_doc}")
            writer.adopt_segments([writers.adopt(staged) for staged, _files in finished])
        done, total = self._committed
        for path, _replaced, _doc in files:
            done += 1
            if self.progress:
                self.progress(done, total, path)
        self._committed = (done, total)

    def _write_doc(self, writer, entry: CatalogueEntry, indexed_docs: dict[str, dict]) -> None:
        """Write ENTRY's document record if it is new or changed, once per run.

        Called in the same commit as the document's files, so that every
        committed file is found at once, even if the update is then killed.
        """
        fields = self._doc_record(entry, indexed_docs)
        if fields is not None:
            writer.update_document(**fields)

    def _doc_record(self, entry: CatalogueEntry, indexed_docs: dict[str, dict]) -> dict | None:
        """ENTRY's document record if it is new or changed and not yet written in this run, else None."""
        if entry.id in self._docs_written:
            return None
        self._docs_written.add(entry.id)
        previous = indexed_docs.get(entry.id, {})
        if not (self.reanalyse_all or previous.get("fingerprint") != entry.fingerprint()):
            return None
        if entry.id in indexed_docs and entry.catalogued:
            self.report.metadata_updated.append(f"doc:{entry.id}")
        added_at = self.added_dates.get(entry.id) or previous.get("added_at") or _now()
        if entry.id not in self.added_dates:
            self._new_dates[entry.id] = added_at
        return doc_fields(entry, added_at)

    def _write_file(self, writer, path, entry, lang, info, pages, delete_first=False) -> None:
        if delete_first:
            self._delete_file(writer, path)
        for fields in self._file_records(path, entry, lang, info, pages):
            writer.add_document(**fields)

    def _file_records(self, path, entry, lang, info, pages) -> list[dict]:
        """A file's records, in the order they are written: its pages, its text, its bookkeeping."""
        info = dict(info, entry_fp=entry.fingerprint(), lang_used=lang)
        if not entry.catalogued:
            info["doc_id_auto"] = entry.id
        records = [page_fields(entry, path, page) for page in pages if page.text.strip()]
        self.report.pages_indexed += len(records)
        text = text_fields(entry, lang, path, pages)
        if text is not None:
            records.append(text)
        records.append(file_fields(path, entry, lang, info))
        self._records_written += len(records)
        return records

    @staticmethod
    def _delete_file(writer, path: str) -> None:
        writer.delete_by_query(And([Term("record", RECORD_PAGE), Term("path", path)]))
        writer.delete_by_term("key", f"text:{path}")
        writer.delete_by_term("key", f"file:{path}")

    @staticmethod
    def _stored_pages(searcher, path: str) -> list[PageText]:
        pages = []
        for d in searcher.documents(record=RECORD_PAGE, path=path):
            extractor = json.loads(d.get("data") or "{}").get("extractor", "pypdf")
            pages.append(PageText(d["page"], d["content"], d.get("page_lang", ""), extractor))
        return sorted(pages, key=lambda p: p.number)


def merge_segments(settings: Settings, budget: int = 200_000) -> int:
    """Merge full tiers of small segments (at most BUDGET records), e.g. when idle; return the segments left."""
    with WriterLock(settings.index_dir, timeout=settings.lock_timeout_s):
        gen = current_generation(settings.index_dir)
        if gen is None:
            return 0
        ix = open_index(gen)
        try:
            with open_writer(ix, mergetype=tiered_merge(budget)):
                pass
            return segment_count(ix)
        finally:
            ix.close()


def _open_current(gen: Path):
    """(index, "") of the live index in GEN, or (None, why it must be rebuilt): its stamp differs from this
    code's (indexer.engine.stamp), or it cannot be opened."""
    reason = stamp_difference(read_stamp(gen))
    if reason:
        return None, reason
    # Opening unpickles the schema and the segments' codecs: an index that fails
    # there (damaged, or a class moved without a version bump) is rebuilt too. A
    # failing disk (OSError) is not the index's fault: it is raised, not rebuilt over.
    try:
        return open_index(gen), ""
    except OSError:
        raise
    except Exception as exc:
        return None, f"index cannot be opened ({type(exc).__name__}: {exc})"


def update(settings: Settings, progress: Progress | None = None, retry_failed: bool = False,
           allow_removals: bool = False) -> UpdateReport:
    """Bring the live index in line with the archive, creating it if needed; record how it went (indexer.ledger).

    Removals the guard refuses (removal_refusal) are held back unless ALLOW_REMOVALS.
    """
    return _recorded(settings, lambda: _update(settings, progress, retry_failed, allow_removals))


def _recorded(settings: Settings, work: Callable[[], UpdateReport | None]) -> UpdateReport | None:
    """Run WORK (an update or a rebuild) and record its outcome, where the status page and /healthz read it."""
    try:
        report = work()
    except RemovalsHeldError as exc:
        ledger.record_success(settings, exc.paths, str(exc))
        raise
    except Exception as exc:
        # An interruption (KeyboardInterrupt) is no failure of the archive: not recorded.
        ledger.record_failure(settings, exc)
        raise
    if report is not None:
        ledger.record_success(settings, report.held_removals, report.held_reason)
    return report


def _update(settings: Settings, progress: Progress | None, retry_failed: bool, allow_removals: bool) -> UpdateReport:
    with WriterLock(settings.index_dir, timeout=settings.lock_timeout_s):
        gen = current_generation(settings.index_dir)
        first_build = gen is None
        if first_build:
            gen = _create_live_index(settings)
        ix, reason = _open_current(gen)
        if ix is None:
            log.warning("%s: rebuilding", reason)
            report = _rebuild_locked(settings, progress, allow_removals)
            report.rebuild_reason = reason
            return report
        try:
            report = _Sync(ix, settings, progress, retry_failed, allow_removals).run()
        finally:
            ix.close()
        if first_build:
            report.rebuilt, report.rebuild_reason = True, "no index yet"
        return report


def index_problem(settings: Settings) -> str:
    """Why the live index must be built again ("" when it opens and this code can read it): missing, unreadable, outdated."""
    gen = current_generation(settings.index_dir)
    if gen is None:
        return "the index is missing"
    ix, reason = _open_current(gen)
    if ix is not None:
        ix.close()
    return reason


def repair(settings: Settings, progress: Progress | None = None) -> UpdateReport | None:
    """Build the index again in a new generation if it is missing or unreadable; None when it is fine.

    Readers get 503 (no index) or the old generation meanwhile, never a half-built index.
    """
    def work() -> UpdateReport | None:
        with WriterLock(settings.index_dir, timeout=settings.lock_timeout_s):
            reason = index_problem(settings)
            if not reason:
                return None
            log.warning("%s: building it again", reason)
            report = _rebuild_locked(settings, progress)
            report.rebuild_reason = reason
            return report
    return _recorded(settings, work)


def _create_live_index(settings: Settings) -> Path:
    """Create an empty, stamped index and make it the live one at once.

    Used for the first build: nobody reads the index yet, so it is filled in
    place rather than beside, and each batch commit survives an interruption
    (the next update goes on from it instead of starting over).
    """
    gen = new_generation(settings.index_dir)
    ix = create_index(gen)
    try:
        meta = {"userdict": analysis.userdict_fingerprint(settings.userdict)}
        with open_writer(ix) as writer:
            writer.add_document(key=META_KEY, record="meta", data=json.dumps(meta))
    finally:
        ix.close()
    swap_current(settings.index_dir, gen)
    return gen


def rebuild(settings: Settings, progress: Progress | None = None, allow_removals: bool = False) -> UpdateReport:
    """Build a fresh index beside the live one and swap it in atomically (refused, like an update's
    removals, when the live index holds files the archive lost, unless ALLOW_REMOVALS)."""
    def work() -> UpdateReport:
        with WriterLock(settings.index_dir, timeout=settings.lock_timeout_s):
            report = _rebuild_locked(settings, progress, allow_removals)
            report.rebuild_reason = "requested"
            return report
    return _recorded(settings, work)


def _live_records(settings: Settings) -> tuple[set[str], dict[str, str]] | None:
    """(paths of the files, added dates of the documents) the live index holds; None when it does not open."""
    gen = current_generation(settings.index_dir)
    if gen is None:
        return None
    ix, _reason = _open_current(gen)
    if ix is None:
        return None
    try:
        with ix.searcher() as s:
            paths = {f["path"] for f, _data in stored_records_data(s, RECORD_FILE)}
            dates = {d["doc_id"]: data.get("added_at", "") for d, data in stored_records_data(s, RECORD_DOC)}
        return paths, dates
    finally:
        ix.close()


def _rebuild_locked(settings: Settings, progress: Progress | None, allow_removals: bool = False) -> UpdateReport:
    live = _live_records(settings)
    if live is not None:
        paths, dates = live
        # The live index's dates, for an archive whose facts file predates them or was lost.
        ledger.record_added_dates(settings, dates)
        on_disk = scan_archive(settings.archive_dir)
        gone = sorted(paths - set(on_disk))
        reason, _everything = removal_refusal(settings, len(on_disk), len(paths), len(gone))
        if reason and not allow_removals:
            raise RemovalsHeldError(f"rebuild refused: {reason}; run it with --allow-removals to confirm", gone)
    gen = new_generation(settings.index_dir)
    ix = create_index(gen)
    try:
        report = _Sync(ix, settings, progress, retry_failed=False, allow_removals=True).run()
    except BaseException:
        ix.close()
        shutil.rmtree(gen, ignore_errors=True)
        raise
    ix.close()
    swap_current(settings.index_dir, gen)
    report.rebuilt = True
    return report
