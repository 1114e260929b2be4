"""The sample show, in every form tests need it: the Show record, an episode.toml, a show folder's
podcast.toml made publishable, one more built episode, and the whole published site.

    show = sample_show(title="Check Weekly")    # the Show record, with any fields changed
    make_publishable(root)                      # a `podcast init` show with a real base_url and email
    add_episode(root, "second-week")            # another built episode in seconds (no synthesis)
    site = write_site(tmp_path / "public")      # index.html, cover.png, episodes/<slug>/...
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from mutagen.id3 import ID3
from PIL import Image, ImageDraw

from podcast.models import BuiltEpisode, Category, Chapter, Cue, Paper, Show, Summary
from podcast.publish.site import (
    NEWSLETTER_FEED,
    EpisodeSource,
    episode_page,
    render_newsletter_feed,
    render_site,
)
from podcast.writing.newsletter import notes_html, plain_description, render_html, render_markdown

SHOW = Show(
    title="Papers & Pods",
    description="A weekly tour of new AI research papers, read aloud: what they found and why it matters.",
    author="Ada Lovelace",
    email="ada@example.org",
    language="en",
    base_url="https://example.org/papers/",
    category=Category("Technology"),
)
COVER = "cover.png"

# Kept to one paper with a two-sentence abstract so the session's one real build takes seconds.
ONE_PAPER_EPISODE = '''\
title = "Our first episode: xLSTM"
date = 2024-05-10
intro = "One paper from the week of May 6, 2024."
outro = "See you next week."

[[papers]]
id = "2405.04517"
title = "xLSTM: Extended Long Short-Term Memory"
authors = ["Maximilian Beck", "Sepp Hochreiter"]
url = "https://arxiv.org/abs/2405.04517"
abstract = """The authors scale the LSTM up with exponential gating and a matrix memory. \
It compares favorably with Transformers of the same size."""
'''
FIRST_EPISODE = "first-week"
"""The episode folder `podcast init` makes."""


def sample_show(**changes: Any) -> Show:
    """The sample show's record, with `changes` to its fields."""
    return dataclasses.replace(SHOW, **changes)


def make_publishable(root: Path) -> Path:
    """Give a show made by `podcast init` a real base_url and email: the template's placeholders make
    every command print a warning, and a real show has its own."""
    toml = root / "podcast.toml"
    text = _set_line(toml.read_text("utf-8"), "base_url", '"https://podcast.papercast.dev/"')
    toml.write_text(_set_line(text, "email", '"host@papercast.dev"'), "utf-8")
    return root


def _set_line(toml_text: str, key: str, value: str) -> str:
    new, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", toml_text, flags=re.M)
    assert n == 1, f"podcast init's podcast.toml should have one '{key} = ' line, has {n}"
    return new


