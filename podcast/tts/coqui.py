"""coqui: a Coqui TTS model of the user's own (VITS, XTTS, Tacotron ...), through the `TTS` package.

Install it with the `coqui` extra (`pip install '.[coqui]'`: torch and Coqui TTS, about 8 GB). The
profile's `voice` is the model:

- the path of a model checkpoint (`model.pth`), with `config.json` beside it unless `config_path`
  names another; or the path of a folder holding both (`~` is expanded, a relative path is taken
  from the folder podcast runs in);
- or the name of a released Coqui model already downloaded, e.g. "tts_models/en/ljspeech/vits".
  Nothing is ever downloaded at run time: download a model once with Coqui's own CLI, e.g.
  `tts --model_name tts_models/en/ljspeech/vits --text "Hello." --out_path hello.wav`.

Profile keys besides engine, voice, name and speed: see CoquiOptions. Reading `speaker_wav` goes
through torchaudio, which since 2.9 needs FFmpeg's shared libraries (Debian: `apt-get install
ffmpeg`); synthesis itself does not.

`speed` scales the duration of models that have one (VITS and other duration-predicting models) and
is passed on to models that take it (XTTS); other models refuse any speed but 1.0.

Models that sample (VITS's noise, XTTS's decoding) draw from torch's global generator, which runs on
from one sentence to the next: each sentence seeds it from a hash of its text and settings, so it
sounds the same in any order, in any worker process, in every build.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podcast.errors import EngineError
from podcast.tts.base import TTSEngine, path_option

INSTALL = "install with: pip install '.[coqui]' or make test-coqui"
NAME_PREFIX = "tts_models/"
"""Coqui's released text-to-speech models are named tts_models/LANGUAGE/DATASET/MODEL."""
UNSUPPORTED = ("tortoise-v2", "bark")
"""Released models that are not loaded from one checkpoint and config, and far too slow on a CPU."""


def _installed() -> bool:
    return importlib.util.find_spec("TTS") is not None


def _data_dir() -> Path:
    """Where Coqui's `tts` CLI puts the models it downloads (as trainer.io.get_user_data_dir says,
    without importing torch)."""
    home = os.environ.get("TTS_HOME") or os.environ.get("XDG_DATA_HOME")
    if home:
        return Path(home).expanduser() / "tts"
    if sys.platform == "darwin":
        return Path("~/Library/Application Support/tts").expanduser()
    return Path.home() / ".local" / "share" / "tts"


def _is_name(voice: str) -> bool:
    """A voice that names no file or folder here and looks like tts_models/LANG/DATASET/MODEL."""
    return voice.startswith(NAME_PREFIX) and not Path(voice).expanduser().exists()


def _download_hint(name: str) -> str:
    return f"download it once with: tts --model_name {name} --text 'Hello.' --out_path /tmp/hello.wav"


def _released(name: str) -> dict[str, Any]:
    """Coqui's entry for a released model, from the list inside the TTS package (no torch imported)."""
    import json
    from importlib import resources

    if "fairseq" in name:  # Meta's MMS voices: any language code, not listed one by one
        return {}
    models = json.loads(resources.files("TTS").joinpath(".models.json").read_text("utf-8"))
    parts = name.split("/")
    entry = None
    if len(parts) == 4:
        entry = models.get(parts[0], {}).get(parts[1], {}).get(parts[2], {}).get(parts[3])
    if not isinstance(entry, dict):
        raise EngineError(
            f"coqui has no released model {name!r}; list them with: tts --list_models "
            "(or give the path of your own model.pth)"
        )
    if parts[3] in UNSUPPORTED:
        raise EngineError(f"coqui model {name!r} is not supported by papercast; use a VITS or XTTS model")
    return entry


def _downloaded(name: str, entry: dict[str, Any]) -> Path | None:
    """The folder of a released model on this machine, or None; never downloads."""
    if "repo_id" in entry:  # hosted on the Hugging Face hub: look in its cache only
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(
                snapshot_download(
                    entry["repo_id"],
                    allow_patterns=entry.get("allow"),
                    ignore_patterns=entry.get("ignore"),
                    local_files_only=True,
                )
            )
        except LocalEntryNotFoundError:
            return None
    folder = _data_dir() / name.replace("/", "--")
    return folder if folder.is_dir() else None


def _model_files(folder: Path) -> tuple[Path, Path]:
    """(checkpoint, config.json) of a model folder, found the way Coqui's model manager finds them."""
    from TTS.utils.manage import ModelManager

    try:
        model, config = ModelManager._find_files(folder)
    except ValueError:
        raise EngineError(
            f"{folder} holds no single Coqui model (a model.pth, or one .pth file, and a config.json); "
            "give the checkpoint's path"
        ) from None
    return Path(model), Path(config)


