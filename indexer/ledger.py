"""The archive's own records, kept outside the index: facts about the archive and how the last update went.

The index is derived data, safe to delete: anything it alone knew would be lost
with it. Two small JSON files in `settings.state_dir` hold what cannot be
derived from the files and the catalogue:

- `archive-facts.json`: when each document entered the archive (its "Added"
  date, which the Atom feed announces). An update records the date of every
  document it writes for the first time, and every update, rebuild or
  re-creation of a deleted index takes the dates from here.
- `last-update.json`: the outcome of the last update (when it ended, its error
  and since when updates have been failing, removals held back and why), written
  by whichever process updated (the watcher, the command line, the upload page)
  and read by the status page and `/healthz` of every web worker.

Both are written atomically (a temporary file, fsync, os.replace), so a reader
never sees half a file and a crash leaves the previous version.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Settings

log = logging.getLogger(__name__)

FACTS_FILE = "archive-facts.json"
OUTCOME_FILE = "last-update.json"
# Updates kept from the index by another writer's lock for this long count as failing.
LOCK_ALARM_S = 300.0


def atomic_write_text(path: Path, text: str) -> None:
    """Write TEXT to PATH atomically: a temporary file in the same folder, fsync, os.replace, fsync of the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_json(path: Path) -> dict:
    """PATH's JSON object; {} when the file is missing or unreadable (logged: never a reason to stop serving)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def now_iso() -> str:
    """The current time as ISO 8601 in UTC, with its offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


# --- facts about the archive -----------------------------------------------------------------


def facts_path(settings: Settings) -> Path:
    """Where the archive's facts are kept."""
    return Path(settings.state_dir) / FACTS_FILE


def added_dates(settings: Settings) -> dict[str, str]:
    """When each document entered the archive (ISO 8601), by document id."""
    dates = _read_json(facts_path(settings)).get("added_at", {})
    return {k: v for k, v in dates.items() if isinstance(k, str) and isinstance(v, str) and v}


def record_added_dates(settings: Settings, new: dict[str, str]) -> None:
    """Add NEW (document id -> date added) to the facts; a date already recorded is kept."""
    if not new:
        return
    path = facts_path(settings)
    facts = _read_json(path)
    dates = facts.setdefault("added_at", {})
    fresh = {k: v for k, v in new.items() if v and k not in dates}
    if not fresh:
        return
    dates.update(fresh)
    facts["added_at"] = dict(sorted(dates.items()))
    atomic_write_text(path, json.dumps(facts, ensure_ascii=False, indent=1) + "\n")


# --- the last update's outcome ---------------------------------------------------------------


@dataclass
class UpdateOutcome:
    """How the last update ended, as the status page and the health check tell it."""

    ended_at: str = ""              # when the last update (successful or not) ended
    ok: bool = True                 # the last update did its work (removals held back count as not done)
    error: str = ""                 # why the last update failed ("" when it did not)
    error_kind: str = ""            # disk_full, disk, catalogue, config, locked, removals_held, other
    failing_since: str = ""         # the first of the failures in a row ("" when the last update succeeded)
    failures: int = 0               # failed updates in a row
    last_success: str = ""          # when an update last succeeded
    held_removals: list[str] = field(default_factory=list)     # files gone from the archive, still indexed
    held_reason: str = ""

    def age_s(self, now: float | None = None) -> float | None:
        """Seconds since the failures began (None when the last update succeeded)."""
        if not self.failing_since:
            return None
        try:
            started = calendar.timegm(time.strptime(self.failing_since[:19], "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            return None
        return max(0.0, (now if now is not None else time.time()) - started)

    @property
    def healthy(self) -> bool:
        """Whether monitoring may call the updates healthy: no failure, or only a lock held for a short while.

        A writer from the command line holds the lock for a while and the
        watcher retries; a lock held for LOCK_ALARM_S is a fault.
        """
        if self.ok:
            return True
        if self.error_kind == "locked":
            age = self.age_s()
            return age is not None and age < LOCK_ALARM_S
        return False

    def as_dict(self) -> dict:
        """The outcome as JSON-ready data, with the age of the failure."""
        data = asdict(self)
        data["healthy"] = self.healthy
        age = self.age_s()
        data["failing_for_s"] = round(age) if age is not None else None
        return data


def outcome_path(settings: Settings) -> Path:
    """Where the last update's outcome is kept."""
    return Path(settings.state_dir) / OUTCOME_FILE


def read_outcome(settings: Settings) -> UpdateOutcome:
    """The last update's outcome (a fresh, successful one when none was recorded)."""
    data = _read_json(outcome_path(settings))
    known = UpdateOutcome.__dataclass_fields__
    try:
        return UpdateOutcome(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return UpdateOutcome()


def _write_outcome(settings: Settings, outcome: UpdateOutcome) -> None:
    try:
        atomic_write_text(outcome_path(settings), json.dumps(asdict(outcome), ensure_ascii=False, indent=1) + "\n")
    except OSError as exc:
        # A full disk may stop this record too: the log still says it.
        log.error("cannot record the outcome of the update in %s: %s", outcome_path(settings), exc)


def record_success(settings: Settings, held_removals: list[str] | None = None, held_reason: str = "") -> None:
    """Record an update that did its work (but for removals it held back, if any)."""
    at = now_iso()
    previous = read_outcome(settings)
    held = sorted(held_removals or [])
    outcome = UpdateOutcome(ended_at=at, last_success=at, held_removals=held, held_reason=held_reason if held else "")
    if held:
        outcome.ok = False
        outcome.error, outcome.error_kind = held_reason, "removals_held"
        outcome.failing_since = previous.failing_since if previous.error_kind == "removals_held" else at
        outcome.failures = previous.failures + 1 if previous.error_kind == "removals_held" else 1
    _write_outcome(settings, outcome)


def record_failure(settings: Settings, exc: BaseException) -> UpdateOutcome:
    """Record an update that failed with EXC; return the outcome recorded."""
    at = now_iso()
    previous = read_outcome(settings)
    kind, message = describe_failure(exc)
    outcome = UpdateOutcome(
        ended_at=at, ok=False, error=message, error_kind=kind,
        failing_since=previous.failing_since or at, failures=previous.failures + 1,
        last_success=previous.last_success,
        held_removals=previous.held_removals, held_reason=previous.held_reason)
    _write_outcome(settings, outcome)
    return outcome


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(kind, message) of an update's failure, in words an administrator acts on."""
    import errno

    from .errors import CatalogueError, ConfigError, IndexLockedError

    if isinstance(exc, CatalogueError):
        return "catalogue", f"the catalogue is invalid: {exc}"
    if isinstance(exc, ConfigError):
        return "config", f"the configuration is invalid: {exc}"
    if isinstance(exc, IndexLockedError):
        return "locked", f"the index stayed locked by another writer: {exc}"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full", f"the disk is full: {exc}"
        return "disk", f"a disk error: {exc}"
    return "other", f"{type(exc).__name__}: {exc}"
