"""For the mail tests: a [mail] table for the sample show pointing at an SMTP server on 127.0.0.1, and
subscriber lists.

    configure(show, server.port, tls="starttls")   # fills podcast.toml's [mail] table
    listing = write_list(tmp_path, "email\nada@example.org\n")
"""

from __future__ import annotations

from pathlib import Path

from support.shows import FIRST_EPISODE

EPISODE = f"episodes/{FIRST_EPISODE}"
UNSUBSCRIBE = ["mailto:leave@papercast.dev?subject=unsubscribe", "https://papercast.dev/leave?email={email}"]


def configure(root: Path, port: int, **settings: object) -> None:
    """Fill the show's [mail] table (or add one) in podcast.toml: the server at `port`, plain SMTP, a
    fast pace."""
    table: dict[str, object] = {"smtp": f"127.0.0.1:{port}", "from": "Papers Weekly <news@papercast.dev>",
                                "tls": "none", "per_minute": 100000, "unsubscribe": UNSUBSCRIBE}
    table.update(settings)
    lines = []
    for key, value in table.items():
        if isinstance(value, list):
            lines.append(f"{key} = [{', '.join(_toml(v) for v in value)}]")
        else:
            lines.append(f"{key} = {_toml(value)}")
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    keys = "\n".join(lines) + "\n"
    # podcast init lists [mail] with its keys commented out: a second [mail] table would not be TOML.
    if "\n[mail]\n" in text:
        text = text.replace("\n[mail]\n", "\n[mail]\n" + keys, 1)
    else:
        text += "\n[mail]\n" + keys
    toml.write_text(text, "utf-8")


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_list(folder: Path, text: str) -> Path:
    """A subscriber list with exactly `text` in it (UTF-8)."""
    path = folder / "subscribers.csv"
    path.write_bytes(text.encode("utf-8"))
    return path
