"""SUBSCRIBERS.csv as exported by spreadsheets and newsletter services: a BOM, CRLF line ends, quoted
names with commas and line breaks, extra columns; and lists that cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.errors import InputError
from podcast.mail.message import Recipient
from podcast.mail.subscribers import read_subscribers


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    return path


def test_an_exported_list(tmp_path: Path) -> None:
    data = ('\ufeffEmail,Name,Created\r\n ada@example.org ,"Lovelace, Ada",2024\r\n'
            '"grace@example.org","Grace\r\nHopper",2024\r\nx@y,Nobody,2024\r\nGRACE@example.org,,\r\n')
    subs = read_subscribers(write(tmp_path, data.encode("utf-8")))
    assert subs.recipients == (Recipient("ada@example.org", "Lovelace, Ada"),
                               Recipient("grace@example.org", "Grace Hopper"))
    assert subs.skipped == (f"{tmp_path / 'list.csv'} line 5: 'x@y' is not an email address; not sent",)
    assert subs.repeated == 1


@pytest.mark.parametrize(("data", "problem"), [
    (b"email\nada@example.org\n\xff\xfe\n", "not UTF-8"),
    (b"mail,name\nada@example.org,Ada\n", "one of them 'email'"),
    (b"email\n", "no subscribers"),
    (b"email\n" + b"a" * 200_000 + b"\n", "not CSV"),  # a field over the csv module's limit
])
def test_lists_that_cannot_be_read(tmp_path: Path, data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        read_subscribers(write(tmp_path, data))
