"""Stand-ins for what papercast talks to, run for real on 127.0.0.1: arXiv, OpenAI's chat and speech
endpoints, a static file server, and a voice engine that fails on cue. Tests get them through the
fixtures in tests/conftest.py, which start and stop (or register and unregister) one per test."""
