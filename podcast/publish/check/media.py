"""An episode's MP3: its frames (format, bitrate, length), its ID3 tag, and how loud it plays.

The frames are read from their headers (podcast.audio.mp3), not decoded, so checking a long
episode takes a fraction of a second; the loudness rules alone decode it, with ffmpeg.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import ID3, ID3NoHeaderError

from podcast.audio.encode import ffmpeg_exe
from podcast.audio.master import SAMPLE_RATE
from podcast.audio.mp3 import MONO, Mp3Stream, scan_mp3
from podcast.episode.tag import UnlistedChapters, chapters_in
from podcast.errors import AudioError
from podcast.models import Chapter
from podcast.publish.check.chapters import check_tiling, check_toc
from podcast.publish.check.problems import FIX_BUILD, Findings

BITRATES_KBPS = (96, 128)
"""Constant bitrate range Apple accepts for spoken audio (inclusive)."""
TARGET_LUFS = -16.0
LOUDNESS_SLACK = 1.0
MAX_TRUE_PEAK = -1.0


@dataclass(frozen=True)
class Loudness:
    integrated: float
    """LUFS as heard: a mono file measured as dual mono."""
    true_peak: float
    """dBTP."""
    decode_errors: tuple[str, ...]


@dataclass(frozen=True)
class LoudnessRule:
    target: float
    """Integrated loudness (LUFS) the MP3 must be within LOUDNESS_SLACK of."""
    max_peak: float
    """Highest true peak allowed (dBTP)."""


def check_audio(found: Findings, path: Path) -> Mp3Stream | None:
    """The MP3's frames: clean, mono, 44.1 kHz, constant 96-128 kbps; None when it holds no audio."""
    rel = found.rel(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        found.add(rel, "audio", f"cannot be read ({e.strerror})")
        return None
    stream = scan_mp3(data)
    if stream.error:
        found.add(rel, "audio", f"is not a clean MP3 stream: {stream.error}; {FIX_BUILD}")
    if not stream.frames:
        found.add(rel, "audio", "holds no MPEG-1 Layer III audio frames")
        return None
    if stream.sample_rates != {SAMPLE_RATE}:
        found.add(rel, "audio", f"sample rate is {_hz(stream.sample_rates)}; it must be 44.1 kHz")
    if stream.channel_modes != {MONO}:
        found.add(rel, "audio", "is not mono (Apple wants mono speech at 96-128 kbps)")
    low, high = BITRATES_KBPS
    if len(stream.bitrates) > 1:
        found.add(rel, "audio", f"has a variable bitrate ({min(stream.bitrates)}-{max(stream.bitrates)} "
                  f"kbps); encode at a constant {low}-{high} kbps")
    elif not low <= min(stream.bitrates) <= high:
        found.add(rel, "audio", f"bitrate is {min(stream.bitrates)} kbps; it must be a constant "
                  f"{low}-{high} kbps")
    return stream


def check_tags(found: Findings, path: Path, seconds: float | None) -> list[Chapter]:
    """The MP3's ID3 tag and its chapters; the chapters in table-of-contents order."""
    rel = found.rel(path)
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        found.add(rel, "id3", f"has no ID3 tag (title, show, cover, chapters); {FIX_BUILD}")
        return []
    except (OSError, MutagenError) as e:
        found.add(rel, "id3", f"has an unreadable ID3 tag ({e}); {FIX_BUILD}")
        return []
    if tags.version[:2] != (2, 3):
        found.add(rel, "id3", f"ID3 tag is v2.{tags.version[1]}; save it as v2.3 "
                  "(chapter readers handle it best)")
    for frame_id, what in (("TIT2", "episode title"), ("TALB", "show title"), ("TPE1", "author"),
                           ("TDRC", "date"), ("APIC", "cover art")):
        if not tags.getall(frame_id):
            found.add(rel, "id3", f"ID3 tag has no {frame_id} ({what}); {FIX_BUILD}")
    if [str(t) for f in tags.getall("TCON") for t in f.text] != ["Podcast"]:
        found.add(rel, "id3", "ID3 TCON (genre) is not 'Podcast'")
    if not tags.getall("COMM") and not tags.getall("TXXX"):
        found.add(rel, "id3", "ID3 tag has no COMM or TXXX description")
    for pic in tags.getall("APIC"):
        if pic.mime not in ("image/jpeg", "image/png"):
            found.add(rel, "id3", f"ID3 cover art is {pic.mime!r}; use a JPEG or PNG")
    check_toc(found, rel, tags)
    try:
        chapters = chapters_in(tags)
    except UnlistedChapters as e:
        found.add(rel, "chapters", e.reason)
        return []
    check_tiling(found, rel, chapters, seconds)
    return chapters


def check_loudness(found: Findings, path: Path, rule: LoudnessRule) -> Loudness:
    """Decode the MP3: it decodes cleanly, at the rule's loudness, under its true peak. Returns what
    was measured, for `podcast check --loudness` to show."""
    rel = found.rel(path)
    measured = measure_loudness(path)
    if measured.decode_errors:
        n = len(measured.decode_errors)
        found.add(rel, "audio", f"ffmpeg reports {n} decoding error{'s' if n > 1 else ''}, the first: "
                  f"{measured.decode_errors[0]!r}; {FIX_BUILD}")
    if math.isnan(measured.integrated):
        return measured
    if abs(measured.integrated - rule.target) > LOUDNESS_SLACK:
        found.add(rel, "loudness", f"integrated loudness is {measured.integrated:.1f} LUFS (dual mono); "
                  f"it must be {rule.target:g} +-{LOUDNESS_SLACK:g} LU")
    if measured.true_peak > rule.max_peak:
        found.add(rel, "loudness", f"true peak is {measured.true_peak:.1f} dBTP; it must be at most "
                  f"{rule.max_peak:g} dBTP")
    return measured


CONVENTION = (
    "loudness measured as dual mono (a mono file heard on both ears), as Apple and the [audio] target "
    "count it; ffmpeg's ebur128 without dualmono=true reads a mono file about 3 LU lower"
)
"""What `check --loudness` says once, since users compare its numbers with their own tools'."""


def loudness_line(rel: str, measured: Loudness, rule: LoudnessRule) -> str:
    """One episode's measurement as `check --loudness` prints it.

    >>> print(loudness_line("episodes/a/a.mp3", Loudness(-16.04, -1.52, ()), LoudnessRule(-16.0, -1.0)))
    episodes/a/a.mp3: -16.0 LUFS integrated, -1.5 dBTP true peak (target -16 LUFS, peak at most -1 dBTP)
    """
    if math.isnan(measured.integrated):
        return f"{rel}: loudness not measured (ffmpeg could not decode it)"
    return (f"{rel}: {measured.integrated:.1f} LUFS integrated, {measured.true_peak:.1f} dBTP true peak "
            f"(target {rule.target:g} LUFS, peak at most {rule.max_peak:g} dBTP)")


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness (dual mono, as heard) and true peak by ffmpeg's ebur128, plus decode errors.

    One decode gives all three: ffmpeg runs at its info level with every line tagged by its
    level, errors are the [error] lines (what `ffmpeg -v error -i f -f null -` prints), and only
    the filter's summary is parsed (metadata=1 keeps its per-frame log out of the info level).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "repeat+level+info",
           "-i", str(path), "-af", "ebur128=peak=true:dualmono=true:metadata=1", "-f", "null", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, check=False)
    except OSError as e:
        raise AudioError(f"cannot run ffmpeg ({cmd[0]}): {e}") from e
    log = proc.stderr.decode("utf-8", "replace")
    errors = tuple(_clean_ffmpeg_line(line) for line in log.splitlines()
                   if re.search(r"\[(error|fatal|panic)\]", line))
    summary = log[log.rfind("Summary:") :] if "Summary:" in log else ""
    integrated = re.search(r"\bI:\s+(-?inf|-?\d+(?:\.\d+)?) LUFS", summary)
    peak = re.search(r"\bPeak:\s+(-?inf|-?\d+(?:\.\d+)?) dBFS", summary)
    if proc.returncode != 0 or not integrated or not peak:
        return Loudness(math.nan, math.nan, errors or ("ffmpeg could not measure it",))
    return Loudness(float(integrated.group(1)), float(peak.group(1)), errors)


def _clean_ffmpeg_line(line: str) -> str:
    """'[mp3float @ 0x55d] [error] Header missing' -> 'Header missing'."""
    return re.sub(r"^(\[[^\]]*\]\s*)+", "", line).strip()


def _hz(rates: frozenset[int]) -> str:
    return ", ".join(f"{r / 1000:g} kHz" for r in sorted(rates))
