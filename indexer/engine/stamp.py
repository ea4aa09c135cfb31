"""The index's stamp: what made an index, read without opening it.

An index is only readable by code that agrees with it on the schema, the
analysis, the codec, the Whoosh that pickled its objects and the jieba (and
its dictionary) that cut its Chinese words. Each generation folder holds a
small JSON file, STAMP_FILE, written when the index is created; an update
compares it with current_stamp() before opening the index (opening unpickles
the schema and the codec, which another Whoosh or a moved class may not be
able to do) and rebuilds on any difference.

The jieba user dictionary is not in the stamp: a change of it re-analyses
only the Chinese files (indexer.build), it does not rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from . import analysis, schema
from .codec import CODEC_VERSION

STAMP_FILE = "stamp.json"

# The stamp's entries, in the order they are written and compared, with the
# name each is called by in a message.
LABELS = {
    "schema": "schema version",
    "analysis": "analysis version",
    "codec": "codec version",
    "whoosh": "whoosh-reloaded",
    "jieba": "jieba",
    "jieba_dictionary": "jieba dictionary hash",
}


@lru_cache(maxsize=1)
def _library_versions() -> tuple[str, str]:
    """The installed whoosh-reloaded and jieba versions (package metadata; read once per process)."""
    return version("whoosh-reloaded"), version("jieba")


@lru_cache(maxsize=1)
def jieba_dictionary_hash() -> str:
    """Return a short hash of jieba's main dictionary, the file jieba loads (computed once per process)."""
    import jieba

    digest = hashlib.sha256()
    # A Tokenizer made without a dictionary names jieba's default one, as the segmenter's is.
    with jieba.Tokenizer().get_dict_file() as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def current_stamp() -> dict[str, str]:
    """Return the stamp this code writes into a new index and expects of an existing one."""
    whoosh_version, jieba_version = _library_versions()
    # The schema and analysis versions are read at each call (tests change them).
    return {
        "schema": str(schema.SCHEMA_VERSION),
        "analysis": str(analysis.ANALYSIS_VERSION),
        "codec": str(CODEC_VERSION),
        "whoosh": whoosh_version,
        "jieba": jieba_version,
        "jieba_dictionary": jieba_dictionary_hash(),
    }


def stamp_text(stamp: dict | None) -> str:
    """Return STAMP in one line, as status pages show it ("" for no stamp)."""
    if not stamp:
        return ""
    return " ".join(f"{key}={stamp.get(key, '?')}" for key in LABELS)


def write_stamp(folder: Path) -> None:
    """Write current_stamp() into FOLDER's STAMP_FILE and force it to disk.

    Called before the index is created in FOLDER (storage.create_index): the
    stamp is complete on disk before the index exists (its table of contents
    is renamed into place, and the folder synced, after it), so no index is
    ever seen with a half-written stamp.
    """
    with open(Path(folder) / STAMP_FILE, "w", encoding="utf-8") as fh:
        json.dump(current_stamp(), fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_stamp(folder: Path) -> dict | None:
    """Return the stamp in FOLDER, or None when it has none (or an unreadable one)."""
    try:
        with open(Path(folder) / STAMP_FILE, encoding="utf-8") as fh:
            stamp = json.load(fh)
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def stamp_difference(found: dict | None) -> str:
    """Say how FOUND (an index's stamp) differs from this code's, naming each entry; "" when it does not."""
    if found is None:
        return "index has no stamp file (made before stamps were written)"
    ours = current_stamp()
    return "; ".join(f"index made with {LABELS[key]} {found.get(key, 'unknown')} differs from this code's {ours[key]}"
                     for key in LABELS if str(found.get(key)) != ours[key])
