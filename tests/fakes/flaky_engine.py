"""A third-party TTS engine for the fault tests: the real hibari voice, except that it fails on any
sentence containing BREAKDOWN, the way a model or a remote service can fail mid-episode.

Importing this module registers nothing: the `flaky_engine` fixture (tests/conftest.py) makes the
engine available for one test, in the test's process and in the synthesis worker processes.
"""

from __future__ import annotations

import numpy as np

from podcast.tts import TTSEngine
from podcast.tts.hibari import HibariEngine


class FlakyEngine(TTSEngine):
    name = "flaky"
    sample_rate = 24_000

    def __init__(self, voice: str = "heart", speed: float = 1.0) -> None:
        super().__init__(voice, speed)
        self._voice = HibariEngine(voice, speed)

    def speak(self, text: str) -> np.ndarray:
        if "BREAKDOWN" in text:
            raise RuntimeError("the model ran out of memory")
        return self._voice.speak(text)
