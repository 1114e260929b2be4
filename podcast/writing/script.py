"""The narration: written from the summaries, saved as script.md for a human to edit, read back.

script.md is plain Markdown a person can edit without a manual:

    # Episode title
    ## Intro
    host: Welcome to ...
    ## Paper: xLSTM: Extended Long Short-Term Memory
    <https://arxiv.org/abs/2405.04517>
    host: First up ...
    cohost: The authors ...
    ## Outro
    host: That's all ...

Each `## ` heading starts a chapter; each `speaker: ` line (a voice profile id) starts an
utterance, and following lines without a speaker continue it.

Only the script's structure makes lines: every title, link and text the writer puts in is one line
(podcast.text.one_line), so a title or a summary holding a newline, "## " or "host:" stays inside
its own line. The reader makes the file's text safe (podcast.text.clean) before splitting it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from podcast.errors import ConfigError
from podcast.models import Line, Script, Section, Summary, VoiceProfile
from podcast.text import clean, one_line
from podcast.writing.budget import Budget, BudgetPaper, sentence_count, shorten

WRITER = 2
"""The script writer's version: part of script.md's inputs, so a script.md this papercast did not
write (and no one edited) is written again when the writer changes (2: an episode's own closing
replaces the built-in goodbye instead of following it). A script.md a person edited stays."""
HEADER = "<!-- papercast script: edit freely. '## ' starts a chapter; 'speaker: text' lines are spoken. -->"
_OPENERS = ("First up", "Next", "Moving on", "Our next paper", "Then", "Up next", "After that")
_LINK = re.compile(r"<((?i:https?)://\S+)>")
"""A section's link line, right under its heading."""


def week_phrase(day: date) -> str:
    """How the host names the week.

    >>> week_phrase(date(2024, 5, 10))
    'the week of May 6, 2024'
    """
    monday = day - timedelta(days=day.weekday())
    return f"the week of {monday.strftime('%B')} {monday.day}, {monday.year}"


def by_line(authors: Sequence[str]) -> str:
    """
    >>> by_line(["Ada Lovelace"]), by_line(["A", "B"]), by_line(["A", "B", "C"])
    ('by Ada Lovelace', 'by A and B', 'by A and colleagues')
    """
    if not authors:
        return ""
    if len(authors) == 1:
        return f"by {authors[0]}"
    if len(authors) == 2:
        return f"by {authors[0]} and {authors[1]}"
    return f"by {authors[0]} and colleagues"


def paragraphs(text: str) -> list[str]:
    """Markdown text -> its paragraphs as single lines."""
    return [p for p in map(one_line, re.split(r"\n\s*\n", clean(text).strip())) if p]


def write_script(
    *,
    show_title: str,
    day: date,
    intro: str,
    outro: str,
    summaries: Sequence[Summary],
    host: VoiceProfile,
    reader: VoiceProfile,
    exchange: Callable[[Summary], Sequence[tuple[str, str]]] | None = None,
    budget: Budget | None = None,
    warn: Callable[[str], None] = print,
) -> Script:
    """The default narration: the host frames each paper, the reader (co-host, or host when solo) reads it.

    With `exchange`, each paper after the host's introduction is the (role, text) turns it returns
    for the summary instead, role "host" or "cohost" (the reader). With `budget`, the papers that
    do not fit its length are shortened to their first sentences (read by the reader) or left out,
    and `warn` names them (podcast.writing.budget).
    """
    voice = {"host": host.id, "cohost": reader.id}

    def full(s: Summary) -> list[Line]:
        if exchange is not None:
            return [_say(voice[role], text) for role, text in exchange(s)]
        return [_say(reader.id, p) for p in paragraphs(s.text)]

    def frame(n: int) -> tuple[Section, Section]:
        return _intro(show_title, day, intro, host, reader, exchange is not None, n), _outro(
            show_title, day, outro, host
        )

    bodies: list[tuple[Summary, Sequence[Line]]]
    if budget is not None and summaries:
        bodies = fit_papers(
            summaries, budget, frame(len(summaries)), host.id, reader.id, full, warn, exchange is not None
        )
    else:
        bodies = [(s, full(s)) for s in summaries]
    opening, closing = frame(len(bodies))
    n = len(bodies)
    papers = [_paper(s, _heading(s, i, n, host.id), body) for i, (s, body) in enumerate(bodies)]
    return Script((opening, *papers, closing))


def _intro(
    show_title: str, day: date, intro: str, host: VoiceProfile, reader: VoiceProfile, dialogue: bool, n: int
) -> Section:
    opening = [f"Welcome to {show_title}, the research papers of {week_phrase(day)}."]
    if dialogue:
        opening.append(f"I'm {host.name}, and with me is {reader.name}.")
    elif reader.id != host.id:
        opening.append(f"I'm {host.name}, and {reader.name} will read the summaries.")
    else:
        opening.append(f"I'm {host.name}.")
    lines = [_say(host.id, " ".join(opening))]
    lines += [_say(host.id, p) for p in paragraphs(intro)]
    count = f"{n} paper{'s' if n != 1 else ''}"
    lines.append(_say(host.id, f"We have {count} for you. Let's get started."))
    return Section("intro", "Intro", tuple(lines))


def _outro(show_title: str, day: date, outro: str, host: VoiceProfile) -> Section:
    # The episode's own closing replaces the built-in one: said after it, that would be a second goodbye.
    closing = paragraphs(outro) or [
        f"That's all for {week_phrase(day)}. The papers and the written newsletter are linked in the "
        f"show notes. Thanks for listening to {show_title}, and see you next week."
    ]
    return Section("outro", "Outro", tuple(_say(host.id, p) for p in closing))


