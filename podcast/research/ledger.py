"""The show's paper history: which arXiv papers were offered, picked and published, so that none is
offered twice. It is history, not a cache, so it lives in the show folder (.papercast.sqlite), not
in .cache/.

Papers are keyed by their arXiv id without version. The schema is versioned with SQLite's
`user_version`; a newer file than this papercast knows is refused rather than misread.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from podcast.errors import ConfigError, PodcastError
from podcast.models import Paper
from podcast.research.arxiv import Listing
from podcast.research.arxiv_id import ArxivId, arxiv_id_of

FILE = ".papercast.sqlite"
SCHEMA = 2
_MIGRATIONS = {
    1: """
    CREATE TABLE paper (
        id TEXT PRIMARY KEY,          -- arXiv id without version
        first_seen TEXT NOT NULL,     -- UTC time it was first listed, ISO 8601
        first_query TEXT NOT NULL,    -- the find query (or command) that first listed it
        listing TEXT NOT NULL         -- JSON: title, authors, abstract, dates, categories
    );
    CREATE TABLE run (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        query TEXT NOT NULL
    );
    CREATE TABLE run_paper (
        run INTEGER NOT NULL REFERENCES run(id),
        position INTEGER NOT NULL,
        paper TEXT NOT NULL REFERENCES paper(id),
        PRIMARY KEY (run, position)
    );
    CREATE TABLE pick (
        paper TEXT NOT NULL,          -- may be absent from `paper`: a hand-written episode.toml
        episode TEXT NOT NULL,        -- the episode folder's name
        at TEXT NOT NULL,
        PRIMARY KEY (paper, episode)
    );
    CREATE TABLE publication (
        paper TEXT NOT NULL,
        episode TEXT NOT NULL,
        at TEXT NOT NULL,             -- the built episode's publication time
        PRIMARY KEY (paper, episode)
    );
    """,
    2: """
    CREATE TABLE delivery (
        episode TEXT NOT NULL,        -- the episode folder's name
        recipient TEXT NOT NULL,      -- the address as sent to, lower-cased
        at TEXT NOT NULL,             -- UTC time the server accepted it, ISO 8601
        message_id TEXT NOT NULL,
        PRIMARY KEY (episode, recipient)
    );
    """,
}
"""Schema version -> the SQL that brings the version before it up to it."""


@dataclass(frozen=True)
class Run:
    """One `podcast find`: when, what it asked, and the papers it listed in order."""

    at: datetime
    query: str
    listings: tuple[Listing, ...]


@dataclass(frozen=True)
class History:
    """One paper's record."""

    first_seen: datetime | None
    """When a `find` (or `new --arxiv`) first listed it; None if never (a hand-written episode)."""
    first_query: str
    """The search query (or command) that first listed it."""
    picked: tuple[str, ...]
    """Episode folders that have it."""
    published: tuple[str, ...]
    """Episode folders built with it."""


IMPORTED = "(imported)"
"""The episode name of a pick from an imported history (no folder has parentheses-only names)."""


