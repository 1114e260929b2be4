"""Generated cover art, and the checks on a user's cover file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from podcast.episode.cover import CoverRejected, check_cover, make_cover
from podcast.errors import ConfigError


@pytest.fixture(scope="module")
def cover() -> bytes:
    return make_cover("Papercast Weekly")


def save(tmp_path: Path, name: str, img: Image.Image, fmt: str) -> Path:
    path = tmp_path / name
    img.save(path, fmt)
    return path


def test_cover_is_a_square_rgb_jpeg(cover: bytes) -> None:
    img = Image.open(io.BytesIO(cover))
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (1400, 1400))


def test_cover_is_deterministic(cover: bytes) -> None:
    assert make_cover("Papercast Weekly") == cover


def test_cover_depends_on_title(cover: bytes) -> None:
    other = Image.open(io.BytesIO(make_cover("Neural Notes"))).convert("RGB")
    mine = Image.open(io.BytesIO(cover)).convert("RGB")
    # Different titles give different background colors, not just different text.
    assert mine.getpixel((700, 1390)) != other.getpixel((700, 1390))


def test_cover_shows_the_title_large(cover: bytes) -> None:
    img = Image.open(io.BytesIO(cover)).convert("L")
    band = img.crop((0, 250, 1400, 900))  # where the title is set
    white = sum(band.histogram()[236:]) / (band.width * band.height)
    assert white > 0.04  # large letters, not a thin caption
    corner = img.crop((0, 1000, 300, 1400))  # below the title, left of center
    assert sum(corner.histogram()[235:]) == 0


def test_cover_handles_long_and_non_ascii_titles(tmp_path: Path) -> None:
    title = "Ünïcödé — " + "Extraordinarily " * 120 + "日本語"
    data = make_cover(title, size=1500)
    path = tmp_path / "cover.jpg"
    path.write_bytes(data)
    assert check_cover(path) == (data, "image/jpeg")
    assert Image.open(path).size == (1500, 1500)


def test_check_cover_accepts_generated_jpeg_and_rgb_png(cover: bytes, tmp_path: Path) -> None:
    jpg = tmp_path / "cover.jpeg"
    jpg.write_bytes(cover)
    assert check_cover(jpg) == (cover, "image/jpeg")
    png = save(tmp_path, "cover.PNG", Image.new("RGB", (3000, 3000), (10, 20, 30)), "PNG")
    assert check_cover(png) == (png.read_bytes(), "image/png")


@pytest.mark.parametrize(
    ("name", "img", "fmt", "message"),
    [
        (
            "small.jpg",
            Image.new("RGB", (1000, 1000)),
            "JPEG",
            "is 1000x1000 px; use a square image of 1400-3000",
        ),
        ("big.png", Image.new("RGB", (3001, 3001)), "PNG", "is 3001x3001 px"),
        ("wide.jpg", Image.new("RGB", (1600, 1400)), "JPEG", "is 1600x1400 px"),
        ("alpha.png", Image.new("RGBA", (1400, 1400)), "PNG", "has transparency"),
        ("palette.png", Image.new("P", (1400, 1400)), "PNG", "color mode is P; save it as RGB"),
        ("gray.jpg", Image.new("L", (1400, 1400)), "JPEG", "color mode is L"),
        ("fake.jpg", Image.new("RGB", (1400, 1400)), "PNG", "is a PNG file; rename it to end in .png"),
        ("fake.png", Image.new("RGB", (1400, 1400)), "JPEG", "is a JPEG file; rename it to end in .jpg"),
        ("cover.gif", Image.new("RGB", (1400, 1400)), "GIF", "is GIF; use a JPEG or PNG"),
    ],
)
def test_check_cover_rejects(tmp_path: Path, name: str, img: Image.Image, fmt: str, message: str) -> None:
    path = save(tmp_path, name, img, fmt)
    with pytest.raises(CoverRejected) as err:
        check_cover(path)
    # `reason` is the message without the path: what `podcast check` prints after the cover's own name.
    assert isinstance(err.value, ConfigError) and message in err.value.reason
    assert str(err.value) == f"cover {path}: {err.value.reason}" and str(path) not in err.value.reason


def test_check_cover_rejects_transparent_palette_png(tmp_path: Path) -> None:
    img = Image.new("P", (1400, 1400))
    img.info["transparency"] = 0
    path = tmp_path / "t.png"
    img.save(path, "PNG", transparency=0)
    with pytest.raises(ConfigError, match="has transparency"):
        check_cover(path)


def test_check_cover_rejects_missing_and_garbage_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        check_cover(tmp_path / "missing.jpg")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    with pytest.raises(ConfigError, match="not a readable image"):
        check_cover(junk)
