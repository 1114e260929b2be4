"""Text to speech: engines behind one contract, and speaking a line with the segment cache."""

from podcast.tts.base import TTSEngine, engine_names, get_engine, register

__all__ = ["TTSEngine", "engine_names", "get_engine", "register"]
