"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from podcast.errors import PodcastError

_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""A write that fails for want of room (a full disk, a quota, a file size limit): the user's to fix."""


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside `path`; on a clean exit fsync it and rename it over `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as e:
        raise PodcastError(
            f"cannot write {path}: {e.strerror}; check the folder exists and is writable"
        ) from e
    try:
        f: IO
        with os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8", newline="\n") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); published files must be readable like any other.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno in _NO_ROOM:
            raise PodcastError(f"cannot write {path}: {e.strerror}; check the disk has room") from e
        raise


_UMASK_LOCK = threading.Lock()
_UMASK: list[int] = []


def _umask() -> int:
    # Reading the umask means setting it, and threads write files at once (the LLM stage): read it
    # once, under a lock, so no thread ever sees the process's umask at 0 or leaves it there.
    with _UMASK_LOCK:
        if not _UMASK:
            mask = os.umask(0)
            os.umask(mask)
            _UMASK.append(mask)
        return _UMASK[0]


def write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def copy_file(src: Path, dst: Path) -> None:
    """Copy atomically; skip when dst already has the same size and mtime (a cheap unchanged test)."""
    st = src.stat()
    with contextlib.suppress(OSError):
        dt = dst.stat()
        if dt.st_size == st.st_size and int(dt.st_mtime) == int(st.st_mtime):
            return
    with open(src, "rb") as fin, atomic_open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    os.utime(dst, (st.st_atime, st.st_mtime))
