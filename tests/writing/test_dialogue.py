"""The duo format's exchanges between the hosts, written by an LLM on a fake OpenAI-compatible server on
127.0.0.1: when they are used, what the model is asked, how invalid answers are retried, the cache,
and what a build writes (script.md, transcripts with both speakers' names)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import RunCli
from fakes.openai_chat import KEY, FakeOpenAI, completion
from support.shows import ONE_PAPER_EPISODE

from podcast.build import script_stage
from podcast.cache import key
from podcast.config import load_episode, load_show
from podcast.edits import Generated
from podcast.errors import ConfigError, EngineError
from podcast.models import Summary
from podcast.research.sources import papers_of
from podcast.scaffold import TEMPLATE
from podcast.writing.dialogue import DIALOGUE_TRIES, parse_turns, read_dialogue_prompt

TITLE = "xLSTM: Extended Long Short-Term Memory"
SUMMARY = "The authors give the LSTM exponential gates and a matrix memory. It rivals Transformers."
TURNS = [
    {"speaker": "cohost", "text": "They rebuilt the LSTM."},
    {"speaker": "host", "text": "What changed inside it?"},
    {"speaker": "cohost", "text": "Exponential gates, and a matrix memory."},
    {"speaker": "host", "text": "And does it keep up?"},
]
GOOD = json.dumps(TURNS)
LLM_SETTINGS = '[summarizer]\nengine = "openai"\nmodel = "test-model"\nretry_wait = 0.001\ntimeout = 10.0\n'


def with_turn(**change: str) -> str:
    """GOOD with its second turn changed."""
    turns = [dict(t) for t in TURNS]
    turns[1].update(change)
    return json.dumps(turns)


def set_toml(root: Path, old: str, new: str) -> None:
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    assert old in text
    toml.write_text(text.replace(old, new, 1), "utf-8")


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """`podcast init`'s show (no music, nothing built) with one short paper and a fast LLM set-up."""
    root = Path(shutil.copytree(TEMPLATE, tmp_path / "show"))
    set_toml(root, "[summarizer]\n", LLM_SETTINGS)
    (root / "episodes" / "first-week" / "episode.toml").write_text(ONE_PAPER_EPISODE, "utf-8")
    return root


def write_script_md(root: Path) -> tuple[str, list[str]]:
    """The build's script stage with a given summary: (script.md, log lines)."""
    cfg = load_show(root)
    folder = root / "episodes" / "first-week"
    ep = load_episode(folder)
    summaries = [Summary(p, SUMMARY) for p in papers_of(ep, folder)]
    gen = Generated(folder)
    log: list[str] = []
    script_stage(folder, ep, summaries, cfg, gen, log.append)
    gen.save()
    return (folder / "script.md").read_text("utf-8"), log


