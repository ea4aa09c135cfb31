"""Where the index lives on disk: generations and the `current` link.

Layout of settings.index_dir:
    current -> gen-000004     symlink to the live generation, swapped atomically
    gen-000004/               a Whoosh index
    writer.lock               held (flock) by the one process writing; holds its pid

A rebuild writes a new generation beside the live one and swaps the
symlink with a rename, so readers see either the old or the new index,
never a half-built one. Whoosh commits are themselves atomic (the table of
contents is written last), so a killed writer leaves the last commit intact.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

from .engine.storage import fsync_dir, index_exists



CURRENT = "current"
GEN_PATTERN = re.compile(r"^gen-(\d{6})$")


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index has been built."""
    link = Path(index_dir) / CURRENT
    seen = None
    # A rebuild may swap the link and delete the generation it pointed to
    # between reading the link and looking into the folder: when the folder
    # holds no index, read the link again before saying there is none.
    while True:
        try:
            target = os.readlink(link)
        except OSError:
            return None
        if target == seen:
            return None
        path = Path(index_dir) / target
        try:
            exists = index_exists(path)
        except OSError:     # deleted while being looked into
            exists = False
        if exists:
            return path
        seen = target


def link_target(index_dir: Path) -> str | None:
    """The name the `current` link points to, or None."""
    try:
        return os.readlink(Path(index_dir) / CURRENT)
    except OSError:
        return None


def new_generation(index_dir: Path) -> Path:
    """Create and return an empty folder for the next generation."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in Path(index_dir).iterdir() if (m := GEN_PATTERN.match(p.name))]
    path = Path(index_dir) / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


def swap_current(index_dir: Path, generation: Path) -> None:
    """Point `current` at GENERATION atomically, then drop older generations."""
    tmp = Path(index_dir) / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, Path(index_dir) / CURRENT)
    fsync_dir(index_dir)
    remove_old_generations(index_dir, keep=generation)


def remove_old_generations(index_dir: Path, keep: Path) -> None:
    """Delete generations other than KEEP.

    Readers that still have an old generation open keep reading it: on POSIX
    an unlinked file stays readable through its open handles.
    """
    for p in Path(index_dir).iterdir():
        if GEN_PATTERN.match(p.name) and p.name != keep.name:
            shutil.rmtree(p, ignore_errors=True)


