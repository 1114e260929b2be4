"""Which copies of an episode the server has accepted, in the show's ledger (its `delivery` table).

A copy is recorded, and committed, right after the server accepts it, so a run that stops for any
reason (a dropped connection, a kill, a full disk) is resumed by running it again: the addresses
recorded are skipped. Addresses are compared lower-cased, as the list's duplicates are.
"""

from __future__ import annotations

from datetime import UTC, datetime

from podcast.research.ledger import Ledger


class Deliveries:
    """The deliveries of one episode (its folder name) in an open ledger."""

    def __init__(self, ledger: Ledger, episode: str) -> None:
        self.db = ledger.db
        self.episode = episode

    def sent(self) -> set[str]:
        """Lower-cased addresses this episode was delivered to."""
        rows = self.db.execute("SELECT recipient FROM delivery WHERE episode = ?", (self.episode,))
        return {row[0] for row in rows}

    def record(self, recipient: str, message_id: str, at: datetime | None = None) -> None:
        """One accepted copy, committed before this returns."""
        when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO delivery (episode, recipient, at, message_id) VALUES (?, ?, ?, ?)",
                (self.episode, recipient.lower(), when, message_id),
            )
