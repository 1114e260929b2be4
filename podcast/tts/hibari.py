"""hibari: a small neural voice whose default voice ("heart") ships inside the PyPI wheel."""

from __future__ import annotations

import numpy as np

from podcast.errors import EngineError
from podcast.tts.base import TTSEngine


class HibariEngine(TTSEngine):
    name = "hibari"
    sample_rate = 24_000
    cost = 1.0  # the reference the other engines are measured against

    def __init__(self, voice: str = "heart", speed: float = 1.0) -> None:
        super().__init__(voice, speed)
        from hibari import Hibari
        from hibari.voices import VOICES, voice_path

        if voice not in VOICES:
            raise EngineError(f"hibari has no voice {voice!r}; installed here: {', '.join(self.voices())}")
        try:
            # Never let hibari fetch a voice: nothing may download at run time.
            path = voice_path(voice, download_missing=False)
        except FileNotFoundError:
            raise EngineError(
                f"hibari voice {voice!r} is not installed (only {', '.join(self.voices())} ship in the "
                "wheel); pick one of those"
            ) from None
        self._tts = Hibari(voice=voice, model=path, threads=1)
        self.sample_rate = int(self._tts.sample_rate)

    @classmethod
    def voices(cls) -> list[str]:
        from hibari.voices import VOICES

        return [name for name, v in VOICES.items() if v.get("bundled")]

    def speak(self, text: str) -> np.ndarray:
        # A fixed seed makes the noise component repeatable, so a rebuild is bit-identical.
        audio = self._tts(text, speed=self.speed, seed=0)
        return np.asarray(audio, dtype=np.float32)
