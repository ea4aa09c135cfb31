"""Open an archive file once, without following a link, and read it only through that open file.

The people who add reports may write to the archive folder, so a file there can
be replaced by a link (or a FIFO) at any moment, also between the scan that
checked it and the read. Every reader of archive bytes (the hash, the
extraction workers) therefore opens the file here, once: O_NOFOLLOW refuses a
link at its last component, O_NONBLOCK keeps a FIFO from blocking the open,
fstat refuses anything that is not a regular file, and with ROOT the kernel's
own name for the opened file (/proc/self/fd/N) must lie inside ROOT, which
catches a folder on the way replaced by a link. Libraries that want a path
(pypdf, PDFium, zipfile, catdoc) are given /proc/self/fd/N, which opens that
same file whatever its name points to now; the file's type still comes from
its archive name (`OpenFile.name`), never from that path.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

__all__ = ["OpenFile", "open_file", "NotRegularFile", "OutsideRoot"]

# A file deleted while open keeps its name in /proc/self/fd with this mark.
_DELETED = " (deleted)"


class NotRegularFile(OSError):
    """The name is a FIFO, a device, a socket or a folder: nothing to read."""

    def __init__(self, kind: str):
        super().__init__(errno.EINVAL, f"not a regular file ({kind})")


class OutsideRoot(OSError):
    """The opened file lies outside the folder it was asked for in (a link was swapped in)."""

    def __init__(self):
        super().__init__(errno.EXDEV, "a link to a file outside the archive")


@dataclass(frozen=True)
class OpenFile:
    """A regular file opened for reading: NAME as the archive calls it, FD the open descriptor."""

    name: Path     # its suffix says the file's type; reasons and logs name it
    fd: int
    size: int

    @property
    def path(self) -> Path:
        """The path that opens this same file in this process (for libraries that take a path)."""
        return Path(f"/proc/self/fd/{self.fd}")

    @property
    def suffix(self) -> str:
        """The lower-case suffix of the archive name, with its dot (".pdf")."""
        return self.name.suffix.lower()

    def head(self, size: int) -> bytes:
        """Return the first SIZE bytes of the file (or fewer)."""
        return os.pread(self.fd, size, 0)


@contextmanager
def open_file(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Iterator[OpenFile]:
    """Open PATH (links inside ROOT resolved first) as an OpenFile, closed on exit.

    Raise OSError when it cannot be opened: FileNotFoundError, ELOOP for a link
    swapped in after the name was resolved, NotRegularFile, and OutsideRoot when
    ROOT is given and the file opened is not inside it.
    """
    name = Path(path)
    real = os.path.realpath(name)
    real_root = os.path.realpath(root) if root is not None else None
    if real_root is not None and not _inside(real_root, real):
        raise OutsideRoot()
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(_kind(st.st_mode))
        # Only a regular file is left, for which O_NONBLOCK means nothing; cleared so no reader sees it.
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        if real_root is not None:
            opened = os.readlink(f"/proc/self/fd/{fd}").removesuffix(_DELETED)
            if not _inside(real_root, opened):
                raise OutsideRoot()
        yield OpenFile(name, fd, st.st_size)
    finally:
        os.close(fd)


def _inside(root: str, path: str) -> bool:
    """Whether the absolute PATH is ROOT or below it."""
    return os.path.commonpath([root, path]) == root


def _kind(mode: int) -> str:
    """Name the kind of a file that is not a regular one, for a reason shown to users."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"
