"""Cover art: generate one from the show title, or check a user's against the directories' rules.

Apple Podcasts (and so every client that copies its rules) wants a square RGB JPEG or PNG of
1400-3000 px, without transparency, whose file extension matches its type.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, UnidentifiedImageError

from podcast.errors import ConfigError

MIN_PX = 1400
MAX_PX = 3000
MIMES = {"JPEG": "image/jpeg", "PNG": "image/png"}
EXTENSIONS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


COVER_FORMAT = 1
"""Bump when make_cover draws differently, so cached covers are drawn again."""


def show_cover(cover: Path | None, title: str, cache_root: Path | None = None) -> tuple[bytes, str]:
    """The show's cover file checked against the directories' rules, or one drawn from its title
    and kept in the show's cache (drawing and compressing it costs about 0.15 s a build)."""
    if cover is not None:
        return check_cover(cover)
    if cache_root is None:
        return make_cover(title), "image/jpeg"
    from podcast.cache import Cache, key

    cache, digest = Cache(cache_root), key("cover", COVER_FORMAT, title, MIN_PX)
    data = cache.get("cover", digest, ".jpg")
    if data is None:
        data = make_cover(title)
        cache.put("cover", digest, ".jpg", data)
    return data, "image/jpeg"


def make_cover(title: str, size: int = MIN_PX) -> bytes:
    """A square RGB JPEG for the show: a gradient with a waveform, both derived from the title.

    The same title always gives the same bytes (colors and shapes come from a hash of it, and
    the font is the one Pillow bundles), so rebuilding a site does not re-upload its cover.
    """
    seed = hashlib.sha256(title.encode("utf-8")).digest()
    dark, light = _palette(seed)
    img = _gradient(size, dark, light)
    _draw_rings(img, seed)
    _draw_waveform(img, seed)
    _draw_title(img, _drawable(title) or "Podcast")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92, subsampling=0, optimize=True)
    return out.getvalue()


def episode_cover(show_title: str, title: str, label: str, cache_root: Path | None = None) -> bytes:
    """An episode's art (square RGB JPEG): the show cover's colors, the episode's own waveform and
    title, and `label` ("Episode 12") small above it. Cached like the show's cover when a cache is given."""
    if cache_root is None:
        return make_episode_cover(show_title, title, label)
    from podcast.cache import Cache, key

    cache, digest = Cache(cache_root), key("episode-cover", COVER_FORMAT, show_title, title, label, MIN_PX)
    data = cache.get("cover", digest, ".jpg")
    if data is None:
        data = make_episode_cover(show_title, title, label)
        cache.put("cover", digest, ".jpg", data)
    return data


def episode_art(path: Path) -> bytes:
    """An episode's own art (episode.toml's image) as the site serves it: a JPEG, checked like a
    cover (CoverRejected names the file); a PNG is converted, the same bytes for the same file."""
    data, mime = check_cover(path)
    if mime == "image/jpeg":
        return data
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=92, subsampling=0, optimize=True)
    return out.getvalue()


