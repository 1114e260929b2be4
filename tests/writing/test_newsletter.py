"""The written newsletter: its Markdown format (and reading it back), its HTML, the feed's show notes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import lxml.html

from podcast.models import Chapter, Paper, Summary
from podcast.research.sources import parse_newsletter
from podcast.writing.newsletter import NOTES_TAGS, notes_html, plain_description, render_html, render_markdown

NASTY_TITLE = 'Q&A: "Attention" <script>alert(1)</script> & [more] *bold* snake_case \\ &amp;'
NASTY_SUMMARY = 'Tom & Jerry <img src=x onerror="alert(1)"> say "hi" &lt;b&gt;.\n\nSecond paragraph.'
EIGHT = tuple(f"Author {c}" for c in "ABCDEFGH")
DAY = date(2024, 5, 17)


def paper(title: str, authors: tuple[str, ...] = (), url: str = "") -> Paper:
    return Paper(id=title[:8], title=title, authors=authors, url=url)


SUMMARIES = (
    Summary(paper(NASTY_TITLE, EIGHT, "https://arxiv.org/abs/2405.04517"), NASTY_SUMMARY),
    Summary(paper("Plain paper", ("Ann Lee", "Bo Chen")), "Its summary, with a [link](https://x.org/?a=1&b=2)."),
)


def fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


# --- A reader of the format, written from render_markdown's docstring alone -----------------------

_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def read_back(md: str) -> dict:
    lines = md.splitlines()
    head = re.fullmatch(r"<!-- papercast: (.*) \| (\d{4}-\d{2}-\d{2}) -->", lines.pop(0))
    assert head, "the first line names the newsletter"
    body, _, outro = "\n".join(lines).partition("\n---\n")
    chunks = re.split(r"^# (.*)$", body, flags=re.M)
    papers = []
    for title, section in zip(chunks[1::2], chunks[2::2], strict=True):
        rest = section.strip("\n").split("\n")
        url = rest.pop(0) if rest and re.fullmatch(r"https?://\S+", rest[0]) else ""
        authors: list[str] = []
        if rest and rest[0].startswith("*") and rest[0].endswith("*"):
            names = rest.pop(0)[1:-1].removesuffix(" and colleagues")
            authors = [_UNESCAPE.sub(r"\1", n) for n in names.split(", ")]
        papers.append((_UNESCAPE.sub(r"\1", title), url, authors, "\n".join(rest).strip()))
    return {"title": head[1], "date": head[2], "intro": chunks[0].strip(), "papers": papers,
            "outro": outro.strip()}


# --- Markdown ---------------------------------------------------------------------------------------


def test_markdown_has_the_documented_layout() -> None:
    md = render_markdown("Week 20 -- recurrent", DAY, "Hello *there*.", SUMMARIES, "Bye for now.")
    lines = md.split("\n")
    assert lines[0] == "<!-- papercast: Week 20 — recurrent | 2024-05-17 -->"
    assert md.endswith("Bye for now.\n") and not md.endswith("\n\n")
    first = lines.index(next(line for line in lines if line.startswith("# ")))
    assert lines[first + 1] == "https://arxiv.org/abs/2405.04517"
    assert lines[first + 2] == "*Author A, Author B, Author C, Author D, Author E, Author F and colleagues*"
    assert lines[first + 3] == ""
    second = lines.index("# Plain paper")
    assert lines[second + 1 : second + 3] == ["*Ann Lee, Bo Chen*", ""]  # no URL line, names only
    assert lines.count("---") == 1 and lines[lines.index("---") + 2] == "Bye for now."


def test_markdown_without_intro_or_outro_has_no_separator() -> None:
    md = render_markdown("W", DAY, "", SUMMARIES[1:], "  ")
    assert md.split("\n")[2] == "# Plain paper"
    assert "---" not in md.split("\n")


def test_free_text_cannot_start_a_paper_or_end_the_summaries() -> None:
    tricky = "# Not a paper\n\n---\n\n***\n\nText\n___"
    md = render_markdown("W", DAY, tricky, [Summary(paper("Only"), tricky)], "Outro\n# still outro")
    lines = md.split("\n")
    assert [line for line in lines if line.startswith("# ")] == ["# Only"]
    assert lines.count("---") == 1
    assert lines.count("## Not a paper") == 2 and "- - -" in lines and "* * *" in lines and "_ _ _" in lines
    html = fragment(render_html(md))
    assert len(html.findall(".//hr")) == 7  # the guarded rules still render as rules, plus the separator


def test_format_reads_back_to_what_was_written() -> None:
    md = render_markdown("Week 20 | papers", DAY, "Hello *there*.", SUMMARIES, "Bye.")
    got = read_back(md)
    assert (got["title"], got["date"], got["intro"], got["outro"]) == ("Week 20 | papers", "2024-05-17",
                                                                       "Hello *there*.", "Bye.")
    title, url, authors, summary = got["papers"][0]
    assert (title, url, summary) == (NASTY_TITLE, "https://arxiv.org/abs/2405.04517", NASTY_SUMMARY)
    assert authors == list(EIGHT[:6])
    assert got["papers"][1] == ("Plain paper", "", ["Ann Lee", "Bo Chen"], SUMMARIES[1].text)


def test_the_product_importer_reads_it_back() -> None:
    summaries = (Summary(paper("xLSTM: *Extended* LSTM & Q&A <b>", EIGHT, "https://arxiv.org/abs/2405.04517"),
                         "Body one.\n\nMore."), SUMMARIES[1])
    md = render_markdown("Week 20", DAY, "Intro.", summaries, "Outro.")
    letter = parse_newsletter(md, Path("newsletter.md"))
    assert (letter.intro, letter.outro) == ("Intro.", "Outro.")
    got = [(p.title, p.url, p.authors, text) for p, text in letter.papers]
    assert got == [(summaries[0].paper.title, summaries[0].paper.url, EIGHT[:6], "Body one.\n\nMore."),
                   ("Plain paper", "", ("Ann Lee", "Bo Chen"), SUMMARIES[1].text)]


SECTIONED = (
    "We train it.\n\n## Results\n\nIt wins, in C# and F# too.\n\n---\n\n# Method\n\nGates.\n\n"
    "### Notes\nSmall ones. ## not a heading"
)


def test_headings_and_rules_inside_summaries_stay_inside_them() -> None:
    """A summary's '## Results' is a subheading of that paper, never a second paper; its '# ' and
    '---' lines are written as '## ' and '- - -' (the same heading and rule to a reader), so only
    the newsletter's own lines start a paper or the closing text."""
    summaries = (
        Summary(paper("First: with sections", ("Ann Lee",), "https://arxiv.org/abs/2405.04517"), SECTIONED),
        Summary(paper("Second"), "Short.\n\n## Limitations\n\nFew.\n\n## Results\n\nGood."),
    )
    md = render_markdown("W", DAY, "Hi.\n\n## This week\n\n---\n\nMore.", summaries, "Bye.\n\n---\n\n# PS")
    letter = parse_newsletter(md, Path("newsletter.md"))
    assert [(p.title, p.url, p.authors) for p, _ in letter.papers] == [
        ("First: with sections", "https://arxiv.org/abs/2405.04517", ("Ann Lee",)),
        ("Second", "", ()),
    ]
    assert [text for _, text in letter.papers] == [
        "We train it.\n\n## Results\n\nIt wins, in C# and F# too.\n\n- - -\n\n## Method\n\nGates.\n\n"
        "### Notes\nSmall ones. ## not a heading",
        "Short.\n\n## Limitations\n\nFew.\n\n## Results\n\nGood.",
    ]
    assert (letter.intro, letter.outro) == ("Hi.\n\n## This week\n\n- - -\n\nMore.", "Bye.\n\n- - -\n\n## PS")
    # Read back and written again, it is the same newsletter.
    again = render_markdown("W", DAY, letter.intro, [Summary(p, t) for p, t in letter.papers], letter.outro)
    assert again == md


