"""Sources (newsletter import), the script's Markdown form, strict config, and hand-edit tracking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from podcast.config import ShowFile, VoiceFile, from_table, load_show
from podcast.edits import Generated
from podcast.errors import ConfigError, InputError
from podcast.models import Line, Paper, Script, Section, Summary, VoiceProfile
from podcast.research.sources import parse_newsletter
from podcast.scaffold import init_show, new_from_newsletter
from podcast.settings import AudioSettings
from podcast.writing.newsletter import render_markdown
from podcast.writing.script import parse_markdown, to_markdown, write_script

DATA = Path(__file__).parent.parent / "data"
HOST = VoiceProfile("host", "Joe", "piper", "joe")
COHOST = VoiceProfile("cohost", "Ava", "hibari", "heart")


def test_sample_newsletter_imports_headings_as_papers() -> None:
    letter = parse_newsletter((DATA / "newsletter.md").read_text("utf-8"), DATA / "newsletter.md")
    titles = [p.title for p, _ in letter.papers]
    assert titles[0] == "xLSTM: Extended Long Short-Term Memory"
    assert len(titles) == 3
    first, summary = letter.papers[0]
    assert first.url == "https://arxiv.org/abs/2405.04517" and first.id == "2405.04517"
    assert summary.startswith("Sepp Hochreiter's group") and "\n\n" in summary
    assert letter.papers[2][0].url == "" and letter.papers[2][0].id.startswith("does-fine-tuning")
    assert letter.intro.startswith("Welcome to this week's issue")
    assert letter.outro.startswith("That's all for this week")


def test_newsletter_round_trips_through_papercasts_own_markdown() -> None:
    papers = [
        Paper(
            "2405.04517",
            "xLSTM: Extended *Long* Short-Term Memory",
            ("A. Beck", "K. Pöppel"),
            "https://arxiv.org/abs/2405.04517",
        ),
        Paper("x-y", "Attention & <everything>", (), ""),
    ]
    summaries = [Summary(papers[0], "First paragraph.\n\nSecond one."), Summary(papers[1], "Only one.")]
    text = render_markdown("Week 1", date(2024, 5, 10), "Hello.", summaries, "Bye.")
    letter = parse_newsletter(text, Path("x.md"))
    assert [p.title for p, _ in letter.papers] == [p.title for p in papers]
    assert letter.papers[0][0].authors == ("A. Beck", "K. Pöppel")
    assert [s for _, s in letter.papers] == ["First paragraph.\n\nSecond one.", "Only one."]
    assert (letter.title, letter.day, letter.intro, letter.outro) == (
        "Week 1",
        "2024-05-10",
        "Hello.",
        "Bye.",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just some text.\n\nNo headings here.\n", "no '# Paper title' headings"),
        ("# A paper\n\n# Another\nText.\n", "'A paper' has an empty summary"),
        ("# Same\nText.\n# Same\nMore.\n", "same heading"),
    ],
)
def test_bad_newsletters_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_newsletter(text, Path("issue.md"))


def test_new_from_newsletter_writes_an_episode_and_refuses_an_existing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "episodes" / "week-19"
    new_from_newsletter(folder, DATA / "newsletter.md", title="Week 19", day="2024-05-10")
    assert (folder / "episode.toml").read_text("utf-8").startswith('title = "Week 19"\ndate = 2024-05-10')
    assert sorted(p.name for p in (folder / "summaries").iterdir())[:2] == ["2405.04434.md", "2405.04517.md"]
    with pytest.raises(InputError, match="already exists"):
        new_from_newsletter(folder, DATA / "newsletter.md", title=None, day=None)


def test_script_markdown_round_trip_and_errors(tmp_path: Path) -> None:
    paper = Paper("1", "A Paper: With a Colon", ("Ada",), "https://arxiv.org/abs/2401.00001")
    script = write_script(
        show_title="Show",
        day=date(2024, 5, 10),
        intro="Hi.",
        outro="",
        summaries=[Summary(paper, "One.\n\nTwo: with a colon.")],
        host=HOST,
        reader=COHOST,
    )
    text = to_markdown(script, "Title")
    assert parse_markdown(text, tmp_path / "script.md", ["host", "cohost"]) == script
    assert [s.kind for s in script.sections] == ["intro", "paper", "outro"]
    assert [ln.speaker for ln in script.sections[1].lines] == ["host", "cohost", "cohost"]
    with pytest.raises(ConfigError, match=r"script\.md:3: line does not start with a speaker"):
        parse_markdown("# T\n## Intro\nnobody: hello\n", tmp_path / "script.md", ["host"])
    continued = parse_markdown("## Intro\nhost: Hello\nand more.\n", tmp_path / "s.md", ["host"])
    assert continued == Script((Section("intro", "Intro", (Line("host", "Hello and more."),)),))


def test_strict_config_names_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"podcast\.toml \[audio\]: unknown key 'loudnes'"):
        from_table(
            ShowFile,
            {
                "title": "t",
                "author": "a",
                "email": "e@x.org",
                "base_url": "https://x.org/",
                "audio": {"loudnes": -16},
            },
            "podcast.toml",
        )
    with pytest.raises(ConfigError, match="bitrate: expected an integer"):
        from_table(AudioSettings, {"bitrate": "96"}, "podcast.toml [audio]")
    with pytest.raises(ConfigError, match="missing required key 'voice'"):
        from_table(VoiceFile, {"engine": "piper"}, "voices/host.toml")


def test_init_show_loads_with_a_placeholder_warning(tmp_path: Path) -> None:
    root = init_show(tmp_path / "show")
    cfg = load_show(root)
    assert cfg.warnings and "placeholder" in cfg.warnings[0]
    assert cfg.profiles["host"].engine == "piper" and cfg.profiles["cohost"].engine == "hibari"
    toml = root / "podcast.toml"
    toml.write_text(
        toml.read_text("utf-8").replace(
            'base_url = "https://example.com/podcast/"', 'base_url = "example.com/podcast"'
        ),
        "utf-8",
    )
    with pytest.raises(ConfigError, match="must be an absolute http"):
        load_show(root)


def test_generated_files_are_regenerated_but_hand_edits_kept(tmp_path: Path) -> None:
    gen = Generated(tmp_path)
    path = tmp_path / "script.md"
    assert gen.produce(path, "v1", lambda: "generated 1\n") == "generated 1\n"
    assert gen.produce(path, "v2", lambda: "generated 2\n") == "generated 2\n"
    path.write_text("my edit\n", "utf-8")
    assert gen.produce(path, "v3", lambda: "generated 3\n") == "my edit\n"
    assert gen.warnings and "edited by hand" in gen.warnings[0]
    gen.save()
    again = Generated(tmp_path)
    assert again.produce(path, "v3", lambda: "generated 3\n") == "my edit\n"
