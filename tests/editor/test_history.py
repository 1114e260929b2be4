"""`podcast history import|export`: the seed workflow's CSV files into the ledger and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.arxiv import FakeArxiv
from support.editor import HEADER, SHARED, csv_file, fails, make_show, podcast

from podcast.research.ledger import FILE, IMPORTED, Ledger


@pytest.fixture
def show(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A `podcast init` show finding on the fake arXiv, the current folder."""
    return make_show(tmp_path_factory, tmp_path, fake_arxiv, monkeypatch)


DOWNLOADED = [
    "Attention Is All You Need,https://arxiv.org/abs/1706.03762v7,2017-06-12,2024-06-19",
    "Old Strings,https://arxiv.org/abs/hep-th/9711200v3,1997-11-27,2024-06-19",
    '"Commas, and ""quotes""",https://arxiv.org/pdf/2405.04517v2.pdf,2024-05-07,2024-06-20',
    "A Blog Post,https://transformer-circuits.pub/2024/crosscoders/index.html,2024-10-01,2024-10-02",
    "Attention Is All You Need,https://arxiv.org/abs/1706.03762,2017-06-12,2024-06-18",  # read again, earlier
    "Bare Id,2405.04434,2024-05-07,2024-06-21",
]
KEPT = [
    "Attention Is All You Need,https://arxiv.org/abs/1706.03762,2017-06-12,2024-06-19",
    "Only Kept,https://arxiv.org/abs/2405.05254,2024-05-08,2024-06-22",  # not in DOWNLOADED: seen and picked
]


def ledger_rows(show: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    with Ledger.open(show) as ledger:
        papers = ledger.db.execute("SELECT id, substr(first_seen, 1, 10) FROM paper ORDER BY id").fetchall()
        picks = ledger.db.execute("SELECT paper, episode, substr(at, 1, 10) FROM pick ORDER BY paper").fetchall()
    return papers, picks


def test_import_takes_every_row_once_and_skips_other_sites(
    show: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = podcast(capsys, "history", "import", csv_file(tmp_path / "d.csv", DOWNLOADED),
                           "--kept", csv_file(tmp_path / "k.csv", KEPT))
    assert code == 0
    assert "imported 5 papers (2 kept) from 8 rows" in out
    assert "1 row link to no arXiv paper and were skipped: https://transformer-circuits.pub" in out
    assert "(line 5)" in out, "the skipped row is named by its line (the header is line 1)"
    papers, picks = ledger_rows(show)
    assert papers == [("1706.03762", "2024-06-18"), ("2405.04434", "2024-06-21"), ("2405.04517", "2024-06-20"),
                      ("2405.05254", "2024-06-22"), ("hep-th/9711200", "2024-06-19")]
    assert [(p, e) for p, e, _ in picks if e == IMPORTED] == [("1706.03762", IMPORTED), ("2405.05254", IMPORTED)]
    # Importing again changes nothing: rows are papers, not events.
    assert podcast(capsys, "history", "import", tmp_path / "d.csv", "--kept", tmp_path / "k.csv")[0] == 0
    assert ledger_rows(show) == (papers, picks)


def test_export_then_import_gives_the_same_history(
    show: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    downloaded, kept = SHARED / "papers_downloaded.csv", SHARED / "papers_kept.csv"
    assert podcast(capsys, "history", "import", downloaded, "--kept", kept)[0] == 0
    before = ledger_rows(show)
    code, out, _ = podcast(capsys, "history", "export", tmp_path / "seen.csv")
    assert code == 0 and "wrote 1076 papers seen" in out
    assert podcast(capsys, "history", "export", "--kept", tmp_path / "kept.csv")[1].startswith("wrote 251 papers picked")
    lines = (tmp_path / "seen.csv").read_text("utf-8").splitlines()
    assert lines[0] + "\n" == HEADER and len(lines) == 1077
    assert "Adam-mini - Use Fewer Learning Rates To Gain More,https://arxiv.org/abs/2406.16793,2024-06-24,2024-06-25" in lines

    other = tmp_path / "other"
    other.mkdir()
    (other / "podcast.toml").write_bytes((show / "podcast.toml").read_bytes())
    (show / FILE).unlink()  # the same show, its history lost: import it back from the export
    assert podcast(capsys, "history", "import", tmp_path / "seen.csv", "--kept", tmp_path / "kept.csv")[0] == 0
    after = ledger_rows(show)
    assert after[0] == before[0]
    assert [p for p in after[1] if p[1] == IMPORTED] == [p for p in before[1] if p[1] == IMPORTED]
    assert podcast(capsys, "history", "export", tmp_path / "again.csv")[0] == 0
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "seen.csv").read_bytes()


def test_hostile_titles_are_one_clean_line(show: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ['"<script>alert(1)</script>\x1b[31m Red\u202e\nSecond line",https://arxiv.org/abs/2405.04517,'
            '2024-05-07,2024-06-20']
    assert podcast(capsys, "history", "import", csv_file(tmp_path / "d.csv", rows))[0] == 0
    assert podcast(capsys, "history", "export", tmp_path / "out.csv")[0] == 0
    row = (tmp_path / "out.csv").read_text("utf-8").splitlines()[1]
    assert row.startswith("<script>alert(1)</script>[31m Red Second line,"), row


BAD_ROWS = "Fine,https://arxiv.org/abs/2405.04517,2024-05-07,2024-06-20"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty; expected a CSV file with the header Title,ArXiv Link,Paper Date,Date Added"),
        (HEADER.encode(), "no rows under the header"),
        (b"Title,Link,Paper Date,Date Added\n" + BAD_ROWS.encode() + b"\n", "no column 'ArXiv Link' in the header"),
        ((HEADER + BAD_ROWS + "\nCaf\xe9,2405.04434,2024-05-07,2024-06-20\n").encode("latin-1"),
         "line 3: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
        ((HEADER + BAD_ROWS).encode("utf-16"), "UTF-16 text; save it as UTF-8"),
        ((HEADER + BAD_ROWS + "\nBad,https://arxiv.org/abs/2405.4517,2024-05-07,2024-06-20\n").encode(),
         "line 3: 'https://arxiv.org/abs/2405.4517' is not an arXiv link or id"),
        ((HEADER + BAD_ROWS + "\nBad,2405.04434,May 7,2024-06-20\n").encode(),
         "line 3: Paper Date 'May 7' is not a date like 2024-05-06"),
        ((HEADER + ",2405.04434,2024-05-07,2024-06-20\n").encode(), "line 2: no title"),
    ],
)
def test_a_bad_file_imports_nothing(
    show: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    good = csv_file(tmp_path / "good.csv", [BAD_ROWS])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert message in fails(capsys, "history", "import", bad)
    assert message in fails(capsys, "history", "import", good, "--kept", bad), "a bad kept file: nothing either"
    assert ledger_rows(show) == ([], [])


def test_a_utf8_file_with_a_byte_order_mark_reads(
    show: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bom.csv").write_bytes(("\ufeff" + HEADER + BAD_ROWS + "\n").encode())
    assert podcast(capsys, "history", "import", tmp_path / "bom.csv")[0] == 0
    assert ledger_rows(show)[0] == [("2405.04517", "2024-06-20")]
