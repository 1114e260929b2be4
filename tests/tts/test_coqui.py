"""The coqui engine on real Coqui VITS models built here from a config, with random weights: no download.

They need the coqui extra (torch and Coqui TTS, about 8 GB), so they run in a venv of their own with
`make test-coqui`; in the main venv they are skipped, except the one that checks what the engine
says when Coqui TTS is not installed.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3

from podcast.config import load_voices
from podcast.errors import ConfigError, EngineError
from podcast.scaffold import init_show
from podcast.tts import get_engine
from podcast.tts.coqui import CoquiEngine, _installed

RATE = 16_000
"""The test models' rate: not Coqui's default (22,050), so a rate the engine did not read would show."""
HOP = 256
"""Samples per spectrogram frame."""
FRAMES_PER_TOKEN = 3
"""Every token lasts this many frames: the duration predictor is set to say so."""
SPEAKERS = ("ada", "bob")

coqui = pytest.mark.coqui


@pytest.fixture(scope="module")
def tts() -> None:
    """Skips the test where Coqui TTS is not installed (the main venv)."""
    pytest.importorskip("TTS")


def build_vits(folder: Path, speakers: tuple[str, ...] = (), noise_scale: float = 0.0) -> Path:
    """A tiny VITS with random weights (a few hundred thousand parameters) in `folder`: config.json
    and model.pth, as Coqui's trainer saves them. Its duration predictor gives every token
    FRAMES_PER_TOKEN frames (at speed 1), so the length of what it says is known in advance.
    `noise_scale`: how much noise it adds to what it says (VITS's default is 0.667)."""
    import torch
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models.vits import Vits

    torch.manual_seed(0)
    characters = CharactersConfig(
        characters_class="TTS.tts.models.vits.VitsCharacters",
        pad="_",
        eos="",
        bos="",
        blank=None,
        characters="abcdefghijklmnopqrstuvwxyz",
        punctuations=" !,.?'-",
        is_unique=True,
        is_sorted=True,
    )
    args = VitsArgs(
        out_channels=257,  # fft_size / 2 + 1
        hidden_channels=16,
        hidden_channels_ffn_text_encoder=32,
        num_layers_text_encoder=1,
        num_layers_posterior_encoder=1,
        num_layers_flow=1,
        upsample_initial_channel_decoder=32,
        resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3, 5]],
        use_sdp=False,  # the deterministic duration predictor
        init_discriminator=False,  # only training needs it
        use_speaker_embedding=bool(speakers),
        speaker_embedding_channels=8,
        inference_noise_scale=noise_scale,
    )
    audio = BaseAudioConfig(
        sample_rate=RATE, fft_size=512, win_length=512, hop_length=HOP, num_mels=80, do_trim_silence=False
    )
    config = VitsConfig(
        model_args=args,
        audio=audio,
        characters=characters,
        use_phonemes=False,
        text_cleaner="basic_cleaners",
        add_blank=True,
        use_speaker_embedding=bool(speakers),
        speakers=list(speakers),
    )
    model = Vits(config)
    with torch.no_grad():
        model.duration_predictor.proj.weight.zero_()
        model.duration_predictor.proj.bias.fill_(math.log(FRAMES_PER_TOKEN - 0.5))  # ceil() makes it 3
    folder.mkdir(parents=True, exist_ok=True)
    config.save_json(str(folder / "config.json"))
    torch.save({"model": model.state_dict(), "config": config.to_dict()}, folder / "model.pth")
    return folder / "model.pth"


