"""Another built episode in seconds: a copy of the session show's build under a new name and date.

Publishing tests need a show that gains an episode (the weekly case) without synthesizing one.
The copy is a complete, consistent build (its manifest, MP3 and sidecars agree), so the site it
publishes passes `podcast check`. `pad_bytes` grows the MP3 with ID3 padding, which players and
`check` skip, to make a big-ish file whose copy or upload takes a measurable time.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from mutagen.id3 import ID3

SOURCE = "first-week"


def add_episode(show: Path, slug: str, *, days_later: int = 7, pad_bytes: int = 0) -> Path:
    """Copy episodes/first-week as episodes/<slug>, published `days_later` days after it."""
    folder = Path(shutil.copytree(show / "episodes" / SOURCE, show / "episodes" / slug))
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