@dataclass(frozen=True)
class Imported:
    """One paper of a reading history: the seed workflow's CSV row, as `podcast history` moves it."""

    listing: Listing
    seen: datetime
    """When it was first read (its "Date Added"), timezone-aware."""
    picked: datetime | None
    """When it was kept; None if it was passed over."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """The history file of one show. Use `with Ledger.open(root) as ledger:`."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    @contextlib.contextmanager
    def open(cls, root: Path) -> Iterator[Ledger]:
        path = root / FILE
        try:
            db = sqlite3.connect(path, timeout=10)
        except sqlite3.Error as e:
            raise PodcastError(f"{path}: cannot open the paper history ({e}); check the folder") from None
        try:
            ledger = cls(db, path)
            ledger._migrate()
            yield ledger
        except sqlite3.DatabaseError as e:
            raise ConfigError(
                f"{path}: not a readable papercast history ({e}); move it aside to start a new one"
            ) from None
        finally:
            db.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA:
            raise ConfigError(
                f"{self.path}: written by a newer papercast (history schema {version}, this one knows "
                f"{SCHEMA}); upgrade papercast"
            )
        for v in range(version + 1, SCHEMA + 1):  # each step whole or not at all
            self.db.executescript(f"BEGIN; {_MIGRATIONS[v]}; PRAGMA user_version = {v}; COMMIT;")

    # -- what has been offered -----------------------------------------------------------------

    def seen(self) -> set[str]:
        """Ids of every paper listed by an earlier run (or added by id)."""
        return {row[0] for row in self.db.execute("SELECT id FROM paper")}

    def taken(self) -> set[str]:
        """Ids of papers that are in an episode already (picked, or built and published)."""
        rows = self.db.execute("SELECT paper FROM pick UNION SELECT paper FROM publication")
        return {row[0] for row in rows}

    def record_run(self, query: str, listings: Sequence[Listing]) -> None:
        """Remember a `find`: its papers become seen (first time and query kept) and pickable."""
        at = _now()
        with self.db:
            self._remember(listings, query, at)
            run = self.db.execute("INSERT INTO run (at, query) VALUES (?, ?)", (at, query)).lastrowid
            self.db.executemany(
                "INSERT INTO run_paper (run, position, paper) VALUES (?, ?, ?)",
                [(run, i, listing.base_id) for i, listing in enumerate(listings)],
            )

    def last_run(self) -> Run | None:
        row = self.db.execute("SELECT id, at, query FROM run ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        rows = self.db.execute(
            "SELECT paper.listing FROM run_paper JOIN paper ON paper.id = run_paper.paper "
            "WHERE run_paper.run = ? ORDER BY run_paper.position",
            (row[0],),
        )
        listings = tuple(_from_json(r[0]) for r in rows)
        return Run(datetime.fromisoformat(row[1]), row[2], listings)

    # -- what has been used ---------------------------------------------------------------------

    def mark_picked(self, listings: Sequence[Listing], episode: str, query: str) -> None:
        """Papers now in `episode`; ones never listed before are remembered as seen by `query`."""
        at = _now()
        with self.db:
            self._remember(listings, query, at)
            self.db.executemany(
                "INSERT OR IGNORE INTO pick (paper, episode, at) VALUES (?, ?, ?)",
                [(listing.base_id, episode, at) for listing in listings],
            )

    def mark_published(self, paper_ids: Iterable[ArxivId], episode: str, at: datetime) -> None:
        """Papers of an episode that was built (and so may be published); call after a good build."""
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO publication (paper, episode, at) VALUES (?, ?, ?)",
                [(i.base, episode, at.isoformat()) for i in paper_ids],
            )

    def sync(self, root: Path) -> None:
        """Take in the show's episodes as they are: every arXiv paper in an episode.toml counts as
        picked and every built one as published, however the episode was made (by hand too)."""
        from podcast.episode import catalog

        at = _now()
        picks: list[tuple[str, str, str]] = []
        for toml in sorted((root / "episodes").glob("*/episode.toml")):
            picks += [(pid, toml.parent.name, at) for pid in _arxiv_ids_in(toml)]
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO pick (paper, episode, at) VALUES (?, ?, ?)", picks)
        for manifest in sorted((root / "episodes").glob(f"*/build/{catalog.MANIFEST}")):
            try:
                built = catalog.load(manifest)
            except PodcastError:  # another episode's broken record must not stop this command
                continue
            self.mark_published(paper_ids(built.papers), manifest.parent.parent.name, built.published)

    def history(self, paper_id: str) -> History:
        """What the ledger knows of one paper (any version); InputError if `paper_id` is no arXiv id."""
        pid = ArxivId.parse(paper_id).base
        row = self.db.execute("SELECT first_seen, first_query FROM paper WHERE id = ?", (pid,)).fetchone()
        picks = self.db.execute("SELECT episode FROM pick WHERE paper = ? ORDER BY at", (pid,))
        pubs = self.db.execute("SELECT episode FROM publication WHERE paper = ? ORDER BY at", (pid,))
        return History(
            datetime.fromisoformat(row[0]) if row else None,
            row[1] if row else "",
            tuple(r[0] for r in picks),
            tuple(r[0] for r in pubs),
        )

    # -- what the editor learns from ------------------------------------------------------------

    def decided(self) -> list[tuple[Listing, bool]]:
        """Every paper seen before the last pick, oldest first, and whether it was picked: papers seen
        after it (the current find's) are undecided yet. Papers picked but never seen (a hand-written
        episode.toml) have no title here and are left out."""
        rows = self.db.execute(
            "SELECT listing, EXISTS (SELECT 1 FROM pick WHERE pick.paper = paper.id) FROM paper "
            "WHERE first_seen <= (SELECT max(at) FROM pick) ORDER BY first_seen, id"
        )
        return [(_from_json(listing), bool(picked)) for listing, picked in rows]

    def listings(self, paper_ids: Sequence[str]) -> dict[str, Listing]:
        """The listings of these papers (base ids) that the ledger has, by id."""
        found: dict[str, Listing] = {}
        for pid in dict.fromkeys(paper_ids):
            row = self.db.execute("SELECT listing FROM paper WHERE id = ?", (pid,)).fetchone()
            if row:
                found[pid] = _from_json(row[0])
        return found

    def import_history(self, entries: Sequence[Imported], query: str) -> None:
        """Papers of an imported history, all at once or none: each seen at its date (an earlier
        date than the ledger's wins), a kept one also picked, as episode IMPORTED. A paper the
        ledger already lists keeps its listing (a find's has the abstract)."""
        with self.db:
            self.db.executemany(
                "INSERT INTO paper (id, first_seen, first_query, listing) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)",
                [(e.listing.base_id, e.seen.isoformat(), query, _to_json(e.listing)) for e in entries],
            )
            self.db.executemany(
                "INSERT INTO pick (paper, episode, at) VALUES (?, ?, ?) "
                "ON CONFLICT (paper, episode) DO UPDATE SET at = min(at, excluded.at)",
                [(e.listing.base_id, IMPORTED, e.picked.isoformat()) for e in entries if e.picked],
            )

    def exported(self) -> list[Imported]:
        """Every paper seen, oldest first, with when it was first seen and first picked (if it was)."""
        rows = self.db.execute(
            "SELECT listing, first_seen, (SELECT min(at) FROM pick WHERE pick.paper = paper.id) FROM paper "
            "ORDER BY first_seen, id"
        )
        return [
            Imported(_from_json(listing), datetime.fromisoformat(seen),
                     datetime.fromisoformat(picked) if picked else None)
            for listing, seen, picked in rows
        ]

    def _remember(self, listings: Sequence[Listing], query: str, at: str) -> None:
        self.db.executemany(
            "INSERT INTO paper (id, first_seen, first_query, listing) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET listing = excluded.listing",
            [(listing.base_id, at, query, _to_json(listing)) for listing in listings],
        )