@pytest.fixture(scope="module")
def model(tts: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_vits(tmp_path_factory.mktemp("vits") / "model")


@pytest.fixture(scope="module")
def engine(model: Path) -> CoquiEngine:
    return CoquiEngine(str(model))


def tokens(text: str) -> int:
    """How many tokens the test model reads in `text`: each character (all are in its alphabet),
    with a blank between them and around them."""
    return 2 * len(text) + 1


# -- synthesis ------------------------------------------------------------------------------------


@coqui
def test_speaks_float32_mono_at_the_models_rate(engine: CoquiEngine) -> None:
    assert get_engine("coqui") is CoquiEngine
    audio = engine.speak("hello there, world.")
    assert engine.sample_rate == RATE
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 1e-6  # random weights say nothing, but not nothing at all
    assert engine.speak("  ").size == 0


@coqui
def test_length_follows_the_text_and_the_speed(model: Path, engine: CoquiEngine) -> None:
    short, long = "hello.", "hello there, this is a much longer sentence than the first."
    for text in (short, long):
        # Coqui's own pause after each sentence is gone: render puts its own between sentences.
        assert len(engine.speak(text)) == tokens(text) * FRAMES_PER_TOKEN * HOP
    fast = CoquiEngine(str(model), speed=1.5)
    assert len(fast.speak(long)) == tokens(long) * math.ceil((FRAMES_PER_TOKEN - 0.5) / 1.5) * HOP


@coqui
def test_a_folder_a_config_path_and_a_speaker(tmp_path: Path, tts: None) -> None:
    checkpoint = build_vits(tmp_path / "two", speakers=SPEAKERS)
    moved = tmp_path / "elsewhere.json"
    (tmp_path / "two" / "config.json").rename(moved)
    ada = CoquiEngine(str(checkpoint), config_path=str(moved), speaker="ada")
    bob = CoquiEngine(str(checkpoint), config_path=str(moved), speaker="bob")
    text = "the same words, two voices."
    assert len(ada.speak(text)) == len(bob.speak(text))
    assert not np.array_equal(ada.speak(text), bob.speak(text))

    moved.rename(tmp_path / "two" / "config.json")
    by_folder = CoquiEngine(str(tmp_path / "two"), speaker="ada")  # finds model.pth and config.json
    assert np.array_equal(by_folder.speak(text), ada.speak(text))


SPEAK_ONE = """
import sys
import numpy as np
from podcast.tts.coqui import CoquiEngine
np.save(sys.argv[3], CoquiEngine(sys.argv[1]).speak(sys.argv[2]))
"""


@coqui
def test_each_sentence_seeds_its_own_noise(tmp_path: Path, tts: None) -> None:
    """A model that samples noise says a sentence the same way whatever was said before it, in
    another engine or another process: a build's audio does not depend on its workers."""
    import torch

    noisy = build_vits(tmp_path / "noisy", noise_scale=0.667)
    first, second = "the first sentence.", "and a second one, somewhat longer."
    one = CoquiEngine(str(noisy))
    heard = [one.speak(first), one.speak(second), one.speak(first)]
    torch.randn(1000)  # moves torch's generator on, as other sentences would
    two = CoquiEngine(str(noisy))
    assert np.array_equal(two.speak(second), heard[1])
    assert np.array_equal(two.speak(first), heard[0]) and np.array_equal(heard[2], heard[0])
    out = tmp_path / "first.npy"
    subprocess.run([sys.executable, "-c", SPEAK_ONE, str(noisy), first, str(out)], check=True, timeout=300)
    assert np.array_equal(np.load(out), heard[0])

    # The noise is there, and it is what the seed makes it: another seed, other audio of that length.
    torch.manual_seed(one.seed(first) + 1)
    other = np.asarray(one._synth.tts(first, split_sentences=False), np.float32)[: len(heard[0])]
    assert len(other) == len(heard[0]) and not np.allclose(other, heard[0], atol=1e-4)
    assert one.seed(first) != one.seed(second) and one.seed(first) != CoquiEngine(str(noisy), speed=1.5).seed(first)


# -- errors: one line, naming the voice and what to fix ----------------------------------------------


def error(make: Callable[[], object]) -> str:
    with pytest.raises(EngineError) as e:
        make()
    message = str(e.value)
    assert "\n" not in message
    return message


@coqui
def test_a_missing_model_or_config(tmp_path: Path, model: Path) -> None:
    missing = tmp_path / "nowhere" / "model.pth"
    assert f"coqui model {str(missing)!r} does not exist" in error(lambda: CoquiEngine(str(missing)))
    assert "does not exist" in (CoquiEngine.check(str(missing)) or "")
    assert CoquiEngine.check(str(model)) is None and CoquiEngine.check() is None

    alone = tmp_path / "alone.pth"
    alone.write_bytes(model.read_bytes())
    assert "no config.json beside it; set config_path" in error(lambda: CoquiEngine(str(alone)))
    wrong = str(tmp_path / "cfg.json")
    assert f"config_path: {wrong} does not exist" in error(lambda: CoquiEngine(str(model), config_path=wrong))


@coqui
def test_a_model_that_fails_to_load(tmp_path: Path, model: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_bytes((model.parent / "config.json").read_bytes())
    (broken / "model.pth").write_bytes(model.read_bytes()[:5000])  # a download cut short
    message = error(lambda: CoquiEngine(str(broken / "model.pth")))
    assert message.startswith(f"coqui model {str(broken / 'model.pth')!r} failed to load from ")
    assert message.endswith("check that the checkpoint and its config belong together")

    other = build_vits(tmp_path / "other", speakers=SPEAKERS)  # its config does not fit this checkpoint
    mismatch = str(other.parent / "config.json")
    assert "failed to load" in error(lambda: CoquiEngine(str(model), config_path=mismatch))


@coqui
def test_speaker_language_and_speed_the_model_does_not_have(tmp_path: Path, model: Path) -> None:
    two = str(build_vits(tmp_path / "two", speakers=SPEAKERS))
    assert error(lambda: CoquiEngine(two, speaker="cleo")) == (
        f"coqui model {two!r} has no speaker 'cleo'; set speaker to one of: ada, bob"
    )
    assert "has 2 speakers; set speaker to one of: ada, bob" in error(lambda: CoquiEngine(two))
    assert "has a single speaker; remove speaker" in error(lambda: CoquiEngine(str(model), speaker="ada"))
    assert "speaks one language; remove language" in error(lambda: CoquiEngine(str(model), language="en"))
    wav = tmp_path / "me.wav"
    wav.write_bytes(b"RIFF")
    assert "cannot imitate a voice; remove speaker_wav" in error(
        lambda: CoquiEngine(str(model), speaker_wav=str(wav))
    )
    assert "speaker_wav" in error(lambda: CoquiEngine(str(model), speaker_wav=str(tmp_path / "none.wav")))


@coqui
def test_a_released_model_is_never_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tts: None
) -> None:
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "tts-home"))
    name = "tts_models/en/ljspeech/vits"
    message = error(lambda: CoquiEngine(name))
    assert message == (
        f"coqui model {name!r} is not downloaded here; download it once with: "
        f"tts --model_name {name} --text 'Hello.' --out_path /tmp/hello.wav"
    )
    assert CoquiEngine.check(name) == message
    assert not (tmp_path / "tts-home").exists()  # nothing was fetched, nor a folder made for it
    assert "no released model 'tts_models/en/nobody/vits'" in error(
        lambda: CoquiEngine("tts_models/en/nobody/vits")
    )

    # Where the `tts` CLI would have put it, a model is found and loaded by name.
    folder = tmp_path / "tts-home" / "tts" / name.replace("/", "--")
    build_vits(folder)
    assert CoquiEngine.voices() == [name] and CoquiEngine.check(name) is None
    assert CoquiEngine(name).sample_rate == RATE


