"""SUBSCRIBERS.csv: the readers to mail, one a line, under a header with an `email` column (and an
optional `name`; other columns, as exported by a newsletter service, are ignored).

A line that is not usable is reported with its line number and left out; the rest are mailed. An
address that comes again (in any case) is mailed once, under its first line's name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from podcast.errors import InputError
from podcast.mail.message import Recipient
from podcast.settings import EMAIL_ADDRESS
from podcast.text import one_line

__all__ = ["Subscribers", "read_subscribers"]


@dataclass(frozen=True)
class Subscribers:
    recipients: tuple[Recipient, ...]
    """The valid addresses, each once, in the list's order."""
    skipped: tuple[str, ...]
    """One line per line left out: "SUBSCRIBERS.csv line 4: ... ; not sent"."""
    repeated: int
    """Lines whose address came earlier in the list."""


def read_subscribers(path: Path) -> Subscribers:
    """The list in `path`; InputError when it cannot be read, has no `email` column or no line at all."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise InputError(f"{path}: cannot read the subscriber list ({e.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the list as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [one_line(h).lower() for h in next(reader, [])]
        if "email" not in header:
            found = ", ".join(repr(h) for h in header if h) or "none"
            raise InputError(f"{path}: the first line must name the columns, one of them 'email' "
                             f"(and optionally 'name'); found: {found}")
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as e:
        raise InputError(f"{path} line {reader.line_num}: not CSV ({e})") from None
    if not rows:
        raise InputError(f"{path}: no subscribers in the list; add one address per line under 'email'")
    return _checked(path, header, rows)


def _checked(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> Subscribers:
    col, name_col = header.index("email"), header.index("name") if "name" in header else None
    seen: set[str] = set()
    recipients, skipped, repeated = [], [], 0
    for line, row in rows:
        address = row[col].strip() if col < len(row) else ""
        name = one_line(row[name_col]) if name_col is not None and name_col < len(row) else ""
        if not EMAIL_ADDRESS.fullmatch(address):
            shown = repr(one_line(address)[:80]) if address else "no address"
            skipped.append(f"{path} line {line}: {shown} is not an email address; not sent")
            continue
        if address.lower() in seen:
            repeated += 1
            continue
        seen.add(address.lower())
        recipients.append(Recipient(address, name))
    return Subscribers(tuple(recipients), tuple(skipped), repeated)
