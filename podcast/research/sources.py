"""Where papers come from: episode.toml entries, local PDFs, or an existing written newsletter."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podcast.config import EpisodeFile, PaperEntry
from podcast.errors import InputError
from podcast.models import Paper
from podcast.research.arxiv_id import ArxivId
from podcast.text import clean, one_line


def slugify(text: str, limit: int = 60) -> str:
    """A file-name-safe ASCII slug.

    >>> slugify("xLSTM: Extended Long Short-Term Memory")
    'xlstm-extended-long-short-term-memory'
    >>> slugify("hep-th/9901001"), slugify("Pöppel & Ünal")
    ('hep-th-9901001', 'poppel-unal')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9.]+", "-", ascii_text.lower()).strip("-.")
    return slug[:limit].rstrip("-.") or "paper"


def _arxiv_key(url: str) -> str:
    """The arXiv id of a link, without version: a paper's id when none is given; "" if not arXiv's.

    >>> _arxiv_key("https://arxiv.org/pdf/2405.04517v2"), _arxiv_key("https://example.com/x")
    ('2405.04517', '')
    """
    found = ArxivId.try_parse(url)
    return found.base if found else ""


def papers_of(episode: EpisodeFile, folder: Path) -> list[Paper]:
    """The episode's papers, with full text read from their PDFs where given."""
    papers = [_paper(entry, folder) for entry in episode.papers]
    seen: dict[str, str] = {}
    for p in papers:
        if p.id in seen:
            raise InputError(
                f"{folder / 'episode.toml'}: papers '{seen[p.id]}' and '{p.title}' share the id {p.id!r}"
            )
        seen[p.id] = p.title
    return papers


def _paper(entry: PaperEntry, folder: Path) -> Paper:
    title = entry.title or entry.id
    full_text = ""
    if entry.pdf:
        try:
            full_text = read_pdf(folder / entry.pdf)
        except InputError as e:
            raise InputError(f"paper {entry.id or title!r} in {folder / 'episode.toml'}: {e}") from None
    given = ArxivId.try_parse(entry.id)
    url = entry.url or (given.abs_url if given else "")
    pid = entry.id or _arxiv_key(url) or slugify(title)
    return Paper(pid, title, tuple(entry.authors), url, entry.abstract.strip(), entry.published, full_text)


class PdfError(InputError):
    """A PDF with no text to read; `reason` says why ("is encrypted", "has no text layer ...")."""

    def __init__(self, path: Path, reason: str, advice: str) -> None:
        super().__init__(f"{path}: the PDF {reason}; {advice}")
        self.reason = reason


def read_pdf(path: Path) -> str:
    """The text layer of a PDF (podcast.text.clean); PdfError naming the file when there is none to read."""
    import logging

    from pypdf import PdfReader

    if not path.is_file():
        raise InputError(f"{path}: PDF not found")
    # pypdf logs every repair it makes to a damaged file; what matters reaches the user as one error.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfError(path, "is encrypted", "give a decrypted copy")
        text = clean("\n\n".join(page.extract_text() or "" for page in reader.pages))
    except PdfError:
        raise
    except Exception as e:  # pypdf raises many kinds on a damaged file; all mean the same here
        raise PdfError(path, f"is not readable ({type(e).__name__}: {e})", "give a valid PDF") from None
    if len(text.split()) < 20:
        raise PdfError(
            path, "has no text layer (scanned?)", "add an abstract in episode.toml instead"
        )
    return text


# -- importing a written newsletter ---------------------------------------------------------------


@dataclass(frozen=True)
class Newsletter:
    intro: str
    papers: tuple[tuple[Paper, str], ...]
    """Each paper with its summary (Markdown paragraphs)."""
    outro: str
    title: str = ""
    day: str = ""
    """YYYY-MM-DD when the file says (papercast's own newsletters do)."""