def _arxiv_ids_in(toml: Path) -> list[str]:
    """Base arXiv ids of an episode.toml's papers; a broken file is skipped (its build reports it)."""
    try:
        with open(toml, "rb") as f:
            papers = tomllib.load(f).get("papers", [])
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    ids = []
    for entry in papers if isinstance(papers, list) else []:
        if not isinstance(entry, dict):
            continue
        for text in (entry.get("id"), entry.get("url")):
            found = ArxivId.try_parse(text) if isinstance(text, str) else None
            if found:
                ids.append(found.base)
                break
    return ids


def _to_json(listing: Listing) -> str:
    return json.dumps(
        {
            "id": listing.id,
            "title": listing.title,
            "authors": listing.authors,
            "abstract": listing.abstract,
            "submitted": listing.submitted.isoformat(),
            "updated": listing.updated.isoformat(),
            "categories": listing.categories,
            "version": listing.version,
        },
        ensure_ascii=False,
    )


def _from_json(text: str) -> Listing:
    d = json.loads(text)
    return Listing(
        id=d["id"],
        title=d["title"],
        authors=tuple(d["authors"]),
        abstract=d["abstract"],
        submitted=datetime.fromisoformat(d["submitted"]),
        updated=datetime.fromisoformat(d["updated"]),
        categories=tuple(d["categories"]),
        version=d["version"],
    )


def paper_ids(papers: Iterable[Paper]) -> list[ArxivId]:
    """The arXiv ids among papers (for `mark_published` after a build)."""
    return [aid for aid in map(arxiv_id_of, papers) if aid is not None]
