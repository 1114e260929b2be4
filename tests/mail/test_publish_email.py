"""`podcast publish` writes the newsletter as mail HTML beside each episode page, for pasting into a
newsletter service, and the site still passes `podcast check`."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import RunCli
from support.mail import EPISODE

from podcast.episode import catalog
from podcast.mail.html import EMAIL_PAGE
from podcast.publish.markup import active_markup


def test_publish_writes_the_email_html_and_the_site_passes_check(show: Path, run_cli: RunCli) -> None:
    shutil.rmtree(show / "public", ignore_errors=True)  # written anew, by this publish
    published = run_cli(show, "publish")
    assert published.returncode == 0, published.stderr
    ep = catalog.load(show / EPISODE / "build" / "episode.json")
    page = (show / "public" / "episodes" / ep.slug / EMAIL_PAGE).read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert active_markup(page.split("</head>", 1)[1]) == []
    assert f'href="https://podcast.papercast.dev/episodes/{ep.slug}/"' in page  # the Listen link
    for paper in ep.papers:
        assert paper.title in page and f'href="{paper.url}"' in page
    assert "Unsubscribe" not in page  # the service adds its own
    checked = run_cli(show, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
