"""Length control ([script] minutes): a real build with the bundled voices lands within 10% of its
target and names what it shortened or left out; the plan ranks highlights first, then episode.toml's
order, and drops the lowest-ranked papers when even one sentence each is too long."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from support.shows import make_publishable

from podcast.config import from_table
from podcast.errors import ConfigError
from podcast.models import Paper, Summary, VoiceProfile
from podcast.scaffold import init_show
from podcast.settings import AudioSettings, ScriptSettings
from podcast.writing.budget import Budget, Pacer
from podcast.writing.script import write_script

RunCli = Callable[..., subprocess.CompletedProcess[str]]
"""The `run_cli` fixture's type (imported from conftest, it may be another folder's conftest.py)."""
SAMPLE = Path(__file__).parents[2] / "episodes" / "2024-05-10-xlstm-deepseek-v2" / "episode.toml"
HOST = VoiceProfile("host", "Joe", "piper", "joe")
COHOST = VoiceProfile("cohost", "Ava", "hibari", "heart")
SENTENCES = [
    "The authors propose a new way to train language models with less memory.",
    "They keep only a compressed cache of keys and values for every layer.",
    "Experiments on six benchmarks show the same accuracy at a third of the cost.",
    "The code and the trained models are released under an open license.",
]


def _summary(i: int) -> Summary:
    return Summary(Paper(f"2405.0{i}000", f"Paper number {i}", ("A. Author",)), " ".join(SENTENCES))


def _script(minutes: float, n: int, highlights: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """The paper titles a budgeted script keeps, and the warnings it gave."""
    warnings: list[str] = []
    budget = Budget(minutes * 60, Pacer({"host": HOST, "cohost": COHOST}, AudioSettings()), highlights)
    script = write_script(show_title="Test Weekly", day=date(2024, 5, 10), intro="", outro="",
                          summaries=[_summary(i) for i in range(n)], host=HOST, reader=COHOST,
                          budget=budget, warn=warnings.append)
    return [s.title for s in script.sections if s.kind == "paper"], warnings


def test_when_one_sentence_each_is_too_long_the_lowest_ranked_papers_are_left_out_and_named() -> None:
    kept, warnings = _script(1.0, 8)
    assert 1 <= len(kept) < 8
    assert kept == [f"Paper number {i}" for i in range(len(kept))], "the best-ranked (first) papers stay"
    [left_out] = [w for w in warnings if "left out" in w]
    for i in range(len(kept), 8):
        assert f"'Paper number {i}'" in left_out


def test_highlights_rank_first() -> None:
    kept, _ = _script(1.0, 8, highlights=("2405.07000",))
    assert "Paper number 7" in kept and "Paper number 0" in kept[:2]
    assert kept.index("Paper number 7") > kept.index("Paper number 0"), "the script keeps episode.toml's order"


def test_top_papers_are_whole_and_the_next_shortened() -> None:
    _, warnings = _script(2.0, 6)
    [shortened] = [w for w in warnings if "shortened" in w]
    assert "'Paper number 0'" not in shortened, "the best paper is read in full"
    assert "'Paper number 5' (1 sentence)" in shortened


def test_exchanges_are_asked_for_only_while_they_fit() -> None:
    """In the dialogue format the full form is an exchange the LLM writes (a request each): the plan
    asks for them best paper first and stops at the first that does not fit."""
    turns = [("cohost", " ".join(SENTENCES)), ("host", "And what did they find?"), ("cohost", SENTENCES[2])]
    asked: list[str] = []

    def exchange(s: Summary) -> list[tuple[str, str]]:
        asked.append(s.paper.title)
        return turns

    budget = Budget(4 * 60, Pacer({"host": HOST, "cohost": COHOST}, AudioSettings()))
    script = write_script(show_title="Test Weekly", day=date(2024, 5, 10), intro="", outro="",
                          summaries=[_summary(i) for i in range(8)], host=HOST, reader=COHOST,
                          exchange=exchange, budget=budget, warn=lambda message: None)
    talked = [s.title for s in script.sections if s.kind == "paper" and len(s.lines) == 1 + len(turns)]
    assert talked and talked == [f"Paper number {i}" for i in range(len(talked))], "the best papers are talked over"
    assert asked == [f"Paper number {i}" for i in range(len(asked))] and len(asked) <= len(talked) + 1


def test_short_material_says_so() -> None:
    kept, warnings = _script(30.0, 2)
    assert kept == ["Paper number 0", "Paper number 1"]
    assert any("every paper in full" in w for w in warnings)


def test_minutes_must_be_sane() -> None:
    with pytest.raises(ConfigError, match="minutes must be from 0"):
        from_table(ScriptSettings, {"minutes": -3}, "podcast.toml [script]")
    assert from_table(ScriptSettings, {"minutes": 20}, "podcast.toml [script]").minutes == 20.0


def test_a_three_minute_build_lands_within_ten_percent_and_names_the_cuts(tmp_path: Path, run_cli: RunCli) -> None:
    show = make_publishable(init_show(tmp_path / "show"))
    episode = show / "episodes" / "first-week"
    head, *papers = SAMPLE.read_text("utf-8").split("[[papers]]")
    (episode / "episode.toml").write_text(head + "".join("[[papers]]" + p for p in papers[:6]), "utf-8")
    toml = show / "podcast.toml"
    text = toml.read_text("utf-8").replace("[script]\n", "[script]\nminutes = 3\n")
    for key, value in (("intro_music", "music/bed.mp3"), ("outro_music", "music/bed.mp3"),
                       ("stinger", "music/stinger.mp3")):  # the music's time is budgeted too
        text = re.sub(rf"^# {key} = .*$", f'{key} = "{value}"', text, flags=re.M)
    toml.write_text(text + "full_text = false\n", "utf-8")  # the template ends with [find]

    built = run_cli(show, "build", "episodes/first-week")
    assert built.returncode == 0, built.stderr

    record = json.loads((episode / "build" / "episode.json").read_text("utf-8"))
    assert abs(record["duration"] - 180) <= 18, f"{record['duration']:.1f} s is not within 10% of 3 minutes"
    titles = [re.search(r'^title = "(.*)"$', p, re.M).group(1) for p in papers[:6]]  # type: ignore[union-attr]
    chapters = [c["title"] for c in json.loads((episode / "build" / "chapters.json").read_text("utf-8"))["chapters"]]
    notes = [line for line in built.stderr.splitlines() if "[script] minutes" in line]
    assert notes, built.stderr
    for title in titles:
        if title not in chapters:
            assert any("left out" in n and repr(title) in n for n in notes), f"{title} was dropped silently"
    assert any("shortened" in n for n in notes) or len(chapters) - 2 < len(titles)
    letter = (episode / "build" / "newsletter.md").read_text("utf-8")
    assert all(t in letter for t in titles), "the written newsletter keeps every paper"


PLAIN_PAPERS = [
    ("Why kids nap", "Small kids nap in the day, and we asked why. We watched one hundred kids at home for a "
     "month. The ones who napped were less cross at night and slept as long as the rest. A nap did not cost "
     "them sleep. Kids who skipped it were more tired the next day. So let them nap if they want to."),
    ("Bikes on the way to school", "We asked how kids get to school in a small town. Most came by car, "
     "and few rode a bike. When the town made a safe bike lane, more kids rode. The roads got less busy in "
     "the morning. Kids who rode said they felt good and were on time. Their moms and dads felt safe too."),
    ("A walk a day", "Does a short walk help you feel good? We had two groups of adults. One group took a "
     "walk each day for six weeks, and one did not. The walkers slept well and felt less sad. They did not "
     "lose much weight. But they said they had more time for friends. A walk is free, and it works."),
    ("Fresh bread at home", "We wanted to know why some folks bake at home. We spoke to fifty of them. "
     "Most said it was fun and saved them a bit of cash. Some did it to know what goes in their food. "
     "Few found it hard once they had the hang of it. The best part, they said, was the smell."),
    ("Dogs and the old", "Old folks who live alone can feel sad. We gave some of them a dog for a year. "
     "They went out more and met more people on their walks. They said they felt less alone. A few found "
     "the dog too much work. Most kept the dog when the year was up."),
]
"""Everyday prose of short words (no model names, numbers or acronyms): text the pace measured on
technical summaries alone would take too long for."""


def test_a_plain_language_build_lands_within_ten_percent(tmp_path: Path, run_cli: RunCli) -> None:
    show = make_publishable(init_show(tmp_path / "show"))
    episode = show / "episodes" / "first-week"
    papers = "".join(
        f'\n[[papers]]\nid = "2405.0{i}001"\ntitle = "{title}"\nauthors = ["Ann Lee"]\n'
        f'url = "https://arxiv.org/abs/2405.0{i}001"\npublished = 2024-05-07\nabstract = """{abstract}"""\n'
        for i, (title, abstract) in enumerate(PLAIN_PAPERS)
    )
    (episode / "episode.toml").write_text(
        'title = "A plain week"\ndate = 2024-05-10\nnumber = 1\n'
        'intro = """This week: sleep, bikes, walks, bread and dogs."""\n'
        'outro = """That was the week. See you next time."""\n' + papers, "utf-8")
    toml = show / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace("[script]\n", "[script]\nminutes = 1.5\n")
                    + "full_text = false\n", "utf-8")

    built = run_cli(show, "build", "episodes/first-week")
    assert built.returncode == 0, built.stderr

    duration = json.loads((episode / "build" / "episode.json").read_text("utf-8"))["duration"]
    assert abs(duration - 90) <= 9, f"{duration:.1f} s is not within 10% of 1.5 minutes"
    assert any("[script] minutes" in line for line in built.stderr.splitlines()), "the material was cut to fit"
