"""arXiv identifiers: the one parser for every id or link papercast reads (episode.toml, newsletters,
`podcast new --arxiv`, the ledger, arXiv's own answers).

Two schemes exist (https://info.arxiv.org/help/arxiv_identifier.html):
  - from April 2007, YYMM.NNNN, with five digits (YYMM.NNNNN) from January 2015: 0704.0001, 2405.04517;
  - before that, archive[.SUBJECT]/YYMMNNN, from August 1991 to March 2007: hep-th/9711200, math.GT/0309136.
Either may carry a version (v1, v2 ...). Links are arxiv.org (or www., export.) abs, pdf or html pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podcast.errors import InputError

if TYPE_CHECKING:
    from podcast.models import Paper

# [0-9], not \d: \d also matches other scripts' digits, which no arXiv id has.
_NEW = re.compile(r"(?P<yymm>[0-9]{4})\.(?P<number>[0-9]{4,5})")
_OLD = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/(?P<yymm>[0-9]{4})(?P<number>[0-9]{3})")
_VERSIONED = re.compile(r"(?P<base>.+?)(?:v(?P<version>[1-9][0-9]*))?")
_LINK = re.compile(
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<id>[^?#\s]+?)(?:\.pdf)?/?(?:[?#]\S*)?",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"\Aarxiv:\s*", re.IGNORECASE)
_OLD_SCHEME = (1991, 8)
_NEW_SCHEME = (2007, 4)
"""(year, month) the YYMM.NNNN scheme starts: the month after the last archive/YYMMNNN id."""
_FIVE_DIGITS = (2015, 1)


@dataclass(frozen=True, order=True)
class ArxivId:
    """A well-formed arXiv id; constructing one that is not raises InputError.

    >>> ArxivId.parse("https://arxiv.org/pdf/2405.04517v2.pdf")
    ArxivId(base='2405.04517', version=2)
    >>> str(ArxivId.parse("arXiv:hep-th/9711200")), ArxivId.parse("hep-th/9711200").abs_url
    ('hep-th/9711200', 'https://arxiv.org/abs/hep-th/9711200')
    """

    base: str
    """The id without version ("2405.04517", "hep-th/9711200"): the paper's key, whatever its version."""
    version: int = 0
    """The version given (2 for "2405.04517v2"); 0 when none was, which means the latest."""

    def __post_init__(self) -> None:
        if self.version < 0 or not _valid_base(self.base):
            raise InputError(f"{self.base!r} (version {self.version}) is not an arXiv id")

    def __str__(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def abs_url(self) -> str:
        """The paper's abstract page, at the version given."""
        return f"https://arxiv.org/abs/{self}"

    @classmethod
    def parse(cls, text: str) -> ArxivId:
        """The id in an id ("2405.04517v2", "arXiv:hep-th/9711200") or an abs/pdf/html link.

        >>> forms = ("0704.0001", "math.GT/0309136v1", "http://export.arxiv.org/abs/2405.04517")
        >>> [str(ArxivId.parse(t)) for t in forms]
        ['0704.0001', 'math.GT/0309136v1', '2405.04517']
        >>> ArxivId.parse("2405.4517")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        podcast.errors.InputError: '2405.4517' is not an arXiv id or link; give an id like 2405.04517 or ...
        """
        found = cls.try_parse(text)
        if found is None:
            raise InputError(
                f"{text.strip()!r} is not an arXiv id or link; give an id like 2405.04517 or hep-th/9711200, "
                "or an arxiv.org/abs/ URL"
            )
        return found

    @classmethod
    def try_parse(cls, text: str) -> ArxivId | None:
        """Like `parse`, with None for text that is no arXiv id or link.

        >>> ArxivId.try_parse("https://example.com/abs/2405.04517"), ArxivId.try_parse("1412.12345")
        (None, None)
        """
        candidate = _PREFIX.sub("", text.strip())
        link = _LINK.fullmatch(candidate)
        if link:
            candidate = link.group("id")
        m = _VERSIONED.fullmatch(candidate)
        if not (m and _valid_base(m.group("base"))):
            return None
        return cls(m.group("base"), int(m.group("version") or 0))


def _valid_base(text: str) -> bool:
    """A real id's shape and date: see the module docstring.

    >>> [_valid_base(t) for t in ("2405.04517", "1412.1234", "0703.0001", "hep-th/9711200", "hep-th/0704001")]
    [True, True, False, True, False]
    """
    new, old = _NEW.fullmatch(text), _OLD.fullmatch(text)
    m = new or old
    if m is None or int(m.group("number")) == 0:
        return False
    yy, month = divmod(int(m.group("yymm")), 100)
    if not 1 <= month <= 12:
        return False
    when = (2000 + yy if new or yy < 91 else 1900 + yy, month)
    if new:
        return when >= _NEW_SCHEME and len(new.group("number")) == (5 if when >= _FIVE_DIGITS else 4)
    return _OLD_SCHEME <= when < _NEW_SCHEME


def arxiv_id_of(paper: Paper) -> ArxivId | None:
    """The paper's arXiv id (from its id, else its link), or None when it is not an arXiv paper."""
    for text in (paper.id, paper.url):
        found = ArxivId.try_parse(text) if text else None
        if found:
            return found
    return None
