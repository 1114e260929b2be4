"""A content-addressed cache under the show's .cache/: safe to delete, never trusted half-written.

Keys are sha256 hashes of everything that determines a value, so a stale entry is never found:
changing the text, the voice or a setting changes the key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from podcast.fsutil import write_bytes


def key(*parts: object) -> str:
    """A stable hash of JSON-able parts.

    >>> key("piper", "joe", 1.0, "Hello.") == key("piper", "joe", 1.0, "Hello.")
    True
    >>> key("a", "bc") == key("ab", "c")
    False
    """
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


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