def paper_lines(script_md: str) -> list[str]:
    section = script_md.split(f"## Paper: {TITLE}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line and not line.startswith("<")]


# --- when the exchange is used ---------------------------------------------------------------------


def test_dialogue_defaults_to_duo_with_the_llm_summarizer(monkeypatch: pytest.MonkeyPatch, starter: Path) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert load_show(starter).dialogue is True  # the show opted into the LLM: "auto" is on
    set_toml(starter, 'engine = "openai"\n', "")
    assert load_show(starter).dialogue is False  # extractive summaries, whatever the environment
    set_toml(starter, "[summarizer]\n", '[summarizer]\nengine = "openai"\n')
    set_toml(starter, '# format = "duo"', 'format = "solo"')
    assert load_show(starter).dialogue is False
    set_toml(starter, "[script]\n", '[script]\ndialogue = "on"\n')
    with pytest.raises(ConfigError, match=r'\[script\]: dialogue = "on" needs two hosts'):
        load_show(starter)
    set_toml(starter, 'format = "solo"', 'format = "duo"')
    set_toml(starter, 'dialogue = "on"', 'dialogue = "off"')
    assert load_show(starter).dialogue is False
    set_toml(starter, 'dialogue = "off"', 'dialogue = "maybe"')
    with pytest.raises(ConfigError, match=r'\[script\]: dialogue must be "auto", "on" or "off"'):
        load_show(starter)


def test_without_an_llm_the_duo_script_is_the_reading_format(
    monkeypatch: pytest.MonkeyPatch, starter: Path
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    set_toml(starter, 'engine = "openai"\n', "")
    script_md, log = write_script_md(starter)
    assert paper_lines(script_md) == [
        f"host: First up: {TITLE}, by Maximilian Beck and Sepp Hochreiter.",
        f"cohost: {SUMMARY}",
    ]
    assert "Ava will read the summaries" in script_md and log == []


def test_dialogue_off_reads_the_summary_even_with_an_llm(openai_chat: FakeOpenAI, starter: Path) -> None:
    set_toml(starter, "[script]\n", '[script]\ndialogue = "off"\n')
    script_md, _ = write_script_md(starter)
    assert paper_lines(script_md)[1:] == [f"cohost: {SUMMARY}"] and openai_chat.requests == []


# --- what is asked, and what comes of the answer ---------------------------------------------------


def test_the_exchange_is_written_under_the_papers_heading_and_cached(openai_chat: FakeOpenAI, starter: Path) -> None:
    openai_chat.script(completion(GOOD, prompt_tokens=400, completion_tokens=80))
    script_md, log = write_script_md(starter)
    assert paper_lines(script_md) == [
        f"host: First up: {TITLE}, by Maximilian Beck and Sepp Hochreiter.",
        *(f"{t['speaker']}: {t['text']}" for t in TURNS),
    ]
    assert "I'm Joe, and with me is Ava." in script_md
    assert log == ["dialogue tokens: 400 in, 80 out (1 request)", "  2405.04517: 400 in, 80 out"]
    (chat,) = openai_chat.chats
    assert chat.body["model"] == "test-model"
    assert "Joe (the host) and Ava (the co-host)" in chat.system and "{host}" not in chat.system
    assert f"Title: {TITLE}" in chat.user and SUMMARY in chat.user

    (starter / "episodes" / "first-week" / "script.md").unlink()  # regenerated from .cache/llm, free
    again, log = write_script_md(starter)
    assert again == script_md and len(openai_chat.chats) == 1
    assert log[0] == "dialogue tokens: 0 in, 0 out (0 requests; 1 answer from the cache, not paid again)"

    # Keyed and stored as before podcast/llm.py existed: an exchange cached by an earlier version hits.
    digest = key("dialogue", openai_chat.url, "test-model", 0.3, chat.system, chat.user)
    entry = starter / ".cache" / "llm" / digest[:2] / f"{digest}.json"
    assert json.loads(entry.read_text("utf-8"))["text"] == GOOD
    old = with_turn(text="Did it keep up?")
    record = {"text": old, "prompt_tokens": 390, "completion_tokens": 75}
    entry.write_text(json.dumps(record, ensure_ascii=False), "utf-8")  # the old, compact format
    (starter / "episodes" / "first-week" / "script.md").unlink()
    earlier, _ = write_script_md(starter)
    assert "host: Did it keep up?" in paper_lines(earlier) and len(openai_chat.chats) == 1


def test_a_prompt_file_of_the_show_replaces_the_default(openai_chat: FakeOpenAI, starter: Path) -> None:
    set_toml(starter, "[script]\n", '[script]\nprompt = "two.md"\n')
    with pytest.raises(ConfigError, match=r"\[script\]: prompt 'two\.md' not found"):
        load_show(starter)
    (starter / "two.md").write_text("{host} asks, {cohost} answers, in JSON.\n", "utf-8")
    openai_chat.script(completion(GOOD))
    write_script_md(starter)
    assert openai_chat.chats[0].system == "Joe asks, Ava answers, in JSON."


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (with_turn(speaker="narrator"), "turn 2: speaker 'narrator' is not \"host\" or \"cohost\""),
        (with_turn(text="[laughs] What changed?"), "turn 2 has a bracketed stage direction"),
        (with_turn(text="Well (pause) what changed?"), "turn 2 has a stage direction in parentheses"),
        (with_turn(text="Host: What changed?"), "turn 2 starts with a speaker label (Host:)"),
        (with_turn(text="Joe: What changed?"), "turn 2 starts with a speaker label (Joe:)"),
        (with_turn(text="What **changed**?"), "turn 2 has Markdown"),
        (with_turn(text="What <emphasis>changed</emphasis>?"), "turn 2 has a tag"),
        (with_turn(text="   "), "turn 2: the text is empty"),
        (GOOD[:-3], "the answer is not valid JSON"),
        ('{"speaker": "host", "text": "Hi."}', "the answer must be a JSON list of turns"),
        (json.dumps([t for t in TURNS if t["speaker"] == "host"]), "only the host speaks"),
    ],
)
def test_an_invalid_answer_is_asked_again_saying_what_was_wrong(
    openai_chat: FakeOpenAI, starter: Path, answer: str, reason: str
) -> None:
    openai_chat.script(completion(answer), completion(f"```json\n{GOOD}\n```"))
    script_md, _ = write_script_md(starter)
    first, retry = openai_chat.chats
    messages = retry.body["messages"]
    assert messages[:2] == first.body["messages"]
    assert messages[2] == {"role": "assistant", "content": answer}
    assert messages[3]["role"] == "user" and f"That answer was rejected: {reason}" in messages[3]["content"]
    assert paper_lines(script_md)[1:] == [f"{t['speaker']}: {t['text']}" for t in TURNS]


