"""Numbers written for the eye, read aloud: amounts with magnitudes or currencies, multipliers, ranges,
fractions, ISO dates, versions and rates. One step of podcast.writing.speech."""

from __future__ import annotations

import re

# fmt: off
CURRENCIES: dict[str, tuple[str, str]] = {
    "$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"),
}

MAGNITUDES: dict[str, str] = {
    "k": "thousand", "K": "thousand", "M": "million", "B": "billion", "bn": "billion", "T": "trillion",
}
"""Suffixes glued to a number: "7B" -> "7 billion", "128k" -> "128 thousand"."""

LABELS = frozenset({"Figure", "Fig", "Table", "Section", "Equation", "Eq", "Appendix", "Algorithm"})
"""A number after these is a label ("Figure 4B"), not an amount."""

FRACTIONS: dict[str, str] = {
    "1/2": "one half", "1/3": "one third", "2/3": "two thirds", "1/4": "one quarter", "3/4": "three quarters",
}

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# fmt: on

_NUMBER_SIGN = re.compile(r"(?<!\w)(?:(?:No|no|Nr)\.\s?|#\s?)(?=\d)")
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CURRENCY = re.compile(
    rf"([$€£])\s?({_NUM})(?:\s?(bn|[kKMBT]|thousand|million|billion|trillion))?(?!\w|\.\d)"
)
_TIMES = re.compile(rf"(?<![\w.])({_NUM})[x×](?![\w])")
_BY = re.compile(r"(?<![\w.])(?!0x)(\d+)[x×](?=\d+(?!\w))")
_MAGNITUDE = re.compile(rf"(?<![\w.])({_NUM})(bn|[kKMBT])(?![\w])")
_ISO_DATE = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?![\w-])")
_RANGE = re.compile(rf"(?<![\w.\-])({_NUM})(?:[-–]|\s[-–]\s|–\s?)(?={_NUM}(?![\w\-]|\.\d))")
"""10-20, 10 - 20, 10–20; not "2 -3", a number and a negative one."""
_FRACTION = re.compile(r"(?<![\w/.])(\d+)/(\d+)(?![\w/]|\.\d)")
_VERSION = re.compile(r"(?<![\w.])v(\d+(?:\.\d+)*)\b")
_PER_SECOND = re.compile(r"(?<=[A-Za-z])/s(?:ec)?\b")
_NAME_HYPHEN = re.compile(r"(?<=\w)-(?=\d)|(?<=\d)-(?=\w)")
"""The hyphens of "Llama-2-7B" and "GPT-3.5-turbo", which espeak reads as "dash"."""


def _currency(match: re.Match[str]) -> str:
    symbol, amount, magnitude = match.groups()
    one, many = CURRENCIES[symbol]
    if magnitude:
        return f"{amount} {MAGNITUDES.get(magnitude, magnitude)} {many}"
    return f"{amount} {one if amount == '1' else many}"


def _magnitude(match: re.Match[str]) -> str:
    before = match.string[: match.start()].split()
    if before and before[-1].strip("(.") in LABELS:
        return match.group(0)
    return f"{match.group(1)} {MAGNITUDES[match.group(2)]}"


def _iso_date(match: re.Match[str]) -> str:
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return f"{MONTHS[month - 1]} {day}, {year}"


def read_numbers(text: str) -> str:
    """Numbers written for the eye -> numbers a voice reads well ("3.5x" -> "3.5 times").

    Plain digits and decimals stay: both voices read them.

    >>> read_numbers("7B and 1.5B models, 128k tokens, 3.5x faster, 10x cheaper, a 4x4 grid")
    '7 billion and 1.5 billion models, 128 thousand tokens, 3.5 times faster, 10 times cheaper, a 4 by 4 grid'
    >>> read_numbers("$5M for v2 on 2024-05-01, 10-20% of 3/4")
    '5 million dollars for version 2 on May 1, 2024, 10 to 20% of three quarters'
    >>> read_numbers("40 tokens/s, Figure 4B, 0x1F, Llama-2-7B")
    '40 tokens per second, Figure 4B, 0x1F, Llama 2 7 billion'
    """
    text = _NUMBER_SIGN.sub("number ", text)
    text = _ISO_DATE.sub(_iso_date, text)
    text = _BY.sub(r"\1 by ", text)
    text = _TIMES.sub(r"\1 times", text)
    text = _RANGE.sub(r"\1 to ", text)
    text = _CURRENCY.sub(_currency, text)
    text = _MAGNITUDE.sub(_magnitude, text)
    text = _FRACTION.sub(lambda m: FRACTIONS.get(m.group(0), f"{m.group(1)} over {m.group(2)}"), text)
    text = _VERSION.sub(r"version \1", text)
    text = _NAME_HYPHEN.sub(" ", text)
    return _PER_SECOND.sub(" per second", text)
