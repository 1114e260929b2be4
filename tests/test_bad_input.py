"""Every bad input, through the real `podcast` CLI, against a real built and published show.

The rule: a bad input ends with one `error: ...` line on stderr that names the file (and the key)
and says what to fix, exit code 1, no traceback, and nothing already built or published changes.
Each test copies the session's show (conftest.py), breaks one thing and runs what a user runs.
Unusual but valid text (emoji, other scripts, a huge unpunctuated abstract) must build a playable MP3.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import pytest
from support.shows import add_episode

BUILD = ("build", "episodes/first-week")
PUBLISH = ("publish",)
EPISODE = Path("episodes/first-week")
SUMMARY = EPISODE / "summaries" / "2405.04517.md"
NEWSLETTER = """\
A short week: one paper.

# xLSTM: Extended Long Short-Term Memory
<https://arxiv.org/abs/2405.04517>

The LSTM, scaled up with exponential gating.

---
See you next week.
"""

Breaker = Callable[[Path], None]
RunCli = Callable[..., subprocess.CompletedProcess[str]]


# -- helpers -----------------------------------------------------------------------------------------


def outputs(show: Path) -> dict[str, str]:
    """A sha256 for every file, and a marker for every folder, under episodes/*/build/ and public/."""
    paths = [*show.glob("episodes/*/build/**/*"), *(show / "public").rglob("*")]
    return {
        p.relative_to(show).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in paths
    }


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error:` line of a failed command, after checking it failed the way users are promised."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 1, f"exit {result.returncode}; stderr: {result.stderr!r}"
    assert result.stdout == ""
    # Blank lines are tolerated here and held to account in test_build_error_is_one_line_on_stderr.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {result.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def fails_cleanly(show: Path, run_cli: RunCli, command: tuple[str, ...], names: tuple[str, ...]) -> str:
    """Run `podcast COMMAND` in the show; check the error names everything in `names` and changed nothing."""
    before = outputs(show)
    assert before, "the session show should have a build and a published site"
    line = error_line(run_cli(show, *command))
    for name in names:
        assert name in line, f"{name!r} not in {line!r}"
    assert outputs(show) == before
    return line


def edit(rel: str, old: str, new: str) -> Breaker:
    """A breaker replacing the one occurrence of `old` in the show's file `rel` by `new`."""

    def apply(show: Path) -> None:
        path = show / rel
        text = path.read_text("utf-8")
        assert text.count(old) == 1, f"{old!r} should occur once in {rel}"
        path.write_text(text.replace(old, new), "utf-8")

    return apply


def write(rel: str | Path, text: str) -> Breaker:
    """A breaker replacing the show's file `rel` with `text`."""

    def apply(show: Path) -> None:
        (show / rel).write_text(text, "utf-8")

    return apply


def delete(rel: str | Path) -> Breaker:
    return lambda show: (show / rel).unlink()


def assert_playable(mp3: Path) -> None:
    """ffmpeg decodes the whole file and has nothing to complain about."""
    decoded = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert decoded.returncode == 0 and decoded.stdout + decoded.stderr == "", decoded.stderr


def builds_playable(show: Path, run_cli: RunCli) -> Path:
    result = run_cli(show, *BUILD)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_playable(show / EPISODE / "build" / "first-week.mp3")
    return show / EPISODE / "build"


# -- podcast.toml and voices/: every command loads them first ----------------------------------------

AUDIO = "[audio]\n"
SHOW_CONFIG_ERRORS = [
    pytest.param(delete("podcast.toml"), ("podcast.toml", "podcast init"), id="podcast.toml-missing"),
    pytest.param(
        edit("podcast.toml", 'title = "My Research Podcast"', 'title = "My Research Podcast'),
        ("podcast.toml", "line 4"),
        id="podcast.toml-malformed",
    ),
    pytest.param(
        edit("podcast.toml", "\ntitle = ", '\ntitel = "x"\ntitle = '),
        ("podcast.toml", "'titel'"),
        id="podcast.toml-unknown-key",
    ),
    pytest.param(
        edit("podcast.toml", AUDIO, AUDIO + "bitrat = 96\n"),
        ("podcast.toml", "[audio]", "'bitrat'"),
        id="podcast.toml-unknown-key-in-table",
    ),
    pytest.param(
        edit("podcast.toml", AUDIO, AUDIO + "line_pause = -1.0\n"),
        ("podcast.toml", "[audio]", "line_pause", "0..10"),
        id="podcast.toml-negative-pause",
    ),
    pytest.param(
        edit("podcast.toml", AUDIO, AUDIO + "sentence_pause = 1e9\n"),
        ("podcast.toml", "[audio]", "sentence_pause", "0..10"),
        id="podcast.toml-huge-pause",
    ),
    pytest.param(
        edit("podcast.toml", AUDIO, AUDIO + "section_pause = nan\n"),
        ("podcast.toml", "[audio]", "section_pause"),
        id="podcast.toml-nan-pause",
    ),
    pytest.param(
        edit("podcast.toml", AUDIO, AUDIO + 'bitrate = "96"\n'),
        ("podcast.toml", "[audio]", "bitrate", "integer"),
        id="podcast.toml-wrong-type",
    ),
    pytest.param(
        edit("podcast.toml", "\ntitle = ", '\nexplicit = "no"\ntitle = '),
        ("podcast.toml", "explicit"),
        id="podcast.toml-wrong-type-bool",
    ),
    pytest.param(
        edit("podcast.toml", '"https://podcast.papercast.dev/"', '"podcast/"'),
        ("podcast.toml", "base_url"),
        id="base_url-relative",
    ),
    pytest.param(
        edit("podcast.toml", '"https://podcast.papercast.dev/"', '"ftp://podcast.papercast.dev/"'),
        ("podcast.toml", "base_url"),
        id="base_url-not-http",
    ),
    pytest.param(
        edit("podcast.toml", '"host@papercast.dev"', '"host at papercast.dev"'),
        ("podcast.toml", "email"),
        id="email-invalid",
    ),
    pytest.param(
        edit("podcast.toml", '# category = "Technology"', 'category = "Tech"'),
        ("podcast.toml", "category", "'Tech'"),
        id="category-unknown",
    ),
    pytest.param(
        edit("podcast.toml", '# subcategory = ""', 'subcategory = "Physics"'),
        ("podcast.toml", "subcategory", "'Physics'"),
        id="subcategory-not-of-category",
    ),
    pytest.param(
        edit("voices/cohost.toml", 'name = "Ava"', 'name = "Ava"\npitch = 1.2'),
        ("cohost.toml", "'pitch'"),
        id="voice-unknown-key",
    ),
    pytest.param(
        edit("voices/host.toml", 'engine = "piper"', 'engine = "nosuchengine"'),
        ("host.toml", "nosuchengine"),
        id="voice-unknown-engine",
    ),
    pytest.param(
        edit("voices/host.toml", "# speed = 1.0", 'speed = "fast"'),
        ("host.toml", "speed"),
        id="voice-wrong-type",
    ),
    pytest.param(
        edit("voices/host.toml", "# speed = 1.0", "speed = 2.5"),
        ("host.toml", "speed", "0.5 and 2.0"),
        id="voice-speed-out-of-range",
    ),
    pytest.param(
        edit("voices/host.toml", "# speed = 1.0", 'speaker = "ada"'),
        ("host.toml", "piper", "'speaker'"),
        id="voice-key-of-another-engine",
    ),
    pytest.param(
        edit("voices/host.toml", 'engine = "piper"', 'engine = "openai"\nmodel = 1'),
        ("host.toml", "model", "a string"),
        id="voice-engine-key-wrong-type",
    ),
]


@pytest.mark.parametrize(("breaker", "names"), SHOW_CONFIG_ERRORS)
def test_show_config_error_stops_publish(
    show: Path, run_cli: RunCli, breaker: Breaker, names: tuple[str, ...]
) -> None:
    breaker(show)
    fails_cleanly(show, run_cli, PUBLISH, names)


@pytest.mark.parametrize(
    ("breaker", "names"),
    [p for p in SHOW_CONFIG_ERRORS if p.id in ("podcast.toml-malformed", "voice-unknown-engine")],
)
def test_show_config_error_stops_build(
    show: Path, run_cli: RunCli, breaker: Breaker, names: tuple[str, ...]
) -> None:
    # build loads the show with publish's loader (each case costs build's slow imports, so two suffice).
    breaker(show)
    fails_cleanly(show, run_cli, BUILD, names)


# -- episode.toml and summaries/ ---------------------------------------------------------------------

EPISODE_TOML = f"{EPISODE}/episode.toml"
EPISODE_ERRORS = [
    pytest.param(delete(EPISODE_TOML), ("episode.toml", "not found"), id="episode.toml-missing"),
    pytest.param(
        edit(EPISODE_TOML, "date = 2024-05-10", "date = 2024-05-10 10"),
        ("episode.toml", "line 2"),
        id="episode.toml-malformed",
    ),
    pytest.param(
        edit(EPISODE_TOML, "\ndate = ", '\nsubtitle = "x"\ndate = '),
        ("episode.toml", "'subtitle'"),
        id="episode.toml-unknown-key",
    ),
    pytest.param(
        edit(EPISODE_TOML, "\nabstract = ", "\nabstrct = "),
        ("episode.toml", "'abstrct'"),
        id="episode.toml-unknown-key-in-paper",
    ),
    pytest.param(
        edit(EPISODE_TOML, "date = 2024-05-10", 'date = "next friday"'),
        ("episode.toml", "date", "2024-05-10"),
        id="episode.toml-wrong-type",
    ),
    pytest.param(
        write(EPISODE_TOML, 'title = "Nothing yet"\ndate = 2024-05-10\n'),
        ("episode.toml", "[[papers]]"),
        id="episode.toml-no-papers",
    ),
    pytest.param(write(SUMMARY, ""), ("2405.04517.md", "empty"), id="summary-emptied"),
    pytest.param(
        write(SUMMARY, "# xLSTM: Extended Long Short-Term Memory\n<https://arxiv.org/abs/2405.04517>\n"),
        ("2405.04517.md", "empty"),
        id="summary-only-heading",
    ),
]


@pytest.mark.parametrize(("breaker", "names"), EPISODE_ERRORS)
def test_episode_error_stops_build(
    show: Path, run_cli: RunCli, breaker: Breaker, names: tuple[str, ...]
) -> None:
    breaker(show)
    fails_cleanly(show, run_cli, BUILD, names)


def test_build_error_is_one_line_on_stderr(show: Path, run_cli: RunCli) -> None:
    write(SUMMARY, "")(show)
    result = run_cli(show, *BUILD)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), repr(result.stderr)


def test_an_error_quoting_outside_text_sends_no_escape_to_the_terminal(show: Path, run_cli: RunCli) -> None:
    result = run_cli(show, "build", "episodes/x\x1b[2J\x07")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "episodes/x[2J" in result.stderr
    assert not any(c in result.stderr for c in "\x1b\x07"), repr(result.stderr)


# -- unknown voices: found only when the engine loads, in the middle of a build ----------------------


@pytest.fixture(scope="module", params=["hibari", "piper"])
def unknown_voice(
    request: pytest.FixtureRequest,
    built_show: Path,
    tmp_path_factory: pytest.TempPathFactory,
    run_cli: RunCli,
) -> tuple[subprocess.CompletedProcess[str], bool]:
    """`podcast build` with voices/cohost.toml asking `engine` for a voice it does not have, run once
    per engine: (the result, whether the build and the site stayed as they were)."""
    show = Path(shutil.copytree(built_show, tmp_path_factory.mktemp(request.param) / "show", symlinks=True))
    (show / "voices" / "cohost.toml").write_text(
        f'engine = "{request.param}"\nvoice = "nosuchvoice"\n', "utf-8"
    )
    before = outputs(show)
    result = run_cli(show, *BUILD)
    return result, outputs(show) == before


def test_unknown_voice_fails_cleanly(unknown_voice: tuple[subprocess.CompletedProcess[str], bool]) -> None:
    result, unchanged = unknown_voice
    assert "'nosuchvoice'" in error_line(result)
    assert unchanged


def test_unknown_voice_error_names_the_file(
    unknown_voice: tuple[subprocess.CompletedProcess[str], bool],
) -> None:
    result, _ = unknown_voice
    assert "cohost.toml" in error_line(result)


# -- podcast new --from-newsletter -------------------------------------------------------------------


def test_new_from_newsletter_without_headings(show: Path, run_cli: RunCli) -> None:
    (show / "issue-12.md").write_text("Just some prose.\n\nNo paper headings at all.\n", "utf-8")
    line = fails_cleanly(
        show, run_cli, ("new", "episodes/issue-12", "--from-newsletter", "issue-12.md"), ("issue-12.md", "#")
    )
    assert "heading" in line
    assert sorted(p.name for p in (show / "episodes").iterdir()) == ["first-week"]


def test_new_from_newsletter_with_empty_summary(show: Path, run_cli: RunCli) -> None:
    letter = NEWSLETTER.replace("The LSTM, scaled up with exponential gating.\n", "")
    (show / "issue-12.md").write_text(letter, "utf-8")
    fails_cleanly(
        show,
        run_cli,
        ("new", "episodes/issue-12", "--from-newsletter", "issue-12.md"),
        ("issue-12.md", "xLSTM: Extended Long Short-Term Memory", "empty summary"),
    )
    assert sorted(p.name for p in (show / "episodes").iterdir()) == ["first-week"]


def test_new_into_existing_episode_folder(show: Path, run_cli: RunCli) -> None:
    (show / "issue-12.md").write_text(NEWSLETTER, "utf-8")
    folder = show / EPISODE
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    fails_cleanly(
        show,
        run_cli,
        ("new", str(EPISODE), "--from-newsletter", "issue-12.md"),
        ("first-week", "already exists"),
    )
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


# -- publish into a folder it cannot write -----------------------------------------------------------


def test_publish_site_under_a_regular_file(show: Path, run_cli: RunCli) -> None:
    (show / "site").write_text("not a folder\n", "utf-8")
    fails_cleanly(show, run_cli, ("publish", "--site", "site/public"), ("site/public",))
    assert (show / "site").read_text("utf-8") == "not a folder\n"


def test_publish_site_is_a_regular_file(show: Path, run_cli: RunCli) -> None:
    (show / "site").write_text("not a folder\n", "utf-8")
    fails_cleanly(show, run_cli, ("publish", "--site", "site"), ("site", "not a folder"))
    assert (show / "site").read_text("utf-8") == "not a folder\n"


def _no_writes_over(limit: int) -> Callable[[], None]:
    """For a child process: files can grow to `limit` bytes, no more, as on a full disk. Root is held
    to it too (unlike a folder's mode bits); the write fails with EFBIG instead of a SIGXFSZ kill."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_publish_where_a_file_stands_in_place_of_an_episode_folder(show: Path, run_cli: RunCli) -> None:
    """A site it cannot write into, in a way root cannot bypass: the new episode's folder is taken."""
    add_episode(show, "second-week")
    (show / "public" / "episodes" / "second-week").write_text("not a folder\n", "utf-8")
    fails_cleanly(show, run_cli, PUBLISH, ("second-week",))
    assert (show / "public" / "episodes" / "second-week").read_text("utf-8") == "not a folder\n"


def test_publish_on_a_full_disk(show: Path) -> None:
    """Every file the publish writes stops at 16 kB, as on a full disk, root included."""
    add_episode(show, "second-week")
    before = outputs(show)
    result = subprocess.run([sys.executable, "-m", "podcast", "publish"], cwd=show, capture_output=True,
                            text=True, timeout=300, check=False, preexec_fn=_no_writes_over(16_000))
    assert "File too large" in error_line(result)
    assert outputs(show) == before


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into read-only folders; the two tests above fail writes as root too"
)
def test_publish_into_read_only_folder(show: Path, run_cli: RunCli) -> None:
    site = show / "readonly"
    site.mkdir(mode=0o555)
    try:
        fails_cleanly(show, run_cli, ("publish", "--site", "readonly"), ("readonly",))
        assert list(site.iterdir()) == []
    finally:
        site.chmod(0o755)


# -- unusual but valid text builds -------------------------------------------------------------------


def test_emoji_in_a_summary_builds(show: Path, run_cli: RunCli) -> None:
    write(SUMMARY, "# xLSTM\n\nThe model 🚀 beats every baseline 🎉🔥. The results look great 👍.\n")(show)
    build = builds_playable(show, run_cli)
    assert "The model beats every baseline." in (build / "transcript.vtt").read_text("utf-8")
    assert "🚀" in (build / "newsletter.md").read_text("utf-8")


def test_cjk_and_arabic_in_a_summary_builds(show: Path, run_cli: RunCli) -> None:
    write(SUMMARY, "# xLSTM\n\n这个模型比变换器更好。 النموذج أفضل من المحولات. The model is strong.\n")(show)
    build = builds_playable(show, run_cli)
    # The voices speak English: the other scripts are left out of the audio but kept in the newsletter.
    assert "The model is strong." in (build / "transcript.vtt").read_text("utf-8")
    letter = (build / "newsletter.md").read_text("utf-8")
    assert "这个模型比变换器更好" in letter and "النموذج أفضل من المحولات" in letter


def test_huge_unpunctuated_abstract_builds(show: Path, run_cli: RunCli) -> None:
    words = ("the", "gated", "memory", "learns", "long", "range", "structure", "from", "matrix", "tokens")
    paragraph = " ".join(words[i * 7 % len(words)] for i in range(3000))
    toml = show / EPISODE_TOML
    text, n = re.subn(
        r'abstract = """.*?"""', f'abstract = """{paragraph}"""', toml.read_text("utf-8"), flags=re.S
    )
    assert n == 1
    toml.write_text(text, "utf-8")
    build = builds_playable(show, run_cli)
    # The summarizer cuts an abstract with no sentence ends at its word budget instead of reading it all.
    summary = (show / SUMMARY).read_text("utf-8")
    assert 50 < len(summary.split()) < 300
    assert max(len(cue) for cue in (build / "transcript.vtt").read_text("utf-8").split("\n\n")) < 400


def test_summary_of_only_punctuation_is_an_error(show: Path, run_cli: RunCli) -> None:
    # Nothing in it can be spoken, so to a listener it is an empty summary: the same error helps most.
    write(SUMMARY, "# xLSTM\n\n... !!! ??? -- ; : ...\n")(show)
    fails_cleanly(show, run_cli, BUILD, ("2405.04517.md",))
