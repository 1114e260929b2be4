"""Files papercast writes that a person may then edit (summaries/*.md, script.md).

A human edit is never overwritten silently: the episode folder's .generated.json records the hash
of what papercast last wrote to each file. A file whose content still has that hash is ours to
regenerate; any other existing file is the user's and is kept, with a warning when what it was
made from has changed since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from podcast.fsutil import write_text

STATE_FILE = ".generated.json"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Generated:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.state = _read(self.path)
        self._made: set[str] = set()
        """Files this run wrote the records of."""
        self.warnings: list[str] = []

    def produce(self, path: Path, inputs: str, generate: Callable[[], str]) -> str:
        """The file's text: regenerated when it is ours (or missing), kept when a person edited it.

        `inputs` is a hash of what the generated text depends on; `generate` runs only when needed.
        """
        rel = path.relative_to(self.folder).as_posix()
        record = self.state.get(rel)
        current = path.read_text("utf-8") if path.is_file() else None
        if current is not None and (record is None or record["sha"] != _sha(current)):
            if record is not None and record["inputs"] != inputs:
                self.warnings.append(
                    f"{rel} was edited by hand and its sources changed since; kept your version "
                    "(delete the file to regenerate it)"
                )
            return current
        if current is not None and record is not None and record["inputs"] == inputs:
            return current
        text = generate()
        if text != current:
            write_text(path, text)
        self.state[rel] = {"sha": _sha(text), "inputs": inputs}
        self._made.add(rel)
        return text

    def is_users(self, path: Path) -> bool:
        """Whether `path` holds a person's text (written or edited by hand), which `produce` keeps as
        it is whatever its inputs: nothing needs fetching to make it."""
        record = self.state.get(path.relative_to(self.folder).as_posix())
        try:
            current = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):  # missing, or `produce` says what is wrong with it
            return False
        return record is None or record["sha"] != _sha(current)

    def save(self) -> None:
        """Write the records, merged into what the file holds now: the ones this run made win, and a
        record of another run is never dropped (an unreadable file is replaced by this run's)."""
        state = dict(_read(self.path))
        state.update({rel: self.state[rel] for rel in self._made})
        for rel, record in self.state.items():
            state.setdefault(rel, record)
        write_text(self.path, json.dumps(state, indent=1, sort_keys=True) + "\n")


def _read(path: Path) -> dict[str, dict[str, str]]:
    """The records of `path`; {} when it is missing or not a JSON object of records."""
    try:
        state = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    ok = isinstance(state, dict) and all(
        isinstance(r, dict) and isinstance(r.get("sha"), str) and isinstance(r.get("inputs"), str)
        for r in state.values()
    )
    return state if ok else {}