def add_episode(show: Path, slug: str, *, days_later: int = 7, pad_bytes: int = 0) -> Path:
    """Another built episode in seconds: episodes/first-week copied as episodes/<slug>, published
    `days_later` days after it, for publishing tests that need a show gaining an episode (the weekly
    case) without synthesizing one. The copy is a complete, consistent build (its manifest, MP3 and
    sidecars agree), so the site it publishes passes `podcast check`. `pad_bytes` grows the MP3 with ID3
    padding, which players and `check` skip, to make a big-ish file whose copy or upload takes a
    measurable time."""
    folder = Path(shutil.copytree(show / "episodes" / FIRST_EPISODE, show / "episodes" / slug))
    build = folder / "build"
    manifest = json.loads((build / "episode.json").read_text("utf-8"))
    mp3 = (build / manifest["audio"]).rename(build / f"{slug}.mp3")
    if pad_bytes:
        tags = ID3(mp3)
        tags.save(mp3, v2_version=3, padding=lambda info: pad_bytes)
    published = datetime.fromisoformat(manifest["published"]) + timedelta(days=days_later)
    manifest.update(
        slug=slug,
        title=f"{manifest['title']} ({slug})",
        number=manifest["number"] + 1,
        published=published.isoformat(),
        guid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"papercast-test/{slug}")),
        audio=mp3.name,
        audio_bytes=mp3.stat().st_size,
    )
    (build / "episode.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    return folder

PAPERS = (
    Paper(
        "2405.04517",
        "xLSTM: Extended Long Short-Term Memory",
        ("Maximilian Beck", "Korbinian Pöppel", "Markus Spanring", "Andreas Auer", "Oleksandra Prudnikova",
         "Michael Kopp", "Günter Klambauer", "Sepp Hochreiter"),
        "https://arxiv.org/abs/2405.04517",
    ),
    Paper(
        "2405.04434",
        "DeepSeek-V2: A Strong, Economical & Efficient <MoE> Language Model",
        ("DeepSeek-AI",),
        "https://arxiv.org/abs/2405.04434",
    ),
)
SUMMARIES = (
    Summary(PAPERS[0], "Sepp Hochreiter's group revisits the LSTM and asks how far it can go at the scale of "
            "modern language models. They add **exponential gating** with a normalizer, and two new cells: "
            "the sLSTM and the mLSTM, with a matrix memory that trains in parallel.\n\n"
            "In language modeling, xLSTM holds its own against Transformers of similar size."),
    Summary(PAPERS[1], "DeepSeek-V2 has 236 billion parameters, yet only 21 billion are active per token. "
            "*Multi-head Latent Attention* compresses keys and values into a small latent vector.\n\n"
            "Compared with the dense DeepSeek 67B it saves 42.5% of training cost & cuts the KV cache "
            "by 93.3%."),
)
INTRO = "Welcome to this week's issue: the recurrent network is back, and the key-value cache shrinks."
OUTRO = "That's all for this week. Reply and tell us which paper you would like covered next."


def chapters_for(duration: float) -> tuple[Chapter, ...]:
    """Intro, then one chapter per paper, splitting `duration` in three."""
    third = duration / 3
    return (
        Chapter("Introduction", 0.0, third),
        Chapter(PAPERS[0].title, third, 2 * third, PAPERS[0].url),
        Chapter(PAPERS[1].title, 2 * third, duration, PAPERS[1].url),
    )


def cues_for(chapters: Sequence[Chapter]) -> tuple[Cue, ...]:
    """Two sentences per chapter, host and cohost taking turns (with a run of two by the host)."""
    cues = []
    for i, c in enumerate(chapters):
        mid = (c.start + c.end) / 2
        cues.append(Cue(c.start, mid, "Host", f"Now: {c.title}."))
        cues.append(Cue(mid, c.end, "Host" if i == 0 else "Sam", f"Part {i + 1} of the show, <b>& more</b>."))
    return tuple(cues)


def make_episode(number: int, published: datetime, duration: float, audio_bytes: int = 1_234_567
                 ) -> BuiltEpisode:
    slug = f"2024-w{18 + number}"
    chapters = chapters_for(duration)
    return BuiltEpisode(
        slug=slug,
        title=f"Week {number}: recurrent networks return",
        number=number,
        published=published,
        guid=f"papercast-{slug}",
        description=plain_description(INTRO, SUMMARIES),
        notes_html=notes_html(INTRO, SUMMARIES, OUTRO, chapters),
        audio=f"{slug}.mp3",
        audio_bytes=audio_bytes,
        duration=duration,
        chapters=chapters,
        papers=PAPERS,
    )


def make_mp3(path: Path, seconds: float) -> None:
    """A sine tone: MP3, 44.1 kHz mono, 96 kbps CBR, made by the ffmpeg the imageio-ffmpeg wheel ships."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
        "-i", f"sine=frequency=440:duration={seconds}", "-ar", "44100", "-ac", "1", "-b:a", "96k", str(path),
    ]
    subprocess.run(cmd, check=True, capture_output=True)


def make_cover(path: Path) -> None:
    img = Image.new("RGB", (352, 352), (163, 63, 29))
    draw = ImageDraw.Draw(img)
    for i in range(12):  # a few rings, so the screenshot shows the image is really there
        r = 40 + i * 26
        draw.ellipse((300 - r, 300 - r, 300 + r, 300 + r), outline=(246, 231, 223), width=3)
    draw.text((28, 28), "Papers & Pods", fill=(255, 255, 255), font_size=34)
    img.save(path)


@dataclass(frozen=True)
class SampleSite:
    root: Path
    episodes: tuple[BuiltEpisode, ...]
    cues: tuple[Cue, ...]

    def page(self, ep: BuiltEpisode) -> Path:
        return self.root / episode_page(ep.slug)


def write_site(
    root: Path, *, duration: float = 30.0, real_audio: bool = False, template_dirs: Sequence[Path] = ()
) -> SampleSite:
    """Write the site as `podcast publish` lays it out; the newest episode gets a real MP3 if asked."""
    episodes = (
        make_episode(1, datetime(2024, 5, 10, 6, 0, tzinfo=UTC), 1834.0),
        make_episode(2, datetime(2024, 5, 17, 6, 0, tzinfo=UTC), duration),
    )
    root.mkdir(parents=True, exist_ok=True)
    make_cover(root / COVER)
    (root / "feed.xml").write_text("<rss version='2.0'><channel><title>x</title></channel></rss>")
    newsletters = {}
    sources = []
    for ep in episodes:
        folder = (root / episode_page(ep.slug)).parent
        folder.mkdir(parents=True, exist_ok=True)
        md = render_markdown(ep.title, ep.published.date(), INTRO, SUMMARIES, OUTRO)
        newsletters[ep.slug] = render_html(md)
        sources.append(EpisodeSource(ep, newsletters[ep.slug], cues_for(ep.chapters)))
        if real_audio and ep.number == 2:
            make_mp3(folder / ep.audio, ep.duration)
        else:
            (folder / ep.audio).write_bytes(b"\xff\xfb" + bytes(100))
        chapters = [{"startTime": c.start, "title": c.title} for c in ep.chapters]
        (folder / ep.chapters_json).write_text(json.dumps({"version": "1.2.0", "chapters": chapters}))
        for name in (ep.transcripts.vtt, ep.transcripts.srt, ep.transcripts.json):
            (folder / name).write_text("WEBVTT\n")
    for rel, data in render_site(SHOW, sources, COVER, template_dirs=template_dirs).items():
        (root / rel).write_bytes(data)
    (root / NEWSLETTER_FEED).write_bytes(render_newsletter_feed(SHOW, episodes, newsletters))
    return SampleSite(root, episodes, cues_for(episodes[1].chapters))