def test_a_coqui_profile_loads_its_settings_and_paths_from_the_show(tmp_path: Path) -> None:
    root = init_show(tmp_path / "show")
    (root / "models").mkdir()
    (root / "models" / "model.pth").write_bytes(b"")
    (root / "models" / "ref.wav").write_bytes(b"")
    (root / "voices" / "coqui.toml").write_text(
        'engine = "coqui"\nvoice = "models/model.pth"\nspeaker = "ada"\nlanguage = "en"\n'
        'speaker_wav = "models/ref.wav"\n',
        "utf-8",
    )
    profile = load_voices(root / "voices")["coqui"]
    assert profile.voice == str(root.resolve() / "models" / "model.pth")
    assert dict(profile.settings) == {
        "speaker": "ada",
        "language": "en",
        "speaker_wav": str(root.resolve() / "models" / "ref.wav"),
    }
    (root / "voices" / "coqui.toml").write_text('engine = "coqui"\nvoice = "m.pth"\nmodel = "x"\n', "utf-8")
    with pytest.raises(ConfigError, match="the coqui engine does not use 'model'; remove it"):
        load_voices(root / "voices")


def test_without_coqui_tts_it_says_how_to_install() -> None:
    if _installed():
        pytest.skip("Coqui TTS is installed here")
    expected = "not installed here (install with: pip install '.[coqui]' or make test-coqui)"
    assert CoquiEngine.check() == expected and CoquiEngine.check("model.pth") == expected
    assert CoquiEngine.voices() == []
    assert "make test-coqui" in error(lambda: CoquiEngine("model.pth"))


# -- end to end -----------------------------------------------------------------------------------


@coqui
def test_podcast_say_with_a_coqui_profile(tmp_path: Path, tts: None) -> None:
    root = init_show(tmp_path / "show")
    build_vits(root / "models" / "two", speakers=SPEAKERS)  # a relative path is the show folder's
    (root / "voices" / "coqui.toml").write_text(
        'name = "Vits"\nengine = "coqui"\nvoice = "models/two/model.pth"\nspeaker = "bob"\n', "utf-8"
    )
    text = "hello from a coqui voice. it has random weights, so it says nothing clearly."
    result = subprocess.run(
        [sys.executable, "-m", "podcast", "say", text, "--voice", "coqui", "-o", "out.mp3"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "as Vits (coqui " in result.stdout
    speech = sum(tokens(s) for s in ("hello from a coqui voice.", text.split(". ")[1]))
    speech_seconds = speech * FRAMES_PER_TOKEN * HOP / RATE
    duration = MP3(root / "out.mp3").info.length
    # The two sentences, a pause between them and the silence around the speech.
    assert speech_seconds + 0.2 < duration < speech_seconds + 3.0