def make_episode_cover(show_title: str, title: str, label: str, size: int = MIN_PX) -> bytes:
    """Like make_cover, with the palette of the show's title, so a show's episodes look like one family."""
    show_seed = hashlib.sha256(show_title.encode("utf-8")).digest()
    seed = hashlib.sha256(title.encode("utf-8")).digest()
    img = _gradient(size, *_palette(show_seed))
    _draw_rings(img, show_seed)
    _draw_waveform(img, seed)
    _draw_title(img, _drawable(title) or "Episode")
    face = _Face.at(size // 24)
    _text(ImageDraw.Draw(img), (size / 2, size * 0.09), _clip(_drawable(label), face, size * 0.84), face,
          (255, 255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


class CoverRejected(ConfigError):
    """Directories would reject a cover: `reason` says what is wrong with it and how to fix it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cover {path}: {reason}")
        self.path = path
        self.reason = reason
        """What is wrong and its fix, without the path ("is 1400x1500 px; use a square image ...")."""


def check_cover(path: Path) -> tuple[bytes, str]:
    """The bytes and MIME type of a user's cover; CoverRejected naming the file if directories reject it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CoverRejected(path, f"cannot read it ({e.strerror}); fix the path in podcast.toml") from e
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, mode, (w, h), info = img.format or "", img.mode, img.size, dict(img.info)
    except (UnidentifiedImageError, OSError) as e:
        raise CoverRejected(path, "not a readable image; use a JPEG or PNG") from e
    if fmt not in MIMES:
        raise CoverRejected(path, f"is {fmt or 'an unknown format'}; use a JPEG or PNG")
    if path.suffix.lower() not in EXTENSIONS[fmt]:
        raise CoverRejected(path, f"is a {fmt} file; rename it to end in {EXTENSIONS[fmt][0]}")
    if "A" in mode or "transparency" in info:
        raise CoverRejected(path, "has transparency (alpha); save it without an alpha channel")
    if mode != "RGB":
        raise CoverRejected(path, f"color mode is {mode}; save it as RGB")
    if w != h or not MIN_PX <= w <= MAX_PX:
        raise CoverRejected(path, f"is {w}x{h} px; use a square image of {MIN_PX}-{MAX_PX} px")
    return data, MIMES[fmt]


# --- drawing ----------------------------------------------------------------------------------------


def _palette(seed: bytes) -> tuple[RGB, RGB]:
    """A dark and a light color of neighbouring hues: rich, and white text reads well on both."""
    hue = 0.32 + seed[0] / 256 * 0.70  # green, blue, purple, red: oranges and yellows look muddy
    shift = 0.06 + seed[1] / 256 * 0.1

    def rgb(h: float, s: float, v: float) -> RGB:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return round(r * 255), round(g * 255), round(b * 255)

    return rgb(hue, 0.80, 0.22), rgb(hue + shift, 0.70, 0.62)


def _gradient(size: int, dark: RGB, light: RGB) -> Image.Image:
    """Diagonal gradient, dark at the bottom left (under the waveform) to light at the top right."""
    n = 256
    # 255 (all dark) in the bottom-left corner down to 0 (all light) in the top-right one.
    ramp = bytes(((n - 1 - x) + y) // 2 for y in range(n) for x in range(n))
    mask = Image.frombytes("L", (n, n), ramp).resize((size, size), Image.Resampling.BICUBIC)
    return Image.composite(Image.new("RGB", (size, size), dark), Image.new("RGB", (size, size), light), mask)


def _draw_rings(img: Image.Image, seed: bytes) -> None:
    """Soft concentric rings off the top-right corner, like sound spreading out."""
    size = img.width
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    cx = round(size * (0.78 + seed[2] / 256 * 0.2))
    cy = round(size * (0.02 + seed[3] / 256 * 0.2))
    width = max(2, size // 120)
    for i in range(1, 9):
        r = round(size * 0.11 * i)
        alpha = max(0, 46 - 5 * i)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 255, 255, alpha), width=width)
    img.paste(layer, (0, 0), layer)


def _draw_waveform(img: Image.Image, seed: bytes) -> None:
    """A row of rounded bars across the lower part: an audio waveform shaped by the title's hash."""
    size = img.width
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    bars = 36
    margin = size * 0.08
    pitch = (size - 2 * margin) / bars
    bar_w = pitch * 0.55
    mid = size * 0.80
    for i in range(bars):
        # Neighbouring hash bytes averaged, under an envelope that swells in the middle.
        raw = (seed[(i + 4) % 32] + seed[(i + 5) % 32] + seed[(i + 6) % 32]) / (3 * 255)
        envelope = 0.35 + 0.65 * (1 - abs(i - (bars - 1) / 2) / (bars / 2)) ** 0.8
        half = size * 0.012 + size * 0.085 * raw * envelope
        x0 = margin + i * pitch + (pitch - bar_w) / 2
        draw.rounded_rectangle(
            (round(x0), round(mid - half), round(x0 + bar_w), round(mid + half)),
            radius=round(bar_w / 2),
            fill=(255, 255, 255, 150),
        )
    img.paste(layer, (0, 0), layer)


# Pillow's bundled font covers ASCII and a little typography, not accented letters or dashes.
_LOOKALIKES = str.maketrans(
    {"—": "·", "–": "·", "‐": "-", "−": "-", "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O"}
    | {"œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th"}
)


def _drawable(title: str) -> str:
    """The title in characters the bundled font has: accents dropped, dashes made plain, others cut."""
    out = []
    for ch in unicodedata.normalize("NFKD", title.translate(_LOOKALIKES)):
        if ch.isspace():
            out.append(" ")
        elif _has_glyph(ch):
            out.append(ch)
    return " ".join("".join(out).split())


@functools.cache
def _has_glyph(ch: str) -> bool:
    # The font draws every missing character as the same placeholder box.
    font = _Face.at(40).font
    return bytes(font.getmask(ch)) != bytes(font.getmask("\U0010fffd"))


@dataclass(frozen=True)
class _Face:
    """The title's font at one size, with the stroke that thickens Pillow's regular face."""

    font: ImageFont.FreeTypeFont
    stroke: int

    @classmethod
    def at(cls, px: int) -> _Face:
        font = ImageFont.load_default(size=px)
        if not isinstance(font, ImageFont.FreeTypeFont):
            raise ConfigError("Pillow was built without FreeType; reinstall pillow from its wheel")
        return cls(font, max(1, px // 45))  # a light stroke makes the regular face semibold

    @property
    def line_height(self) -> int:
        return round(self.font.size * LINE_SPACING)

    def width(self, text: str) -> float:
        return self.font.getlength(text) + 2 * self.stroke


LINE_SPACING = 1.12


def _draw_title(img: Image.Image, title: str) -> None:
    """The title centered in the upper two thirds, as large as fits, with a soft shadow."""
    size = img.width
    face, lines = _fit_title(title, box_w=size * 0.84, box_h=size * 0.52, smallest=size // 30)
    top = round(size * 0.40 - face.line_height * len(lines) / 2)
    shadow = Image.new("RGBA", img.size, (0, 0, 0, 0))
    text = Image.new("RGBA", img.size, (0, 0, 0, 0))
    offset = max(2, size // 300)
    for i, line in enumerate(lines):
        x, y = size / 2, top + (i + 0.5) * face.line_height
        _text(ImageDraw.Draw(shadow), (x + offset, y + offset), line, face, (0, 0, 0, 140))
        _text(ImageDraw.Draw(text), (x, y), line, face, (255, 255, 255, 255))
    shadow = shadow.filter(ImageFilter.GaussianBlur(size / 200))
    img.paste(shadow, (0, 0), shadow)
    img.paste(text, (0, 0), text)


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], line: str, face: _Face, color: RGBA) -> None:
    draw.text(xy, line, font=face.font, anchor="mm", fill=color, stroke_width=face.stroke, stroke_fill=color)


def _fit_title(title: str, box_w: float, box_h: float, smallest: int) -> tuple[_Face, list[str]]:
    """The largest face at which the wrapped title fits the box, with its lines."""
    words = title.split()
    px = round(box_w * 0.18)
    while True:
        face = _Face.at(px)
        lines = _wrap_px(words, face, box_w)
        most = max(1, int(box_h // face.line_height))
        if len(lines) <= most and all(face.width(line) <= box_w for line in lines):
            return face, lines
        if px <= smallest:
            return face, _ellipsize(lines, face, box_w, most)
        px -= max(1, px // 20)


def _wrap_px(words: list[str], face: _Face, width: float) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and face.width(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        # A separator ("·", "-", "&") left dangling at a line's end starts the next line instead.
        head, _, tail = lines[-1].rpartition(" ") if lines else ("", "", "")
        if head and len(tail) == 1 and not tail.isalnum():
            lines[-1], word = head, f"{tail} {word}"
        lines.append(word)
    return lines


def _ellipsize(lines: list[str], face: _Face, width: float, most: int) -> list[str]:
    """Cut a title too long even at the smallest size: keep `most` lines, end the last with '…'."""
    lines = [_clip(line, face, width) for line in lines]
    if len(lines) > most:
        lines = [*lines[: most - 1], _clip(lines[most - 1] + "…", face, width, force_ellipsis=True)]
    return lines


def _clip(line: str, face: _Face, width: float, force_ellipsis: bool = False) -> str:
    if face.width(line) <= width and not force_ellipsis:
        return line
    body = line.rstrip("…")
    while body and face.width(body + "…") > width:
        # Drop whole words while there are several; cut inside a word only when it stands alone.
        body = body.rsplit(" ", 1)[0] if " " in body else body[:-1]
    return body.rstrip() + "…"
