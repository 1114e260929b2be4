"""Hostile text at every entry: control characters, bidirectional overrides, line breaks in titles.

Text is made safe once where it comes in (podcast.text): episode.toml and podcast.toml, `podcast new`,
newsletters, arXiv, PDFs, LLM answers, hand-edited summaries and script.md. What it leaves as (feed
XML, ID3 frames, TOML, script lines, speech) then never breaks on it. The examples are the cases of
issue 12 (items 5 and 8) as they were reproduced; the property tests give any Unicode to each entry.
"""

from __future__ import annotations

import io
import string
import subprocess
import tomllib
import unicodedata
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

import imageio_ffmpeg
import pytest
from conftest import RunCli
from fakes.arxiv import FakeArxiv, make_pdf
from fakes.openai_chat import FakeOpenAI, completion
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from mutagen.id3 import ID3
from PIL import Image
from support.shows import ONE_PAPER_EPISODE, sample_show

from podcast.build import read_summary, script_stage, summarize_stage
from podcast.config import EpisodeFile, from_table, load_episode, load_show, voice_profile
from podcast.edits import Generated
from podcast.episode.tag import tag_mp3
from podcast.errors import ConfigError, InputError
from podcast.models import Chapter, Paper, Script, Summary, VoiceProfile
from podcast.research.arxiv import ArxivClient, Endpoint
from podcast.research.sources import episode_toml, papers_of, parse_newsletter, read_pdf
from podcast.scaffold import new_from_papers
from podcast.summarize import SummarizerSettings, load
from podcast.text import clean, one_line
from podcast.writing.dialogue import parse_turns
from podcast.writing.script import parse_markdown, to_markdown, write_script
from podcast.writing.speech import SPEAKABLE_PUNCTUATION, speakable

# Reproducible examples, no per-example time limit (tests must pass on a busy machine), no .hypothesis/.
CHECKED = settings(derandomize=True, deadline=None, database=None, max_examples=300)

HOST = VoiceProfile("host", "Joe", "piper", "joe")
COHOST = VoiceProfile("cohost", "Ava", "hibari", "heart")
SPEAKERS = ["host", "cohost"]
HOSTILE = "\x00\x01\x07\x08\x0b\x0c\x0d\x1b\x7f\x85\x9b\u00ad\u200b\u2028\u2029\u202a\u202e\u2066\u2069\ufeff\ufffe"
"""One of each kind of character clean() removes or replaces."""
KEPT_FORMAT = {0x200C, 0x200D, *range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD,
               0x110CD, *range(0x13430, 0x13440), *range(0x1BCA0, 0x1BCA4)}  # fmt: skip
"""Format characters (Cf) that clean() keeps: the joiners Indic and Arabic scripts and emoji sequences
need, the prepended concatenation marks (visible signs), and the format controls of Egyptian
hieroglyphs and Duployan shorthand."""

# Anything, weighted towards what breaks files: controls, separators, bidi, markup that makes lines.
_NASTY = st.sampled_from([*HOSTILE, "\n", "\r\n", "\t", "## ", "# ", "host: ", "cohost: ", "---", "<", ">"])
TEXT = st.lists(st.one_of(st.text(max_size=12), _NASTY), max_size=12).map("".join)