# --- HTML ---------------------------------------------------------------------------------------------


def test_html_escapes_titles_and_summaries() -> None:
    md = render_markdown("W", DAY, "", SUMMARIES, "")
    html = render_html(md)
    root = fragment(html)
    assert root.findall(".//script") == [] and root.findall(".//img") == []
    assert not any(el.get("onerror") for el in root.iter())
    h2 = root.findall(".//h2")
    assert [h.text_content() for h in h2] == [NASTY_TITLE, "Plain paper"]
    summary = root.findall(".//p")[1].text_content()
    assert summary == 'Tom & Jerry <img src=x onerror="alert(1)"> say "hi" <b>.'


def test_html_drops_the_header_links_the_url_and_names() -> None:
    html = render_html(render_markdown("Secret title", DAY, "Intro", SUMMARIES, "Outro"))
    root = fragment(html)
    assert "Secret title" not in html and "papercast" not in html
    assert root.findall(".//h1") == []
    first = root.findall(".//p")[1]
    link = first.find("a")
    assert link.get("href") == "https://arxiv.org/abs/2405.04517" and link.get("rel") == "noopener"
    assert first.find("br") is not None and first.find("em").text.startswith("Author A, ")
    assert all(a.get("rel") == "noopener" for a in root.iter("a"))


