"""A content-addressed cache under the show's .cache/: safe to delete, never trusted half-written.

Keys are sha256 hashes of everything that determines a value, so a stale entry is never found:
changing the text, the voice or a setting changes the key. What an entry holds is never trusted
either: `load` parses it and `get_recorded` checks the hash its record keeps, and an entry that is
unreadable or inconsistent (a disk filled mid-write, a file edited or truncated by hand) is a miss,
made again, with one warning per kind of entry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from podcast.errors import PodcastError
from podcast.fsutil import write_bytes

T = TypeVar("T")

_warned: set[str] = set()
"""Kinds of entry this process has already warned about: one line per kind, however many are bad."""


def key(*parts: object) -> str:
    """A stable hash of JSON-able parts.

    >>> key("piper", "joe", 1.0, "Hello.") == key("piper", "joe", 1.0, "Hello.")
    True
    >>> key("a", "bc") == key("ab", "c")
    False
    """
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _seal(data: bytes, meta: dict[str, Any]) -> str:
    """The hash a record keeps: of the payload and of the record's own fields, so neither can change alone."""
    return key(hashlib.sha256(data).hexdigest(), meta)


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, digest: str, ext: str) -> Path:
        return self.root / kind / digest[:2] / f"{digest}{ext}"

    def get(self, kind: str, digest: str, ext: str) -> bytes | None:
        try:
            return self.path(kind, digest, ext).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, kind: str, digest: str, ext: str, data: bytes) -> Path:
        path = self.path(kind, digest, ext)
        write_bytes(path, data)
        return path

    def load(self, kind: str, digest: str, ext: str, parse: Callable[[bytes], T]) -> T | None:
        """The entry as `parse` reads it; None when it is missing or `parse` fails on it (damaged)."""
        data = self.get(kind, digest, ext)
        if data is None:
            return None
        try:
            return parse(data)
        except Exception:  # however a damaged entry fails to parse, it is made again
            self.damaged(kind)
            return None

    def put_recorded(self, kind: str, digest: str, ext: str, data: bytes, meta: dict[str, Any]) -> Path:
        """Store `data` and then its record (`meta` and a hash sealing both) beside it as .json."""
        path = self.put(kind, digest, ext, data)
        # The record is written last: its presence is what marks the entry as complete.
        record = {"meta": meta, "seal": _seal(data, meta)}
        self.put(kind, digest, ".json", json.dumps(record).encode())
        return path

    def get_recorded(self, kind: str, digest: str, ext: str) -> tuple[Path, dict[str, Any]] | None:
        """The payload's path and its record's `meta` when the payload is exactly what was stored with it."""
        record = self.load(kind, digest, ".json", json.loads)
        if record is None:
            return None
        data = self.get(kind, digest, ext)
        try:
            meta, seal = record["meta"], record["seal"]
            ok = data is not None and isinstance(meta, dict) and seal == _seal(data, meta)
        except (TypeError, KeyError):
            ok = False
        if not ok:
            self.damaged(kind)
            return None
        return self.path(kind, digest, ext), meta

    def damaged(self, kind: str) -> None:
        """Say once per process and kind that damaged entries were found (each is then made again)."""
        if kind not in _warned:
            _warned.add(kind)
            print(
                f"warning: damaged {kind} entries in {self.root} were ignored and are made again",
                file=sys.stderr,
                flush=True,
            )


@contextlib.contextmanager
def show_lock(cache_dir: Path, show: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the show's lock (.cache/lock) while building or publishing: one at a time per show.

    A second run says once that it waits, and waits; with `timeout` (seconds) it gives up with a
    PodcastError instead. The lock is the kernel's (flock), so a killed run never leaves it held.
    """
    path = cache_dir / "lock"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Opened for appending and never written: taking the lock changes no file of the show.
        f = open(path, "a", encoding="utf-8")  # noqa: SIM115 -- closed by the with below
    except OSError as e:
        raise PodcastError(
            f"cannot open {path}: {e.strerror}; check the show's .cache folder is writable"
        ) from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.fstat(f.fileno()).st_ino)
            if timeout is not None:
                _wait(f, timeout, f"another build of {show} is running (pid {holder})")
            else:
                print(f"waiting for another build of {show} (pid {holder})", file=sys.stderr, flush=True)
                fcntl.flock(f, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _holder(inode: int) -> str:
    """The pid holding the flock on the file `inode`, as the kernel lists it; '?' where it does not."""
    try:
        locks = Path("/proc/locks").read_text("ascii").splitlines()
    except OSError:
        return "?"
    for line in locks:
        # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF" (a blocked waiter's line has "->")
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
            return fields[4]
    return "?"


def _wait(f: Any, timeout: float, busy: str) -> None:
    """Take the lock within `timeout` seconds, or raise PodcastError(busy)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise PodcastError(busy) from None
            time.sleep(0.1)
