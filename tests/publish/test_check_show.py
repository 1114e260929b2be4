"""`podcast check` agrees with `podcast build` and `podcast publish`: a real show passes, loudness included.

Uses the session's one real build (tests/conftest.py), shared with the other end-to-end tests.
"""

from __future__ import annotations

from pathlib import Path

from conftest import RunCli


def test_a_built_and_published_show_passes_every_check(built_show: Path, run_cli: RunCli) -> None:
    result = run_cli(built_show, "check", "--loudness")
    assert result.returncode == 0, result.stdout + result.stderr
    *measured, summary = result.stdout.splitlines()  # --loudness prints each MP3's measure first
    assert summary.startswith("ok: 1 episode, 0 problems (")
    assert len(measured) >= 1 and "LUFS" in measured[0]
    assert "public" in summary, "the default site is the show's [publish] site"