def test_html_refuses_script_links() -> None:
    root = fragment(render_html("[x](javascript:alert(1)) and [y](https://ok.org)"))
    assert [a.get("href") for a in root.iter("a")] == ["https://ok.org"]


# --- Show notes -------------------------------------------------------------------------------------


CHAPTERS = (
    Chapter("Intro", 0, 65),
    Chapter(NASTY_TITLE, 65, 3600, "https://arxiv.org/abs/2405.04517"),
    Chapter("Plain <paper>", 3600, 3725.5),
)


def test_notes_use_only_the_allowed_tags() -> None:
    intro = ("# Big heading\n\n> quote\n\n```\n<code> & stuff\n```\n\n- a\n- *b* `c`\n\n1. one\n\n"
             "![img](x.png)\n\nline  \nbreak")
    notes = notes_html(intro, SUMMARIES, "**Bye** [mail](mailto:a@b.org) [rel](page.html)", CHAPTERS)
    root = fragment(notes)
    tags = {el.tag for el in root.iter()} - {"div"}
    assert tags <= NOTES_TAGS, tags - NOTES_TAGS
    assert {"p", "ul", "ol", "li", "a", "b", "i", "em", "strong", "br"} <= tags
    for a in root.iter("a"):
        assert list(a.attrib) == ["href"] and a.get("href").startswith(("https://", "mailto:"))
    for el in root.iter():
        assert el.tag == "a" or not el.attrib
    assert "<code> & stuff" in root.text_content() and "img" in root.text_content()


def test_notes_link_titles_list_chapters_and_escape_everything() -> None:
    root = fragment(notes_html("", SUMMARIES, "", CHAPTERS))
    titles = [b for b in root.iter("b") if b.find("a") is not None]
    assert titles[0].find("a").get("href") == "https://arxiv.org/abs/2405.04517"
    assert titles[0].text_content() == NASTY_TITLE
    assert root.findall(".//script") == [] and root.findall(".//img") == []
    chapters = [li.text_content() for li in root.findall(".//ul")[-1]]
    assert chapters == ["0:00 Intro", f"1:05 {NASTY_TITLE}", "1:00:00 Plain <paper>"]
    assert root.find(".//i").text.endswith("Author F and colleagues")


def test_notes_without_chapters_have_no_chapter_list() -> None:
    assert "Chapters" not in notes_html("Hi", SUMMARIES[1:], "", [])


# --- Plain description ------------------------------------------------------------------------------


def test_description_is_one_plain_paragraph() -> None:
    text = plain_description("Hello *there*,\n[friends](https://x.org).\n\nSecond `para`.", SUMMARIES)
    assert text == f"Hello there, friends. Second para. Papers: {NASTY_TITLE}; Plain paper."


def test_description_is_cut_on_a_word_boundary() -> None:
    intro = "word " * 200
    text = plain_description(intro, SUMMARIES, limit=101)
    assert len(text) <= 101 and text.endswith("word…") and "\n" not in text
    assert plain_description("Short.", [], limit=10) == "Short."
