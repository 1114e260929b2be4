"""The show's pronunciation lexicon: words the voices say wrong, and what to send them instead.

voices/lexicon.toml maps a written word (under [terms]) or a regular expression (under [patterns])
to how it should be said. A value is a respelling for every engine, or a table with a `default`
and per-engine overrides, which may carry the engine's own phonemes (piper: espeak-ng phonemes in
`[[ ]]`; hibari: misaki phonemes as `[word](/phonemes/)`):

    [terms]
    "arXiv" = "archive"
    "Xu" = { default = "shoo", ignore_case = true }

    [terms."SwiGLU"]
    default = "swee glue"
    piper = "[[swˈiːɡluː]]"

    [patterns]
    'GPT-(\\d)o' = 'G P T \\1 oh'

Matching is whole-word (never inside another word) and exact in case unless the entry says
`ignore_case = true`; an all-lowercase term also matches with a capital first letter, as at the
start of a sentence. The lexicon rewrites each sentence after speech normalization, so a term is
also found in its normalized form ("GPT-4o" is read as "GPT 4o"); patterns see normalized text.
At each place the longest match wins, and a respelling is never rewritten again.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podcast.errors import ConfigError

__all__ = ["DEFAULT", "Entry", "Lexicon", "load_lexicon", "parse_lexicon"]

DEFAULT = "default"
"""The key of a pronunciation every engine without its own override receives."""

SECTIONS = ("terms", "patterns")

PHONEME_SYNTAX: dict[str, re.Pattern[str]] = {
    "piper": re.compile(r"\[\[.*?\]\]"),
    "hibari": re.compile(r"\[[^\]]+\]\(/[^)]*/\)"),
}
"""Inline phonemes each engine understands; any other engine would read the brackets aloud."""

_WORD_BEFORE = r"(?<!\w)"
_WORD_AFTER = r"(?!\w)"


@dataclass(frozen=True)
class Entry:
    """One line of the lexicon: a term or a pattern, and what each engine should receive."""

    key: str
    """The word as written (or, for a pattern, the regular expression)."""
    say: tuple[tuple[str, str], ...]
    """(engine or DEFAULT, text to send) pairs."""
    pattern: bool = False
    ignore_case: bool = False
    line: int = 0
    """Where the entry starts in voices/lexicon.toml, for messages."""

    def text_for(self, engine: str) -> str | None:
        """What `engine` should receive instead of the match; None leaves the match as written.

        >>> Entry("SwiGLU", (("default", "swee glue"), ("piper", "[[swˈiːɡluː]]"))).text_for("hibari")
        'swee glue'
        """
        table = dict(self.say)
        return table.get(engine, table.get(DEFAULT))


@dataclass(frozen=True)
class _Rules:
    """A lexicon compiled for one engine: what to send for each written form, and the patterns."""

    terms: re.Pattern[str] | None
    exact: dict[str, str]
    folded: dict[str, str]
    """Case-insensitive entries, by casefolded form."""
    patterns: tuple[tuple[re.Pattern[str], str], ...]


@dataclass(frozen=True)
class Lexicon:
    """The pronunciation entries of a show, applied one sentence at a time."""

    entries: tuple[Entry, ...] = ()
    source: str = ""
    """The file the entries came from (empty for a lexicon built in code)."""
    _compiled: dict[str, _Rules] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.entries)

    def apply(self, text: str, engine: str) -> str:
        """`text` as `engine` should receive it: every entry's match replaced, in one pass.

        >>> lex = Lexicon((Entry("arXiv", (("default", "archive"),)),))
        >>> lex.apply("Posted on arXiv, not arXiver.", "piper")
        'Posted on archive, not arXiver.'
        """
        if not self.entries:
            return text
        if engine not in self._compiled:
            self._compiled[engine] = _compile(self.entries, engine)
        found = sorted(_matches(text, self._compiled[engine]), key=lambda m: (m[0], -m[1]))
        out, pos = [], 0
        for start, end, say in found:
            if start >= pos:  # leftmost, then longest; a replacement never overlaps another
                out += [text[pos:start], say]
                pos = end
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


def _matches(text: str, rules: _Rules) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) of every match; a term comes before a pattern on the same span."""
    if rules.terms is not None:
        for m in rules.terms.finditer(text):
            word = m.group()
            yield m.start(), m.end(), rules.exact.get(word) or rules.folded[word.casefold()]
    for regex, template in rules.patterns:
        for m in regex.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end(), m.expand(template)


def _compile(entries: tuple[Entry, ...], engine: str) -> _Rules:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    ignore_case: dict[str, bool] = {}
    patterns = []
    for entry in entries:
        say = entry.text_for(engine)
        if say is None:
            continue
        if entry.pattern:
            patterns.append((_pattern_regex(entry), say))
            continue
        for form in written_forms(entry.key):
            if entry.ignore_case:
                folded.setdefault(form.casefold(), say)
            else:
                exact.setdefault(form, say)
            ignore_case[form] = ignore_case.get(form, False) or entry.ignore_case
    terms = None
    if ignore_case:
        # Longest first, so that "GPT 4o" wins over "GPT" where both start.
        forms = sorted(ignore_case, key=lambda s: (-len(s), s))
        body = "|".join(f"(?i:{re.escape(f)})" if ignore_case[f] else re.escape(f) for f in forms)
        terms = re.compile(f"{_WORD_BEFORE}(?:{body}){_WORD_AFTER}")
    return _Rules(terms, exact, folded, tuple(patterns))


def _pattern_regex(entry: Entry) -> re.Pattern[str]:
    flags = re.IGNORECASE if entry.ignore_case else 0
    return re.compile(f"{_WORD_BEFORE}(?:{entry.key}){_WORD_AFTER}", flags)


