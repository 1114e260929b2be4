"""One copy of the newsletter for one reader: a multipart/alternative message, text and HTML.

Every header value passes podcast.text.one_line first and is written by the email package's
SMTP policy, so a name or a title cannot end a header early and add one of its own (a CR or LF
in it is gone before the header is made). The Message-ID is derived from the episode and the
address: a copy sent again after a crash between the server's answer and the ledger's record
(the one window a resume cannot close) carries the same id, which mailbox providers use to show it once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

from podcast.errors import ConfigError
from podcast.mail.edition import Edition
from podcast.settings import EMAIL_ADDRESS, MailSettings
from podcast.text import one_line

__all__ = ["Recipient", "Sender", "build_message", "sender_of", "unsubscribe_targets"]


@dataclass(frozen=True)
class Recipient:
    address: str
    """As written in the list, checked against settings.EMAIL_ADDRESS."""
    name: str = ""

    @property
    def key(self) -> str:
        """The address as the ledger and duplicate detection compare it."""
        return self.address.lower()


@dataclass(frozen=True)
class Sender:
    address: str
    name: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()


def sender_of(mail: MailSettings, show_title: str, show_email: str) -> Sender:
    """The From of [mail] (a bare address is named after the show), else the show's own email."""
    if not mail.sender:
        return Sender(show_email, one_line(show_title))
    name, _, address = mail.sender.rpartition("<")
    address = address.rstrip(">").strip() if name or "<" in mail.sender else mail.sender.strip()
    if not EMAIL_ADDRESS.fullmatch(address):  # the show's email is checked more loosely than [mail] from
        raise ConfigError(f"[mail] from: {address!r} is not an address mail can be sent from")
    return Sender(address, one_line(name.strip().strip('"')) or one_line(show_title))


def unsubscribe_targets(mail: MailSettings, address: str) -> tuple[str, ...]:
    """[mail] unsubscribe with "{email}" made `address`, percent-encoded (it sits in a URL)."""
    return tuple(t.replace("{email}", quote(address, safe="@")) for t in mail.unsubscribe)


def message_id(ed: Edition, recipient: Recipient, sender: Sender) -> str:
    """The same id for the same episode and reader, and no address in it (ids are seen by others)."""
    digest = hashlib.sha256(f"{ed.episode.guid}\n{recipient.key}".encode()).hexdigest()[:32]
    slug = re.sub(r"[^A-Za-z0-9.-]", "-", ed.episode.slug)[:40]
    return f"<papercast.{slug}.{digest}@{sender.domain}>"


def build_message(ed: Edition, recipient: Recipient, sender: Sender, mail: MailSettings, now: datetime
                  ) -> EmailMessage:
    """The copy for `recipient`, dated `now`; its footer links to the reader's own unsubscribe target."""
    from podcast.mail.html import render_html
    from podcast.mail.plain import render_text

    targets = unsubscribe_targets(mail, recipient.address)
    shown = next((t for t in targets if t.startswith("https://")), targets[0] if targets else "")
    msg = EmailMessage()
    msg["Subject"] = ed.subject
    msg["From"] = Address(display_name=sender.name, addr_spec=sender.address)
    msg["To"] = Address(display_name=one_line(recipient.name), addr_spec=recipient.address)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(ed, recipient, sender)
    if targets:
        msg["List-Unsubscribe"] = ", ".join(f"<{t}>" for t in targets)
        if any(t.startswith("https://") for t in targets):  # RFC 8058: one click, by POST, https only
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(render_text(ed, shown), cte="quoted-printable")
    msg.add_alternative(render_html(ed, shown), subtype="html", cte="quoted-printable")
    return msg
