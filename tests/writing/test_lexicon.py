"""The pronunciation lexicon: voices/lexicon.toml read strictly, applied whole-word and case-aware to
what each voice receives, never to what transcripts show."""

from __future__ import annotations

import filecmp
import io
from pathlib import Path

import numpy as np
import pytest

from podcast import cache as cachemod
from podcast.audio.render import SectionJob, render
from podcast.config import load_show
from podcast.errors import ConfigError
from podcast.models import Line, Script, Section, VoiceProfile
from podcast.scaffold import init_show
from podcast.settings import AudioSettings
from podcast.writing.lexicon import Lexicon, load_lexicon, parse_lexicon

ROOT = Path(__file__).resolve().parents[2]
SHOW_LEXICON = ROOT / "voices" / "lexicon.toml"
PROFILES = {
    "host": VoiceProfile("host", "Joe", "piper", "joe"),
    "cohost": VoiceProfile("cohost", "Ava", "hibari", "heart"),
}


# -- the shipped lexicon ---------------------------------------------------------------------------


def test_the_show_lexicon_parses_and_init_ships_the_same_file() -> None:
    lexicon = load_lexicon(SHOW_LEXICON)
    assert len(lexicon) >= 150
    assert filecmp.cmp(
        SHOW_LEXICON, ROOT / "podcast" / "data" / "init" / "voices" / "lexicon.toml", shallow=False
    )
    terms = {e.key for e in lexicon.entries}
    assert {"arXiv", "LLaMA", "LoRA"} <= terms
    # Each entry is there because a voice got the word wrong: none respells a word to itself.
    for engine in ("piper", "hibari"):
        assert all(
            lexicon.apply(f"We use {e.key} here.", engine) != f"We use {e.key} here."
            for e in lexicon.entries
            if e.text_for(engine) and not e.pattern
        )


def test_a_show_loads_its_lexicon_and_init_gives_one(tmp_path: Path) -> None:
    root = init_show(tmp_path / "show")
    cfg = load_show(root)
    assert len(cfg.lexicon) >= 150
    assert cfg.lexicon.apply("Posted on arXiv today.", "piper") == "Posted on archive today."
    (root / "voices" / "lexicon.toml").unlink()
    assert len(load_show(root).lexicon) == 0  # optional: no file, no respelling


def test_a_bad_lexicon_stops_loading_the_show_naming_file_and_line(tmp_path: Path) -> None:
    root = init_show(tmp_path / "show")
    (root / "voices" / "lexicon.toml").write_text('[terms]\n"arXiv" = "archive"\n"LoRA" = 3\n', "utf-8")
    with pytest.raises(ConfigError, match=r"voices/lexicon.toml:3: \"LoRA\" must be a respelling string"):
        load_show(root)


# -- reading it strictly ---------------------------------------------------------------------------