def written_forms(term: str) -> list[str]:
    """The forms a term takes in a normalized sentence: as written, as speech normalization
    rewrites it, and capitalized at a sentence start when it is an all-lowercase word.

    >>> written_forms("GPT-4o")
    ['GPT-4o', 'GPT 4o']
    >>> written_forms("logit")
    ['logit', 'Logit']
    """
    from podcast.writing.speech import speakable

    forms = [term]
    # Normalized inside a carrier sentence: alone, a term would be capitalized and given a period.
    said = speakable(f"Say {term} now.")
    if said.startswith("Say ") and said.endswith(" now."):
        forms.append(said[4:-5])
    if re.fullmatch(r"[a-z]+", term):
        forms.append(term.capitalize())
    return list(dict.fromkeys(f for f in forms if f.strip()))


# -- reading voices/lexicon.toml ---------------------------------------------------------------------


def load_lexicon(path: Path) -> Lexicon:
    """The lexicon in `path`; an empty one when the show has no such file."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return Lexicon(source=str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it ({e})") from None
    return parse_lexicon(text, str(path))


def parse_lexicon(text: str, source: str = "lexicon.toml") -> Lexicon:
    """Read lexicon TOML strictly; every error names `source` and the line of the entry.

    >>> parse_lexicon('[terms]\\n"LoRA" = "lora"\\n').apply("We use LoRA.", "hibari")
    'We use lora.'
    >>> parse_lexicon('[terms]\\n"LoRA" = ""\\n', "lexicon.toml")
    Traceback (most recent call last):
    ...
    podcast.errors.ConfigError: lexicon.toml:2: "LoRA" has an empty pronunciation; say how to read it
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML ({e}); fix the syntax") from None
    lines = _key_lines(text)
    entries: list[Entry] = []
    for section, table in data.items():
        where = f"{source}:{lines.get((section,), 1)}"
        if section not in SECTIONS:
            raise ConfigError(f"{where}: unknown table [{section}]; allowed: {', '.join(SECTIONS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {section} must be a table, like [{section}]")
        for key, value in table.items():
            entries.append(_entry(section, key, value, lines, source))
    return Lexicon(tuple(entries), source)


def _entry(section: str, key: str, value: Any, lines: dict[tuple[str, ...], int], source: str) -> Entry:
    from podcast.tts import engine_names

    line = lines.get((section, key), lines.get((section,), 1))
    shown = repr(key) if section == "patterns" else f'"{key}"'
    where = f"{source}:{line}: {shown}"
    if not key.strip():
        raise ConfigError(f"{source}:{line}: an empty key in [{section}]; give the word to respell")
    if isinstance(value, str):
        value = {DEFAULT: value}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a respelling string or a table, not {type(value).__name__}")
    value = dict(value)
    ignore_case = value.pop("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise ConfigError(f"{where}: ignore_case must be true or false")
    allowed = [DEFAULT, *engine_names()]
    for name, say in value.items():
        at = f"{source}:{lines.get((section, key, name), line)}: {shown}"
        if name not in allowed:
            raise ConfigError(f"{at}: unknown key '{name}'; allowed: {', '.join(allowed)}, ignore_case")
        if not isinstance(say, str):
            raise ConfigError(f"{at}: {name} must be a string, not {type(say).__name__}")
        if not say.strip():
            raise ConfigError(f"{at} has an empty pronunciation; say how to read it")
        _check_phonemes(name, say, at)
    if not value:
        raise ConfigError(f'{where} gives no pronunciation; add default = "..." or an engine\'s')
    entry = Entry(key, tuple(value.items()), section == "patterns", ignore_case, line)
    if entry.pattern:
        _check_pattern(entry, where)
    return entry


def _check_phonemes(name: str, say: str, where: str) -> None:
    for engine, syntax in PHONEME_SYNTAX.items():
        if engine != name and syntax.search(say):
            raise ConfigError(
                f"{where}: {name} = {say!r} is in {engine}'s phoneme syntax, which only {engine} reads; "
                f"put it under {engine} = ... and give the others a respelling"
            )


def _check_pattern(entry: Entry, where: str) -> None:
    try:
        regex = _pattern_regex(entry)
        for _, template in entry.say:
            regex.sub(template, "")  # compiles the template, so a bad group reference fails now
    except re.error as e:
        raise ConfigError(f"{where} is not a valid regular expression and replacement ({e})") from None
    if regex.fullmatch("") is not None or re.fullmatch(entry.key, "") is not None:
        raise ConfigError(f"{where} matches empty text; make it match at least one character")


_KEY = r""""(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+"""
_HEADER = re.compile(rf"^\s*\[\s*({_KEY})\s*(?:\.\s*({_KEY})\s*)?\]")
_ASSIGN = re.compile(rf"^\s*({_KEY})\s*=")


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of each table and key, by path: ("terms",), ("terms", "LoRA"), ("terms", "SwiGLU", "piper").

    tomllib gives no positions, so the text is scanned for the headers and assignments it parsed.
    """
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        if m := _HEADER.match(line):
            table = tuple(_unquote(k) for k in m.groups() if k is not None)
            found.setdefault(table, number)
            found.setdefault(table[:1], number)
        elif m := _ASSIGN.match(line):
            found.setdefault((*table, _unquote(m.group(1))), number)
    return found


def _unquote(key: str) -> str:
    """A TOML key as tomllib reads it (quotes and escapes resolved)."""
    try:
        return next(iter(tomllib.loads(f"{key} = 0")))
    except tomllib.TOMLDecodeError:
        return key