def parse_newsletter(text: str, path: Path) -> Newsletter:
    """Intro text, then `# Paper title` sections (a URL line and an italic author line may follow
    the heading), then after a `---` line the closing text. A first line
    `<!-- papercast: Title | YYYY-MM-DD -->` gives the newsletter's title and date (papercast's own
    newsletters start with it). Other HTML comments are skipped, except the markers of text for one
    medium only (podcast.writing.markers), kept for the build. The text is made safe first
    (podcast.text.clean); titles and names are one line each."""
    from podcast.writing.markers import MARKER

    text = clean(text)
    head = re.match(r"\s*<!--\s*papercast:\s*(.*?)\s+\|\s+(\d{4}-\d{2}-\d{2})\s*-->", text)
    title, day = (one_line(head.group(1)), head.group(2)) if head else ("", "")
    body = re.sub(r"<!--.*?-->", lambda m: m.group() if MARKER.fullmatch(m.group()) else "", text, flags=re.S)
    # A closing run of '#' is ATX heading decoration only after a space ("C#" keeps its '#').
    parts = re.split(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", body, flags=re.M)
    if len(parts) < 3:
        raise InputError(f"{path}: no '# Paper title' headings found; each paper must start with one")
    intro = parts[0].strip()
    papers: list[tuple[Paper, str]] = []
    outro = ""
    for i in range(1, len(parts), 2):
        heading, section = one_line(_unescape(parts[i])), parts[i + 1]
        if i == len(parts) - 2:
            section, _, outro = _split_closing(section)
        url, authors, summary = _section_fields(section)
        if not summary:
            raise InputError(
                f"{path}: the paper '{heading}' has an empty summary; write one under its heading"
            )
        pid = _arxiv_key(url) or slugify(heading)
        papers.append((Paper(pid, heading, authors, url, abstract=summary), summary))
    ids = [p.id for p, _ in papers]
    dup = next((x for x in ids if ids.count(x) > 1), None)
    if dup:
        raise InputError(f"{path}: two papers have the same heading or link ({dup}); make them distinct")
    return Newsletter(intro, tuple(papers), outro.strip(), title, day)


def _split_closing(section: str) -> tuple[str, str, str]:
    m = re.search(r"^\s*(?:---+|\*\*\*+|___+)\s*$", section, re.M)
    return (section[: m.start()], "---", section[m.end() :]) if m else (section, "", "")


def _section_fields(section: str) -> tuple[str, tuple[str, ...], str]:
    lines = section.strip().splitlines()
    url = ""
    authors: tuple[str, ...] = ()
    if lines and re.fullmatch(r"<?https?://\S+>?", lines[0].strip()):
        url = lines.pop(0).strip().strip("<>")
    if lines and re.fullmatch(r"\*[^*].*\*|_[^_].*_", lines[0].strip()):
        authors = _authors(lines.pop(0).strip()[1:-1])
    return url, authors, "\n".join(lines).strip()


def _unescape(text: str) -> str:
    r"""Undo Markdown backslash escapes.

    >>> _unescape(r"GPT\-4 \*really\*")
    'GPT-4 *really*'
    """
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _authors(text: str) -> tuple[str, ...]:
    """
    >>> _authors("A. Author, B. Author and colleagues")
    ('A. Author', 'B. Author')
    """
    text = re.sub(r",?\s+(and colleagues|et al\.?)$", "", text.strip())
    names = re.split(r",\s*|\s+and\s+", text)
    return tuple(one_line(_unescape(n)) for n in names if n.strip())


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's too; TOML also wants DEL escaped).

    >>> toml_string('say "hi"')
    '"say \\\\"hi\\\\""'
    """
    import json

    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def episode_toml(
    title: str, day: str, intro: str, outro: str, papers: Sequence[Paper], *, abstracts: bool = False
) -> str:
    """episode.toml text for imported papers; with `abstracts`, each paper's abstract too (papers
    from a newsletter leave it out: their summaries live in summaries/). Every value is written as
    load_episode reads it back: made safe (podcast.text), one line where the key is one line."""

    def line(value: str) -> str:
        return toml_string(one_line(value))

    out = [f"title = {line(title)}", f"date = {day}"]
    if intro := clean(intro):
        out.append(f"intro = {toml_string(intro)}")
    if outro := clean(outro):
        out.append(f"outro = {toml_string(outro)}")
    for p in papers:
        out += ["", "[[papers]]", f"id = {line(p.id)}", f"title = {line(p.title)}"]
        if p.authors:
            out.append(f"authors = [{', '.join(line(a) for a in p.authors)}]")
        if p.url:
            out.append(f"url = {line(p.url)}")
        if p.published:
            out.append(f"published = {p.published.isoformat()}")
        if abstracts and p.abstract:
            out.append(f"abstract = {line(p.abstract)}")
    return "\n".join(out) + "\n"
