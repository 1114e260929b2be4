"""The seed workflow's reading history as CSV: `Title,ArXiv Link,Paper Date,Date Added`.

Its downloaded file lists every paper whose abstract was read, its kept file the ones chosen. Both
are read whole before anything is written, so a bad file (not UTF-8, a column missing, no rows, a
link that is no link) is rejected with its line number and nothing is imported.

A link may be an arXiv abs, pdf or html page (any version), a bare id, or an old-style id
(hep-th/9711200); rows of the same paper are one paper, first read on the earliest of their dates.
A link to another site (a blog post) has no arXiv id, which is what the ledger keys papers by: such
rows are counted and skipped, not imported. An arxiv.org link without a valid id is an error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from podcast.errors import InputError
from podcast.research.arxiv import Listing
from podcast.research.arxiv_id import ArxivId
from podcast.research.ledger import Imported
from podcast.text import one_line

COLUMNS = ("Title", "ArXiv Link", "Paper Date", "Date Added")
_URL = re.compile(r"https?://[^\s/]+\.[^\s/]+(/\S*)?", re.IGNORECASE)


@dataclass(frozen=True)
class Row:
    """One row as read: `link` exactly as the file has it (what `podcast rank --json` gives back)."""

    line: int
    title: str
    link: str
    paper_date: date
    added: date
    arxiv: ArxivId | None
    """None for a link to another site."""

    def listing(self) -> Listing:
        when = datetime.combine(self.paper_date, datetime.min.time(), UTC)
        return Listing(self.arxiv.base if self.arxiv else self.link, self.title, (), "", when, when)


def read_rows(path: Path) -> list[Row]:
    """The file's rows; InputError naming the file (and the line) when any of it is bad."""
    text = _text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [one_line(f).strip().lower() for f in reader.fieldnames or []]
    if not fields:
        raise InputError(f"{path}: empty; expected a CSV file with the header {','.join(COLUMNS)}")
    missing = [c for c in COLUMNS if c.lower() not in fields]
    if missing:
        raise InputError(f"{path}: no column {', '.join(repr(c) for c in missing)} in the header; "
                         f"expected {','.join(COLUMNS)}")
    reader.fieldnames = fields
    rows = []
    try:
        for record in reader:
            if not any((v or "").strip() for k, v in record.items() if isinstance(v, str)):
                continue  # a blank line
            rows.append(_row(path, reader.line_num, record))
    except csv.Error as e:
        raise InputError(f"{path} line {reader.line_num}: not valid CSV ({e})") from None
    if not rows:
        raise InputError(f"{path}: no rows under the header; nothing to read")
    return rows


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read it ({e.strerror or e})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: UTF-16 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet) and try again")
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's UTF-8 starts with a byte order mark
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{path} line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}); save the file "
                         "as UTF-8 (CSV UTF-8 in a spreadsheet) and try again") from None


def _row(path: Path, line: int, record: dict[str | None, str | list[str] | None]) -> Row:
    def field(name: str) -> str:
        value = record.get(name.lower())
        return one_line(value).strip() if isinstance(value, str) else ""

    where = f"{path} line {line}"
    title, link = field("Title"), field("ArXiv Link")
    if not title:
        raise InputError(f"{where}: no title")
    found = ArxivId.try_parse(link)
    if found is None and (not _URL.fullmatch(link) or "arxiv.org" in link.lower()):
        raise InputError(f"{where}: {link[:80]!r} is not an arXiv link or id (like "
                         "https://arxiv.org/abs/2405.04517)")
    dates = []
    for name in ("Paper Date", "Date Added"):
        try:
            dates.append(date.fromisoformat(field(name)))
        except ValueError:
            raise InputError(f"{where}: {name} {field(name)[:40]!r} is not a date like 2024-05-06") from None
    return Row(line, title, link, dates[0], dates[1], found)


# -- import and export -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What an import will write: one entry per arXiv paper, and the rows it cannot take."""

    entries: tuple[Imported, ...]
    skipped: tuple[Row, ...]
    """Rows linking elsewhere than arXiv."""


def plan_import(downloaded: Sequence[Row], kept: Sequence[Row]) -> Plan:
    """Seen at the earliest date any row gives; picked at the earliest kept row's date."""
    seen: dict[str, Imported] = {}
    skipped = [r for r in (*downloaded, *kept) if r.arxiv is None]
    for rows, picks in ((downloaded, False), (kept, True)):
        for row in rows:
            if row.arxiv is None:
                continue
            at = datetime.combine(row.added, datetime.min.time(), UTC)
            known = seen.get(row.arxiv.base)
            if known is None:
                known = seen[row.arxiv.base] = Imported(row.listing(), at, None)
            if at < known.seen:
                known = replace(known, seen=at)
            if picks and (known.picked is None or at < known.picked):
                known = replace(known, picked=at)
            seen[row.arxiv.base] = known
    return Plan(tuple(seen.values()), tuple(skipped))


def write_csv(path: Path, entries: Sequence[Imported], *, kept: bool) -> int:
    """The history in the seed workflow's format (all seen, or with `kept` the picked ones and
    their pick dates), written whole or not at all; the number of rows."""
    from podcast.fsutil import write_text

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for e in entries:
        if kept and e.picked is None:
            continue
        added = e.picked if kept and e.picked else e.seen
        link = f"https://arxiv.org/abs/{e.listing.base_id}"
        paper_date = f"{e.listing.submitted:%Y-%m-%d}"
        writer.writerow([one_line(e.listing.title), link, paper_date, f"{added:%Y-%m-%d}"])
        rows += 1
    write_text(path, out.getvalue())
    return rows