def unsafe(text: str) -> list[str]:
    """The characters of `text` that no file or frame papercast writes may hold."""
    return [
        c
        for c in text
        if (unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") and c not in "\t\n")
        or (unicodedata.category(c) == "Cf" and ord(c) not in KEPT_FORMAT)
        or (0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE)
    ]


# -- the sanitation itself ---------------------------------------------------------------------------


@CHECKED
@given(TEXT)
def test_clean_text_is_safe_normalized_and_stable(text: str) -> None:
    cleaned = clean(text)
    assert unsafe(cleaned) == []
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean(cleaned) == cleaned
    assert {c for c in cleaned if len(f"a{c}b".splitlines()) > 1} <= {"\n"}  # \n the only line break
    etree.Element("x").text = cleaned  # lxml takes it: the feed and the site can hold it
    line = one_line(text)
    assert line == one_line(line) == one_line(cleaned)
    assert line == line.strip() and "  " not in line and all(c == " " or not c.isspace() for c in line)


def test_every_format_character_is_removed_or_known() -> None:
    """A Unicode version that adds an invisible format character makes this fail: decide about it."""
    for cp in range(0x110000):
        c = chr(cp)
        if unicodedata.category(c) == "Cf":
            assert clean(f"a{c}b") == ("a" + c + "b" if cp in KEPT_FORMAT else "ab"), hex(cp)
    for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":  # Bidi_Control
        assert clean(f"a{c}b") == "ab", hex(ord(c))


def test_separators_keep_words_apart_and_lines_become_newlines() -> None:
    assert clean("a\x0bb\x0cc\x1cd\x1fe\tf") == "a b c d e\tf"
    assert clean("a\r\nb\rc\x85d\u2028e\u2029f") == "a\nb\nc\nd\ne\n\nf"
    assert clean("x\ud800y") == "x\ufffdy"  # a lone surrogate from JSON cannot be written as UTF-8


# -- episode.toml and podcast.toml ---------------------------------------------------------------------



def hostile_episode() -> str:
    """conftest's one-paper episode.toml with controls, bidi overrides and line breaks (TOML escapes)
    in its title, intro, outro, paper title, authors and abstract."""
    toml = ONE_PAPER_EPISODE
    for old, new in (
        ('"Our first episode: xLSTM"', r'"Hostile\u0000 week\u001b[2J \u202eevil"'),
        ('"One paper from the week of May 6, 2024."', r'"One paper.\u0000 Two\u000cthree.\nhost: I was injected."'),
        ('"See you next week."', r'"See you\u007f next week."'),
        ('"xLSTM: Extended Long Short-Term Memory"', r'"xLSTM\u0000:\u000c Extended\ncohost: I was never written\n## Outro\u007f"'),
        ('["Maximilian Beck", "Sepp Hochreiter"]', r'["Maximilian\u0000 Beck", "Sepp\nHochreiter\u202e"]'),
        ("exponential gating", r"exponential gating\u0000"),
    ):  # fmt: skip
        assert toml.count(old) == 1, old
        toml = toml.replace(old, new)
    return toml


CLEAN_TITLE = "xLSTM: Extended cohost: I was never written ## Outro"


def test_episode_toml_text_is_made_safe_when_loaded(tmp_path: Path) -> None:
    (tmp_path / "episode.toml").write_text(hostile_episode(), "utf-8")
    ep = load_episode(tmp_path)
    assert ep.title == "Hostile week[2J evil"
    assert ep.intro == "One paper. Two three.\nhost: I was injected." and ep.outro == "See you next week."
    [paper] = ep.papers
    assert paper.title == CLEAN_TITLE
    assert paper.authors == ("Maximilian Beck", "Sepp Hochreiter")
    assert "\x00" not in paper.abstract


def test_podcast_toml_text_and_voice_names_are_made_safe(tmp_path: Path) -> None:
    from podcast.scaffold import init_show

    root = init_show(tmp_path / "show")
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8").replace('title = "My Research Podcast"', r'title = "My\u0000 Show\n## Outro"')
    toml.write_text(text.replace('author = "Your Name"', r'author = "Your\u202e Name\u001b"'), "utf-8")
    show = load_show(root).show
    assert (show.title, show.author) == ("My Show ## Outro", "Your Name")
    profile = voice_profile("host", {"engine": "piper", "voice": "joe", "name": "Joe\ncohost: hi\x00"}, "h.toml")
    assert profile.name == "Joe cohost: hi"


def test_the_build_and_publish_take_a_hostile_episode(show: Path, run_cli: RunCli) -> None:
    """NUL and ESC in titles made publish fail in lxml; FF split script.md, so the build failed on its
    own file; a newline in a title put a cohost line into the script; every ID3 text frame is whole."""
    folder = show / "episodes" / "first-week"
    (folder / "episode.toml").write_text(hostile_episode(), "utf-8")
    built = run_cli(show, "build", "episodes/first-week")
    assert built.returncode == 0, built.stderr
    published = run_cli(show, "publish")
    assert published.returncode == 0, published.stderr

    feed = etree.parse(str(show / "public" / "feed.xml"))
    assert feed.findtext("channel/item/title") == "Hostile week[2J evil"
    script = (folder / "script.md").read_text("utf-8")
    assert "\ncohost: I was never written" not in script and f"## Paper: {CLEAN_TITLE}\n" in script
    assert [ln.split(":")[0] for ln in script.splitlines() if ln.startswith("## ")] == ["## Intro", "## Paper", "## Outro"]
    tags = ID3(folder / "build" / "first-week.mp3")
    frames = [*tags.getall("TIT2"), *tags.getall("COMM"), *tags.getall("TXXX"), *tags.getall("TALB")]
    frames += [sub for chap in tags.getall("CHAP") for sub in chap.sub_frames.getall("TIT2")]
    for frame in frames:
        [value] = frame.text  # a NUL would have split it into two values
        assert unsafe(value) == [], (frame.FrameID, value)
    assert tags.getall("TIT2")[0].text == ["Hostile week[2J evil"]


def test_a_title_cannot_make_a_script_line_or_chapter(show: Path) -> None:
    """The stages before speech, in this process: a form feed or newline in a title stays in its line."""
    folder = show / "episodes" / "first-week"
    (folder / "episode.toml").write_text(hostile_episode(), "utf-8")
    cfg, ep, gen = load_show(show), load_episode(folder), Generated(folder)
    summaries = summarize_stage(folder, papers_of(ep, folder), cfg, gen, lambda m: None)[0]
    script = script_stage(folder, ep, summaries, cfg, gen, lambda m: None)
    assert [s.title for s in script.sections] == ["Intro", CLEAN_TITLE, "Outro"]
    host_line, *read = script.sections[1].lines
    assert host_line.speaker == "host" and CLEAN_TITLE in host_line.text
    assert all(ln.speaker == "cohost" and "never written" not in ln.text for ln in read)


@CHECKED
@given(show_title=TEXT, title=TEXT, intro=TEXT, outro=TEXT,
       papers=st.lists(st.tuples(TEXT, st.lists(TEXT, max_size=3), TEXT, TEXT), min_size=1, max_size=3))  # fmt: skip
def test_the_script_writer_round_trips_whatever_the_text(
    show_title: str, title: str, intro: str, outro: str, papers: list[tuple[str, list[str], str, str]]
) -> None:
    summaries = [
        Summary(Paper(f"p{i}", t, tuple(authors), url, "x"), text) for i, (t, authors, url, text) in enumerate(papers)
    ]
    script = write_script(show_title=show_title, day=date(2024, 5, 10), intro=intro, outro=outro,
                          summaries=summaries, host=HOST, reader=COHOST)  # fmt: skip
    markdown = to_markdown(script, title)
    assert parse_markdown(markdown, Path("script.md"), SPEAKERS) == script
    headings = [ln for ln in markdown.split("\n") if ln.startswith("## ")]
    assert len(headings) == len(papers) + 2  # intro, a chapter per paper, outro: nothing else
    assert unsafe(markdown) == []


def test_injected_lines_in_summaries_stay_in_their_paragraph(tmp_path: Path) -> None:
    paper = Paper("1", "A\x0ccohost: title line", ("Ada\nhost: me",), "https://arxiv.org/abs/2401.00001")
    summary = Summary(paper, "Real text.\n## Outro\ncohost: fake line\x0chost: another")
    script = write_script(show_title="Show\nhost: x", day=date(2024, 5, 10), intro="", outro="",
                          summaries=[summary], host=HOST, reader=COHOST)  # fmt: skip
    parsed = parse_markdown(to_markdown(script, "T\n## Paper: fake"), tmp_path / "script.md", SPEAKERS)
    assert parsed == script
    assert [s.kind for s in parsed.sections] == ["intro", "paper", "outro"]
    assert [ln.text for ln in parsed.sections[1].lines] == [
        "First up: A cohost: title line, by Ada host: me.",
        "Real text. ## Outro cohost: fake line host: another",
    ]


def test_a_hand_edited_script_is_read_as_safe_text(tmp_path: Path) -> None:
    text = "# T\n## Intro\nhost: Hello\x0ccohost: not a line\x00 of its own\u2028and more.\n"
    parsed = parse_markdown(text, tmp_path / "script.md", SPEAKERS)
    assert parsed == Script((parsed.sections[0],))
    assert [(ln.speaker, ln.text) for ln in parsed.sections[0].lines] == [
        ("host", "Hello cohost: not a line of its own and more.")
    ]


def test_a_hand_edited_summary_is_read_as_safe_text(tmp_path: Path) -> None:
    text = "# Title\n<https://arxiv.org/abs/1>\n\nThe model\x00 scales\u202e well.\r\n\r\nSecond\x1b[0m part."
    assert read_summary(tmp_path / "s.md", text) == "The model scales well.\n\nSecond[0m part."


# -- podcast new: episode.toml that TOML reads back -------------------------------------------------------


def test_podcast_new_writes_toml_whatever_the_title(tmp_path: Path, run_cli: RunCli) -> None:
    letter = tmp_path / "letter.md"
    letter.write_text("Intro.\n\n# A paper\u007f\n*Ada\x7f Lovelace*\n\nIt works\x7f well.\n", "utf-8")
    result = run_cli(tmp_path, "new", "episodes/w", "--from-newsletter", letter, "--title", "Week\x7f 20\x1b",
                     "--date", "2024-05-17")  # fmt: skip
    assert result.returncode == 0, result.stderr
    toml = tomllib.loads((tmp_path / "episodes" / "w" / "episode.toml").read_text("utf-8"))
    assert toml["title"] == "Week 20"
    assert (toml["papers"][0]["title"], toml["papers"][0]["authors"]) == ("A paper", ["Ada Lovelace"])
    summary = (tmp_path / "episodes" / "w" / "summaries" / "a-paper.md").read_text("utf-8")
    assert summary == "# A paper\n\nIt works well.\n"


@CHECKED
@given(title=TEXT, authors=st.lists(TEXT, max_size=4), abstract=TEXT, paper_title=TEXT, url=TEXT)
def test_podcast_new_episode_toml_reads_back_equal(
    title: str, authors: list[str], abstract: str, paper_title: str, url: str
) -> None:
    paper = Paper("2405.04517", paper_title, tuple(authors), url, abstract, date(2024, 5, 7))
    with TemporaryDirectory() as tmp:
        folder = new_from_papers(Path(tmp) / "2024-05-17-w", [paper], title=title, day=None)
        toml = tomllib.loads((folder / "episode.toml").read_text("utf-8"))
        assert toml["title"] == (one_line(title) or "Week of May 13, 2024: w")  # from the date-named folder
        [entry] = toml["papers"]
        assert entry["title"] == one_line(paper_title)
        assert entry.get("authors", []) == [one_line(a) for a in authors]
        assert entry.get("url", "") == one_line(url)
        assert entry.get("abstract", "") == one_line(abstract)
        loaded = from_table(EpisodeFile, toml, "episode.toml")
        assert loaded.papers[0].title == entry["title"] and loaded.title == toml["title"]


@CHECKED
@given(title=TEXT, intro=TEXT, outro=TEXT, papers=st.lists(st.tuples(TEXT, st.lists(TEXT, max_size=2)), max_size=3))
def test_episode_toml_holds_any_text(title: str, intro: str, outro: str, papers: list[tuple[str, list[str]]]) -> None:
    listed = [Paper(f"id{i}{t}", t, tuple(a), "", "") for i, (t, a) in enumerate(papers)]
    toml = tomllib.loads(episode_toml(title, "2024-05-17", intro, outro, listed))
    assert (toml["title"], toml.get("intro", ""), toml.get("outro", "")) == (one_line(title), clean(intro), clean(outro))
    assert [p["id"] for p in toml.get("papers", [])] == [one_line(p.id) for p in listed]


# -- newsletters ---------------------------------------------------------------------------------------

_SECTION = st.tuples(TEXT, st.sampled_from(["", "https://arxiv.org/abs/2405.04517\n", "<https://x.org/a>\n"]),
                     st.lists(TEXT, max_size=3), TEXT)  # fmt: skip


def _letter(intro: str, sections: list[tuple[str, str, list[str], str]], outro: str) -> str:
    body = [intro]
    for heading, url, authors, summary in sections:
        body.append(f"# {heading}\n{url}" + (f"*{', '.join(authors)}*\n" if authors else "") + f"\n{summary}\n")
    return "\n".join(body) + f"\n---\n{outro}\n"


@CHECKED
@given(st.one_of(TEXT, st.builds(_letter, TEXT, st.lists(_SECTION, min_size=1, max_size=3), TEXT)))
def test_any_newsletter_imports_as_safe_text_or_is_refused(text: str) -> None:
    try:
        letter = parse_newsletter(text, Path("issue.md"))
    except InputError as e:
        assert str(e).startswith("issue.md: ")
        return
    for paper, summary in letter.papers:
        assert paper.title == one_line(paper.title) and all(a == one_line(a) and a for a in paper.authors)
        assert summary == clean(summary) and summary.strip()
    assert letter.title == one_line(letter.title)
    assert clean(letter.intro) == letter.intro and clean(letter.outro) == letter.outro
    papers = [p for p, _ in letter.papers]
    toml = tomllib.loads(episode_toml(letter.title or "T", "2024-05-17", letter.intro, letter.outro, papers))
    assert [(p["title"], p.get("authors", [])) for p in toml["papers"]] == [(p.title, list(p.authors)) for p in papers]


# -- arXiv, PDFs, LLM answers -----------------------------------------------------------------------------


def test_arxiv_answers_are_made_safe(fake_arxiv: FakeArxiv, tmp_path: Path) -> None:
    atom = "{http://www.w3.org/2005/Atom}"
    [entry] = [e for e in fake_arxiv.entries if "2405.04517" in e.findtext(f"{atom}id")]
    entry.find(f"{atom}title").text = "xLSTM\u202e:\u2028 Extended\u00ad Memory\u200b"  # what XML can carry
    entry.find(f"{atom}author/{atom}name").text = "Max\u2066 Beck"
    [listing] = ArxivClient(Endpoint(fake_arxiv.api_url, 0.0, tmp_path)).lookup(["2405.04517"])
    assert listing.title == "xLSTM: Extended Memory"
    assert listing.authors[0] == "Max Beck"


def test_pdf_text_is_made_safe(tmp_path: Path) -> None:
    lines = ["Attention\x07 is\x0ball\x1b you need, said the authors of this paper about a model.",
             "It\x00 scales\x7f to long contexts with a cache that shrinks by an order of magnitude."]  # fmt: skip
    (tmp_path / "p.pdf").write_bytes(make_pdf([lines]))
    text = read_pdf(tmp_path / "p.pdf")
    assert "Attention is all you need" in text and "It scales to long contexts" in text
    assert unsafe(text) == []


def test_llm_summaries_and_dialogue_turns_are_made_safe(openai_chat: FakeOpenAI, tmp_path: Path) -> None:
    paper = Paper("2405.04517", "xLSTM", (), "", "The authors scale the LSTM with exponential gating.")
    llm = SummarizerSettings(engine="openai", model="test-model", retry_wait=0.001, timeout=5.0)
    openai_chat.script(completion("It scales\x00 well.\u202e\r\n\r\nNext\x1b[2J part."))
    assert load(llm, tmp_path / ".cache").summarize(paper) == "It scales well.\n\nNext[2J part."
    turns = parse_turns('[{"speaker": "cohost", "text": "It\\u0000 scales\\u2028 well\\u202e."},'
                        ' {"speaker": "host", "text": "Wow\\u001b."}]')  # fmt: skip
    assert [t.text for t in turns] == ["It scales well.", "Wow."]


# -- ID3 -----------------------------------------------------------------------------------------------


def test_id3_text_frames_hold_no_nul(tmp_path: Path) -> None:
    """A NUL split the COMM frame into two values; a non-Latin-1 link stopped tagging."""
    mp3, cover = tmp_path / "e.mp3", io.BytesIO()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=2",
                    "-ar", "44100", "-ac", "1", "-b:a", "96k", str(mp3)], check=True)  # fmt: skip
    Image.new("RGB", (16, 16)).save(cover, "JPEG")
    show = sample_show(
        title="Show\x00 Title", description="d", author="Ada\x00 Lovelace", email="a@b.org", base_url="https://x.org/"
    )
    tag_mp3(mp3, show=show, title="Episode\x00 one\n2", published=date(2024, 5, 10),
            description="One\x00 two.\r\nThree.", chapters=[Chapter("Intro\x00 x", 0.0, 1.0, "https://x.org/é")],
            cover=cover.getvalue(), cover_mime="image/jpeg", audio_ms=1500)  # fmt: skip
    tags = ID3(mp3)
    assert tags.getall("COMM")[0].text == ["One two.\nThree."]
    assert tags.getall("TXXX:description")[0].text == ["One two.\nThree."]
    assert [f.text for f in (tags["TIT2"], tags["TALB"], tags["TPE1"])] == [["Episode one 2"], ["Show Title"], ["Ada Lovelace"]]
    [chap] = tags.getall("CHAP")
    assert chap.sub_frames.getall("TIT2")[0].text == ["Intro x"]
    assert chap.sub_frames.getall("WXXX")[0].url == "https://x.org/%C3%A9"


# -- speech ----------------------------------------------------------------------------------------------


@CHECKED
@given(st.one_of(TEXT, st.text()))
def test_speech_of_any_text_is_plain_sentences_or_nothing(text: str) -> None:
    said = speakable(text)
    assert said == "" or (said[-1] in ".!?" and said == said.strip() and "  " not in said)
    assert all(c.isalnum() or c == " " or c in SPEAKABLE_PUNCTUATION for c in said)


def test_printable_ascii_survives_untouched() -> None:
    text = string.printable.replace("\x0b", "").replace("\x0c", "").replace("\r", "")
    assert clean(text) == text and one_line("a  b\tc\nd") == "a b c d"


def test_an_empty_title_after_cleaning_is_still_an_error(tmp_path: Path) -> None:
    (tmp_path / "episode.toml").write_text('title = "\\u0000\\u202e"\ndate = 2024-05-10\n[[papers]]\nid = "1"\n')
    with pytest.raises(ConfigError, match="title is empty"):
        load_episode(tmp_path)