BAD = [
    ('[term]\n"a" = "b"\n', 1, "unknown table [term]; allowed: terms, patterns"),
    ('[terms]\n"ok" = "fine"\n\n"LoRA" = ""\n', 4, '"LoRA" has an empty pronunciation'),
    ('[terms]\n"LoRA" = ["lora"]\n', 2, '"LoRA" must be a respelling string or a table, not list'),
    ('[terms]\n"Xu" = { default = "shoo", ignore_case = "yes" }\n', 2, "ignore_case must be true or false"),
    (
        '[terms]\n"a" = "b"\n[terms."SwiGLU"]\ndefault = "swee glue"\npipr = "x"\n',
        5,
        "unknown key 'pipr'; allowed: default,",
    ),
    ('[terms]\n"Xu" = { ignore_case = true }\n', 2, '"Xu" gives no pronunciation'),
    ('[terms]\n"SwiGLU" = "[[swˈiːɡluː]]"\n', 2, "default = '[[swˈiːɡluː]]' is in piper's phoneme syntax"),
    ('[terms]\n"SwiGLU" = { piper = "[SwiGLU](/swˈiɡlu/)" }\n', 2, "is in hibari's phoneme syntax"),
    ("[patterns]\n'GPT-(\\d' = 'G P T'\n", 2, "not a valid regular expression"),
    ("[patterns]\n'GPT-(\\d)o' = 'G P T \\2 oh'\n", 2, "invalid group reference 2"),
    ("[patterns]\n'x*' = 'ex'\n", 2, "matches empty text"),
    ('[terms]\n"a" = "b"\n"a" = "c"\n', 3, "not valid TOML (Cannot overwrite a value (at line 3"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_bad_entries_name_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_lexicon(text, "voices/lexicon.toml")
    said = str(e.value)
    assert message in said
    assert said.startswith(f"voices/lexicon.toml:{line}: ") or f"at line {line}" in said


def test_a_lexicon_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_bytes(b'[terms]\n"caf\xe9" = "cafe"\n')
    with pytest.raises(ConfigError, match=r"lexicon\.toml: cannot read it"):
        load_lexicon(path)


# -- applying it -----------------------------------------------------------------------------------

LEXICON = r"""
[terms]
"arXiv" = "archive"
"GPT" = "G P T"
"GPT-4o" = "G P T four oh"
"Xu" = { default = "shoo", ignore_case = true }
"logit" = "lowjit"
"A" = "B"
"B" = "C"
"Fei-Fei Li" = "fay fay lee"

[terms."SwiGLU"]
default = "swee glue"
piper = "[[swˈiːɡluː]]"

[terms."Qwen"]
hibari = "kwen"

[patterns]
'LLaMA[- ]?(\d)' = 'llama \1'
'(\d+)x(\d+)B' = '\1 by \2 B'
"""

APPLIED = [
    # whole words only, never inside another word; punctuation and hyphens are word boundaries
    ("piper", "Posted on arXiv.", "Posted on archive."),
    ("piper", "An arXiver, a prearXiv and arXivs.", "An arXiver, a prearXiv and arXivs."),
    ("piper", "(arXiv), pre-arXiv, arXiv's.", "(archive), pre-archive, archive's."),
    # exact case by default; an entry may ignore case
    ("piper", "ARXIV and arxiv.", "ARXIV and arxiv."),
    ("piper", "Xu, XU and xu.", "shoo, shoo and shoo."),
    ("piper", "Xue and Xuan.", "Xue and Xuan."),
    # an all-lowercase term also matches at a sentence start, nothing else does
    ("piper", "Logit and logit.", "lowjit and lowjit."),
    ("piper", "LOGIT.", "LOGIT."),
    # the normalized form of a term is found too, and the longest entry wins where several start
    ("piper", "GPT 4o beats GPT.", "G P T four oh beats G P T."),
    ("piper", "GPT-4o beats GPT.", "G P T four oh beats G P T."),
    # one pass: a respelling is never respelled again
    ("piper", "A then B.", "B then C."),
    # several words
    ("piper", "Ask Fei-Fei Li.", "Ask fay fay lee."),
    # per engine: piper's own phonemes, others the default; an entry only for hibari leaves piper alone
    ("piper", "SwiGLU and Qwen.", "[[swˈiːɡluː]] and Qwen."),
    ("hibari", "SwiGLU and Qwen.", "swee glue and kwen."),
    ("openai", "SwiGLU and Qwen.", "swee glue and Qwen."),
    # patterns, with groups, whole-word too
    ("hibari", "LLaMA 2 and LLaMA-3 and LLaMA2.", "llama 2 and llama 3 and llama 2."),
    ("hibari", "Mixtral 8x7B, not 8x7Bs.", "Mixtral 8 by 7 B, not 8x7Bs."),
    ("hibari", "Nothing to say here.", "Nothing to say here."),
]


@pytest.mark.parametrize(("engine", "text", "expected"), APPLIED)
def test_application_is_whole_word_and_case_aware(engine: str, text: str, expected: str) -> None:
    assert parse_lexicon(LEXICON).apply(text, engine) == expected


def test_an_empty_lexicon_changes_nothing() -> None:
    assert Lexicon().apply("We read arXiv.", "piper") == "We read arXiv."


# -- in the render path ----------------------------------------------------------------------------


def _job(lexicon: Lexicon, tmp_path: Path, *lines: Line) -> SectionJob:
    section = Section("paper", "A paper", lines)
    return SectionJob(0, section, PROFILES, AudioSettings(), tmp_path, 0.0, None, lexicon=lexicon)


def test_each_voice_receives_its_respelling_and_transcripts_keep_the_words(tmp_path: Path) -> None:
    host = Line("host", "Today: SwiGLU on **arXiv**, by Xu.")
    cohost = Line("cohost", "We read arXiv. SwiGLU wins.")
    job = _job(parse_lexicon(LEXICON), tmp_path, host, cohost)
    assert job.line_sentences() == [
        (host, ["Today: [[swˈiːɡluː]] on archive, by shoo."]),
        (cohost, ["We read archive.", "swee glue wins."]),
    ]
    assert job.written_sentences(host) == ["Today: SwiGLU on arXiv, by Xu."]
    assert job.written_sentences(cohost) == ["We read arXiv.", "SwiGLU wins."]


def test_the_cache_keys_change_when_an_entry_for_that_voice_changes(tmp_path: Path) -> None:
    host, cohost = Line("host", "Posted on arXiv."), Line("cohost", "Posted on arXiv.")

    def keys(toml: str) -> tuple[str, str, list[str]]:
        job = _job(parse_lexicon(toml), tmp_path, host, cohost)
        (_, h), (_, c) = job.line_sentences()
        return job.line_key(host, h), job.line_key(cohost, c), [job.chunk_key(p) for p in job.parts()]

    base = keys('[terms]\n"arXiv" = "archive"\n')
    assert keys('[terms]\n"arXiv" = "archive"\n') == base  # stable
    changed = keys('[terms]\n"arXiv" = "ar kive"\n')
    assert changed[0] != base[0] and changed[1] != base[1] and changed[2] != base[2]
    only_piper = keys('[terms]\n"arXiv" = { default = "archive", piper = "ar kive" }\n')
    assert only_piper[0] == changed[0] and only_piper[1] == base[1]  # hibari's line is reused
    # Without a lexicon the keys are what they were before lexicons existed.
    none = _job(Lexicon(), tmp_path, host, cohost)
    assert [none.chunk_key(p) for p in none.parts()] == keys('[terms]\n"LoRA" = "lora"\n')[2]


def test_render_sends_the_respelling_to_the_voice_and_keeps_the_written_text(tmp_path: Path) -> None:
    """hibari is seeded, so the cached line is bit for bit the voice saying the respelled sentence."""
    from podcast.tts import get_engine

    lexicon = parse_lexicon('[terms]\n"LLaMA" = "llama"\n')
    script = Script((Section("intro", "Intro", (Line("cohost", "We tuned LLaMA."),)),))
    rendering = render(script, PROFILES, AudioSettings(), tmp_path, workers=1, lexicon=lexicon)
    assert [s.text for s in rendering.sentences()] == ["We tuned LLaMA."]
    assert rendering.sections[0].synthesized == 1

    job = _job(lexicon, tmp_path, Line("cohost", "We tuned LLaMA."))
    ((line, sentences),) = job.line_sentences()
    assert sentences == ["We tuned llama."]
    stored = cachemod.Cache(tmp_path).get("line", job.line_key(line, sentences), ".npz")
    assert stored is not None
    with np.load(io.BytesIO(stored)) as z:
        cached = z["audio"]
    voice = get_engine("hibari")("heart")
    said = (np.clip(voice.speak("We tuned llama."), -1, 1) * 32767).astype("<i2")
    assert np.array_equal(cached, said)
    assert not np.array_equal(
        cached[: len(said)], (voice.speak("We tuned LLaMA.") * 32767).astype("<i2")[: len(cached)]
    )

    # The same lexicon again: nothing is synthesized. A changed entry: the line is said anew.
    again = render(script, PROFILES, AudioSettings(), tmp_path, workers=1, lexicon=lexicon)
    assert again.sections[0].synthesized == 0
    changed = parse_lexicon('[terms]\n"LLaMA" = "lah ma"\n')
    anew = render(script, PROFILES, AudioSettings(), tmp_path, workers=1, lexicon=changed)
    assert anew.sections[0].synthesized == 1
    assert [s.text for s in anew.sentences()] == ["We tuned LLaMA."]


# -- heard end to end (when the recognizer is installed: pip install pocketsphinx) -----------------

# The carrier fixes the words around the slot; the slot is the intended pronunciation (one word) or
# any run of phones, so a voice that says the term otherwise is heard as those phones.
HEARD = [("LLaMA", "L AA M AH"), ("Xu", "SH UW"), ("Qwen", "K W EH N")]
PHONES = "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH"


def _heard_as_intended(decoder: object, audio: np.ndarray, rate: int, intended: str) -> bool:
    from scipy.signal import resample_poly

    pad = np.zeros(rate // 4, np.float32)
    pcm = resample_poly(np.concatenate([pad, audio, pad]), 16_000 // 1000, rate // 1000)
    term = "t_" + intended.lower().replace(" ", "_")
    if decoder.lookup_word(term) is None:  # type: ignore[attr-defined]
        decoder.add_word(term, intended, False)  # type: ignore[attr-defined]
    phones = " | ".join(f"ph_{p.lower()}" for p in PHONES.split())
    grammar = f"#JSGF V1.0;\ngrammar g;\npublic <s> = we trained ( {term} | <ph>+ ) on the data ;\n<ph> = {phones} ;\n"
    decoder.add_jsgf_string("g", grammar)  # type: ignore[attr-defined]
    decoder.activate_search("g")  # type: ignore[attr-defined]
    decoder.start_utt()  # type: ignore[attr-defined]
    decoder.process_raw((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)  # type: ignore[attr-defined]
    decoder.end_utt()  # type: ignore[attr-defined]
    hyp = decoder.hyp()  # type: ignore[attr-defined]
    return hyp is not None and hyp.hypstr.split()[2:-3] == [term]


def test_the_recognizer_hears_the_show_lexicon_fix_what_hibari_says_wrong() -> None:
    """hibari is seeded, so this is deterministic: each term is misheard as written, right respelled."""
    pocketsphinx = pytest.importorskip("pocketsphinx")
    from podcast.tts import get_engine

    decoder = pocketsphinx.Decoder(samprate=16_000, loglevel="FATAL", lm=None, beam=1e-30, wbeam=1e-20)
    for p in PHONES.split():
        decoder.add_word(f"ph_{p.lower()}", p, False)
    voice = get_engine("hibari")("heart")
    lexicon = load_lexicon(SHOW_LEXICON)
    for term, intended in HEARD:
        written = f"We trained {term} on the data."
        respelled = lexicon.apply(written, "hibari")
        assert respelled != written
        assert not _heard_as_intended(decoder, voice.speak(written), voice.sample_rate, intended), term
        assert _heard_as_intended(decoder, voice.speak(respelled), voice.sample_rate, intended), respelled
