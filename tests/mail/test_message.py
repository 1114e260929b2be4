"""One reader's message, made from the sample episode and from hostile ones: headers no text can add
to, both parts carrying every paper, HTML with no active markup and no image from another server."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

import pytest
from support.shows import INTRO, OUTRO, PAPERS, SHOW, SUMMARIES, make_episode

from podcast.config import from_table
from podcast.errors import ConfigError
from podcast.mail.edition import Edition, edition
from podcast.mail.message import Recipient, build_message, sender_of
from podcast.mail.send import TokenBucket
from podcast.models import Paper
from podcast.publish.markup import active_markup
from podcast.settings import MailSettings
from podcast.writing.newsletter import render_html, render_markdown

NOW = datetime(2024, 5, 17, 8, 0, tzinfo=UTC)
MAIL = MailSettings(sender="Papers Weekly <news@example.org>",
                    unsubscribe=("mailto:leave@example.org", "https://example.org/leave?e={email}"))
EVIL = 'Week 1 <script>alert(1)</script>\r\nBcc: evil@attacker.example\r\n\r\n<b>body</b>'


def sample(**changes: object) -> Edition:
    ep = dataclasses.replace(make_episode(2, NOW, 754.0), **changes)
    letter = render_html(render_markdown(ep.title, ep.published.date(), INTRO, SUMMARIES, OUTRO))
    return edition(SHOW, ep, letter, "cover.png")


def sent(ed: Edition, recipient: Recipient) -> EmailMessage:
    """The message as the server receives it, parsed back."""
    sender = sender_of(MAIL, ed.show.title, ed.show.email)
    raw = build_message(ed, recipient, sender, MAIL, NOW).as_bytes(policy=SMTP)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_the_sample_message() -> None:
    msg = sent(sample(), Recipient("ada@example.org", "Ada"))
    assert msg["Subject"] == "Week 2: recurrent networks return"
    assert msg["Date"] == "Fri, 17 May 2024 08:00:00 +0000"
    # .strip(): a header folded before its first word unfolds with that space
    assert msg["List-Unsubscribe"].strip() == "<mailto:leave@example.org>, <https://example.org/leave?e=ada@example.org>"
    text, html = parts(msg)
    for paper in PAPERS:
        assert paper.title in text and paper.url in text
        assert paper.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html
    assert "Listen: https://example.org/papers/episodes/2024-w20/" in text
    assert "MP3 (12:34, 1.2 MB): https://example.org/papers/episodes/2024-w20/2024-w20.mp3" in text
    assert 'href="https://example.org/papers/episodes/2024-w20/2024-w20.mp3"' in html
    assert "Unsubscribe: https://example.org/leave?e=ada@example.org" in text
    assert active_markup(html.split("</head>", 1)[1]) == []
    assert '<meta name="color-scheme" content="light dark">' in html
    assert 'max-width:600px' in html


def test_the_same_reader_gets_the_same_message_id_and_another_reader_another() -> None:
    ed = sample()
    ids = [sent(ed, Recipient(a))["Message-ID"].strip() for a in ("a@example.org", "A@Example.org", "b@example.org")]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].endswith("@example.org>") and "a@example" not in ids[0]


def test_hostile_titles_and_names_add_no_header_and_no_markup() -> None:
    hostile_paper = Paper("x1", '<img src=x onerror=alert(1)> "Q" & A\r\nX-Evil: 1', url="javascript:alert(1)")
    ed = sample(title=EVIL, papers=(*PAPERS, hostile_paper))
    msg = sent(ed, Recipient("eve@example.org", 'Eve" <evil@attacker.example>\r\nBcc: evil@attacker.example'))
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert [a for _, a in getaddresses(msg.get_all("To"))] == ["eve@example.org"]
    assert msg["Subject"].strip() == "Week 1 <script>alert(1)</script> Bcc: evil@attacker.example <b>body</b>"
    text, html = parts(msg)
    body = html.split("</head>", 1)[1]
    assert active_markup(body) == [] and "<script" not in html and "<b>body" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert '<img src=x onerror=alert(1)> "Q" & A X-Evil: 1' in text


def test_the_body_keeps_only_allowlisted_markup_and_images_from_the_site() -> None:
    letter = ('<p>Hi<script>alert(1)</script> <img src="https://tracker.example.com/p.gif" alt="px">'
              '<img src="fig1.png" alt="Figure 1"> <a href="javascript:alert(1)">x</a> '
              '<a href="chapters.json">chapters</a> <span style="color:red" onclick="x()">s</span></p>')
    ed = edition(SHOW, make_episode(2, NOW, 60.0), letter, "cover.png")
    _, html = parts(sent(ed, Recipient("ada@example.org")))
    body = html.split("</head>", 1)[1]
    assert active_markup(body) == []
    assert "tracker.example.com" not in html and "[px]" in html
    assert '<img src="https://example.org/papers/episodes/2024-w20/fig1.png" alt="Figure 1"' in html
    assert 'href="https://example.org/papers/episodes/2024-w20/chapters.json"' in html
    assert "onclick" not in html and "color:red" not in html


@pytest.mark.parametrize(("table", "problem"), [
    ({"smtp": "mail.example.org"}, "host:port"),
    ({"smtp": "mail.example.org:0"}, "host:port"),
    ({"tls": "tls"}, "tls must be"),
    ({"sender": "news"}, "from must be"),
    ({"per_minute": 0}, "per_minute"),
    ({"unsubscribe": ("javascript:alert(1)",)}, "neither a mailto"),
    ({"unsubscribe": ("https://a.example.org/x y",)}, "neither a mailto"),
    ({"unsubscribe": ("mailto:a@example.org", "mailto:b@example.org")}, "at most one"),
])
def test_bad_mail_settings_are_refused(table: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        MailSettings(**table)  # type: ignore[arg-type]


def test_the_mail_table_takes_from_as_its_key() -> None:
    table = {"from": "Pods <news@example.org>", "smtp": "smtp.example.org:587"}
    assert from_table(MailSettings, table, "podcast.toml [mail]").sender == "Pods <news@example.org>"
    with pytest.raises(ConfigError, match=r"unknown key 'sender'; allowed: smtp, from, tls, user, per_minute"):
        from_table(MailSettings, {"sender": "news@example.org"}, "podcast.toml [mail]")


def test_from_defaults_to_the_show_and_names_a_bare_address_after_it() -> None:
    assert sender_of(MailSettings(), "Papers & Pods", "ada@example.org").name == "Papers & Pods"
    bare = sender_of(MailSettings(sender="news@example.org"), "Papers & Pods", "x@example.org")
    assert (bare.name, bare.address, bare.domain) == ("Papers & Pods", "news@example.org", "example.org")


def test_the_token_bucket_paces_evenly() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        bucket.take()
    assert waits == [0.5, 0.5, 0.5]
    now[0] += 10.0  # idle: one message may go at once, the next waits again
    bucket.take()
    bucket.take()
    assert waits == [0.5, 0.5, 0.5, 0.5]