def test_the_validator_accepts_plain_speech() -> None:
    turns = parse_turns(
        json.dumps([{"speaker": "cohost", "text": "It uses a mixture of experts (MoE), 236B in all."},
                    {"speaker": "host", "text": "Joe here: that is big."}]),
        ["Ava"],
    )
    assert [t.speaker for t in turns] == ["cohost", "host"]
    assert "{host}" in read_dialogue_prompt("") and "JSON" in read_dialogue_prompt("")


def test_after_the_last_try_the_error_names_the_paper(openai_chat: FakeOpenAI, starter: Path) -> None:
    openai_chat.script(*[completion(with_turn(speaker="narrator"))] * DIALOGUE_TRIES)
    with pytest.raises(EngineError) as caught:
        write_script_md(starter)
    message = str(caught.value)
    assert "\n" not in message and "'2405.04517' ('xLSTM: Extended Long Short-Term Memory')" in message
    assert f"in {DIALOGUE_TRIES} tries (last: turn 2: speaker 'narrator'" in message
    assert not (starter / "episodes" / "first-week" / "script.md").exists()


# --- the command ------------------------------------------------------------------------------------


def build_with_llm(show: Path) -> Path:
    set_toml(show, "[summarizer]\n", LLM_SETTINGS)
    return show / "episodes" / "first-week"


def test_podcast_build_gives_each_host_their_turns_in_the_transcript(
    openai_chat: FakeOpenAI, show: Path, run_cli: RunCli
) -> None:
    episode = build_with_llm(show)
    openai_chat.script(completion(SUMMARY), completion(GOOD, prompt_tokens=300, completion_tokens=70))
    run = run_cli(show, "build", "episodes/first-week")
    assert run.returncode == 0, run.stderr
    assert "dialogue tokens: 300 in, 70 out (1 request)" in run.stdout + run.stderr
    assert paper_lines((episode / "script.md").read_text("utf-8"))[1:] == [
        f"{t['speaker']}: {t['text']}" for t in TURNS
    ]
    vtt = (episode / "build" / "transcript.vtt").read_text("utf-8")
    names = {"host": "Joe", "cohost": "Ava"}
    for turn in TURNS:
        assert f"<v {names[turn['speaker']]}>{turn['text']}" in vtt, turn
    assert SUMMARY not in vtt  # nobody reads the summary out any more
    assert KEY not in run.stdout + run.stderr and openai_chat.unused == 0


def test_podcast_build_stops_on_answers_that_stay_invalid_leaving_the_episode_as_it_was(
    openai_chat: FakeOpenAI, show: Path, run_cli: RunCli
) -> None:
    episode = build_with_llm(show)
    before = {p: p.read_bytes() for p in [episode / "script.md", *(episode / "build").iterdir()]}
    openai_chat.script(completion(SUMMARY), *[completion("Sure! Here is the dialogue.")] * DIALOGUE_TRIES)
    run = run_cli(show, "build", "episodes/first-week")
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr
    assert re.search(r"no valid dialogue for paper '2405\.04517' \('xLSTM", errors[0])
    assert "not valid JSON" in errors[0]
    assert {p: p.read_bytes() for p in before} == before
    assert sorted((episode / "build").iterdir()) == sorted(p for p in before if p.parent.name == "build")
    assert openai_chat.unused == 0 and len(openai_chat.chats) == 1 + DIALOGUE_TRIES