def _heading(s: Summary, i: int, n: int, host: str) -> Line:
    """The host's line announcing paper `i` of `n`."""
    last = i == n - 1 and n > 1
    opener = "Finally" if last else _OPENERS[0 if i == 0 else 1 + (i - 1) % (len(_OPENERS) - 1)]
    who = by_line(s.paper.authors)
    return _say(host, f"{opener}: {s.paper.title}{', ' + who if who else ''}.")


def _paper(s: Summary, heading: Line, body: Sequence[Line]) -> Section:
    return Section("paper", one_line(s.paper.title), (heading, *body), link(s.paper.url))


def fit_papers(
    summaries: Sequence[Summary],
    budget: Budget,
    frame: tuple[Section, Section],
    host: str,
    reader: str,
    full: Callable[[Summary], list[Line]],
    warn: Callable[[str], None],
    dialogue: bool = False,
) -> list[tuple[Summary, Sequence[Line]]]:
    """Each paper kept within the budget with the lines that follow its heading, in script order."""
    n = len(summaries)
    made: dict[int, list[Line]] = {}

    def whole(i: int) -> list[Line]:  # an exchange costs a request: ask once
        if i not in made:
            made[i] = full(summaries[i])
        return made[i]

    def form(i: int, k: int | None) -> Callable[[], Section]:
        s = summaries[i]
        heading = _heading(s, i, n, host)
        if k is None:
            return lambda: _paper(s, heading, whole(i))
        return lambda: _paper(s, heading, [_say(reader, p) for p in shorten(paragraphs(s.text), k)])

    papers = []
    for i, s in enumerate(summaries):
        count = sentence_count(paragraphs(s.text))
        # Read in full, the summary is the paper's full form; an exchange is longer than it.
        shorter = range(1, count + 1) if dialogue else range(1, count)
        forms = (*(form(i, k) for k in shorter), form(i, None))
        papers.append(BudgetPaper(one_line(s.paper.title), budget.rank(s.paper.id, i), forms))
    plan = budget.fit(frame, papers)
    for message in plan.notes(papers, budget.seconds):
        warn(message)
    return [(s, papers[i].forms[plan.form[i]]().lines[1:]) for i, s in enumerate(summaries) if i in plan.form]


def _say(speaker: str, text: str) -> Line:
    return Line(speaker, one_line(text))


def link(url: str) -> str:
    """A paper's link as script.md keeps it: an http(s) URL with its white space and angle brackets
    percent-encoded (as a URL must have them anyway); "" for any other, which no chapter should link.

    >>> link("https://example.org/a paper<1>"), link("javascript:alert(1)")
    ('https://example.org/a%20paper%3C1%3E', '')
    """
    url = re.sub(r"[\s<>]", lambda m: quote(m.group()), one_line(url))
    return url if _LINK.fullmatch(f"<{url}>") else ""


def to_markdown(script: Script, title: str) -> str:
    """script.md's text: a line per heading, link and utterance, whatever their text holds."""
    out = [HEADER, f"# {one_line(title)}", ""]
    for sec in script.sections:
        heading = {"intro": "Intro", "outro": "Outro"}.get(sec.kind, f"Paper: {one_line(sec.title)}")
        out.append(f"## {heading}")
        if url := link(sec.url):
            out.append(f"<{url}>")
        out.extend(f"{line.speaker}: {one_line(line.text)}" for line in sec.lines)
        out.append("")
    return "\n".join(out)


def parse_markdown(text: str, path: Path, speakers: Sequence[str]) -> Script:
    """Read script.md back; errors name the file and the line to fix."""
    sections: list[Section] = []
    title, kind, url = "", "", ""  # the section being read
    lines: list[Line] = []
    speaker_re = re.compile(
        rf"^({'|'.join(map(re.escape, sorted(speakers, key=len, reverse=True)))}):\s*(.*)$"
    )

    def close(lineno: int) -> None:
        if not kind:
            return
        spoken = tuple(ln for ln in lines if ln.text.strip())
        if not spoken:
            raise ConfigError(
                f"{path}:{lineno}: section '{title}' has no spoken lines; add 'speaker: text' lines"
            )
        sections.append(Section(kind, title, spoken, url))

    text = clean(text)
    for lineno, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or (s.startswith("<!--") and s.endswith("-->")) or (_is_title(s) and not kind):
            continue
        if s.startswith("## "):
            close(lineno)
            head = s[3:].strip()
            low = head.lower()
            kind = low if low in ("intro", "outro") else "paper"
            title = head.split(":", 1)[1].strip() if low.startswith("paper:") else head
            url, lines = "", []
            continue
        if not kind:
            raise ConfigError(f"{path}:{lineno}: text before the first '## ' heading; start a chapter first")
        m = _LINK.fullmatch(s)
        if m and not lines:
            url = m.group(1)
            continue
        m = speaker_re.match(s)
        if m:
            lines.append(Line(m.group(1), m.group(2)))
        elif lines:
            lines[-1] = Line(lines[-1].speaker, f"{lines[-1].text} {s}")
        else:
            known = ", ".join(speakers)
            raise ConfigError(f"{path}:{lineno}: line does not start with a speaker ({known}): {s[:60]!r}")
    close(len(text.splitlines()))
    if not sections:
        raise ConfigError(f"{path}: no '## ' sections; delete the file to regenerate it")
    return Script(tuple(sections))


def _is_title(line: str) -> bool:
    """The episode's `# title` line (empty titles included)."""
    return line == "#" or line.startswith("# ")