def _named_model(name: str) -> tuple[Path, Path, Path | None, Path | None]:
    """(checkpoint, config, vocoder checkpoint, vocoder config) of a downloaded released model."""
    from TTS.utils.manage import ModelManager

    manager = ModelManager(progress_bar=False)
    found: list[tuple[Path, Path]] = []
    entry = _released(name)
    vocoder = entry.get("default_vocoder")
    for model in [name, vocoder] if vocoder else [name]:
        folder = _downloaded(model, entry if model == name else _released(model))
        if folder is None:
            raise EngineError(f"coqui model {model!r} is not downloaded here; {_download_hint(model)}")
        checkpoint, config = _model_files(folder)
        if "fairseq" not in model:
            # What ModelManager.download_model does after a download: point the config at the
            # speaker and statistics files beside it.
            manager._update_paths(folder, config)
        found.append((checkpoint, config))
    (checkpoint, config), *rest = found
    return checkpoint, config, rest[0][0] if rest else None, rest[0][1] if rest else None


def _local_model(voice: str, config_path: str) -> tuple[Path, Path]:
    """(checkpoint, config) of a model given by path, each checked to exist."""
    path = Path(voice).expanduser()
    if not path.exists():
        raise EngineError(_no_file(voice))
    if path.is_dir():
        checkpoint, found_config = _model_files(path)
    else:
        checkpoint, found_config = path, path.parent / "config.json"
    config = Path(config_path).expanduser() if config_path else found_config
    if not config.is_file():
        where = "config_path" if config_path else "no config.json beside it; set config_path"
        raise EngineError(f"coqui model {voice!r}: {where}: {config} does not exist")
    return checkpoint, config


def _no_file(voice: str) -> str:
    return (
        f"coqui model {voice!r} does not exist; set voice to the path of a model.pth (with its "
        f"config.json beside it) or to a downloaded model name like {NAME_PREFIX}en/ljspeech/vits"
    )


def _one_line(error: BaseException, limit: int = 200) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class CoquiOptions:
    """The voice-profile keys of the coqui engine besides engine, voice, name and speed."""

    config_path: str = path_option()
    """The model's config.json when it is not beside the checkpoint (relative: to the show folder)."""
    speaker: str = ""
    """The speaker of a multi-speaker model."""
    language: str = ""
    """The language of a multilingual model, e.g. "en" for XTTS."""
    speaker_wav: str = path_option()
    """A WAV of the voice that XTTS and other cloning models imitate (relative: to the show folder)."""


