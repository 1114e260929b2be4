"""`podcast history import|export` and `podcast rank`: the CLI's handlers for the editor."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from podcast.config import ShowConfig
from podcast.errors import InputError
from podcast.research.arxiv import Listing
from podcast.research.ledger import Ledger

QUERY = "podcast history import"
"""The query an imported paper is recorded as first seen by."""


def _show() -> ShowConfig:
    from podcast.config import find_root, load_show

    return load_show(find_root(Path.cwd()))


def history(args: argparse.Namespace) -> None:
    """`podcast history import|export`."""
    {"import": history_import, "export": history_export}[args.action](args)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def history_import(args: argparse.Namespace) -> None:
    from podcast.editor import history

    cfg = _show()
    downloaded = history.read_rows(args.downloaded)
    kept = history.read_rows(args.kept) if args.kept else []
    plan = history.plan_import(downloaded, kept)
    if not plan.entries:
        raise InputError(f"{args.downloaded}: no row links to an arXiv paper; nothing was imported")
    with Ledger.open(cfg.root) as ledger:
        ledger.import_history(plan.entries, QUERY)
    picked = sum(1 for e in plan.entries if e.picked)
    rows = len(downloaded) + len(kept)
    print(f"imported {_plural(len(plan.entries), 'paper')} ({picked} kept) from {_plural(rows, 'row')}")
    if plan.skipped:
        where = ", ".join(f"{r.link[:60]} (line {r.line})" for r in plan.skipped[:3])
        more = f" and {len(plan.skipped) - 3} more" if len(plan.skipped) > 3 else ""
        skipped = _plural(len(plan.skipped), "row")
        print(f"note: {skipped} link to no arXiv paper and were skipped: {where}{more}")


def history_export(args: argparse.Namespace) -> None:
    from podcast.editor import history

    cfg = _show()
    with Ledger.open(cfg.root) as ledger:
        ledger.sync(cfg.root)
        entries = ledger.exported()
    n = history.write_csv(args.file, entries, kept=args.kept)
    print(f"wrote {_plural(n, 'paper')} {'picked' if args.kept else 'seen'} to {args.file}")


def rank(args: argparse.Namespace) -> None:
    from podcast.editor.rank import rank_listings

    cfg = _show()
    listings, shown = _candidates(cfg, args.file, args.arxiv or ())
    ranking = rank_listings(cfg, listings)
    if args.json:
        out = [
            {"id": shown[id(s.listing)], "title": s.listing.title, "score": round(s.score, 4), "why": s.why}
            for s in ranking.scored
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        print(f"note: {ranking.note}", file=sys.stderr)
        return
    for i, s in enumerate(ranking.scored, 1):
        print(f"{i:3d}. {s.score:.2f}  {shown[id(s.listing)]:<11} {s.listing.title}\n{'':12}{s.why}")
    print(ranking.note)


def _candidates(
    cfg: ShowConfig, file: Path | None, ids: Sequence[str]
) -> tuple[list[Listing], dict[int, str]]:
    """The papers to rank, and how each was named (the file's link, or the id given)."""
    from podcast.editor import history
    from podcast.research.arxiv_id import ArxivId

    listings: list[Listing] = []
    shown: dict[int, str] = {}
    if file is None and not ids:
        raise InputError("nothing to rank; give a CSV file (Title,ArXiv Link,Paper Date,Date Added) "
                         "or --arxiv IDS")
    for row in history.read_rows(file) if file else []:
        listing = row.listing()
        listings.append(listing)
        shown[id(listing)] = row.link
    if ids:
        wanted = [(text, ArxivId.parse(text).base) for text in ids]
        with Ledger.open(cfg.root) as ledger:
            known = ledger.listings([base for _, base in wanted])
        unknown = [text for text, base in wanted if base not in known]
        if unknown:
            raise InputError(f"not in the show's history: {', '.join(unknown[:5])}"
                             f"{' ...' if len(unknown) > 5 else ''}; list them with 'podcast find' or "
                             "'podcast history import', or rank a CSV file of them")
        for text, base in wanted:
            listing = known[base]
            listings.append(listing)
            shown[id(listing)] = text
    return listings, shown
