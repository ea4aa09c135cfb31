"""The only reader of config.toml: settings declared once, with defaults and help."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

CONFIG_ENV = "ARCHIVE_CONFIG"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.toml"


def _help(text: str, default, **kw):
    return field(default=default, metadata={"help": text}, **kw)


@dataclass(frozen=True)
class Settings:
    """Every setting of the service; relative paths are resolved against the config file."""

    # [paths]
    archive_dir: Path = _help("Folder holding the PDFs and other documents.", Path("archive"))
    catalogue: Path = _help("Catalogue of document metadata (TOML).", Path("archive/catalogue.toml"))
    userdict: Path = _help("jieba user dictionary of the collection's terms.", Path("archive/userdict.txt"))
    glossary: Path = _help("English-Chinese glossary used to expand queries.", Path("archive/glossary.toml"))
    index_dir: Path = _help("Folder of the Whoosh index (derived data, safe to delete).", Path("instance/index"))
    log_dir: Path = _help("Folder for log files; empty logs to standard error only.", Path("instance/log"))
    state_dir: Path = _help("Folder of the archive's records kept outside the index (dates documents were added, "
                            "the last update's outcome); not derived data: keep it.", Path("instance"))

    # [server]
    host: str = _help("Address the web server listens on.", "127.0.0.1")
    port: int = _help("Port the web server listens on.", 8000)
    web_workers: int = _help("Web server processes sharing the port (python -m webapp --workers); 0 means one per core.", 0)
    threads: int = _help("Threads of each web server process (1: one search at a time, the least CPU a search; "
                         "2: a plain search passes a query with * or ?).", 2)
    url_prefix: str = _help("Sub-path the site is served under behind a proxy, e.g. /archive.", "")
    trusted_proxies: int = _help("Number of reverse proxies whose X-Forwarded-* headers are trusted.", 0)
    trusted_hosts: tuple = _help("Host names the site answers to and puts in absolute links (feed, OpenSearch, CSV); "
                                 "a request for another host is refused; empty: any host.", ())
    watch: bool = _help("Watch the archive folder and re-index changes while serving.", False)
    rescan_interval_s: float = _help("Safety-net rescan of the archive while watching (seconds).", 30.0)
    settle_s: float = _help("A new file is read only once its size has not changed for this long.", 1.0)
    merge_idle_s: float = _help("Merge the small index segments additions leave once the watcher has seen no change "
                                "for this long (seconds); a change stops the merge at once; 0 never merges.", 60.0)

    # [indexer]
    workers: int = _help("Extraction worker processes; 0 means one per core.", 0)
    extract_timeout_s: float = _help("Time limit for reading one file: opening it, or any one of its pages (seconds).", 120.0)
    extract_memory_mb: int = _help("Memory limit of one extraction worker (MiB).", 2048)
    ocr: bool = _help("Recognise text on pages that have no text layer (needs tesseract).", True)
    ocr_languages: str = _help("Tesseract languages used for OCR.", "eng+chi_sim")
    ocr_dpi: int = _help("Resolution at which scanned pages are rendered for OCR (dots per inch).", 300)
    lock_timeout_s: float = _help("How long a second writer waits for the index lock.", 10.0)
    commit_every_files: int = _help("Commit the index after this many files are read; an interrupted update keeps them.", 50)
    index_writers: int = _help("Processes writing index segments in a large update; 0 means one per core, 1 writes in the updating process.", 0)
    removal_guard_share: float = _help("An update that would remove more than this share of the indexed files "
                                       "(and more than removal_guard_files of them), or finds the archive folder "
                                       "missing or empty, removes nothing until confirmed (update --allow-removals); "
                                       "1 turns the share check off.", 0.2)
    removal_guard_files: int = _help("Removals up to this many files never need confirming (unless the archive "
                                     "folder is missing or empty).", 5)

    # [search]
    page_size: int = _help("Documents per result page.", 10)
    snippets_per_document: int = _help("Matching pages shown with a snippet per result.", 3)
    expand_glossary: bool = _help("Also search the other language's terms from the glossary (and the dictionary).", True)
    translate_dictionary: bool = _help("With expand_glossary, also translate the words the glossary lacks with the "
                                       "bilingual dictionary (CC-CEDICT).", True)
    max_query_chars: int = _help("Longest accepted query, in characters.", 500)
    max_query_terms: int = _help("Most terms accepted in one query.", 64)
    query_time_limit_s: float = _help("Time limit for running one query.", 5.0)
    max_wildcard_words: int = _help("Most words with a * or ? (prefix or wildcard) in one query.", 4)
    min_prefix_chars: int = _help("Fewest letters before a * or ? (one Chinese character is enough).", 2)
    max_expanded_terms: int = _help("Most index terms the words with * or ? of one query may stand for, together.",
                                    200)
    expensive_per_client: int = _help("Queries with * or ? one client address may run at once (more get 429).", 1)

    # [admin]
    admin_password_hash: str = _help("Hash of the admin password (python -m webapp hash-password); empty turns uploads off.", "")
    upload_max_mb: int = _help("Largest accepted upload (MiB).", 200)
    secret_key: str = _help("Key signing session cookies; empty makes one per start.", "")
    session_minutes: int = _help("Admin sessions expire after this many minutes.", 60)

    config_file: Path | None = None

    @property
    def extraction_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def web_processes(self) -> int:
        return self.web_workers or os.cpu_count() or 1

    @property
    def segment_writers(self) -> int:
        return self.index_writers or os.cpu_count() or 1

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


_SECTIONS = ("paths", "server", "indexer", "search", "admin")
_PATH_FIELDS = {f.name for f in fields(Settings) if f.type in ("Path", Path)}


def load_settings(path: str | os.PathLike | None = None, **overrides) -> Settings:
    """Read settings from PATH, $ARCHIVE_CONFIG or the project's config.toml."""
    path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    flat: dict = {}
    for section, values in data.items():
        if section not in _SECTIONS or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section [{section}]")
        flat.update(values)
    flat.update(overrides)
    return settings_from_mapping(flat, base=path.resolve().parent, config_file=path.resolve())