class CoquiEngine(TTSEngine):
    name = "coqui"
    sample_rate = 22_050
    cost = 30.0  # a large model on CPU
    cache_tag = "seeded-noise-1"
    """Audio spoken before each sentence seeded torch (no tag) came from a generator's chance state."""
    Options = CoquiOptions
    voice_may_be_path = True  # a checkpoint, or a folder holding one

    def __init__(
        self,
        voice: str,
        speed: float = 1.0,
        *,
        config_path: str = "",
        speaker: str = "",
        language: str = "",
        speaker_wav: str = "",
    ) -> None:
        """Load the model once (seconds for VITS, longer for XTTS); EngineError says what to fix."""
        super().__init__(voice, speed)
        self.config_path, self.speaker, self.language = config_path, speaker, language
        self.speaker_wav = str(Path(speaker_wav).expanduser()) if speaker_wav else ""
        if not _installed():
            raise EngineError(f"coqui is not installed here ({INSTALL})")
        if _is_name(voice):
            if config_path:
                raise EngineError(
                    f"coqui model {voice!r} is a released model with its own config; remove config_path"
                )
            checkpoint, config, vocoder, vocoder_config = _named_model(voice)
        else:
            (checkpoint, config), vocoder, vocoder_config = _local_model(voice, config_path), None, None
        if self.speaker_wav and not Path(self.speaker_wav).is_file():
            raise EngineError(f"coqui voice {voice!r}: speaker_wav {speaker_wav} does not exist")

        import torch
        from TTS.utils.synthesizer import Synthesizer

        # One thread per engine: render runs one process per core, and more threads only contend.
        torch.set_num_threads(1)
        try:
            self._synth = Synthesizer(
                tts_checkpoint=checkpoint,
                tts_config_path=config,
                vocoder_checkpoint=vocoder,
                vocoder_config=vocoder_config,
            )
        except Exception as e:  # torch and Coqui raise many kinds: a wrong config, a truncated file ...
            raise EngineError(
                f"coqui model {voice!r} failed to load from {checkpoint} with {config}: {_one_line(e)}; "
                "check that the checkpoint and its config belong together"
            ) from e
        self.sample_rate = int(self._synth.output_sample_rate)
        self._options = self._check_model()

    # -- what the loaded model allows ------------------------------------------------------------------

    def _check_model(self) -> dict[str, Any]:
        """The keyword arguments each synthesis takes; EngineError for a speaker, language or speed
        the model does not have."""
        model = self._synth.tts_model
        voice = repr(self.voice)
        options: dict[str, Any] = {}
        speakers, cloning = _speakers(model), bool(getattr(model.config, "supports_cloning", False))
        if self.speaker_wav and not cloning:
            raise EngineError(f"coqui model {voice} cannot imitate a voice; remove speaker_wav")
        if self.speaker and speakers and self.speaker not in speakers and not cloning:
            raise EngineError(
                f"coqui model {voice} has no speaker {self.speaker!r}; set speaker to one of: "
                f"{_listed(speakers)}"
            )
        if self.speaker and not speakers and not cloning:
            raise EngineError(f"coqui model {voice} has a single speaker; remove speaker")
        if len(speakers) > 1 and not (self.speaker or self.speaker_wav):
            raise EngineError(
                f"coqui model {voice} has {len(speakers)} speakers; set speaker to one of: "
                f"{_listed(speakers)}"
            )
        if cloning and not (self.speaker in speakers or self.speaker_wav):
            what = f"set speaker to one of: {_listed(speakers)}, or " if speakers else "set "
            raise EngineError(f"coqui model {voice} imitates a voice; {what}speaker_wav to a WAV of it")
        options["speaker_name"] = self.speaker or None
        options["speaker_wav"] = self.speaker_wav or None

        languages = _languages(model)
        if self.language and len(languages) <= 1:
            raise EngineError(f"coqui model {voice} speaks one language; remove language")
        if len(languages) > 1 and self.language not in languages:
            given = f"has no language {self.language!r}" if self.language else "is multilingual"
            raise EngineError(f"coqui model {voice} {given}; set language to one of: {_listed(languages)}")
        options["language_name"] = self.language or None

        if hasattr(model, "length_scale"):  # VITS and other models that predict durations
            model.length_scale = model.length_scale / self.speed
        elif "speed" in inspect.signature(model.inference).parameters:  # XTTS
            options["speed"] = self.speed
        elif self.speed != 1.0:
            raise EngineError(f"coqui model {voice} cannot change its speed; set speed = 1.0")
        return options

    @classmethod
    def voices(cls) -> list[str]:
        """Released models downloaded with the `tts` CLI (models in the Hugging Face cache aside)."""
        if not _installed():
            return []
        folders = _data_dir().glob(NAME_PREFIX.rstrip("/") + "--*")
        return sorted(p.name.replace("--", "/") for p in folders if p.is_dir())

    @classmethod
    def check(cls, voice: str | None = None) -> str | None:
        """TTS importable, and the voice a model file or folder here or a released model downloaded."""
        if not _installed():
            return f"not installed here ({INSTALL})"
        if voice is None:
            return None
        if not _is_name(voice):
            return None if Path(voice).expanduser().exists() else _no_file(voice)
        try:
            if _downloaded(voice, _released(voice)) is None:
                return f"coqui model {voice!r} is not downloaded here; {_download_hint(voice)}"
        except EngineError as e:
            return str(e)
        return None

    def speak(self, text: str) -> np.ndarray:
        if not text.strip():
            return np.zeros(0, np.float32)
        import torch
        from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

        torch.manual_seed(self.seed(text))
        with torch.inference_mode():
            wav = self._synth.tts(text, split_sentences=False, **self._options)
        audio = np.asarray(wav, dtype=np.float32).reshape(-1)
        # Coqui pads every sentence with silence; render puts its own pauses between sentences.
        if len(audio) > PAD_SILENCE_SAMPLES and not audio[-PAD_SILENCE_SAMPLES:].any():
            audio = audio[:-PAD_SILENCE_SAMPLES]
        return np.clip(audio, -1.0, 1.0)

    def seed(self, text: str) -> int:
        """The seed of `text`'s noise: a hash of the text and the settings, the same in every process
        (unlike hash(), which Python salts per process). The model's paths are left out, so a show
        moved to another folder or machine sounds the same."""
        settings = [text, self.speed, self.speaker, self.language]
        digest = hashlib.blake2b(json.dumps(settings).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1  # torch takes a non-negative int64


def _speakers(model: Any) -> list[str]:
    manager = getattr(model, "speaker_manager", None)
    if manager is None:
        return []
    names = set(getattr(manager, "speaker_names", None) or [])
    names |= set(getattr(manager, "embedding_names", None) or [])  # models with d-vector files
    return sorted(names)


def _languages(model: Any) -> list[str]:
    manager = getattr(model, "language_manager", None)
    names = list(getattr(manager, "language_names", None) or [])
    return names or list(getattr(model.config, "languages", None) or [])  # XTTS lists its own


def _listed(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
