"""ID3 tagging of a real MP3 made by the bundled ffmpeg, read back with mutagen."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import imageio_ffmpeg
import pytest
from mutagen.id3 import ID3, TXXX, CTOCFlags
from mutagen.mp3 import MP3
from PIL import Image
from support.shows import sample_show

from podcast.episode.tag import chapter_bounds_ms, read_chapters, tag_mp3
from podcast.errors import AudioError
from podcast.models import Chapter

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SHOW = sample_show(title="Papercast Weekly", description="AI papers, read aloud.", base_url="https://example.org/")
CHAPTERS = (
    Chapter("Intro", 0.0, 1.2004),
    Chapter("Attention Is All You Need – Ünïcode", 1.2004, 3.3333, "https://arxiv.org/abs/1706.03762"),
    Chapter("Outro", 3.3333, 5.1),  # ends past the audio: tagging must clamp it
)


@pytest.fixture(scope="module")
def source_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audio") / "out.mp3"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=5",
         "-ar", "44100", "-ac", "1", "-b:a", "96k", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture
def mp3(source_mp3: Path, tmp_path: Path) -> Path:
    path = tmp_path / "episode.mp3"
    shutil.copy(source_mp3, path)
    return path


@pytest.fixture(scope="module")
def cover() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 90)).save(buf, "JPEG")
    return buf.getvalue()


def audio_ms(path: Path) -> int:
    info = MP3(path).info
    assert info is not None
    return round(info.length * 1000)


def tag(path: Path, cover: bytes, chapters: tuple[Chapter, ...] = CHAPTERS, **kw: object) -> None:
    args: dict = dict(
        show=SHOW,
        title="Episode 1: Attention",
        published=date(2024, 5, 10),
        description="This week: attention, and why it is all you need.",
        chapters=chapters,
        cover=cover,
        cover_mime="image/jpeg",
        audio_ms=audio_ms(path),
    )
    tag_mp3(path, **(args | kw))


def test_metadata_frames(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    tags = ID3(mp3)
    assert tags.version == (2, 3, 0)
    assert mp3.read_bytes()[:4] == b"ID3\x03"
    assert tags["TIT2"].text == ["Episode 1: Attention"]
    assert tags["TALB"].text == ["Papercast Weekly"]
    assert tags["TPE1"].text == ["Ada Lovelace"]
    assert str(tags["TDRC"].text[0]) == "2024-05-10"
    assert tags["TCON"].text == ["Podcast"]
    comm = tags.getall("COMM")
    assert len(comm) == 1 and comm[0].lang == "eng"
    assert comm[0].text == ["This week: attention, and why it is all you need."]
    assert tags["TXXX:description"].text == comm[0].text
    (apic,) = tags.getall("APIC")
    assert (apic.type, apic.mime, apic.data) == (3, "image/jpeg", cover)


def test_raw_frames_are_v23(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    raw = ID3(mp3, translate=False)
    # v2.3 has no TDRC: the date must be stored as TYER + TDAT (DDMM).
    assert "TDRC" not in raw
    assert raw["TYER"].text == ["2024"] and raw["TDAT"].text == ["1005"]


def test_datetime_published_uses_its_date(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover, published=datetime(2024, 5, 10, 23, 30, tzinfo=UTC))
    assert str(ID3(mp3)["TDRC"].text[0]) == "2024-05-10"


def test_chapters_tile_the_audio(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    total = audio_ms(mp3)
    tags = ID3(mp3)
    chaps = sorted(tags.getall("CHAP"), key=lambda f: f.start_time)
    assert [c.element_id for c in chaps] == ["chp0", "chp1", "chp2"]
    assert chaps[0].start_time == 0
    for a, b in itertools.pairwise(chaps):
        assert a.end_time == b.start_time
    assert all(c.start_time < c.end_time for c in chaps)
    assert chaps[-1].end_time == total
    assert [c.start_time for c in chaps] == [0, 1200, 3333]
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == [c.title for c in CHAPTERS]
    assert [[w.url for w in c.sub_frames.getall("WXXX")] for c in chaps] == [
        [],
        ["https://arxiv.org/abs/1706.03762"],
        [],
    ]


def test_one_ordered_top_level_toc(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    (toc,) = ID3(mp3).getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["chp0", "chp1", "chp2"]
    assert toc.sub_frames.getall("TIT2")


def test_read_chapters_round_trip(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    assert read_chapters(mp3) == [
        Chapter("Intro", 0.0, 1.2),
        Chapter("Attention Is All You Need – Ünïcode", 1.2, 3.333, "https://arxiv.org/abs/1706.03762"),
        Chapter("Outro", 3.333, audio_ms(mp3) / 1000),
    ]


def test_file_still_decodes_cleanly(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    result = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(mp3), "-f", "null", "-"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""


def test_audio_bytes_untouched(mp3: Path, source_mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    before = source_mp3.read_bytes()[ID3(source_mp3).size :]
    after = mp3.read_bytes()[ID3(mp3).size :]
    assert after == before


def test_idempotent_and_replaces_foreign_tags(mp3: Path, cover: bytes) -> None:
    foreign = ID3(mp3)
    foreign.add(TXXX(encoding=3, desc="junk", text=["old"]))
    foreign.save(mp3, v1=2)  # also an ID3v1 tag at the end
    assert mp3.read_bytes()[-128:-125] == b"TAG"
    tag(mp3, cover)
    once = mp3.read_bytes()
    tag(mp3, cover)
    assert mp3.read_bytes() == once
    tags = ID3(mp3)
    assert "TXXX:junk" not in tags and "TSSE" not in tags
    assert once[-128:-125] != b"TAG"


def test_retagging_with_fewer_chapters_drops_the_old_ones(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover)
    tag(mp3, cover, chapters=(Chapter("All", 0.0, 5.0),))
    tags = ID3(mp3)
    assert [c.element_id for c in tags.getall("CHAP")] == ["chp0"]
    assert tags["CTOC:toc"].child_element_ids == ["chp0"]


def test_no_chapters_writes_no_chapter_frames(mp3: Path, cover: bytes) -> None:
    tag(mp3, cover, chapters=())
    tags = ID3(mp3)
    assert not tags.getall("CHAP") and not tags.getall("CTOC")
    assert read_chapters(mp3) == []


def test_keeps_file_permissions(mp3: Path, cover: bytes) -> None:
    mp3.chmod(0o644)
    tag(mp3, cover)
    assert mp3.stat().st_mode & 0o777 == 0o644


def test_failed_tagging_leaves_file_unchanged(mp3: Path, cover: bytes) -> None:
    original = mp3.read_bytes()
    with pytest.raises(AudioError, match="too short"):
        tag(mp3, cover, audio_ms=2)
    assert mp3.read_bytes() == original
    assert [p.name for p in mp3.parent.iterdir()] == ["episode.mp3"]  # no temp file left behind


def test_missing_file_is_an_audio_error(tmp_path: Path, cover: bytes) -> None:
    with pytest.raises(AudioError, match=r"nope\.mp3"):
        tag_mp3(
            tmp_path / "nope.mp3", show=SHOW, title="t", published=date(2024, 1, 1), description="d",
            chapters=(), cover=cover, cover_mime="image/jpeg", audio_ms=1000,
        )  # fmt: skip


def test_bounds_keep_every_chapter_nonempty() -> None:
    same = [Chapter("a", 0.0, 0.0), Chapter("b", 0.0, 0.0), Chapter("c", 9.9, 10.0)]
    bounds = chapter_bounds_ms(same, 1000)
    assert bounds == [(0, 1), (1, 999), (999, 1000)]
    # The first chapter starts at 0 even when the intro was timed a little late.
    assert chapter_bounds_ms([Chapter("a", 0.3, 1.0)], 1000) == [(0, 1000)]


def test_bounds_reject_chapters_out_of_order() -> None:
    with pytest.raises(ValueError, match="starts before"):
        chapter_bounds_ms([Chapter("a", 2.0, 3.0), Chapter("b", 1.0, 2.0)], 3000)


def test_chap_frames_are_stored_in_chapter_order(mp3: Path, cover: bytes) -> None:
    # mutagen sorts frames by size: with these titles it stored "Outro" (shortest) before the papers,
    # and ffmpeg lists chapters as the file stores them.
    titles = ["Intro", *(f"Paper {i}: {'x' * (40 - 3 * i)}" for i in range(12)), "Outro"]
    step = 4.9 / len(titles)
    chapters = tuple(Chapter(t, i * step, (i + 1) * step) for i, t in enumerate(titles))
    tag(mp3, cover, chapters)
    meta = subprocess.run([FFMPEG, "-v", "error", "-i", str(mp3), "-f", "ffmetadata", "-"],
                          capture_output=True, text=True, check=True).stdout
    listed = [line.split("=", 1)[1] for block in meta.split("[CHAPTER]")[1:]
              for line in block.splitlines() if line.startswith("title=")]
    assert listed == titles
    assert [f.element_id for f in ID3(mp3).getall("CHAP")] == [f"chp{i}" for i in range(len(titles))]
    assert [c.title for c in read_chapters(mp3)] == titles