# Allowed range of each number setting (inclusive); start-up refuses a value outside it.
INF = float("inf")
LIMITS: dict[str, tuple[float, float]] = {
    "port": (0, 65535), "web_workers": (0, 256), "threads": (1, 256), "trusted_proxies": (0, 16),
    "rescan_interval_s": (0.05, 86400), "settle_s": (0, 3600), "merge_idle_s": (0, 86400),
    "workers": (0, 256), "extract_timeout_s": (0.1, 86400), "extract_memory_mb": (64, 1 << 20),
    "ocr_dpi": (50, 1200), "lock_timeout_s": (0, 86400), "commit_every_files": (1, 1_000_000),
    "index_writers": (0, 256), "removal_guard_share": (0, 1), "removal_guard_files": (0, 1_000_000),
    "page_size": (1, 1000), "snippets_per_document": (0, 100), "max_query_chars": (1, 100_000),
    "max_query_terms": (1, 10_000), "query_time_limit_s": (0.01, 3600),
    "upload_max_mb": (1, 1 << 20), "session_minutes": (1, 525_600),
    # The query cost limits: a value under these would refuse every wildcard, or let any through.
    "max_wildcard_words": (0, 1000), "min_prefix_chars": (1, 100), "max_expanded_terms": (1, 1_000_000),
    "expensive_per_client": (1, 1000),
}
# Text settings that may not be empty, and what a valid value looks like.
_NON_EMPTY_TEXT = {"host": "an address such as 127.0.0.1 or 0.0.0.0",
                   "ocr_languages": "Tesseract languages joined by +, such as eng+chi_sim"}


def _where(config_file: Path | None) -> str:
    return f"{config_file}: " if config_file else ""


def _check_value(name: str, value, default, where: str):
    """VALUE of setting NAME converted to its type, or ConfigError naming the key, the file and what is allowed."""
    if name in _PATH_FIELDS:
        if not isinstance(value, str):
            raise ConfigError(f"{where}setting {name!r} must be a path in quotes, not {value!r}")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}setting {name!r} must be true or false, not {value!r}")
        return value
    if isinstance(default, (int, float)):
        low, high = LIMITS.get(name, (-INF, INF))
        span = f"from {low:g} to {high:g}" if high != INF else f"{low:g} or more"
        kind = "a whole number" if isinstance(default, int) else "a number"
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(default, int) and isinstance(value, float) and not value.is_integer())):
            raise ConfigError(f"{where}setting {name!r} must be {kind} {span}, not {value!r}")
        value = type(default)(value)
        if not low <= value <= high:
            raise ConfigError(f"{where}setting {name!r} must be {kind} {span}, not {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{where}setting {name!r} must be a list of names in quotes, not {value!r}")
        return tuple(v.strip() for v in value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}setting {name!r} must be text in quotes, not {value!r}")
        if name in _NON_EMPTY_TEXT and not value.strip():
            raise ConfigError(f"{where}setting {name!r} must not be empty: {_NON_EMPTY_TEXT[name]}")
        if name == "ocr_languages" and not re.fullmatch(r"[A-Za-z_]+(\+[A-Za-z_]+)*", value):
            raise ConfigError(f"{where}setting {name!r} must be {_NON_EMPTY_TEXT[name]}, not {value!r}")
        if name == "admin_password_hash" and value and value.count("$") < 2:
            raise ConfigError(f"{where}setting {name!r} must be a hash made by `python -m webapp hash-password` "
                              "(method$salt$hash), not a password")
    return value


def settings_from_mapping(values: dict, base: Path = PROJECT_ROOT, config_file: Path | None = None) -> Settings:
    """Build Settings from a flat mapping, checking names, types and ranges."""
    known = {f.name: f for f in fields(Settings)}
    where = _where(config_file)
    kwargs = {}
    for name, value in values.items():
        if name not in known or name == "config_file":
            raise ConfigError(f"{where}unknown setting {name!r}")
        default = known[name].default
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        value = _check_value(name, value, default, where)
        if name in _PATH_FIELDS:
            # An empty log_dir means "standard error only": it stays empty instead of becoming the base folder.
            empty_log_dir = name == "log_dir" and str(value).strip() == ""
            value = Path(value)
            value = value if value.is_absolute() or empty_log_dir else (base / value)
        kwargs[name] = value
    for name in _PATH_FIELDS:
        if name not in kwargs:
            kwargs[name] = base / known[name].default
    return Settings(config_file=config_file, **kwargs)
