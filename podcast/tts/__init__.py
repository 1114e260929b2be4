"""Text to speech: engines behind one contract, found by name (podcast.plugins)."""

from podcast.tts.base import ENGINES, TTSEngine, engine_names, get_engine, path_option, register

__all__ = ["ENGINES", "TTSEngine", "engine_names", "get_engine", "path_option", "register"]
